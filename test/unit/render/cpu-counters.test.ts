import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../../../src/cgroup/layout.js';
import { pruneCpuCounters } from '../../../src/render/cpu-files.js';
import { TREE_LAYOUTS, useCgroupTrees, writeCgroupTree, type CpuSpec, type TreeLayout } from '../helpers/cgroup-tree.js';
import { CGROUP_V1, CGROUP_V2, DOCKER_A, DOCKER_A_DESCRIPTION, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';
import { contextFor, cpuLines, cpuViews, SECOND_US, TestClock, useStateDirs } from '../helpers/render-context.js';

const TICKS_PER_SECOND = 100;
const sum = (fields: readonly number[] | undefined, indexes: number[]): number =>
  indexes.reduce((total, index) => total + (fields?.[index] ?? 0), 0);
const BUSY = [0, 2];
const ALL = [0, 2, 3];

function records(stateDir: string): string[] {
  return readdirSync(join(stateDir, 'cpu')).filter((name) => name.endsWith('.json'));
}

/** Container A on a built tree whose CPU time and quota the test changes. */
function dockerA(tree: ReturnType<typeof useCgroupTrees>, layout: TreeLayout = 'v2') {
  let cpu: CpuSpec = DOCKER_A_DESCRIPTION.cpu!;
  const root = tree(layout, { [DOCKER_A]: DOCKER_A_DESCRIPTION });
  const write = (change: CpuSpec) => {
    cpu = { ...cpu, ...change };
    writeCgroupTree(root, layout, { [DOCKER_A]: { ...DOCKER_A_DESCRIPTION, cpu } });
  };
  return {
    root,
    use(userUs: number, systemUs: number): void {
      write({ userUs: cpu.userUs! + userUs, systemUs: cpu.systemUs! + systemUs });
    },
    /** A new cgroup's CPU time, from 0. */
    used(userUs: number, systemUs: number): void {
      write({ userUs, systemUs });
    },
    /** The quota in CPUs; undefined: none (`max`). */
    quota(cpus: number | undefined): void {
      write({ cpus });
    },
  };
}

describe('the CPU counter store', () => {
  const stateDir = useStateDirs();
  const copy = useFixtureCopies();
  const tree = useCgroupTrees();

  it.each(TREE_LAYOUTS)('keeps every counter growing across changes of the visible CPU count, with deltas that add up, on %s', (layout) => {
    const container = dockerA(tree, layout);
    const views = cpuViews(stateDir());
    const context = contextFor(container.root, { path: DOCKER_A });
    // Container A's cpuset is 1-3: 1.5 CPUs -> CPUs 1-2, no quota -> 1-3, 1 -> CPU 1, 2.5 -> 1-3.
    const phases = [1.5, undefined, 1, 2.5];
    let previous = cpuLines(views.render('proc/stat', context));
    const counts: number[] = [];
    for (const cpus of phases) {
      container.quota(cpus);
      for (let step = 0; step < 6; step++) {
        const visible = previous.size - 1;
        views.clock.advance(SECOND_US);
        // Busy for half of one CPU: within any quota here. Whole ticks on every CPU.
        container.use(0.3 * SECOND_US, 0.18 * SECOND_US);
        const lines = cpuLines(views.render('proc/stat', context));
        for (const [label, fields] of previous) {
          const now = lines.get(label);
          if (now === undefined) continue;
          fields.forEach((value, index) => expect([label, index, now[index]! >= value]).toEqual([label, index, true]));
        }
        const [before, after] = [previous.get('cpu'), lines.get('cpu')];
        expect(sum(after, BUSY) - sum(before, BUSY)).toBe(48);
        // The interval in which the count changed is counted with the CPUs it began with.
        expect(sum(after, ALL) - sum(before, ALL)).toBe(visible * TICKS_PER_SECOND);
        previous = lines;
      }
      counts.push(previous.size - 1);
    }
    expect(counts).toEqual([2, 3, 1, 3]);
    expect(records(views.stateDir)).toHaveLength(1);
  });

  it('continues the same counters in a new daemon (a new store on the same directory)', () => {
    const container = dockerA(tree);
    const dir = stateDir();
    const context = contextFor(container.root, { path: DOCKER_A });
    const first = cpuViews(dir);
    const before = cpuLines(first.render('proc/stat', context)).get('cpu');
    const restarted = cpuViews(dir, 'quota', new TestClock(first.clock.us + 10 * SECOND_US));
    container.use(SECOND_US, 0);
    const after = cpuLines(restarted.render('proc/stat', context)).get('cpu');
    expect(sum(after, BUSY) - sum(before, BUSY)).toBe(TICKS_PER_SECOND);
    expect(sum(after, ALL) - sum(before, ALL)).toBe(2 * 10 * TICKS_PER_SECOND);
  });

  it('starts anew for a cgroup removed and made again under the same path (docker restart), and prunes the old life', () => {
    const container = dockerA(tree);
    const dir = stateDir();
    const views = cpuViews(dir);
    // An init 1000 s old (fixture pid 2100) and 15 s of CPU time: the first life.
    const context = contextFor(container.root, { path: DOCKER_A, pid: 2100, containerInit: true });
    views.clock.advance(600 * SECOND_US);
    container.use(500 * SECOND_US, 100 * SECOND_US);
    const before = cpuLines(views.render('proc/stat', context)).get('cpu');
    expect(sum(before, BUSY)).toBe(61_500);
    // The restart: the old directory goes (renamed away first, so the new one cannot
    // reuse its inode number on the test's filesystem) and a new one is made, usage 0.
    const cgroup = join(container.root, DOCKER_A);
    renameSync(cgroup, `${cgroup}.old`);
    cpSync(`${cgroup}.old`, cgroup, { recursive: true });
    rmSync(`${cgroup}.old`, { recursive: true });
    container.used(1.5 * SECOND_US, 0.5 * SECOND_US);
    const after = cpuLines(views.render('proc/stat', context)).get('cpu');
    // The new life's 2 s of CPU over the init's age, not the old life's counters continued.
    expect(sum(after, BUSY)).toBe(200);
    expect(sum(after, ALL)).toBe(2 * 1000 * TICKS_PER_SECOND);
    expect(records(dir)).toHaveLength(1);
    expect(pruneCpuCounters(dir, detectLayout(container.root))).toBe(0);
  });

  it('prunes the record of a cgroup made again since, which no reader of its new life has read yet', () => {
    const container = dockerA(tree);
    const dir = stateDir();
    cpuViews(dir).render('proc/stat', contextFor(container.root, { path: DOCKER_A }));
    const cgroup = join(container.root, DOCKER_A);
    renameSync(cgroup, `${cgroup}.old`);
    cpSync(`${cgroup}.old`, cgroup, { recursive: true });
    rmSync(`${cgroup}.old`, { recursive: true });
    expect(pruneCpuCounters(dir, detectLayout(container.root))).toBe(1);
    expect(records(dir)).toHaveLength(0);
  });

  it('counts ctxt from the container\'s tasks and intr as its share of the host\'s, never going back when a task exits', () => {
    const container = dockerA(tree);
    const proc = copy(PROC_ROOT);
    const views = cpuViews(stateDir());
    const context = contextFor(container.root, { path: DOCKER_A }, proc);
    const switches = (tid: number, count: number) => writeFileSync(join(proc, String(tid), 'schedstat'), `1000 2000 ${count}\n`);
    let hostInterrupts = 1984532;
    const interrupt = (count: number) => {
      hostInterrupts += count;
      const stat = readFileSync(join(proc, 'stat'), 'utf8').replace(/^intr \d+/m, `intr ${hostInterrupts}`);
      writeFileSync(join(proc, 'stat'), stat);
    };
    const read = (advance = true) => {
      if (advance) views.clock.advance(SECOND_US);
      const text = views.render('proc/stat', context);
      return [Number(/^ctxt (\d+)$/m.exec(text)?.[1]), Number(/^intr (\d+) /m.exec(text)?.[1])];
    };
    // Tasks 2100, 2101, 2150, 2300 have switched 40 + 25 + 7 + 3 times; 2 of the host's 4
    // CPUs, as old as the host (no container init), at the host's uptime.
    expect(read(false)).toEqual([75, 992266]);
    switches(2300, 13);
    interrupt(1000);
    expect(read()).toEqual([85, 992766]);
    // 2150 exits (its 7 go along) while 2100 switches twice: the count holds...
    rmSync(join(proc, '2150'), { recursive: true });
    switches(2100, 42);
    expect(read()).toEqual([85, 992766]);
    // ...and goes on from there with the others' next switches.
    switches(2101, 30);
    interrupt(10);
    expect(read()).toEqual([90, 992771]);
  });

  it('lets the first writer\'s record stand: a second store reads it rather than starting its own', () => {
    const dir = stateDir();
    // The first reader is container A's init (1000 s old), the second an explicit cgroup (host uptime).
    const first = cpuViews(dir).render('proc/stat', contextFor(CGROUP_V2, { path: DOCKER_A, pid: 2100, containerInit: true }));
    const second = cpuViews(dir).render('proc/stat', contextFor(CGROUP_V2, { path: DOCKER_A }));
    expect(cpuLines(second)).toEqual(cpuLines(first));
    expect(records(dir)).toHaveLength(1);
  });

  it('counts from the old record while another writer holds the lock, and takes over a stale lock', () => {
    const container = dockerA(tree);
    const views = cpuViews(stateDir());
    const context = contextFor(container.root, { path: DOCKER_A });
    views.render('proc/stat', context);
    const [record] = records(views.stateDir);
    const lock = join(views.stateDir, 'cpu', record!.replace('.json', '.lock'));
    writeFileSync(lock, '');
    container.quota(undefined);
    views.clock.advance(SECOND_US);
    expect([...cpuLines(views.render('proc/stat', context)).keys()]).toEqual(['cpu', 'cpu1', 'cpu2']);
    const past = (Date.now() - 60_000) / 1000;
    utimesSync(lock, past, past);
    expect([...cpuLines(views.render('proc/stat', context)).keys()]).toEqual(['cpu', 'cpu1', 'cpu2', 'cpu3']);
  });

  it.each([
    ['a corrupt record', '{"cpus": [1, 2], "perCpu": '],
    ['an empty record', ''],
    ['a record of another boot', null],
  ])('replaces %s instead of failing', (_, content) => {
    const dir = stateDir();
    const context = contextFor(CGROUP_V2, { path: DOCKER_A });
    const expected = cpuViews(stateDir()).render('proc/stat', context);
    cpuViews(dir).render('proc/stat', context);
    const path = join(dir, 'cpu', records(dir)[0]!);
    const text = content ?? readFileSync(path, 'utf8').replace(/"boot":"[^"]*"/, '"boot":"another"');
    writeFileSync(path, text);
    expect(cpuViews(dir).render('proc/stat', context)).toBe(expected);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ cpus: [1, 2] });
  });

  it('still renders when the state directory cannot be written', () => {
    const blocker = join(stateDir(), 'not-a-directory');
    writeFileSync(blocker, '');
    const text = cpuViews(blocker).render('proc/stat', contextFor(CGROUP_V2, { path: DOCKER_A }));
    expect(text.split('\n')[0]).toBe('cpu  1200 0 300 998500 0 0 0 0 0 0');
  });

  it('prunes the records of cgroups that are gone, and unreadable ones, and keeps the others', () => {
    const root = copy(CGROUP_V2);
    const dir = stateDir();
    const views = cpuViews(dir);
    for (const path of [DOCKER_A, '/system.slice/containerd.service']) views.render('proc/stat', contextFor(root, { path }));
    // A record of another cgroup root (another daemon's) is not this pruner's to judge.
    cpuViews(dir).render('proc/stat', contextFor(CGROUP_V1, { path: DOCKER_A }));
    writeFileSync(join(dir, 'cpu', 'garbled.json'), '{');
    const leftover = join(dir, 'cpu', 'leftover.json.1.0.0.tmp');
    writeFileSync(leftover, '{');
    const past = (Date.now() - 600_000) / 1000;
    utimesSync(leftover, past, past);
    rmSync(join(root, DOCKER_A), { recursive: true });
    expect(records(dir)).toHaveLength(4);
    expect(pruneCpuCounters(dir, detectLayout(root))).toBe(2);
    expect(records(dir)).toHaveLength(2);
    expect(existsSync(leftover)).toBe(false);
    expect(pruneCpuCounters(dir, detectLayout(root))).toBe(0);
  });

  it('prunes nothing when there is no state yet', () => {
    expect(pruneCpuCounters(join(stateDir(), 'missing'), detectLayout(CGROUP_V2))).toBe(0);
  });

  it('shows the same numbers in uptime\'s idle as in stat\'s aggregate', () => {
    const container = dockerA(tree);
    const views = cpuViews(stateDir());
    const context = contextFor(container.root, { path: DOCKER_A, pid: 2100, containerInit: true });
    for (let step = 0; step < 3; step++) {
      views.clock.advance(0.37 * SECOND_US);
      container.use(0.11 * SECOND_US, 0.05 * SECOND_US);
      const idle = cpuLines(views.render('proc/stat', context)).get('cpu')?.[3] ?? -1;
      const [, uptimeIdle] = views.render('proc/uptime', context).trim().split(' ');
      expect(Math.round(Number(uptimeIdle) * 100)).toBe(idle);
    }
  });
});
