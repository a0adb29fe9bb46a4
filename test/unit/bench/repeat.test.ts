// The bench's `--repeat` aggregation (issue 22 item 3): min-max per cell over runs, ratios
// taken within a run, and the rule that reruns a phase others outweighed.
import { describe, expect, it } from 'vitest';
import { describeRepeat, othersOutweighBench, quieterOfTwo, type PhaseLoad } from '../../../bench/host-load.js';
import type { CellSummary } from '../../../bench/measure.js';
import { range, renderSummary, spreadOf, summarize } from '../../../bench/repeat.js';
import type { BenchResult, Resources } from '../../../bench/report.js';

function cell(target: string, readsPerSec: number, p99Us = 500, cpuSecondsPer1000Reads: number | null = 0.04, bad = 0): CellSummary {
  return {
    target: target as CellSummary['target'],
    readsPerSec,
    roundReadsPerSec: [readsPerSec],
    reads: readsPerSec * 3,
    bad,
    errors: 0,
    problems: [],
    p50Us: p99Us / 4,
    p99Us,
    maxUs: p99Us * 2,
    cpuSecondsPer1000Reads,
    cpuSeconds: 1,
  };
}

function resources(pssMb: number, serverMb: number): Resources {
  return {
    rssKb: pssMb * 2048,
    pssKb: pssMb * 1024,
    rssAnonKb: 0,
    rssFileKb: 0,
    rssShmemKb: 0,
    fds: 10,
    processes: 2,
    byProcess: [
      { pid: 1, name: 'supervisor-entry.js', pssKb: (pssMb - serverMb) * 1024, anonKb: 0, exeRssKb: 0, exePssKb: 0 },
      { pid: 2, name: 'server-process.js', pssKb: serverMb * 1024, anonKb: 0, exeRssKb: 0, exePssKb: 0 },
    ],
    pssAloneKb: (pssMb + 10) * 1024,
  };
}

const load = (othersBusy: number, benchBusy: number): PhaseLoad => ({ hostBusy: othersBusy + benchBusy, benchBusy, othersBusy, loadavg: '1 1 1' });

/** One run: meminfo at 2 readers for cgprocfs, lxcfs and both floors, and the memory figures. */
function run(cg: number, lx: number, floorSt: number, floorMt: number, pssAfterMb: number, othersBusy = 0.1): BenchResult {
  return {
    version: 1,
    startedAt: '2026-12-04T12:00:00.000Z',
    finishedAt: '2026-12-04T12:10:00.000Z',
    machine: { loadavgBefore: '1 1 1', loadavgAfter: '2 2 2' },
    options: {},
    resources: {
      cgprocfs: { before: resources(36, 24), after: resources(pssAfterMb, pssAfterMb - 11), cpuSeconds: 10, events: [] },
      lxcfs: { before: resources(2, 1), after: resources(4, 3), cpuSeconds: 10, events: [] },
    },
    matrix: {
      rows: [
        {
          file: 'proc/meminfo',
          readers: 2,
          pidns: 'own',
          cells: { cgprocfs: cell('cgprocfs', cg), lxcfs: cell('lxcfs', lx, 700, 0.17), 'floor-st': cell('floor-st', floorSt), 'floor-mt': cell('floor-mt', floorMt), host: cell('host', 900_000, 5, null) },
        },
        { file: 'proc/stat', readers: 2, pidns: 'own', cells: { cgprocfs: cell('cgprocfs', cg / 2, 800, 0.05, 1) } },
      ],
      skipped: [],
      floor: [],
    },
    load: { matrix: load(othersBusy, 0.8), 'many containers': load(othersBusy / 2, 0.8) },
    notes: [],
  };
}

describe('spreadOf', () => {
  it('keeps the values that exist, in run order, with their min and max', () => {
    expect(spreadOf([3, undefined, 1, null, 2, Number.NaN])).toEqual({ min: 1, max: 3, values: [3, 1, 2] });
  });

  it('is undefined when no run had the figure', () => {
    expect(spreadOf([undefined, null])).toBeUndefined();
  });
});

describe('range', () => {
  it('prints min-max, or one figure when both ends print alike', () => {
    expect(range({ min: 1.234, max: 1.5, values: [] }, (n) => n.toFixed(2))).toBe('1.23-1.50');
    expect(range({ min: 1.231, max: 1.234, values: [] }, (n) => n.toFixed(2))).toBe('1.23');
    expect(range(undefined, String)).toBe('-');
  });
});

