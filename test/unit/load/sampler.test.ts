import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { advanceAverages, calcLoad, EXP_1, FIXED_1, seededAverages } from '../../../src/load/fixed-point.js';
import { LOAD_FREQ_MS, LOADAVG_EXPIRY_MS, LoadavgSampler, type SamplerBudget } from '../../../src/load/sampler.js';
import { allocateLoadavgMemory, LoadavgTable, type SlotEntry, type TaskListKey } from '../../../src/load/table.js';
import { CGROUP_V1, CGROUP_V2, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

const T0 = 1_700_000_000_000;
// Tasks with a stat file: 3151 (R) and 3152 (D) in B's nginx.service, 3202 (R) in B's nested namespace.
const TREES = [
  ['v1', join(CGROUP_V1, 'memory'), 'tasks'],
  ['v2', CGROUP_V2, 'cgroup.threads'],
] as const;

/** By default a work clock that stands still: the fixture files' cost never cuts a sample short. */
function setup(procRoot = PROC_ROOT, budget?: SamplerBudget, capacity = 64, workClock: () => number = () => 0) {
  const clock = { now: T0 };
  const memory = allocateLoadavgMemory(capacity);
  const sampler = new LoadavgSampler(memory, procRoot, () => clock.now, budget, workClock);
  return { clock, table: new LoadavgTable(memory), sampler };
}

/** A work clock that moves 1 ms each time it is read: every task read costs about a millisecond. */
function ticking(): () => number {
  let now = 0;
  return () => now++;
}

/** Rewrites the state letter of a fixture task's stat file. */
function setState(procRoot: string, tid: number, state: string): void {
  const path = join(procRoot, String(tid), 'stat');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/\) . /, `) ${state} `));
}

describe.each(TREES)('the sampler on %s', (_, mount, file) => {
  const at = (path: string): TaskListKey => ({ dir: join(mount, path), file });
  const B = at('lxc.payload.b');

  it.each([
    ['container B: R and D tasks across sub-cgroups', 'lxc.payload.b', 3],
    ['a leaf with one R, one D and one S task', 'lxc.payload.b/system.slice/nginx.service', 2],
    ['a nested namespace with one R task', 'lxc.payload.b/nested', 1],
    ['docker A, all asleep', 'system.slice/docker-a1b2c3.scope', 0],
  ])('seeds a registered cgroup at its first visit: %s', (_name, path, active) => {
    const { clock, table, sampler } = setup();
    const slot = table.register(at(path), T0)!;
    clock.now += 100;
    expect(sampler.tick()).toEqual({ sampled: 1, skipped: 0, freed: 0, failed: 0 });
    expect(table.entry(slot)).toMatchObject({ averages: seededAverages(active), seeded: true, sampledAt: T0 + 100 });
  });

  it('advances by one calc_load step per LOAD_FREQ from the running and uninterruptible count', () => {
    const { clock, table, sampler } = setup();
    const slot = table.register(B, T0, { active: 0, total: 7 })!;
    clock.now += LOAD_FREQ_MS;
    sampler.tick();
    expect(table.entry(slot)?.averages).toEqual(advanceAverages([0, 0, 0], 3, 1));
    expect(table.entry(slot)?.averages[0]).toBe(calcLoad(0, EXP_1, 3 * FIXED_1));
  });

  it('catches up missed intervals with calc_load_n', () => {
    const { clock, table, sampler } = setup();
    const slot = table.register(B, T0, { active: 0, total: 7 })!;
    clock.now += 4 * LOAD_FREQ_MS + 300;
    sampler.tick();
    expect(table.entry(slot)?.averages).toEqual(advanceAverages([0, 0, 0], 3, 4));
  });

  it('does not sample a cgroup again within half an interval (a reader just seeded it)', () => {
    const { clock, table, sampler } = setup();
    table.register(B, T0, { active: 1, total: 7 });
    clock.now += LOAD_FREQ_MS / 2 - 1;
    expect(sampler.tick()).toEqual({ sampled: 0, skipped: 0, freed: 0, failed: 0 });
  });

  it('frees a cgroup nobody read for 10 minutes, and keeps one read since', () => {
    const { clock, table, sampler } = setup();
    table.register(B, T0);
    table.register(at('lxc.payload.b/nested'), T0);
    clock.now = T0 + LOADAVG_EXPIRY_MS - 1;
    table.read(at('lxc.payload.b/nested'), clock.now, { active: 0, total: 0 });
    clock.now = T0 + LOADAVG_EXPIRY_MS;
    expect(sampler.tick()).toEqual({ sampled: 1, skipped: 0, freed: 1, failed: 0 });
    expect(table.used()).toBe(1);
  });
});

