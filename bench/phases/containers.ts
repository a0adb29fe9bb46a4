// Issue 8 item 2: many containers. N cgroups with distinct limits, one reader container
// in each; `lanes` readers active at a time, taking turns in 20 ms slots round-robin,
// every reading checked against its own cgroup. Compared, round by round, with the
// same number of readers all in one cgroup. Then the loadavg sampling cost: daemon
// CPU per idle second once those cgroups hold a few thousand sleeping tasks.
import { limitMiBOf, type BenchCgroup } from '../cgroups.js';
import type { BenchContext } from '../context.js';
import type { Target, TargetName } from '../daemons.js';
import { sleep } from '../exec.js';
import { Cell, measureRound, type CellSummary } from '../measure.js';
import { CLK_TCK, sampleGroup } from '../proc.js';
import { ReaderGroup, Sleepers, type Reader } from '../readers.js';

const SLOT_MS = 20;
/** Start readers in batches so progress shows and the machine is not swamped. */
const BATCH = 50;
const SINGLE_LIMIT_MIB = 4096;

export interface ContainersResult {
  containers: number;
  lanes: number;
  slotMs: number;
  perTarget: Partial<Record<TargetName, {
    single: CellSummary;
    spread: CellSummary;
    /** spread reads/s over single reads/s. */
    ratio: number;
    rssKbBefore: number;
    rssKbAfter: number;
    pssKbBefore: number;
    pssKbAfter: number;
  }>>;
  loadavg?: {
    tasks: number;
    idleSeconds: number;
    /** Daemon CPU seconds per second, idle, before and after the cgroups got tasks and were read. */
    cpuPerSecond: Partial<Record<TargetName, { baseline: number; loaded: number }>>;
    loadavgReads: Partial<Record<TargetName, { reads: number; bad: number; errors: number; problems: string[] }>>;
  };
}

/** Reader containers, one per cgroup in `cgs`; `stop` kills them all. */
async function startReaders(ctx: BenchContext, cgs: BenchCgroup[], label: string, stops: (() => Promise<void>)[]): Promise<Reader[]> {
  const readers: Reader[] = [];
  for (let i = 0; i < cgs.length; i += BATCH) {
    const group = await ReaderGroup.start(ctx.readerBin, cgs.slice(i, i + BATCH), true, ctx.readerStderr);
    stops.push(ctx.cleanup.add(`${label} readers`, () => group.kill()));
    readers.push(...group.readers);
    if (cgs.length > BATCH) ctx.progress.note(`${label}: ${Math.min(i + BATCH, cgs.length)}/${cgs.length} reader containers up`);
  }
  return readers;
}

/** CPU seconds per second of each daemon over an idle window. */
async function idleCost(targets: Target[], ms: number): Promise<Map<TargetName, number>> {
  const before = targets.map((t) => sampleGroup(t.pids()).cpuTicks);
  await sleep(ms);
  const after = targets.map((t) => sampleGroup(t.pids()).cpuTicks);
  return new Map(targets.map((t, i) => [t.name, (after[i]! - before[i]!) / CLK_TCK / (ms / 1000)]));
}

export async function runContainers(ctx: BenchContext): Promise<ContainersResult> {
  const { options, cgroups, progress } = ctx;
  const n = options.containers;
  const lanes = Math.min(options.lanes, n);
  const daemons = (['cgprocfs', 'lxcfs'] as const).map((d) => ctx.targets.get(d)).filter((t): t is Target => t !== undefined);
  const loadavgDaemons = daemons.filter((t) => t.pathOf('proc/loadavg') !== undefined);
  progress.plan(daemons.length * 2 * options.rounds + (options.idleMs > 0 ? 3 + loadavgDaemons.length : 0));
  progress.note(`many containers: making ${n} cgroups`);
  const cgs = Array.from({ length: n }, (_, i) => cgroups.make(`c${i}`, limitMiBOf(i)));
  const single = cgroups.make('single', SINGLE_LIMIT_MIB, lanes);
  const stops: (() => Promise<void>)[] = [];
  try {
    return await measure(ctx, cgs, single, daemons, loadavgDaemons, stops);
  } finally {
    for (const stop of stops) await stop();
  }
}

