import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout, type CgroupLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../../../src/cgroup/view.js';
import {
  parseTaskNsPids, parseTaskStat, parseTaskStatState, parseTaskTgid, TaskReader, type TaskReading,
} from '../../../src/cgroup/task-reader.js';
import { CensusTaker, NO_TASKS, pidsCurrent, subtreeTasks, taskListOf, type CensusOptions } from '../../../src/cgroup/tasks.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const viewOn = (path: string): CgroupView => cgroupViewOf(uniformPaths(path));

/** A census of the cgroup at `path`, every task read (no budget). */
function taskCensus(procRoot: string, layout: CgroupLayout, path: string, nsLevel?: number) {
  const list = taskListOf(layout, viewOn(path));
  return list === undefined ? NO_TASKS : (new CensusTaker(new TaskReader(procRoot)).census(list, { nsLevel }) ?? NO_TASKS);
}

// Fixture tasks (test/fixtures/README.md): container B's subtree holds 3100 (S),
// nginx.service 3150 (S), 3151 (R), 3152 (D), nested 3200, 3201 (S), 3202 (R);
// docker A holds 2100 and its thread 2101, 2150, 2300, all sleeping.
const LAYOUTS = [
  ['v1', CGROUP_V1, join(CGROUP_V1, 'memory'), 'tasks'],
  ['v2', CGROUP_V2, CGROUP_V2, 'cgroup.threads'],
  ['hybrid', CGROUP_HYBRID, join(CGROUP_HYBRID, 'unified'), 'cgroup.threads'],
] as const;

describe.each(LAYOUTS)('the task census on %s', (_, root, taskMount, file) => {
  const layout = detectLayout(root);
  const census = (path: string, nsLevel?: number) => taskCensus(PROC_ROOT, layout, path, nsLevel);

  it('lists tasks on the first hierarchy where the cgroup exists', () => {
    expect(taskListOf(layout, viewOn('/lxc.payload.b'))).toEqual({ dir: join(taskMount, 'lxc.payload.b'), file, path: '/lxc.payload.b' });
  });

  it.each([
    ['container B, its sub-cgroups included', '/lxc.payload.b', { running: 2, blocked: 1, total: 7 }],
    ['a leaf with R, D and S tasks', '/lxc.payload.b/system.slice/nginx.service', { running: 1, blocked: 1, total: 3 }],
    ['docker A: threads count, all asleep', '/system.slice/docker-a1b2c3.scope', { running: 0, blocked: 0, total: 4 }],
  ])('counts running (R), uninterruptible (D) and all tasks of %s', (_name, path, counts) => {
    expect(census(path)).toMatchObject(counts);
  });

  it('reports the newest innermost pid by default', () => {
    expect(census('/lxc.payload.b').newestNsPid).toBe(47);
  });

  it('reports the newest pid at a namespace level, nested namespaces included', () => {
    expect(census('/lxc.payload.b', 1).newestNsPid).toBe(62);
    expect(census('/lxc.payload.b/nested', 2).newestNsPid).toBe(3);
  });

  it('ignores tasks outside a namespace that deep, so no host pid leaks', () => {
    expect(census('/system.slice/containerd.service', 1)).toMatchObject({ total: 1, newestNsPid: 0 });
  });

  it('counts nothing for a cgroup that does not exist', () => {
    expect(taskListOf(layout, viewOn('/gone'))).toBeUndefined();
    expect(census('/gone')).toEqual(NO_TASKS);
  });
});

describe('task lists', () => {
  it('refuses a cgroup path that leaves the hierarchy', () => {
    expect(taskListOf(detectLayout(CGROUP_V2), viewOn('/../etc'))).toBeUndefined();
  });

  it('walks the subtree and stops at the limit', () => {
    const dir = join(CGROUP_V2, 'lxc.payload.b');
    expect(subtreeTasks(dir, 'cgroup.threads')?.sort()).toEqual([3100, 3150, 3151, 3152, 3200, 3201, 3202]);
    expect(subtreeTasks(dir, 'cgroup.threads', 2)).toHaveLength(2);
  });

  it('tells a removed cgroup (undefined) from an empty one', () => {
    expect(subtreeTasks(join(CGROUP_V2, 'gone'), 'cgroup.threads')).toBeUndefined();
    expect(subtreeTasks(join(CGROUP_V2, 'user.slice'), 'cgroup.threads')).toEqual([1200]);
  });

  it('has no census for a cgroup that is gone', () => {
    expect(new CensusTaker(new TaskReader(PROC_ROOT)).census({ dir: join(CGROUP_V2, 'gone'), file: 'cgroup.threads' })).toBeUndefined();
  });
});

