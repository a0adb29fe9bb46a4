// `cgprocfs docker-flags`: which targets are offered, their exact flag text in both
// formats, and the one-line refusal when the mount is not live.
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerBinds, dockerFlags, formatDockerFlags } from '../../../src/cli/docker-flags.js';
import { CgprocfsError } from '../../../src/errors.js';
import { ALL_TARGETS, RUNC_TARGETS } from '../../../src/files/binds.js';

const MP = '/var/lib/cgprocfs';
const everything = () => true;
const memoryOnly = (path: string) => ['proc/meminfo', 'proc/swaps', 'proc/diskstats', 'proc/pressure/cpu'].includes(path);

function errorOf(fn: () => unknown): CgprocfsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CgprocfsError) return err;
    throw err;
  }
  throw new Error('expected a CgprocfsError');
}

describe('docker-flags targets', () => {
  it('offers only the /proc files runc accepts as bind targets, plus the sysfs CPU and NUMA node directories', () => {
    expect(RUNC_TARGETS).toEqual([
      'proc/cpuinfo', 'proc/diskstats', 'proc/meminfo', 'proc/stat', 'proc/swaps', 'proc/uptime', 'proc/loadavg',
      'sys/devices/system/cpu', 'sys/devices/system/node',
    ]);
  });

  // runc's checkProcMount (libcontainer/rootfs_linux.go): anything else inside /proc fails the container.
  const RUNC_PROC_ALLOWED = [
    'cpuinfo', 'diskstats', 'meminfo', 'stat', 'swaps', 'uptime', 'loadavg', 'slabinfo', 'sys/kernel/ns_last_pid', 'sys/crypto/fips_enabled',
  ];

  it('never offers runc a target inside /proc that its checkProcMount refuses', () => {
    const inProc = RUNC_TARGETS.filter((path) => path.startsWith('proc/')).map((path) => path.slice('proc/'.length));
    expect(inProc.filter((path) => !RUNC_PROC_ALLOWED.includes(path))).toEqual([]);
  });

  it('keeps pressure/* and vmstat for runtimes that mount /proc themselves (LXC)', () => {
    expect(ALL_TARGETS.filter((path) => !RUNC_TARGETS.includes(path))).toEqual(['proc/pressure/cpu', 'proc/pressure/memory', 'proc/pressure/io', 'proc/vmstat']);
  });

  it('binds each existing file to the same path under / (vmstat and pressure/* never: runc refuses them)', () => {
    expect(dockerBinds(MP, (p) => memoryOnly(p) || p === 'proc/vmstat' || p === 'sys/devices/system/cpu')).toEqual([
      { src: '/var/lib/cgprocfs/proc/diskstats', dst: '/proc/diskstats' },
      { src: '/var/lib/cgprocfs/proc/meminfo', dst: '/proc/meminfo' },
      { src: '/var/lib/cgprocfs/proc/swaps', dst: '/proc/swaps' },
      { src: '/var/lib/cgprocfs/sys/devices/system/cpu', dst: '/sys/devices/system/cpu' },
    ]);
  });

  it('adds the preload library\'s bind and LD_PRELOAD after the binds', () => {
    const text = formatDockerFlags([{ src: '/opt/lib.so', dst: '/usr/lib/cgprocfs/lib.so' }], 'lines', { LD_PRELOAD: '/usr/lib/cgprocfs/lib.so' });
    expect(text).toBe('--mount type=bind,src=/opt/lib.so,dst=/usr/lib/cgprocfs/lib.so,readonly\n--env LD_PRELOAD=/usr/lib/cgprocfs/lib.so\n');
  });
});

describe('docker-flags formats', () => {
  it('prints one --mount and its value per line in the lines format', () => {
    expect(formatDockerFlags(dockerBinds(MP, memoryOnly), 'lines')).toBe(
      '--mount type=bind,src=/var/lib/cgprocfs/proc/diskstats,dst=/proc/diskstats,readonly\n' +
        '--mount type=bind,src=/var/lib/cgprocfs/proc/meminfo,dst=/proc/meminfo,readonly\n' +
        '--mount type=bind,src=/var/lib/cgprocfs/proc/swaps,dst=/proc/swaps,readonly\n',
    );
  });

  it('prints every flag on one line in the args format, for docker run $(...)', () => {
    const text = formatDockerFlags(dockerBinds('/run/cg', everything), 'args');
    expect(text.split('\n')).toEqual([expect.any(String), '']);
    expect(text.trim().split(' ')).toHaveLength(2 * RUNC_TARGETS.length);
    expect(text).toMatch(/^--mount type=bind,src=\/run\/cg\/proc\/cpuinfo,dst=\/proc\/cpuinfo,readonly --mount /);
    expect(text).toMatch(/ --mount type=bind,src=\/run\/cg\/sys\/devices\/system\/node,dst=\/sys\/devices\/system\/node,readonly\n$/);
  });

  it('never uses -v, which would create a missing source as a directory on the host', () => {
    for (const format of ['lines', 'args'] as const) {
      expect(formatDockerFlags(dockerBinds(MP, everything), format)).not.toMatch(/(^|\s)-v\s|--volume/);
    }
  });

  it.each([['a space', '/var/lib/cg procfs'], ['a comma', '/var/lib/cg,procfs'], ['a glob', '/var/lib/cg*']])(
    'refuses a mountpoint with %s, which --mount or word splitting would break',
    (_, mountpoint) => {
      const err = errorOf(() => formatDockerFlags(dockerBinds(mountpoint, memoryOnly), 'args'));
      expect(err.code).toBe('USAGE');
      expect(err.message).not.toContain('\n');
    },
  );
});

describe('docker-flags on a host without the mount', () => {
  it('refuses a directory where nothing is mounted with one MOUNTPOINT line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-'));
    try {
      const err = errorOf(() => dockerFlags(dir, 'lines'));
      expect(err.code).toBe('MOUNTPOINT');
      expect(err.exitCode).not.toBe(0);
      expect(err.message).toMatch(/is not a live cgprocfs mount/);
      expect(err.message).not.toContain('\n');
    } finally {
      rmdirSync(dir);
    }
  });

  it('refuses a path that does not exist instead of creating it', () => {
    const err = errorOf(() => dockerFlags('/nonexistent/cgprocfs-unit', 'args'));
    expect(err.code).toBe('MOUNTPOINT');
  });
});
