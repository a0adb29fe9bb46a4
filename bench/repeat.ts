// `--repeat N` (issue 22 item 3): the figures of N whole runs side by side, each cell and
// each ratio as its min-max over the runs. A ratio is taken within one run (both sides
// measured under the same noise), then spread over the runs.
import type { TargetName } from './daemons.js';
import type { CellSummary } from './measure.js';
import { floorRows, table, type BenchResult, type Resources } from './report.js';

export interface Spread {
  min: number;
  max: number;
  /** One value per run that had it, in run order. */
  values: number[];
}

/** The spread of the values that exist; undefined when none does. */
export function spreadOf(values: readonly (number | null | undefined)[]): Spread | undefined {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (present.length === 0) return undefined;
  return { min: Math.min(...present), max: Math.max(...present), values: present };
}

const quotient = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? undefined : a / b);

export interface CellSpread {
  readsPerSec?: Spread;
  p50Us?: Spread;
  p99Us?: Spread;
  cpuMsPer1000Reads?: Spread;
  /** Wrong readings and failed reads summed over the runs. */
  bad: number;
}

export interface RowSpread {
  file: string;
  readers: number;
  pidns: 'own' | 'host';
  cells: Partial<Record<TargetName, CellSpread>>;
  floor?: Spread;
  vsLxcfs?: Spread;
  vsFloor?: Spread;
}

export interface MemorySpread {
  pssBefore?: Spread;
  pssAfter?: Spread;
  rssBefore?: Spread;
  rssAfter?: Spread;
  pssAloneAfter?: Spread;
  /** cgprocfs: each process's PSS after the run, by program name. */
  pssAfterByProcess: Record<string, Spread>;
}

export interface RepeatSummary {
  runs: number;
  matrix: RowSpread[];
  memory: Partial<Record<TargetName, MemorySpread>>;
  containers: Partial<Record<TargetName, { spread?: Spread; single?: Spread; ratio?: Spread }>>;
  loadavgCostMs: Partial<Record<TargetName, Spread>>;
  noisyP99Ratio: Partial<Record<TargetName, Spread>>;
  /** Busiest share of the CPUs other tenants took in any phase of each run. */
  othersBusy?: Spread;
}

function cellSpread(cells: readonly (CellSummary | undefined)[]): CellSpread {
  const of = (pick: (c: CellSummary) => number | null | undefined) => spreadOf(cells.map((c) => (c ? pick(c) : undefined)));
  return {
    readsPerSec: of((c) => c.readsPerSec),
    p50Us: of((c) => c.p50Us),
    p99Us: of((c) => c.p99Us),
    cpuMsPer1000Reads: of((c) => (c.cpuSecondsPer1000Reads == null ? undefined : c.cpuSecondsPer1000Reads * 1000)),
    bad: cells.reduce((a, c) => a + (c ? c.bad + c.errors : 0), 0),
  };
}

const rowKey = (r: { file: string; readers: number; pidns: string }) => `${r.file}|${r.readers}|${r.pidns}`;

function matrixSpread(runs: readonly BenchResult[]): RowSpread[] {
  const keys = [...new Set(runs.flatMap((run) => run.matrix?.rows.map(rowKey) ?? []))];
  return keys.map((key) => {
    const rows = runs.map((run) => run.matrix?.rows.find((r) => rowKey(r) === key));
    const first = rows.find((r) => r !== undefined)!;
    const floors = runs.map((run, i) => (rows[i] ? floorRows(run.matrix?.rows ?? []).find((f) => f.readers === first.readers)?.floor : undefined));
    const targets = [...new Set(rows.flatMap((r) => Object.keys(r?.cells ?? {})))] as TargetName[];
    const cg = rows.map((r) => r?.cells.cgprocfs?.readsPerSec);
    return {
      file: first.file,
      readers: first.readers,
      pidns: first.pidns,
      cells: Object.fromEntries(targets.map((t) => [t, cellSpread(rows.map((r) => r?.cells[t]))])),
      floor: spreadOf(floors),
      vsLxcfs: spreadOf(rows.map((r, i) => quotient(cg[i], r?.cells.lxcfs?.readsPerSec))),
      vsFloor: spreadOf(rows.map((_, i) => quotient(cg[i], floors[i]))),
    };
  });
}

function memorySpread(runs: readonly BenchResult[], target: TargetName): MemorySpread {
  const res = runs.map((run) => run.resources[target]);
  const of = (pick: (r: { before: Resources; after: Resources }) => number) => spreadOf(res.map((r) => (r ? pick(r) : undefined)));
  const names = [...new Set(res.flatMap((r) => r?.after.byProcess.map((p) => p.name) ?? []))];
  return {
    pssBefore: of((r) => r.before.pssKb),
    pssAfter: of((r) => r.after.pssKb),
    rssBefore: of((r) => r.before.rssKb),
    rssAfter: of((r) => r.after.rssKb),
    pssAloneAfter: of((r) => r.after.pssAloneKb),
    pssAfterByProcess: Object.fromEntries(
      names.map((name) => [
        name,
        spreadOf(res.map((r) => r?.after.byProcess.filter((p) => p.name === name).reduce((a, p) => a + p.pssKb, 0))) ?? { min: 0, max: 0, values: [] },
      ]),
    ),
  };
}

function byTarget<T>(runs: readonly BenchResult[], targetsOf: (run: BenchResult) => string[], make: (t: TargetName) => T | undefined): Partial<Record<TargetName, T>> {
  const names = [...new Set(runs.flatMap(targetsOf))] as TargetName[];
  return Object.fromEntries(names.map((t) => [t, make(t)]).filter(([, v]) => v !== undefined));
}

