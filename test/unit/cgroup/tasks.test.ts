import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import {
  activeTasks, parseTaskStatState, parseTaskStatus, subtreeTasks, taskCensus, taskListOf,
} from '../../../src/cgroup/tasks.js';
import { CGROUP_HYBRID, CGROUP_V1, CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';

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

describe('task state parsers', () => {
  it.each([
    ['3152 (nginx) D 3150 3150', 'D'],
    ['77 (a) b (c)) R 1 77', 'R'],
    ['garbage', '?'],
  ])('reads the state of stat line %j', (line, state) => {
    expect(parseTaskStatState(line)).toBe(state);
  });

  it('reads the state and the pid in every namespace from status', () => {
    expect(parseTaskStatus('Name:\tx\nState:\tD (disk sleep)\nNSpid:\t3202\t62\t3\n')).toEqual({ state: 'D', nspid: [3202, 62, 3] });
    expect(parseTaskStatus('Name:\tx\n')).toEqual({ state: '?', nspid: [] });
  });
});