describe('the sampler on a changing tree', () => {
  const copy = useFixtureCopies();

  it('follows tasks that stop running', () => {
    const procRoot = copy(PROC_ROOT);
    const { clock, table, sampler } = setup(procRoot);
    const key = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
    const slot = table.register(key, T0, { active: 3, total: 7 })!;
    setState(procRoot, 3151, 'S');
    setState(procRoot, 3202, 'S');
    clock.now += LOAD_FREQ_MS;
    sampler.tick();
    expect(table.entry(slot)?.averages).toEqual(advanceAverages(seededAverages(3), 1, 1));
    expect(table.entry(slot)?.averages[0]).toBe(calcLoad(3 * FIXED_1, EXP_1, FIXED_1)); // (6144*1884 + 2048*164) / 2048 = 5816
  });

  it('frees the slot of a cgroup that was removed', () => {
    const root = copy(CGROUP_V2);
    const { clock, table, sampler } = setup();
    table.register({ dir: join(root, 'lxc.payload.b', 'nested'), file: 'cgroup.threads' }, T0);
    rmSync(join(root, 'lxc.payload.b', 'nested'), { recursive: true });
    clock.now += LOAD_FREQ_MS;
    expect(sampler.tick()).toEqual({ sampled: 0, skipped: 0, freed: 1, failed: 0 });
    expect(table.used()).toBe(0);
  });
});

describe('a cgroup whose tasks cannot be read', () => {
  const copy = useFixtureCopies();

  it('loses its slot without stopping the tick for the others', () => {
    const root = copy(CGROUP_V2);
    const broken = join(root, 'lxc.payload.b', 'nested', 'cgroup.threads');
    rmSync(broken);
    mkdirSync(broken); // reading it fails with EISDIR, not ENOENT
    const { clock, table, sampler } = setup();
    table.register({ dir: join(root, 'lxc.payload.b', 'nested'), file: 'cgroup.threads' }, T0);
    const healthy = table.register({ dir: join(root, 'lxc.payload.b', 'system.slice'), file: 'cgroup.threads' }, T0)!;
    clock.now += LOAD_FREQ_MS;
    expect(sampler.tick()).toEqual({ sampled: 1, skipped: 0, freed: 1, failed: 1 });
    expect(table.entry(healthy)?.averages).toEqual(seededAverages(2));
  });
});

