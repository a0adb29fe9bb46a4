// Which task figures a view shows: a small container counted at each rendering, a
// large one (issue 17: tens of thousands of threads) from the sampler's last tick.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { uniformPaths } from '../../../src/cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../../../src/cgroup/view.js';
import { taskListOf } from '../../../src/cgroup/tasks.js';
import { COUNTED_TASKS, ContainerTasks } from '../../../src/load/container-tasks.js';
import { LoadavgSampler } from '../../../src/load/sampler.js';
import { allocateLoadavgMemory, LoadavgTable } from '../../../src/load/table.js';
import { CGROUP_V2, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { viewService } from '../helpers/render-context.js';

const viewOn = (path: string): CgroupView => cgroupViewOf(uniformPaths(path));

const T0 = 1_700_000_000_000;

function setup(cgroupRoot: string, procRoot = PROC_ROOT) {
  const memory = allocateLoadavgMemory(16);
  const table = new LoadavgTable(memory);
  const layout = detectLayout(cgroupRoot);
  // A work clock that stands still: the fixture files' cost never cuts a census short.
  const tasks = new ContainerTasks(layout, procRoot, { table, now: () => T0, workClock: () => 0 });
  const sampler = new LoadavgSampler(memory, procRoot, () => T0 + 100, undefined, () => 0);
  const census = (path: string, nsLevel?: number) => tasks.census(taskListOf(layout, viewOn(path))!, viewOn(path), nsLevel);
  return { table, sampler, census, layout, tasks };
}

/** Adds `count` sleeping single-threaded tasks to the cgroup `rel` of a v2 copy and to a proc root copy. */
function addTasks(cgroupRoot: string, procRoot: string, rel: string, count: number): void {
  const status = readFileSync(join(procRoot, '3150', 'status'), 'utf8');
  const stat = readFileSync(join(procRoot, '3150', 'stat'), 'utf8');
  const tids = Array.from({ length: count }, (_, i) => 10_000 + i);
  for (const tid of tids) {
    mkdirSync(join(procRoot, String(tid), 'task', String(tid)), { recursive: true });
    writeFileSync(join(procRoot, String(tid), 'status'), status.replace(/^Tgid:.*$/m, `Tgid:\t${tid}`).replace(/^NSpid:.*$/m, `NSpid:\t${tid}\t${tid - 9000}`));
    writeFileSync(join(procRoot, String(tid), 'task', String(tid), 'stat'), stat.replace(/^3150 /, `${tid} `));
  }
  const list = join(cgroupRoot, rel, 'cgroup.threads');
  writeFileSync(list, readFileSync(list, 'utf8') + tids.map((tid) => `${tid}\n`).join(''));
}

describe('task figures of a view', () => {
  const copy = useFixtureCopies();

  it('counts a small container\'s tasks at each rendering, exactly', () => {
    const { census, table } = setup(CGROUP_V2);
    expect(census('/lxc.payload.b', 1)).toMatchObject({ running: 2, blocked: 1, total: 7, newestNsPid: 62, exact: true });
    // Nothing registered for the sampler: a counted container costs it nothing.
    expect(table.used()).toBe(0);
  });

  it('takes a container larger than pids.current allows counting from the sampler: nothing until it counted, then its figures', () => {
    const root = copy(CGROUP_V2);
    writeFileSync(join(root, 'lxc.payload.b', 'pids.current'), '20000\n');
    const { census, sampler } = setup(root);
    // The first reader registers it; the total is pids.current's until the sampler counts.
    expect(census('/lxc.payload.b', 1)).toEqual({ running: 0, blocked: 0, total: 20000, newestNsPid: 0, exact: false, switches: 0 });
    sampler.tick({ newOnly: true });
    // The sampler's count, and the newest task it read (3201) at the reader's level.
    expect(census('/lxc.payload.b', 1)).toEqual({ running: 2, blocked: 1, total: 7, newestNsPid: 61, exact: false, switches: 0 });
    expect(census('/lxc.payload.b')).toMatchObject({ newestNsPid: 2 });
  });

  it('counts a small container\'s context switches at the rendering, a large one\'s from the sampler', () => {
    const root = copy(CGROUP_V2);
    const { census, sampler, tasks, layout } = setup(root);
    const docker = '/system.slice/docker-a1b2c3.scope';
    const list = () => taskListOf(layout, viewOn(docker))!;
    // Docker A's tasks switched 40 + 25 + 7 + 3 times, read through their thread groups.
    expect(tasks.census(list(), viewOn(docker), undefined, true)).toMatchObject({ switches: 75, exact: true });
    expect(census(docker)).toMatchObject({ switches: 0 });
    writeFileSync(join(root, 'system.slice', 'docker-a1b2c3.scope', 'pids.current'), '20000\n');
    expect(tasks.census(list(), viewOn(docker), undefined, true)).toMatchObject({ switches: 0, exact: false });
    sampler.tick({ newOnly: true });
    expect(tasks.census(list(), viewOn(docker), undefined, true)).toMatchObject({ switches: 75, total: 4, exact: false });
  });

  it('without pids.current, remembers in the table a container found large, so its tasks are not counted at every rendering', () => {
    const root = copy(CGROUP_V2);
    const procRoot = copy(PROC_ROOT);
    const rel = 'lxc.payload.b/system.slice/nginx.service';
    addTasks(root, procRoot, rel, COUNTED_TASKS);
    const { census, table, layout } = setup(root, procRoot);
    // The first census counts them all and registers the container with its size.
    expect(census(`/${rel}`)).toMatchObject({ total: COUNTED_TASKS + 3 });
    expect(table.taskCount(taskListOf(layout, viewOn(`/${rel}`))!)).toBe(COUNTED_TASKS + 3);
    // From then on the figures are the table's: seeded, not counted again.
    expect(census(`/${rel}`)).toMatchObject({ running: 0, blocked: 0, total: COUNTED_TASKS + 3, exact: false });
  });

  it('never lists a large container\'s tasks at a rendering of stat or loadavg (regression: ctxt listed 20,000 threads at each)', () => {
    const root = copy(CGROUP_V2);
    const container = join(root, 'lxc.payload.b');
    writeFileSync(join(container, 'pids.current'), '20000\n');
    // A task list that fails when read: any listing at a rendering would fail it.
    for (const dir of [container, join(container, 'nested')]) {
      rmSync(join(dir, 'cgroup.threads'));
      mkdirSync(join(dir, 'cgroup.threads'));
    }
    const views = viewService(root, { loadavg: allocateLoadavgMemory(16) });
    // Read by container B's nginx (3150), whose view is B's init's cgroup.
    expect(views.renderForReader('proc/stat', 3150).toString()).toMatch(/^procs_running 1$/m);
    expect(views.renderForReader('proc/loadavg', 3150).toString()).toMatch(/^0\.00 0\.00 0\.00 1\/20000 /);
  });
});
