import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPU_SYSFS_DIR, listCpuSysfsFiles, readCpuSysfsFile, walkSysfs } from '../../../src/host/sysfs.js';
import { SYS_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const depth = (rel: string): number => rel.split('/').length;

describe('the host CPU directory walk', () => {
  const copy = useFixtureCopies();

  it('lists the fixture\'s regular files, every host CPU\'s among them, and no path through a symlink', () => {
    const files = listCpuSysfsFiles(SYS_ROOT);
    expect(files).toEqual(expect.arrayContaining([
      'kernel_max', 'isolated', 'modalias', 'uevent', 'vulnerabilities/meltdown', 'smt/active', 'cpuidle/current_driver',
      'cpufreq/policy0/scaling_cur_freq', ...[0, 1, 2, 3].map((cpu) => `cpu${cpu}/topology/thread_siblings_list`),
    ]));
    // cpuN/cpufreq, node0 and subsystem are symlinks: nothing is listed through them.
    expect(files.filter((rel) => /^cpu\d+\/(?:cpufreq|node0|subsystem)(?:\/|$)/.test(rel))).toEqual([]);
    expect(new Set(files.map((rel) => /^cpu(\d+)\//.exec(rel)?.[1]).filter(Boolean))).toEqual(new Set(['0', '1', '2', '3']));
  });

  it('lists breadth first, so a cap cuts the deepest files and keeps every cpuN', () => {
    const files = listCpuSysfsFiles(SYS_ROOT);
    expect(files.map(depth)).toEqual([...files.map(depth)].sort((a, b) => a - b));
    const capped = listCpuSysfsFiles(SYS_ROOT, { maxDepth: 6, maxFiles: 30 });
    // The cap counts symlinks too (walkSysfs): fewer than 30 files, the shallowest ones.
    expect(capped).toEqual(files.slice(0, capped.length));
    expect(capped.filter((rel) => /^cpu\d+\/uevent$/.test(rel))).toHaveLength(4);
  });

  it('stops at the depth limit', () => {
    expect(listCpuSysfsFiles(SYS_ROOT, { maxDepth: 1, maxFiles: 100 }).every((rel) => !rel.includes('/'))).toBe(true);
    expect(listCpuSysfsFiles(SYS_ROOT, { maxDepth: 3, maxFiles: 1000 })).not.toContain('cpu0/cache/index0/level');
  });

  it('skips write-only and root-only files and symlinks to files: the mount serves every file 0444', () => {
    const sysRoot = copy(SYS_ROOT);
    const dir = join(sysRoot, CPU_SYSFS_DIR);
    mkdirSync(join(dir, 'microcode'));
    writeFileSync(join(dir, 'microcode', 'reload'), '');
    chmodSync(join(dir, 'microcode', 'reload'), 0o200);
    writeFileSync(join(dir, 'cpu0', 'crash_notes'), '1f2e3d40\n');
    chmodSync(join(dir, 'cpu0', 'crash_notes'), 0o400);
    symlinkSync('kernel_max', join(dir, 'kernel_max_link'));
    const files = listCpuSysfsFiles(sysRoot);
    expect(files).toEqual(listCpuSysfsFiles(SYS_ROOT));
  });

  it('keeps the host\'s symlinks with their relative targets, and its directories, empty ones too (issue 21)', () => {
    const sysRoot = copy(SYS_ROOT);
    // Git keeps no empty directory: a host without a cpufreq driver has an empty cpufreq/.
    rmSync(join(sysRoot, CPU_SYSFS_DIR, 'cpufreq'), { recursive: true });
    mkdirSync(join(sysRoot, CPU_SYSFS_DIR, 'cpufreq'));
    const walk = walkSysfs(sysRoot, CPU_SYSFS_DIR);
    expect(walk.links.get('cpu2/node0')).toBe('../../node/node0');
    expect(walk.links.get('cpu2/subsystem')).toBe('../../../../bus/cpu');
    // A dangling target (cpufreq/policy0 is gone) is still the host's symlink.
    expect(walk.links.get('cpu0/cpufreq')).toBe('../cpufreq/policy0');
    expect(walk.dirs).toEqual(expect.arrayContaining(['cpufreq', 'cpu0', 'cpu0/power', 'cpu3/cache/index3', 'vulnerabilities']));
    expect(walk.files.some((rel) => rel.startsWith('cpufreq/'))).toBe(false);
    expect(walk.files).toEqual(listCpuSysfsFiles(sysRoot));
  });

  it('bounds files and symlinks together, and lists no directory it did not walk into', () => {
    const capped = walkSysfs(SYS_ROOT, CPU_SYSFS_DIR, { maxDepth: 6, maxFiles: 30 });
    expect(capped.files.length + capped.links.size).toBe(30);
    const shallow = walkSysfs(SYS_ROOT, CPU_SYSFS_DIR, { maxDepth: 2, maxFiles: 1000 });
    expect(shallow.dirs).toContain('cpu0');
    expect(shallow.dirs).not.toContain('cpu0/topology');
  });

  it('lists nothing for a sys root without a CPU directory', () => {
    expect(listCpuSysfsFiles(join(SYS_ROOT, 'devices'))).toEqual([]);
  });

  it('reads a file\'s text as the host wrote it, and a vanished one is SOURCE_UNREADABLE', () => {
    expect(readCpuSysfsFile(SYS_ROOT, 'vulnerabilities/meltdown')).toBe(
      readFileSync(join(SYS_ROOT, CPU_SYSFS_DIR, 'vulnerabilities/meltdown'), 'utf8'));
    const sysRoot = copy(SYS_ROOT);
    rmSync(join(sysRoot, CPU_SYSFS_DIR, 'cpu3'), { recursive: true });
    expect(() => readCpuSysfsFile(sysRoot, 'cpu3/topology/core_id')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});