describe('summarize', () => {
  const runs = [run(20_000, 8_000, 10_000, 21_000, 60), run(24_000, 6_000, 24_000, 12_000, 64, 0.4), run(22_000, 11_000, 11_000, 11_000, 58)];
  const s = summarize(runs);
  const meminfo = s.matrix.find((r) => r.file === 'proc/meminfo')!;

  it('spreads each target cell over the runs', () => {
    expect(s.runs).toBe(3);
    expect(meminfo.cells.cgprocfs?.readsPerSec).toEqual({ min: 20_000, max: 24_000, values: [20_000, 24_000, 22_000] });
    expect(meminfo.cells.lxcfs?.cpuMsPer1000Reads).toMatchObject({ min: 170, max: 170 });
    expect(meminfo.cells.host?.cpuMsPer1000Reads).toBeUndefined();
  });

  it('takes each ratio within a run before spreading it, not from the spread of each side', () => {
    // Per run: 20/8 = 2.5, 24/6 = 4, 22/11 = 2; the ratio of the extremes would give 20/11 .. 24/6.
    expect(meminfo.vsLxcfs).toEqual({ min: 2, max: 4, values: [2.5, 4, 2] });
  });

  it('measures against the better floor of each run', () => {
    expect(meminfo.floor?.values).toEqual([21_000, 24_000, 11_000]);
    expect(meminfo.vsFloor?.values.map((v) => Number(v.toFixed(3)))).toEqual([0.952, 1, 2]);
  });

  it("compares every file with its reader count's meminfo floor, leaves out a missing side's ratio, and sums wrong readings", () => {
    const stat = s.matrix.find((r) => r.file === 'proc/stat')!;
    expect(stat.vsLxcfs).toBeUndefined();
    expect(stat.vsFloor?.values.map((v) => Number(v.toFixed(3)))).toEqual([0.476, 0.5, 1]);
    expect(stat.cells.cgprocfs?.bad).toBe(3);
  });

  it('spreads memory per daemon and per cgprocfs process', () => {
    expect(s.memory.cgprocfs?.pssAfter).toMatchObject({ min: 58 * 1024, max: 64 * 1024 });
    expect(s.memory.cgprocfs?.pssAfterByProcess['server-process.js']).toMatchObject({ min: 47 * 1024, max: 53 * 1024 });
    expect(s.memory.lxcfs?.pssBefore).toMatchObject({ min: 2048, max: 2048 });
  });

  it("records each run's busiest phase for others", () => {
    expect(s.othersBusy?.values).toEqual([0.1, 0.4, 0.1]);
  });

  it('prints every cell and ratio as min-max', () => {
    const text = renderSummary(s, 'header');
    expect(text).toContain('Over 3 runs, min-max');
    expect(text).toMatch(/proc\/meminfo\s+2\s+20\.0k-24\.0k\s+6000-11\.0k\s+11\.0k-24\.0k\s+2\.00-4\.00\s+0\.95-2\.00/);
    expect(text).toContain('server-process.js 47.0-53.0 MB');
  });
});

describe('a phase others outweighed', () => {
  const window = (loads: PhaseLoad[]) => () => {
    const next = loads.shift()!;
    return () => next;
  };

  it('is judged by others against the bench itself, not by a fixed threshold', () => {
    expect(othersOutweighBench(load(0.5, 0.4))).toBe(true);
    expect(othersOutweighBench(load(0.4, 0.5))).toBe(false);
  });

  it('runs once when the bench outweighed others', async () => {
    let runs = 0;
    const r = await quieterOfTwo(window([load(0.3, 0.7)]), async () => ++runs);
    expect(runs).toBe(1);
    expect(r).toMatchObject({ value: 1, attempts: [load(0.3, 0.7)], kept: 0 });
  });

  it('runs again when others outweighed the bench and keeps the quieter run', async () => {
    let runs = 0;
    const quieter = await quieterOfTwo(window([load(0.6, 0.3), load(0.2, 0.7)]), async () => ++runs);
    expect(quieter).toMatchObject({ value: 2, load: load(0.2, 0.7), kept: 1 });
    const firstWasQuieter = await quieterOfTwo(window([load(0.6, 0.3), load(0.7, 0.2)]), async () => ++runs);
    expect(firstWasQuieter).toMatchObject({ value: 3, load: load(0.6, 0.3), kept: 0 });
    expect(describeRepeat('many containers', firstWasQuieter.attempts, firstWasQuieter.kept)).toBe(
      'many containers ran twice (others outweighed the bench: others 60%, bench 30%; then others 70%, bench 20%); the first, quieter, is shown',
    );
  });
});