export function summarize(runs: readonly BenchResult[]): RepeatSummary {
  const containers = (t: TargetName) => runs.map((run) => run.containers?.perTarget[t]);
  return {
    runs: runs.length,
    matrix: matrixSpread(runs),
    memory: byTarget(runs, (run) => Object.keys(run.resources), (t) => memorySpread(runs, t)),
    containers: byTarget(runs, (run) => Object.keys(run.containers?.perTarget ?? {}), (t) => ({
      single: spreadOf(containers(t).map((c) => c?.single.readsPerSec)),
      spread: spreadOf(containers(t).map((c) => c?.spread.readsPerSec)),
      ratio: spreadOf(containers(t).map((c) => c?.ratio)),
    })),
    loadavgCostMs: byTarget(runs, (run) => Object.keys(run.containers?.loadavg?.cpuPerSecond ?? {}), (t) =>
      spreadOf(runs.map((run) => {
        const v = run.containers?.loadavg?.cpuPerSecond[t];
        return v === undefined ? undefined : v.loaded * 1000;
      })),
    ),
    noisyP99Ratio: byTarget(runs, (run) => Object.keys(run.noisy?.perTarget ?? {}), (t) =>
      spreadOf(runs.map((run) => {
        const n = run.noisy?.perTarget[t];
        return n ? quotient(n.beside.p99Us, n.alone.p99Us) : undefined;
      })),
    ),
    othersBusy: spreadOf(runs.map((run) => {
      const phases = Object.values(run.load ?? {});
      return phases.length === 0 ? undefined : Math.max(...phases.map((l) => l.othersBusy));
    })),
  };
}

/** "a-b" with `format` on each end, or one figure when both ends print alike. */
export function range(s: Spread | undefined, format: (n: number) => string): string {
  if (s === undefined) return '-';
  const [lo, hi] = [format(s.min), format(s.max)];
  return lo === hi ? lo : `${lo}-${hi}`;
}

const rateK = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);
const x2 = (n: number) => n.toFixed(2);
const mb = (kb: number) => (kb / 1024).toFixed(1);
const whole = (n: number) => `${Math.round(n)}`;
const ms1 = (n: number) => (n / 1000).toFixed(1);

/** The tables of `--repeat`: every figure as min-max over the runs. */
export function renderSummary(s: RepeatSummary, header: string): string {
  const parts = [`${header}\nOver ${s.runs} runs, min-max (a ratio is taken within each run):`];
  parts.push(
    table(
      ['file', 'readers', 'cgprocfs/s', 'lxcfs/s', 'floor/s', 'cg/lx', 'cg/floor', 'cg p99 ms', 'lx p99 ms', 'cg CPU ms/1k', 'lx CPU ms/1k', 'bad'],
      s.matrix.map((r) => [
        `${r.file}${r.pidns === 'host' ? ' (host pidns)' : ''}`,
        String(r.readers),
        range(r.cells.cgprocfs?.readsPerSec, rateK),
        range(r.cells.lxcfs?.readsPerSec, rateK),
        range(r.floor, rateK),
        range(r.vsLxcfs, x2),
        range(r.vsFloor, x2),
        range(r.cells.cgprocfs?.p99Us, ms1),
        range(r.cells.lxcfs?.p99Us, ms1),
        range(r.cells.cgprocfs?.cpuMsPer1000Reads, whole),
        range(r.cells.lxcfs?.cpuMsPer1000Reads, whole),
        String((r.cells.cgprocfs?.bad ?? 0) + (r.cells.lxcfs?.bad ?? 0)),
      ]),
    ),
  );
  const mem = Object.entries(s.memory);
  if (mem.length > 0) {
    parts.push(
      table(
        ['daemon', 'PSS MB before', 'PSS MB after', 'RSS MB before', 'RSS MB after', 'PSS MB after, node binary counted once'],
        mem.map(([name, m]) => [name, range(m.pssBefore, mb), range(m.pssAfter, mb), range(m.rssBefore, mb), range(m.rssAfter, mb), range(m.pssAloneAfter, mb)]),
      ),
    );
    const cg = s.memory.cgprocfs;
    if (cg) parts.push(`cgprocfs PSS after, per process: ${Object.entries(cg.pssAfterByProcess).map(([n, v]) => `${n} ${range(v, mb)} MB`).join(', ')}`);
  }
  const containers = Object.entries(s.containers);
  if (containers.length > 0) {
    parts.push(
      table(
        ['daemon', 'many containers reads/s', 'one cgroup reads/s', 'ratio', 'loadavg cost ms/s'],
        containers.map(([name, c]) => [name, range(c.spread, rateK), range(c.single, rateK), range(c.ratio, (n) => `${Math.round(n * 100)}%`), range(s.loadavgCostMs[name as TargetName], (n) => n.toFixed(1))]),
      ),
    );
  }
  const noisy = Object.entries(s.noisyP99Ratio);
  if (noisy.length > 0) parts.push(`Noisy neighbour, quiet container's p99 beside / alone: ${noisy.map(([n, v]) => `${n} ${range(v, x2)}`).join(', ')}`);
  if (s.othersBusy) parts.push(`Others' busiest phase per run: ${s.othersBusy.values.map((v) => `${Math.round(v * 100)}%`).join(', ')} of the CPUs`);
  return `${parts.join('\n\n')}\n`;
}