describe('the census on a changing host', () => {
  const copy = useFixtureCopies();
  const list = { dir: join(CGROUP_V2, 'lxc.payload.b/system.slice/nginx.service'), file: 'cgroup.threads', path: '/x' } as const;
  const censusOf = (procRoot: string, of: typeof list, nsLevel?: number) => censusTakers(procRoot).census(of, { nsLevel });
  const setNsPid = (procRoot: string, tid: number, nspid: string) => {
    const path = join(procRoot, String(tid), 'status');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/NSpid:.*\n/, `NSpid:\t${nspid}\n`));
  };
  const setStart = (procRoot: string, tid: number, start: number) => {
    const path = join(procRoot, String(tid), 'stat');
    const fields = readFileSync(path, 'utf8').split(' ');
    fields[21] = String(start);
    writeFileSync(path, fields.join(' '));
  };

  it('takes states from stat at every census, and a task\'s pids from status once (they never change)', () => {
    const procRoot = copy(PROC_ROOT);
    expect(censusOf(procRoot, list, 1)).toMatchObject({ running: 1, blocked: 1, newestNsPid: 47 });
    // A status that now claimed other pids is not read again for the same task...
    setNsPid(procRoot, 3152, '3152 99');
    const stat = join(procRoot, '3151', 'stat');
    writeFileSync(stat, readFileSync(stat, 'utf8').replace(') R ', ') S '));
    expect(censusOf(procRoot, list, 1)).toMatchObject({ running: 0, blocked: 1, newestNsPid: 47 });
    // ...but a thread id with another start time is another task: its status is read.
    setStart(procRoot, 3152, 999999);
    expect(censusOf(procRoot, list, 1)).toMatchObject({ newestNsPid: 99 });
  });

  it('skips a task whose stat is gone (it exited)', () => {
    const procRoot = copy(PROC_ROOT);
    rmSync(join(procRoot, '3152', 'stat'));
    expect(censusOf(procRoot, list)).toMatchObject({ blocked: 0, total: 2 });
  });
});

/** One census taker per proc root copy, so a test's censuses share what they remember. */
const takers = new Map<string, CensusTaker>();
function censusTakers(procRoot: string): CensusTaker {
  let taker = takers.get(procRoot);
  if (taker === undefined) takers.set(procRoot, (taker = new CensusTaker(new TaskReader(procRoot))));
  return taker;
}

describe('reading a task', () => {
  const copy = useFixtureCopies();
  /** Replaces the link <tgid>/task/<tid>/stat by a file of its own, as the kernel's per-thread stat is. */
  const setThreadStat = (procRoot: string, tgid: number, tid: number, state: string) => {
    const path = join(procRoot, String(tgid), 'task', String(tid), 'stat');
    const text = readFileSync(path, 'utf8').replace(/\) . /, `) ${state} `);
    rmSync(path);
    writeFileSync(path, text);
  };

  it('reads a thread\'s state through its thread group\'s task directory, never /proc/<tid>/stat (which walks every thread)', () => {
    const procRoot = copy(PROC_ROOT);
    // docker A's second thread 2101 (thread group 2100): its own /proc/2101/stat would say R.
    const own = join(procRoot, '2101', 'stat');
    writeFileSync(own, readFileSync(own, 'utf8').replace(/\) . /, ') R '));
    setThreadStat(procRoot, 2100, 2101, 'S');
    const reader = new TaskReader(procRoot);
    expect(reader.read(2101)).toMatchObject({ state: 'S', nspid: [2101, 2] });
    setThreadStat(procRoot, 2100, 2101, 'D');
    expect(reader.read(2101)?.state).toBe('D');
  });

  it('follows a thread id taken by a task of another process to its new thread group', () => {
    const procRoot = copy(PROC_ROOT);
    const reader = new TaskReader(procRoot);
    expect(reader.read(2101)?.nspid).toEqual([2101, 2]);
    // 2101 exits and a thread of process 2150 gets its id.
    rmSync(join(procRoot, '2100', 'task', '2101'), { recursive: true });
    const status = join(procRoot, '2101', 'status');
    writeFileSync(status, readFileSync(status, 'utf8').replace(/^Tgid:.*$/m, 'Tgid:\t2150').replace(/^NSpid:.*$/m, 'NSpid:\t2101\t9'));
    mkdirSync(join(procRoot, '2150', 'task', '2101'));
    writeFileSync(join(procRoot, '2150', 'task', '2101', 'stat'), readFileSync(join(procRoot, '2101', 'stat'), 'utf8').replace(/\) . /, ') R '));
    expect(reader.read(2101)).toMatchObject({ state: 'R', nspid: [2101, 9] });
  });

  it('has nothing for a task that is gone', () => {
    expect(new TaskReader(PROC_ROOT).read(99999)).toBeUndefined();
  });
});

