import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import {
  activeTasks, censusOf, parseTaskStat, parseTaskNsPids, parseTaskStatState, subtreeTasks, taskCensus, taskListOf,
} from '../../../src/cgroup/tasks.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

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
  const census = (path: string, nsLevel?: number) => taskCensus(PROC_ROOT, layout, uniformPaths(path), nsLevel);

  it('lists tasks on the first hierarchy where the cgroup exists', () => {
    expect(taskListOf(layout, uniformPaths('/lxc.payload.b'))).toEqual({ dir: join(taskMount, 'lxc.payload.b'), file, path: '/lxc.payload.b' });
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
    expect(taskListOf(layout, uniformPaths('/gone'))).toBeUndefined();
    expect(census('/gone')).toEqual({ running: 0, blocked: 0, total: 0, newestNsPid: 0 });
  });
});

describe('task lists', () => {
  it('refuses a cgroup path that leaves the hierarchy', () => {
    expect(taskListOf(detectLayout(CGROUP_V2), uniformPaths('/../etc'))).toBeUndefined();
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

  it('counts active tasks from /proc/<tid>/stat, skipping tasks without one (exited)', () => {
    const list = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
    expect(activeTasks(PROC_ROOT, list, 100)?.active).toBe(3);
    expect(activeTasks(PROC_ROOT, { ...list, dir: join(CGROUP_V2, 'gone') }, 100)).toBeUndefined();
  });
});

describe('the census on a changing host', () => {
  const copy = useFixtureCopies();
  const list = { dir: join(CGROUP_V2, 'lxc.payload.b/system.slice/nginx.service'), file: 'cgroup.threads', path: '/x' } as const;
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
});
