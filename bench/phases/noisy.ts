// Issue 17 item 3: the noisy neighbour. A quiet container (one reader, its own cgroup
// and pid namespace) reads meminfo alone, then beside a container whose 32 readers
// (one cgroup, one pid namespace) read meminfo as fast as they can; its latency is
// compared alone and beside, cgprocfs, lxcfs and the host's own /proc in one run,
// rounds rotating the order of the targets.
import { limitMiBOf } from '../cgroups.js';
import type { BenchContext } from '../context.js';
import type { Target, TargetName } from '../daemons.js';
import { Cell, measureRound, measureTogether, type CellSummary } from '../measure.js';
import { ReaderGroup } from '../readers.js';

const FILE = 'proc/meminfo';
const TARGETS: readonly TargetName[] = ['cgprocfs', 'lxcfs', 'host'];
/** Cgroup indexes past any the matrix uses, so their limits are distinct. */
const QUIET_LIMIT_INDEX = 900;
const FLOOD_LIMIT_INDEX = 901;

export interface NoisyResult {
  file: string;
  flooders: number;
  perTarget: Partial<Record<TargetName, {
    /** The quiet container alone. */
    alone: CellSummary;
    /** The quiet container beside the flooding one. */
    beside: CellSummary;
    /** The flooding container meanwhile. */
    flood: CellSummary;
  }>>;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % Math.max(items.length, 1);
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function runNoisy(ctx: BenchContext): Promise<NoisyResult> {
  const { options, cgroups, cleanup, progress } = ctx;
  const targets = TARGETS.map((name) => ctx.targets.get(name)).filter((t): t is Target => t?.pathOf(FILE) !== undefined);
  progress.plan(targets.length * options.rounds);
  const quiet = await ReaderGroup.start(ctx.readerBin, [cgroups.make('quiet', limitMiBOf(QUIET_LIMIT_INDEX))], true, ctx.readerStderr);
  const stopQuiet = cleanup.add('the quiet container', () => quiet.kill());
  const flood = await ReaderGroup.container(ctx.readerBin, cgroups.make('flood', limitMiBOf(FLOOD_LIMIT_INDEX)), options.noisyFlooders, ctx.readerStderr);
  const stopFlood = cleanup.add('the flooding container', () => flood.kill());
  const cells = new Map(targets.map((t) => [t.name, { alone: new Cell(t.name), beside: new Cell(t.name), flood: new Cell(t.name) }]));
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const target of rotate(targets, round)) {
        const cell = cells.get(target.name)!;
        const alone = await measureRound(quiet.readers, target, FILE, { durationMs: options.durationMs });
        const [beside, flooding] = await measureTogether(
          [{ readers: quiet.readers, file: FILE }, { readers: flood.readers, file: FILE }],
          target,
          { durationMs: options.durationMs },
        );
        cell.alone.add(alone);
        cell.beside.add(beside!);
        cell.flood.add(flooding!);
        const us = (ns: number) => Math.round(ns / 1000);
        progress.step(
          `noisy neighbour ${target.name} round ${round + 1}: quiet p50/p99 alone ${us(alone.hist.quantileNs(0.5))}/${us(alone.hist.quantileNs(0.99))} us, ` +
            `beside ${options.noisyFlooders} flooders ${us(beside!.hist.quantileNs(0.5))}/${us(beside!.hist.quantileNs(0.99))} us ` +
            `(flood ${(flooding!.readsPerSec / 1000).toFixed(1)}k/s)`,
        );
      }
    }
  } finally {
    await stopFlood();
    await stopQuiet();
  }
  return {
    file: FILE,
    flooders: options.noisyFlooders,
    perTarget: Object.fromEntries([...cells].map(([name, c]) => [name, { alone: c.alone.summary(), beside: c.beside.summary(), flood: c.flood.summary() }])),
  };
}
