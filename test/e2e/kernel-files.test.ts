// What a reader sees, checked against the kernel's own files of its cgroup, read just before and just
// after the reader's read (issue 19: on v1, hybrid and a live v2 kernel alike): every meminfo line that
// comes from memory.stat and the limits up the tree, swaps and the swap lines from the swap limit and
// use, diskstats from the I/O the cgroup did, pressure/* from the cgroup's own PSI files. The reader is
// a session process already in the cgroup, so no process starts or exits between the two readings.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { directIo } from './harness/block.js';
import type { PressureResource } from './harness/cgroup-files.js';
import { hostLayout } from './harness/cgroups.js';
import { killTrees, scaled, waitForLine } from './harness/exec.js';
import { field, MiB, parseMeminfo } from './harness/meminfo.js';
import { describeE2E } from './harness/prerequisites.js';
import { FileSession } from './harness/session.js';
import { useFixture } from './harness/suite.js';

const kB = 1024;
/** What the reader itself may add between the two readings (its heap, a page table), kB. */
const SLACK_KB = 128;

/**
 * meminfo lines and the memory.stat keys they add up (README "What the files show"): v2 names, and
 * v1's hierarchical ones. A key v1 does not have means the line is 0 there.
 */
const STAT_LINES: ReadonlyArray<{ line: string; v2: readonly string[]; v1: readonly string[] }> = [
  { line: 'Cached', v2: ['file'], v1: ['total_cache'] },
  { line: 'Active', v2: ['active_anon', 'active_file'], v1: ['total_active_anon', 'total_active_file'] },
  { line: 'Inactive', v2: ['inactive_anon', 'inactive_file'], v1: ['total_inactive_anon', 'total_inactive_file'] },
  { line: 'Active(anon)', v2: ['active_anon'], v1: ['total_active_anon'] },
  { line: 'Inactive(anon)', v2: ['inactive_anon'], v1: ['total_inactive_anon'] },
  { line: 'Active(file)', v2: ['active_file'], v1: ['total_active_file'] },
  { line: 'Inactive(file)', v2: ['inactive_file'], v1: ['total_inactive_file'] },
  { line: 'Unevictable', v2: ['unevictable'], v1: ['total_unevictable'] },
  { line: 'Dirty', v2: ['file_dirty'], v1: ['total_dirty'] },
  { line: 'Writeback', v2: ['file_writeback'], v1: ['total_writeback'] },
  { line: 'AnonPages', v2: ['anon'], v1: ['total_rss'] },
  { line: 'Mapped', v2: ['file_mapped'], v1: ['total_mapped_file'] },
  { line: 'Shmem', v2: ['shmem'], v1: ['total_shmem'] },
  { line: 'Slab', v2: ['slab'], v1: [] },
  { line: 'SReclaimable', v2: ['slab_reclaimable'], v1: [] },
  { line: 'SUnreclaim', v2: ['slab_unreclaimable'], v1: [] },
  { line: 'KernelStack', v2: ['kernel_stack'], v1: [] },
  { line: 'PageTables', v2: ['pagetables'], v1: [] },
  { line: 'AnonHugePages', v2: ['anon_thp'], v1: ['total_rss_huge'] },
  { line: 'ShmemHugePages', v2: ['shmem_thp'], v1: [] },
  { line: 'FileHugePages', v2: ['file_thp'], v1: [] },
];

/**
 * A process that charges its cgroup with every kind of memory, then waits: 48 MiB of anonymous
 * memory, 24 MiB of shmem (/dev/shm), 32 MiB of page cache (a file written and synced on disk in
 * DIR), mapped file pages (a copy of bash, run: pages of a file read first here are charged here,
 * while the host's own binaries are charged to whoever read them first), four worker threads
 * (kernel stacks, page tables). argv: DIR.
 */
const MEMORY_HOLDER = `
const fs = require('node:fs'); const { spawn } = require('node:child_process'); const { Worker } = require('node:worker_threads');
const dir = process.argv[1];
const anon = Buffer.alloc(48 * 2 ** 20, 1);
fs.writeFileSync('/dev/shm/' + dir.split('/').pop(), Buffer.alloc(24 * 2 ** 20, 2));
const fd = fs.openSync(dir + '/cache', 'w'); fs.writeSync(fd, Buffer.alloc(32 * 2 ** 20, 3)); fs.fsyncSync(fd); fs.closeSync(fd);
fs.copyFileSync('/bin/bash', dir + '/bash'); fs.chmodSync(dir + '/bash', 0o755);
spawn(dir + '/bash', ['-c', 'read'], { stdio: ['pipe', 'ignore', 'ignore'] });
let online = 0;
for (let i = 0; i < 4; i++) new Worker('setInterval(() => {}, 1e6)', { eval: true }).on('online', () => {
  if (++online === 4) console.log('ready');
});
setInterval(() => anon.length, 1e6);`;

