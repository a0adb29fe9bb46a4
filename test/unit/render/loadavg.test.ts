import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServedFiles } from '../helpers/served-files.js';
import { createCallerResolver, type ResolvePolicy } from '../../../src/caller/resolver.js';
import type { ViewTarget } from '../../../src/caller/target.js';
import { advanceAverages, formatLoad, seededAverages } from '../../../src/load/fixed-point.js';
import { LOAD_FREQ_MS, LoadavgSampler } from '../../../src/load/sampler.js';
import { allocateLoadavgMemory, LoadavgTable, type LoadavgMemory } from '../../../src/load/table.js';
import { createLoadavgView, render } from '../../../src/render/loadavg.js';
import { CGROUP_V2, LAYOUTS, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { contextFor, testTarget } from '../helpers/render-context.js';

const T0 = 1_700_000_000_000;
const HOST_LOADAVG = readFileSync(join(PROC_ROOT, 'loadavg'), 'utf8');
const HOST_LAST_PID = 4021;

/** Puts a fixture task to sleep in both files a census reads. */
function asleep(procRoot: string, tid: number): void {
  const stat = join(procRoot, String(tid), 'stat');
  const status = join(procRoot, String(tid), 'status');
  writeFileSync(stat, readFileSync(stat, 'utf8').replace(/\) . /, ') S '));
  writeFileSync(status, readFileSync(status, 'utf8').replace(/^State:.*$/m, 'State:\tS (sleeping)'));
}

const explicit = (path: string): ViewTarget => testTarget({ path, key: path });
const reader = (tid: number, policy: ResolvePolicy = 'init', procRoot = PROC_ROOT) => createCallerResolver(procRoot, policy).targetFor(tid);

function loadavg(cgroupRoot: string, target: ViewTarget, memory: LoadavgMemory = allocateLoadavgMemory(16)): string {
  return createLoadavgView(new LoadavgTable(memory), () => T0)(contextFor(cgroupRoot, target));
}

describe.each(LAYOUTS)('proc/loadavg on %s', (_, root) => {
  it.each([
    // census of B's subtree: R 3151 and 3202, D 3152, S 3100 3150 3200 3201; the reader is never below 1 running.
    ['container B read by its service (pids of B\'s namespace, nested ones included)', 3150, '3.00 3.00 3.00 2/7 62\n'],
    ['docker A read from a docker exec\'d shell: idle, last pid of A\'s namespace', 2300, '0.00 0.00 0.00 1/4 12\n'],
    ['the namespace nested in B, read by its second process', 3201, '1.00 1.00 1.00 1/3 3\n'],
  ])('shows %s', (_name, tid, text) => {
    expect(loadavg(root, reader(tid))).toBe(text);
  });

  it('shows the host\'s last pid for a cgroup rendered from the host', () => {
    expect(loadavg(root, explicit('/lxc.payload.b'))).toBe(`3.00 3.00 3.00 2/7 ${HOST_LAST_PID}\n`);
  });

  it('shows the host\'s last pid to a host process in its own cgroup', () => {
    expect(loadavg(root, reader(1200))).toBe(`0.00 0.00 0.00 1/1 ${HOST_LAST_PID}\n`);
  });

  it('shows pids of the reader\'s own namespace under --resolve caller', () => {
    expect(loadavg(root, reader(3150, 'caller'))).toBe('2.00 2.00 2.00 1/3 47\n');
  });

  it('passes the host\'s file through unchanged for the root cgroup', () => {
    expect(loadavg(root, explicit('/'))).toBe(HOST_LOADAVG);
  });
});

describeServedFiles(['proc/loadavg'], 'proc/loadavg averages', () => {
  const copy = useFixtureCopies();

  describe('the warm start (issue 21)', () => {
    // B's subtree: R 3151 and 3202, D 3152; its tasks' pid namespace is B's, so 3151 reads B.
    const firstRead = (procRoot: string, readerTid: number | undefined): string =>
      createLoadavgView(new LoadavgTable(allocateLoadavgMemory(16)), () => T0)({ ...contextFor(CGROUP_V2, reader(3151, 'init', procRoot), procRoot), readerTid });

    it('never counts the reader itself, which a CPU quota can hold runnable while it waits for the reply', () => {
      expect(firstRead(PROC_ROOT, undefined)).toMatch(/^3\.00 3\.00 3\.00 /);
      // Still "2/7": the running field counts the reader, as the kernel's does.
      expect(firstRead(PROC_ROOT, 3151)).toBe('2.00 2.00 2.00 2/7 62\n');
    });

    it('never counts a task in D that waits on a FUSE reply (wchan request_wait_answer), and counts other D tasks', () => {
      const procRoot = copy(PROC_ROOT);
      writeFileSync(join(procRoot, '3152', 'wchan'), 'io_schedule');
      expect(firstRead(procRoot, 3151)).toMatch(/^2\.00 /);
      writeFileSync(join(procRoot, '3152', 'wchan'), 'request_wait_answer');
      expect(firstRead(procRoot, 3151)).toMatch(/^1\.00 /);
      asleep(procRoot, 3202);
      expect(firstRead(procRoot, 3151)).toMatch(/^0\.00 0\.00 0\.00 /);
    });
  });

  it('shows the averages the sampler advanced since the first read', () => {
    const procRoot = copy(PROC_ROOT);
    const memory = allocateLoadavgMemory(16);
    const clock = { now: T0 };
    const view = createLoadavgView(new LoadavgTable(memory), () => clock.now);
    const context = contextFor(CGROUP_V2, explicit('/lxc.payload.b'), procRoot);
    expect(view(context)).toBe(`3.00 3.00 3.00 2/7 ${HOST_LAST_PID}\n`);
    for (const tid of [3151, 3152, 3202]) asleep(procRoot, tid);
    clock.now += 12 * LOAD_FREQ_MS;
    new LoadavgSampler(memory, procRoot, () => clock.now).tick();
    const expected = advanceAverages(seededAverages(3), 0, 12).map(formatLoad).join(' ');
    expect(view(context)).toBe(`${expected} 1/7 ${HOST_LAST_PID}\n`);
    expect(expected).toBe('1.10 2.46 2.81'); // a minute after: 3 e^-1, 3 e^-1/5, 3 e^-1/15
  });

  it('renders from the census alone when the table is full, and never fails the read', () => {
    const memory = allocateLoadavgMemory(1);
    expect(loadavg(CGROUP_V2, explicit('/system.slice/docker-a1b2c3.scope'), memory)).toBe(`0.00 0.00 0.00 1/4 ${HOST_LAST_PID}\n`);
    expect(loadavg(CGROUP_V2, explicit('/lxc.payload.b'), memory)).toBe(`3.00 3.00 3.00 2/7 ${HOST_LAST_PID}\n`);
  });

  it('raises SOURCE_UNREADABLE for a cgroup that does not exist', () => {
    expect(() => loadavg(CGROUP_V2, explicit('/gone'))).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});

describe('rendering loadavg', () => {
  it('prints the kernel format', () => {
    expect(render({ averages: [2150, 0, 20 * 2048], running: 1, total: 4, lastPid: 12 })).toBe('1.05 0.00 20.00 1/4 12\n');
  });
});