async function measure(
  ctx: BenchContext,
  cgs: BenchCgroup[],
  single: BenchCgroup,
  daemons: Target[],
  loadavgDaemons: Target[],
  stops: (() => Promise<void>)[],
): Promise<ContainersResult> {
  const { options, progress } = ctx;
  const n = cgs.length;
  const lanes = Math.min(options.lanes, n);
  const spreadReaders = await startReaders(ctx, cgs, `${n} containers`, stops);
  const singleReaders = await startReaders(ctx, Array<BenchCgroup>(lanes).fill(single), 'single-cgroup', stops);

  const result: ContainersResult = { containers: n, lanes, slotMs: SLOT_MS, perTarget: {} };
  const cells = new Map(daemons.map((t) => [t.name, { single: new Cell(t.name), spread: new Cell(t.name), before: sampleGroup(t.pids()) }]));
  for (let round = 0; round < options.rounds; round++) {
    for (const target of round % 2 === 0 ? daemons : [...daemons].reverse()) {
      const c = cells.get(target.name)!;
      const one = await measureRound(singleReaders, target, 'proc/meminfo', { durationMs: options.containerDurationMs });
      c.single.add(one);
      progress.step(`${lanes} readers in 1 cgroup, ${target.name}: ${(one.readsPerSec / 1000).toFixed(1)}k/s`);
      const many = await measureRound(spreadReaders, target, 'proc/meminfo', {
        durationMs: options.containerDurationMs,
        slots: { lanes, slotMs: SLOT_MS },
      });
      c.spread.add(many);
      const bad = many.bad + many.errors > 0 ? `  ${many.bad} bad, ${many.errors} errors: ${many.problems[0]}` : '';
      progress.step(`${lanes} readers over ${n} cgroups, ${target.name}: ${(many.readsPerSec / 1000).toFixed(1)}k/s${bad}`);
    }
  }
  for (const target of daemons) {
    const c = cells.get(target.name)!;
    const s = c.single.summary();
    const m = c.spread.summary();
    const after = sampleGroup(target.pids());
    result.perTarget[target.name] = {
      single: s,
      spread: m,
      ratio: s.readsPerSec > 0 ? m.readsPerSec / s.readsPerSec : 0,
      rssKbBefore: c.before.rssKb,
      rssKbAfter: after.rssKb,
      pssKbBefore: c.before.pssKb,
      pssKbAfter: after.pssKb,
    };
  }
  if (options.idleMs > 0 && loadavgDaemons.length > 0) result.loadavg = await loadavgCost(ctx, loadavgDaemons, cgs, spreadReaders, lanes);
  return result;
}

async function loadavgCost(
  ctx: BenchContext,
  daemons: Target[],
  cgs: BenchCgroup[],
  readers: Reader[],
  lanes: number,
): Promise<NonNullable<ContainersResult['loadavg']>> {
  const { options, progress } = ctx;
  const idle = options.idleMs;
  const baseline = await idleCost(daemons, idle);
  progress.step(`loadavg cost, idle baseline: ${[...baseline].map(([d, c]) => `${d} ${(c * 1000).toFixed(1)} ms/s`).join(', ')}`);
  const sleepers = await Sleepers.start(ctx.readerBin, cgs, options.tasksPerCgroup, ctx.readerStderr);
  const stop = ctx.cleanup.add('sleepers', () => sleepers.kill());
  try {
    // Each cgroup: one reader (two tasks: the namespace's pid 1 and its parent) + sleepers.
    const tasks = sleepers.pids.length + 2 * readers.length;
    progress.step(`${tasks} tasks in ${cgs.length} cgroups`);
    // One read of loadavg from every cgroup, so both daemons sample all of them from now on.
    const perLane = Math.ceil(readers.length / lanes);
    const loadavgReads: NonNullable<ContainersResult['loadavg']>['loadavgReads'] = {};
    for (const target of daemons) {
      const r = await measureRound(readers, target, 'proc/loadavg', { durationMs: perLane * 20 + 100, slots: { lanes, slotMs: 20 } });
      loadavgReads[target.name] = { reads: r.reads, bad: r.bad, errors: r.errors, problems: r.problems };
      progress.step(`loadavg read once in each of ${cgs.length} cgroups from ${target.name}: ${r.reads} reads, ${r.bad + r.errors} bad`);
    }
    const loaded = await idleCost(daemons, idle);
    progress.step(`loadavg cost with ${tasks} tasks: ${[...loaded].map(([d, c]) => `${d} ${(c * 1000).toFixed(1)} ms/s`).join(', ')}`);
    return {
      tasks,
      idleSeconds: idle / 1000,
      cpuPerSecond: Object.fromEntries(daemons.map((d) => [d.name, { baseline: baseline.get(d.name)!, loaded: loaded.get(d.name)! }])),
      loadavgReads,
    };
  } finally {
    await stop();
  }
}