/** A process that holds `MiB` of anonymous memory (touched, so charged) until killed. argv: MiB. */
const ANON_HOLDER = `const b = Buffer.alloc(Number(process.argv[1]) * 2 ** 20, 1); console.log('ready'); setInterval(() => b.length, 1e6);`;

const sum = (stat: Record<string, number>, keys: readonly string[]) => keys.reduce((n, key) => n + (stat[key] ?? 0), 0);
const toKb = (bytes: number) => Math.floor(bytes / kB);

/** `value` (kB) lies between the kernel's two readings `a` and `b` (bytes), with the reader's slack. */
function expectBetween(what: string, value: number, a: number, b: number, slackKb = SLACK_KB): void {
  const [low, high] = [toKb(Math.min(a, b)), toKb(Math.max(a, b))];
  expect(value, `${what}: ${value} kB, the kernel's ${low}-${high} kB`).toBeGreaterThanOrEqual(low - slackKb);
  expect(value, `${what}: ${value} kB, the kernel's ${low}-${high} kB`).toBeLessThanOrEqual(high + slackKb);
}

/** PSI lines `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` by kind. */
function parsePressure(text: string): Map<string, Record<string, number>> {
  return new Map(text.trim().split('\n').map((line) => {
    const [kind = '', ...pairs] = line.split(' ');
    return [kind, Object.fromEntries(pairs.map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]))];
  }));
}

