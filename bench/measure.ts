// One measurement: every reader of a group reads one target's file during a shared
// wall-clock window (optionally in round-robin time slots), and the target's
// processes are sampled before and after. Results of several rounds add up in a Cell.
import type { Target, TargetName } from './daemons.js';
import { CLK_TCK, sampleGroup } from './proc.js';
import type { Reader, ReaderResult } from './readers.js';
import { Histogram } from './stats.js';

/** Time between sending the commands and the window's start: every reader must be waiting. */
const LEAD_MS = 40;
const LEAD_MS_PER_READER = 0.3;

export interface RoundOptions {
  durationMs: number;
  /** Round-robin: `lanes` readers active at a time, each for `slotMs` in turn. */
  slots?: { lanes: number; slotMs: number };
}

export interface Round {
  reads: number;
  bad: number;
  errors: number;
  problems: string[];
  seconds: number;
  cpuTicks: number;
  hist: Histogram;
  readsPerSec: number;
}

function slotOf(i: number, n: number, lanes: number): { index: number; count: number } {
  const lane = i % lanes;
  return { index: Math.floor(i / lanes), count: Math.ceil((n - lane) / lanes) };
}

/** The cost of `target`'s processes between two samples, over the pids seen in both. */
function cpuBetween(before: ReturnType<typeof sampleGroup>, after: ReturnType<typeof sampleGroup>): number {
  let ticks = 0;
  for (const a of after.processes) {
    const b = before.processes.find((p) => p.pid === a.pid);
    ticks += a.cpuTicks - (b?.cpuTicks ?? 0);
  }
  return ticks;
}

export async function measureRound(readers: readonly Reader[], target: Target, file: string, opts: RoundOptions): Promise<Round> {
  const [round] = await measureTogether([{ readers, file }], target, opts);
  return round!;
}

/** Readers reading one file of a target in one window, apart from other groups of the same window. */
export interface ReadingGroup {
  readers: readonly Reader[];
  file: string;
}

/**
 * Several groups of readers read `target` during one shared window (a quiet container
 * beside a flooding one); each group's figures are kept apart, the target's CPU over
 * the window is every group's.
 */
export async function measureTogether(groups: readonly ReadingGroup[], target: Target, opts: RoundOptions): Promise<Round[]> {
  const all = groups.flatMap((g) => g.readers);
  const lead = BigInt(Math.ceil(LEAD_MS + LEAD_MS_PER_READER * all.length));
  const startNs = (BigInt(Date.now()) + lead) * 1_000_000n;
  const endNs = startNs + BigInt(opts.durationMs) * 1_000_000n;
  const before = sampleGroup(target.pids());
  const results = await Promise.all(
    groups.map(({ readers, file }) => {
      const path = target.pathOf(file);
      if (path === undefined) throw new Error(`${target.name} has no ${file}`);
      return Promise.all(
        readers.map((reader, i) =>
          reader.run({
            path,
            expectMemTotalKb: file === 'proc/meminfo' ? target.expectMemTotalKb(reader.cgroup) : 0,
            startNs,
            endNs,
            ...(opts.slots && {
              slot: { ns: BigInt(opts.slots.slotMs) * 1_000_000n, ...slotOf(i, readers.length, opts.slots.lanes) },
            }),
          }),
        ),
      );
    }),
  );
  const cpuTicks = cpuBetween(before, sampleGroup(target.pids()));
  return results.map((group) => roundOf(group, opts.durationMs / 1000, cpuTicks));
}

function roundOf(results: readonly ReaderResult[], seconds: number, cpuTicks: number): Round {
  const hist = new Histogram();
  for (const r of results) hist.add(r);
  const reads = results.reduce((a, r) => a + r.reads, 0);
  return {
    reads,
    bad: results.reduce((a, r) => a + r.bad, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    problems: [...new Set(results.map((r) => r.problem).filter(Boolean))],
    seconds,
    cpuTicks,
    hist,
    readsPerSec: reads / seconds,
  };
}

/** Every round of one target in one configuration, added up. */
export class Cell {
  readonly rounds: Round[] = [];

  constructor(readonly target: TargetName) {}

  add(round: Round): void {
    this.rounds.push(round);
  }

  summary() {
    const hist = new Histogram();
    for (const r of this.rounds) hist.merge(r.hist);
    const reads = this.rounds.reduce((a, r) => a + r.reads, 0);
    const seconds = this.rounds.reduce((a, r) => a + r.seconds, 0);
    const cpuSeconds = this.rounds.reduce((a, r) => a + r.cpuTicks, 0) / CLK_TCK;
    const perRound = this.rounds.map((r) => Math.round(r.readsPerSec));
    return {
      target: this.target,
      readsPerSec: seconds > 0 ? reads / seconds : 0,
      roundReadsPerSec: perRound,
      reads,
      bad: this.rounds.reduce((a, r) => a + r.bad, 0),
      errors: this.rounds.reduce((a, r) => a + r.errors, 0),
      problems: [...new Set(this.rounds.flatMap((r) => r.problems))],
      p50Us: hist.quantileNs(0.5) / 1000,
      p99Us: hist.quantileNs(0.99) / 1000,
      maxUs: hist.maxNs / 1000,
      // The host's /proc has no daemon to charge.
      cpuSecondsPer1000Reads: reads > 0 && this.target !== 'host' ? (cpuSeconds / reads) * 1000 : null,
      cpuSeconds,
    };
  }
}

export type CellSummary = ReturnType<Cell['summary']>;