describe('a census with a time budget', () => {
  const list = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
  /** A reader that records which tasks it read. */
  class RecordingReader extends TaskReader {
    readonly seen: number[] = [];
    override read(tid: number): TaskReading | undefined {
      this.seen.push(tid);
      return super.read(tid);
    }
  }
  /** A clock that moves 1 ms each time it is read: each task read costs a millisecond. */
  const ticking = () => {
    let now = 0;
    return () => now++;
  };
  const budgeted = (budgetMs: number): CensusOptions => ({ budgetMs, clock: ticking() });

  it('reads every task when the budget allows, and says the figures are exact', () => {
    const census = new CensusTaker(new TaskReader(PROC_ROOT)).census(list, budgeted(100));
    expect(census).toMatchObject({ running: 2, blocked: 1, total: 7, exact: true });
  });

  it('stops when the budget is spent and scales what it read to every task listed', () => {
    const reader = new RecordingReader(PROC_ROOT);
    const census = new CensusTaker(reader).census(list, budgeted(3))!;
    expect(reader.seen).toHaveLength(3);
    expect(census.exact).toBe(false);
    expect(census.total).toBe(7);
    const states = reader.seen.map((tid) => reader.read(tid)!.state);
    const count = (state: string) => states.filter((s) => s === state).length;
    expect(census.running).toBe(Math.round((count('R') * 7) / 3));
    expect(census.blocked).toBe(Math.round((count('D') * 7) / 3));
  });

  it('goes on where the last census stopped, so every task is read in turn', () => {
    const reader = new RecordingReader(PROC_ROOT);
    const taker = new CensusTaker(reader);
    for (let i = 0; i < 3; i++) taker.census(list, budgeted(3));
    expect(new Set(reader.seen)).toEqual(new Set([3100, 3150, 3151, 3152, 3200, 3201, 3202]));
  });

  it('always reads at least one task, however small the budget', () => {
    const reader = new RecordingReader(PROC_ROOT);
    expect(new CensusTaker(reader).census(list, budgeted(0))?.exact).toBe(false);
    expect(reader.seen).toHaveLength(1);
  });

  it('names the task that started last among those read (the sampler publishes it)', () => {
    // Start times: 3201, the nested namespace's second process (4500.1 s), is the latest in B's subtree.
    expect(new CensusTaker(new TaskReader(PROC_ROOT)).census(list)?.newestTid).toBe(3201);
  });
});

describe('the size of a cgroup from the pids controller', () => {
  const copy = useFixtureCopies();

  it('reads pids.current of the view\'s pids cgroup, and nothing where there is none', () => {
    const root = copy(CGROUP_V2);
    writeFileSync(join(root, 'lxc.payload.b', 'pids.current'), '20000\n');
    const layout = detectLayout(root);
    expect(pidsCurrent(layout, viewOn('/lxc.payload.b'))).toBe(20000);
    expect(pidsCurrent(layout, viewOn('/system.slice'))).toBeUndefined();
    expect(pidsCurrent(layout, viewOn('/'))).toBeUndefined();
    expect(pidsCurrent(detectLayout(CGROUP_HYBRID), viewOn('/lxc.payload.b'))).toBeUndefined();
  });
});

describe('task state parsers', () => {
  it.each([
    ['3152 (nginx) D 3150 3150 3150 0 -1 4194560 10 0 0 0 1 1 0 0 20 0 1 0 402117 1000 20', { state: 'D', start: '402117' }],
    ['77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 9', { state: 'R', start: '555' }],
    ['77 (cut short) S 1 77', { state: 'S', start: '' }],
    ['garbage', { state: '?', start: '' }],
  ])('reads state and start time from stat %j', (text, want) => {
    expect(parseTaskStat(text)).toEqual(want);
  });

  it.each([
    ['3152 (nginx) D 3150 3150', 'D'],
    ['77 (a) b (c)) R 1 77', 'R'],
    ['garbage', '?'],
  ])('reads the state of stat line %j', (line, state) => {
    expect(parseTaskStatState(line)).toBe(state);
  });

  it('reads the pid in every namespace from status, none without an NSpid line', () => {
    expect(parseTaskNsPids('Name:\tx\nState:\tD (disk sleep)\nNSpid:\t3202\t62\t3\n')).toEqual([3202, 62, 3]);
    expect(parseTaskNsPids('Name:\tx\n')).toEqual([]);
  });

  it('reads the thread group from status', () => {
    expect(parseTaskTgid('Name:\tx\nTgid:\t2100\nPid:\t2101\n')).toBe(2100);
    expect(parseTaskTgid('Name:\tx\n')).toBeUndefined();
  });
});