describe('the per-tick budget', () => {
  const leaves = ['init.scope', 'system.slice/nginx.service', 'nested'].map((leaf) => ({
    dir: join(CGROUP_V2, 'lxc.payload.b', leaf),
    file: 'cgroup.threads' as const,
  }));

  it('caps the cgroups sampled per tick and reaches every cgroup in round robin', () => {
    const { clock, table, sampler } = setup(PROC_ROOT, { cgroups: 1, tickMs: 1000, cgroupMs: 1000 });
    const slots = leaves.map((leaf) => table.register(leaf, T0)!);
    const results = [1, 2, 3].map(() => {
      clock.now += LOAD_FREQ_MS;
      return sampler.tick();
    });
    expect(results.map((r) => r.sampled)).toEqual([1, 1, 1]);
    expect(results[0]!.skipped).toBe(2);
    expect(slots.every((slot) => table.entry(slot)?.seeded)).toBe(true);
  });

  it('catches up a cgroup the budget skipped with the intervals it missed', () => {
    const { clock, table, sampler } = setup(PROC_ROOT, { cgroups: 1, tickMs: 1000, cgroupMs: 1000 });
    const [first, second] = leaves.slice(1).map((leaf) => table.register(leaf, T0, { active: 0, total: 1 })!);
    clock.now += LOAD_FREQ_MS;
    sampler.tick();
    clock.now += LOAD_FREQ_MS;
    sampler.tick();
    const [early, late] = [first!, second!].map((slot) => table.entry(slot)!).sort((a, b) => a.sampledAt - b.sampledAt) as [SlotEntry, SlotEntry];
    expect(late.sampledAt - early.sampledAt).toBe(LOAD_FREQ_MS);
    // The one sampled second waited two intervals and was advanced by both at once.
    const active = late.dir.endsWith('nested') ? 1 : 2;
    expect(late.averages).toEqual(advanceAverages([0, 0, 0], active, 2));
  });

  it('starts no further cgroup once the tick\'s time is spent, but always samples one', () => {
    const { clock, table, sampler } = setup(PROC_ROOT, { cgroups: 10, tickMs: 2, cgroupMs: 100 }, 64, ticking());
    for (const leaf of leaves) table.register(leaf, T0, { active: 0, total: 3 });
    clock.now += LOAD_FREQ_MS;
    expect(sampler.tick()).toEqual({ sampled: 1, skipped: 2, freed: 0, failed: 0 });
  });

  it('reads a large cgroup for at most its time per tick, publishes counts scaled to all its tasks, and reads on at the next tick', () => {
    const { clock, table, sampler } = setup(PROC_ROOT, { cgroups: 10, tickMs: 1000, cgroupMs: 3 }, 64, ticking());
    const key = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
    table.register(key, T0);
    const seen: number[] = [];
    for (let tick = 0; tick < 3; tick++) {
      clock.now += LOAD_FREQ_MS;
      sampler.tick();
      const figures = table.sampled(key, clock.now)!;
      expect(figures.tasks.total).toBe(7);
      seen.push(figures.tasks.newestTid);
    }
    // Each tick read a different part of B's 7 tasks, so each names another newest task.
    expect(new Set(seen).size).toBeGreaterThan(1);
  });

  it('publishes a whole census: running, blocked, total and the newest task', () => {
    const { clock, table, sampler } = setup();
    const key = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
    table.register(key, T0);
    clock.now += 100;
    sampler.tick({ newOnly: true });
    expect(table.sampled(key, clock.now)).toEqual({
      averages: seededAverages(3),
      tasks: { running: 2, blocked: 1, total: 7, newestTid: 3201, switches: 0 },
      sampled: true,
    });
  });

  it('publishes the tasks\' context switches, for stat\'s ctxt of a container too large to count at a rendering', () => {
    const { clock, table, sampler } = setup();
    const key = { dir: join(CGROUP_V2, 'system.slice', 'docker-a1b2c3.scope'), file: 'cgroup.threads' } as const;
    table.register(key, T0);
    clock.now += 100;
    sampler.tick({ newOnly: true });
    // Docker A's tasks switched 40 + 25 + 7 + 3 times (test/fixtures/README.md).
    expect(table.sampled(key, clock.now)?.tasks.switches).toBe(75);
  });

  it('samples only cgroups never counted when asked for new ones', () => {
    const { clock, table, sampler } = setup();
    table.register(leaves[0]!, T0, { active: 0, total: 1 });
    const fresh = table.register(leaves[1]!, T0)!;
    clock.now += LOAD_FREQ_MS;
    expect(sampler.tick({ newOnly: true })).toEqual({ sampled: 1, skipped: 0, freed: 0, failed: 0 });
    expect(table.entry(fresh)?.seeded).toBe(true);
  });
});
