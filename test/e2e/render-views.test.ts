// `cgprocfs render <file> --pid N` prints every CPU, time and I/O view in the shape the mount shows the same
// cgroup (issue 3: each file can be checked from the host); values that tick between two reads may differ.
import { mkdtempSync, rmSync } from 'node:fs';
import { directIo } from './harness/block.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeStateDir } from './harness/daemon.js';
import type { ChildProcess } from 'node:child_process';
import { parseLoadavg, parseUptime, statCpuLines } from './harness/cpu-files.js';
import { killTrees, runOk, scaled } from './harness/exec.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const lines = (text: string) => text.split('\n').filter(Boolean);
const words = (line: string) => line.trim().split(/\s+/);

/** What must agree between render and the mount, per file: everything but the values that move. */
const SHAPES: ReadonlyArray<{ file: string; shape: (text: string) => unknown }> = [
  // The host's blocks for CPU 1 alone; only the clock (cpu MHz) moves between reads.
  { file: 'proc/cpuinfo', shape: (t) => t.replace(/^(cpu MHz\s*:).*$/gm, '$1 *') },
  { file: 'proc/stat', shape: (t) => ({ cpus: [...statCpuLines(t).keys()], lines: lines(t).map((l) => [words(l)[0], words(l).length]) }) },
  { file: 'proc/uptime', shape: (t) => Object.keys(parseUptime(t)) },
  { file: 'proc/loadavg', shape: (t) => Object.keys(parseLoadavg(t)) },
  // The kernel's 20 fields per device: major, minor, name and 17 counters.
  { file: 'proc/diskstats', shape: (t) => lines(t).map((l) => [...words(l).slice(0, 3), words(l).length]) },
  { file: 'proc/pressure/cpu', shape: (t) => lines(t).map((l) => words(l).map((w) => w.replace(/=.*/, ''))) },
  { file: 'sys/devices/system/cpu/online', shape: (t) => t },
];

describeE2E('render prints each CPU, time and I/O view as the mount does', () => {
  const fx = useFixture();
  let sleeper: ChildProcess | undefined;
  // The CPU counters of `render stat` go to a state directory of this test's own.
  let stateDir = '';

  beforeAll(() => {
    stateDir = makeStateDir();
    fx.cgroups.make('r');
    fx.cgroups.setCpus('r', '1');
    sleeper = fx.cgroups.spawn('r', 'sleep', ['600']);
  });
  // I/O of its own, so `r` has a diskstats line to compare; and a first reader in `r`, whose cat may
  // be read from disk, so that no line appears between a rendering and the mount's read of the view.
  beforeAll(async () => {
    const scratch = mkdtempSync('/var/tmp/cgprocfs-e2e-render-');
    try {
      await directIo(fx.cgroups, 'r', scratch, 1);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    await fx.readIn('r', fx.daemon.path('proc/diskstats'));
  }, scaled(120_000));
  afterAll(async () => {
    if (sleeper?.pid !== undefined) await killTrees([sleeper.pid]);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it.each(SHAPES)('render $file --pid <a process in a cpuset-1 cgroup> prints the mount\'s shape', async ({ file, shape }) => {
    const rendered = await runOk(process.execPath, [DAEMON_BIN, 'render', file, '--pid', String(sleeper!.pid), '--state-dir', stateDir], { timeoutMs: 20_000 });
    const mounted = await fx.readIn('r', fx.daemon.path(file));
    expect(rendered.endsWith('\n')).toBe(true);
    expect(shape(rendered)).toEqual(shape(mounted));
  });

  it.each(SHAPES)('render $file --cgroup <its path, as /proc/<pid>/cgroup shows it> prints the mount\'s shape', async ({ file, shape }) => {
    const rendered = await runOk(process.execPath, [DAEMON_BIN, 'render', file, '--cgroup', fx.cgroups.cgroupPath('r'), '--state-dir', stateDir], { timeoutMs: 20_000 });
    const mounted = await fx.readIn('r', fx.daemon.path(file));
    expect(shape(rendered)).toEqual(shape(mounted));
  });

  it('render and the mount agree that the cpuset-1 cgroup sees CPU 1 alone', async () => {
    const render = (file: string) => runOk(process.execPath, [DAEMON_BIN, 'render', file, '--pid', String(sleeper!.pid), '--state-dir', stateDir], { timeoutMs: 20_000 });
    expect(await render('sys/devices/system/cpu/online')).toBe('1\n');
    expect(lines(await render('proc/cpuinfo')).filter((l) => l.startsWith('processor')).map((l) => words(l).join(' '))).toEqual(['processor : 1']);
    expect([...statCpuLines(await render('proc/stat')).keys()]).toEqual(['cpu', 'cpu1']);
  });
});
