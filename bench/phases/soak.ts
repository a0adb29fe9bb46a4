// Issue 8 item 3: the soak. Constant load from `lanes` readers over 50 cgroups
// (round-robin slots, every reading checked) for MINUTES; cgprocfs's RSS and fds
// sampled every 10 s and reported as growth per hour (least squares).
import { limitMiBOf } from '../cgroups.js';
import type { BenchContext } from '../context.js';
import type { Cgprocfs } from '../daemons.js';
import { Cell, measureRound, type CellSummary } from '../measure.js';
import { sampleGroup } from '../proc.js';
import { ReaderGroup } from '../readers.js';
import { slope } from '../stats.js';

const SOAK_CGROUPS = 50;
const SAMPLE_EVERY_MS = 10_000;
const SLOT_MS = 20;

export interface SoakResult {
  minutes: number;
  cgroups: number;
  readers: number;
  load: CellSummary;
  samples: { seconds: number; rssKb: number; fds: number; serverRssKb: number; stateDirKb: number }[];
  /** Samples before this are V8 and caches warming up: left out of the growth figures. */
  warmupSeconds: number;
  rssGrowthKbPerHour: number;
  fdGrowthPerHour: number;
  events: string[];
}

export async function runSoak(ctx: BenchContext, minutes: number): Promise<SoakResult> {
  const { options, cgroups, progress } = ctx;
  const target = ctx.targets.get('cgprocfs') as Cgprocfs;
  const lanes = options.lanes;
  const cgs = Array.from({ length: SOAK_CGROUPS }, (_, i) => cgroups.make(`c${i}`, limitMiBOf(i)));
  const readers = await ReaderGroup.start(ctx.readerBin, cgs, true, ctx.readerStderr);
  const stop = ctx.cleanup.add('soak readers', () => readers.kill());
  const durationMs = Math.round(minutes * 60_000);
  progress.plan(Math.ceil(durationMs / SAMPLE_EVERY_MS) + 1);
  const samples: SoakResult['samples'] = [];
  const started = Date.now();
  const take = () => {
    const pids = target.pids();
    const all = sampleGroup(pids);
    const server = sampleGroup(pids.slice(1));
    const s = {
      seconds: (Date.now() - started) / 1000,
      rssKb: all.rssKb,
      fds: all.fds,
      serverRssKb: server.rssKb,
      stateDirKb: target.stateDirKb(),
    };
    samples.push(s);
    progress.step(`soak ${Math.round(s.seconds)}s: RSS ${(s.rssKb / 1024).toFixed(1)} MB (server ${(s.serverRssKb / 1024).toFixed(1)} MB), ${s.fds} fds, state dir ${(s.stateDirKb / 1024).toFixed(1)} MB`);
  };
  try {
    const load = measureRound(readers.readers, target, 'proc/meminfo', { durationMs, slots: { lanes, slotMs: SLOT_MS } });
    take();
    const timer = setInterval(take, SAMPLE_EVERY_MS);
    let round;
    try {
      round = await load;
    } finally {
      clearInterval(timer);
    }
    take();
    const cell = new Cell('cgprocfs');
    cell.add(round);
    const hour = 3600;
    const warmupSeconds = Math.min(60, (durationMs / 1000) * 0.2);
    const steady = samples.filter((s) => s.seconds >= warmupSeconds);
    return {
      minutes,
      cgroups: SOAK_CGROUPS,
      readers: lanes,
      load: cell.summary(),
      samples,
      warmupSeconds,
      rssGrowthKbPerHour: slope(steady.map((s) => ({ x: s.seconds, y: s.rssKb }))) * hour,
      fdGrowthPerHour: slope(steady.map((s) => ({ x: s.seconds, y: s.fds }))) * hour,
      events: [...target.events],
    };
  } finally {
    await stop();
  }
}