describeE2E("each file against the kernel's own files of the reader's cgroup", () => {
  const fx = useFixture();
  const layout = hostLayout();
  let session: FileSession | undefined;
  let scratch = '';
  const holders: number[] = [];
  beforeAll(() => {
    // On disk, not tmpfs (/tmp may be one): its pages are page cache, not shmem.
    scratch = mkdtempSync('/var/tmp/cgprocfs-e2e-files-');
  });
  afterEach(async () => {
    session?.end();
    await killTrees(holders.splice(0));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(`/dev/shm/${scratch.split('/').pop()}`, { force: true });
  });

  const hold = async (rel: string, script: string, args: readonly string[]) => {
    const holder = fx.cgroups.spawn(rel, process.execPath, ['-e', script, ...args]);
    holders.push(holder.pid!);
    await waitForLine(holder, /^ready$/, 60_000);
  };

  it('meminfo: MemTotal is the smallest memory.max up the tree; every memory.stat line, MemFree and MemAvailable match the kernel', async () => {
    fx.cgroups.make('mem', { memoryLimit: 250 * MiB });
    fx.cgroups.make('mem/app', { memoryLimit: 300 * MiB });
    await hold('mem/app', MEMORY_HOLDER, [scratch]);
    session = FileSession.inCgroup(fx.cgroups, 'mem/app');
    await session.readFile(fx.daemon.path('proc/uptime')); // the session's first read, before the readings
    const [statBefore, currentBefore] = [fx.cgroups.memoryStat('mem/app'), fx.cgroups.memoryCurrent('mem/app')];
    const text = await session.readFile(fx.daemon.path('proc/meminfo'));
    const [statAfter, currentAfter] = [fx.cgroups.memoryStat('mem/app'), fx.cgroups.memoryCurrent('mem/app')];
    const shown = parseMeminfo(text);
    console.log(`[kernel-files] meminfo of a 250/300 MiB cgroup: ${STAT_LINES.map(({ line }) => `${line} ${shown.get(line)}`).join(', ')}`);

    expect(field(text, 'MemTotal')).toBe(250 * 1024);
    for (const { line, v1, v2 } of STAT_LINES) {
      const keys = layout === 'v2' ? v2 : v1;
      expectBetween(line, field(text, line), sum(statBefore, keys), sum(statAfter, keys));
    }
    expect([field(text, 'Buffers'), field(text, 'SwapCached')]).toEqual([0, 0]);
    expectBetween('MemFree', field(text, 'MemFree'), 250 * MiB - currentAfter, 250 * MiB - currentBefore);
    const reclaimable = layout === 'v2' ? ['active_file', 'inactive_file', 'slab_reclaimable'] : ['total_active_file', 'total_inactive_file'];
    const available = (stat: Record<string, number>, current: number) => Math.min(250 * MiB, 250 * MiB - current + sum(stat, reclaimable));
    expectBetween('MemAvailable', field(text, 'MemAvailable'), available(statBefore, currentBefore), available(statAfter, currentAfter));
    // What the holder made is there: the readings above compared real amounts.
    expect(field(text, 'AnonPages')).toBeGreaterThanOrEqual(48 * 1024);
    expect(field(text, 'Shmem')).toBeGreaterThanOrEqual(24 * 1024);
    expect(field(text, 'Cached')).toBeGreaterThanOrEqual((24 + 32) * 1024);
    expect(field(text, 'Mapped')).toBeGreaterThanOrEqual(2 * SLACK_KB);
    if (layout === 'v2') expect([field(text, 'KernelStack'), field(text, 'PageTables'), field(text, 'Slab')].every((kb) => kb > 0)).toBe(true);
  }, scaled(120_000));

  it('swaps and SwapTotal/SwapFree: the swap limit (at most the host\'s swap) and the swap the cgroup uses', async () => {
    const hostSwapKb = field(readFileSync('/proc/meminfo', 'utf8'), 'SwapTotal');
    const header = readFileSync('/proc/swaps', 'utf8').split('\n')[0];
    fx.cgroups.make('noswap', { memoryLimit: 96 * MiB });
    fx.cgroups.setSwapLimit('noswap', 0);
    fx.cgroups.make('swap', { memoryLimit: 96 * MiB });
    fx.cgroups.setSwapLimit('swap', 256 * MiB);
    const none = FileSession.inCgroup(fx.cgroups, 'noswap');
    try {
      expect(await none.readFile(fx.daemon.path('proc/swaps'))).toBe(`${header}\n`);
      const meminfo = await none.readFile(fx.daemon.path('proc/meminfo'));
      expect([field(meminfo, 'SwapTotal'), field(meminfo, 'SwapFree')]).toEqual([0, 0]);
    } finally {
      none.end();
    }
    console.log(`[kernel-files] host swap ${hostSwapKb} kB`);
    // 144 MiB held under a 96 MiB limit: the kernel swaps the rest out (it would kill it without swap).
    if (hostSwapKb > 0) await hold('swap', ANON_HOLDER, ['144']);
    session = FileSession.inCgroup(fx.cgroups, 'swap');
    const usedBefore = fx.cgroups.swapCurrent('swap') ?? 0;
    const swaps = await session.readFile(fx.daemon.path('proc/swaps'));
    const meminfo = await session.readFile(fx.daemon.path('proc/meminfo'));
    const usedAfter = fx.cgroups.swapCurrent('swap') ?? 0;
    console.log(`[kernel-files] swaps of a cgroup with a 256 MiB swap limit:\n${swaps}swap used ${usedBefore}-${usedAfter} B`);
    const [head, ...devices] = swaps.split('\n').filter(Boolean);
    expect(head).toBe(header);
    if (hostSwapKb === 0) {
      expect(devices).toEqual([]);
      expect([field(meminfo, 'SwapTotal'), field(meminfo, 'SwapFree')]).toEqual([0, 0]);
      return;
    }
    const totalKb = Math.min(256 * 1024, hostSwapKb);
    expect(devices).toHaveLength(1);
    const [name, type, size, used, priority] = devices[0]!.split(/\s+/);
    expect([name, type, Number(size), Number(priority)]).toEqual(['none', 'virtual', totalKb, 0]);
    expectBetween('swap used', Number(used), usedBefore, usedAfter);
    expect(Number(used)).toBeGreaterThanOrEqual(16 * 1024);
    expect(field(meminfo, 'SwapTotal')).toBe(totalKb);
    expectBetween('SwapFree', field(meminfo, 'SwapFree'), totalKb * kB - usedAfter, totalKb * kB - usedBefore);
  }, scaled(120_000));

  it('diskstats: the disk the cgroup wrote and read, with the operations and sectors its I/O controller counted, every other counter 0', async () => {
    fx.cgroups.make('io');
    session = FileSession.inCgroup(fx.cgroups, 'io');
    const disk = await directIo(fx.cgroups, 'io', scratch, 16);
    const before = fx.cgroups.ioStat('io');
    const text = await session.readFile(fx.daemon.path('proc/diskstats'));
    const after = fx.cgroups.ioStat('io');
    console.log(`[kernel-files] diskstats after 16 MiB written and read on ${disk.node} (${disk.number}):\n${text}io: ${JSON.stringify([...after])}`);
    const lines = text.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/));
    const active = [...after].filter(([, io]) => io.rbytes + io.wbytes + io.rios + io.wios > 0).map(([device]) => device);
    expect(lines.map(([major, minor]) => `${major}:${minor}`).sort()).toEqual(active.sort());
    const line = lines.find(([major, minor]) => `${major}:${minor}` === disk.number);
    expect(line, `no ${disk.number} line`).toBeDefined();
    const counters = line!.slice(3).map(Number);
    const io = (m: typeof before, key: 'rbytes' | 'wbytes' | 'rios' | 'wios') => m.get(disk.number)?.[key] ?? 0;
    const between = (what: string, value: number, key: 'rbytes' | 'wbytes' | 'rios' | 'wios', unit: number) => {
      expect(value * unit, what).toBeGreaterThanOrEqual(io(before, key));
      expect(value * unit, what).toBeLessThanOrEqual(io(after, key));
    };
    between('reads completed', counters[0]!, 'rios', 1);
    between('sectors read', counters[2]!, 'rbytes', 512);
    between('writes completed', counters[4]!, 'wios', 1);
    between('sectors written', counters[6]!, 'wbytes', 512);
    expect(Math.min(counters[2]!, counters[6]!) * 512).toBeGreaterThanOrEqual(16 * MiB);
    // Merges, times, in-flight: the host's would describe other tenants.
    for (const index of [1, 3, 5, 7, 8, 9, 10]) expect(counters[index], `counter ${index + 1}`).toBe(0);
  }, scaled(120_000));

  it('pressure/*: the cgroup\'s own PSI lines; three busy loops on one CPU show its CPU pressure, not the host\'s', async () => {
    fx.cgroups.make('psi');
    fx.cgroups.setCpus('psi', fx.cgroups.effectiveCpus().split(/[-,]/)[0]!);
    const loops = fx.cgroups.spawn('psi', 'sh', ['-c', 'for i in 1 2 3; do sh -c "while :; do :; done" & done; wait']);
    holders.push(loops.pid!);
    session = FileSession.inCgroup(fx.cgroups, 'psi');
    // cgroup v1 keeps no PSI per cgroup: there the view is the host's (README).
    const kernelFile = (resource: PressureResource) =>
      layout === 'v1' ? readFileSync(`/proc/pressure/${resource}`, 'utf8') : fx.cgroups.pressure('psi', resource);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const resource of ['cpu', 'memory', 'io'] as const) {
      const before = parsePressure(kernelFile(resource));
      const shown = await session.readFile(fx.daemon.path(`proc/pressure/${resource}`));
      const after = parsePressure(kernelFile(resource));
      console.log(`[kernel-files] pressure/${resource} of a cgroup with three loops on one CPU:\n${shown}`);
      const lines = parsePressure(shown);
      expect([...lines.keys()]).toEqual([...after.keys()]);
      for (const [kind, values] of lines) {
        expect(Object.keys(values)).toEqual(['avg10', 'avg60', 'avg300', 'total']);
        expect(values['total'], `${resource} ${kind} total`).toBeGreaterThanOrEqual(before.get(kind)!['total']!);
        expect(values['total'], `${resource} ${kind} total`).toBeLessThanOrEqual(after.get(kind)!['total']!);
      }
    }
    if (layout === 'v1') return;
    // Two of three loops wait for the CPU at any moment: "some" grows about as fast as the clock.
    const first = parsePressure(await session.readFile(fx.daemon.path('proc/pressure/cpu'))).get('some')!['total']!;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const second = parsePressure(await session.readFile(fx.daemon.path('proc/pressure/cpu'))).get('some')!['total']!;
    console.log(`[kernel-files] cpu some total grew ${second - first} µs in 1 s`);
    expect(second - first).toBeGreaterThanOrEqual(300_000);
  }, scaled(120_000));
});
