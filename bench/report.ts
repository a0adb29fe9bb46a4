// The bench's output: tables with ratios on stdout, and the JSON result file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetName } from './daemons.js';
import { describeLoad, type PhaseLoad } from './host-load.js';
import type { ProcessMemory } from './proc.js';
import type { CellSummary } from './measure.js';
import type { ContainersResult } from './phases/containers.js';
import type { MatrixResult, MatrixRow } from './phases/matrix.js';
import type { NoisyResult } from './phases/noisy.js';
import type { SoakResult } from './phases/soak.js';

export interface Resources {
  rssKb: number;
  /** Summed PSS: what the daemon's processes cost the host, shared pages counted once. */
  pssKb: number;
  /** RSS split as /proc/<pid>/status reports it: anonymous, file-backed, shared memory. */
  rssAnonKb: number;
  rssFileKb: number;
  rssShmemKb: number;
  /** cgprocfs: what its state directory (handle arenas, on tmpfs) occupies. */
  stateDirKb?: number;
  fds: number;
  processes: number;
  /** Where each process's memory is (issue 22). */
  byProcess: ProcessMemory[];
  /** PSS with the executable's pages counted once between the target's processes, as on a host with no other node process. */
  pssAloneKb: number;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  resources: Partial<Record<TargetName, { before: Resources; after: Resources; cpuSeconds: number; events: string[] }>>;
  matrix?: MatrixResult & { floor: FloorRow[] };
  containers?: ContainersResult;
  noisy?: NoisyResult;
  soak?: SoakResult;
  /** How busy the host was during each phase, and how much of it was the bench. */
  load?: Record<string, PhaseLoad>;
  notes: string[];
}

export interface FloorRow {
  readers: number;
  floorSt?: number;
  floorMt?: number;
  /** The better of the two C servers: the floor of issue 8. */
  floor?: number;
  host?: number;
}

export const rate = (n: number | undefined) => (n === undefined ? '-' : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || !b ? '-' : (a / b).toFixed(2));
const us = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}ms` : `${Math.round(n)}`);
const latency = (c: CellSummary | undefined) => (c ? `${us(c.p50Us)}/${us(c.p99Us)}/${us(c.maxUs)}` : '-');
const cpu = (c: CellSummary | undefined) => (c?.cpuSecondsPer1000Reads == null ? '-' : c.cpuSecondsPer1000Reads.toFixed(3));
const mb = (kb: number) => (kb / 1024).toFixed(1);

export function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function floorRows(rows: readonly MatrixRow[]): FloorRow[] {
  return rows
    .filter((r) => r.file === 'proc/meminfo' && r.pidns === 'own')
    .map((r) => {
      const st = r.cells['floor-st']?.readsPerSec;
      const mt = r.cells['floor-mt']?.readsPerSec;
      const best = st === undefined && mt === undefined ? undefined : Math.max(st ?? 0, mt ?? 0);
      return { readers: r.readers, floorSt: st, floorMt: mt, floor: best, host: r.cells.host?.readsPerSec };
    });
}

function matrixTables(m: MatrixResult, floor: FloorRow[]): string {
  const floorAt = (n: number) => floor.find((f) => f.readers === n)?.floor;
  const main = table(
    ['file', 'readers', 'cgprocfs/s', 'lxcfs/s', 'floor/s', 'cg/lx', 'cg/floor', 'cg p50/p99/max us', 'lx p50/p99/max us', 'cg CPU s/1k', 'lx CPU s/1k'],
    m.rows.map((r) => {
      const cg = r.cells.cgprocfs;
      const lx = r.cells.lxcfs;
      const fl = floorAt(r.readers);
      return [
        `${r.file}${r.pidns === 'host' ? ' (host pidns)' : ''}`,
        String(r.readers),
        rate(cg?.readsPerSec),
        rate(lx?.readsPerSec),
        rate(fl),
        ratio(cg?.readsPerSec, lx?.readsPerSec),
        ratio(cg?.readsPerSec, fl),
        latency(cg),
        latency(lx),
        cpu(cg),
        cpu(lx),
      ];
    }),
  );
  const memRows = m.rows.filter((r) => r.file === 'proc/meminfo' && r.pidns === 'own');
  const refs = table(
    ['readers', 'floor-st/s', 'floor-mt/s', 'host /proc/s', 'st p50/p99/max us', 'mt p50/p99/max us', 'host p50/p99/max us', 'st CPU s/1k', 'mt CPU s/1k'],
    memRows.map((r) => [
      String(r.readers),
      rate(r.cells['floor-st']?.readsPerSec),
      rate(r.cells['floor-mt']?.readsPerSec),
      rate(r.cells.host?.readsPerSec),
      latency(r.cells['floor-st']),
      latency(r.cells['floor-mt']),
      latency(r.cells.host),
      cpu(r.cells['floor-st']),
      cpu(r.cells['floor-mt']),
    ]),
  );
  return `${main}\n\nReferences (meminfo-sized static file; floor = the better C server at each reader count):\n${refs}`;
}

function containersTable(c: ContainersResult): string {
  const rows = Object.entries(c.perTarget).map(([name, t]) => [
    name,
    rate(t.single.readsPerSec),
    rate(t.spread.readsPerSec),
    `${(t.ratio * 100).toFixed(0)}%`,
    latency(t.spread),
    String(t.spread.bad + t.spread.errors),
    `${mb(t.rssKbBefore)} -> ${mb(t.rssKbAfter)}`,
    `${mb(t.pssKbBefore)} -> ${mb(t.pssKbAfter)}`,
  ]);
  let out = table(
    ['daemon', `${c.lanes} rdrs 1 cgroup/s`, `${c.lanes} rdrs ${c.containers} cgroups/s`, 'ratio', 'p50/p99/max us', 'bad', 'RSS MB', 'PSS MB'],
    rows,
  );
  if (c.loadavg) {
    const l = c.loadavg;
    out += `\n\nloadavg sampling cost, idle, CPU ms per second (${l.idleSeconds} s windows):\n`;
    out += table(
      ['daemon', 'baseline', `${l.tasks} tasks in ${c.containers} cgroups`],
      Object.entries(l.cpuPerSecond).map(([name, v]) => [name, (v.baseline * 1000).toFixed(1), (v.loaded * 1000).toFixed(1)]),
    );
  }
  return out;
}

function noisyTable(n: NoisyResult): string {
  return table(
    ['target', 'quiet alone p50/p99/max us', `beside ${n.flooders} p50/p99/max us`, 'p99 beside/alone', 'quiet reads/s alone -> beside', 'flood reads/s'],
    Object.entries(n.perTarget).map(([name, t]) => [
      name === 'host' ? 'host /proc' : name,
      latency(t.alone),
      latency(t.beside),
      ratio(t.beside.p99Us, t.alone.p99Us),
      `${rate(t.alone.readsPerSec)} -> ${rate(t.beside.readsPerSec)}`,
      rate(t.flood.readsPerSec),
    ]),
  );
}

export function render(result: BenchResult): string {
  const parts: string[] = [];
  const m = result.machine;
  parts.push(`cgprocfs bench - ${m.cpus} CPUs, kernel ${m.kernel}, load ${m.loadavgBefore} -> ${m.loadavgAfter}, lxcfs ${m.lxcfs ?? 'absent'}`);
  if (result.matrix) {
    parts.push(
      'Reads/s of open/read-to-EOF/close by C readers, each pid 1 of its own pid namespace in its own cgroup;\n' +
        'latency per cycle p50/p99/max in us; daemon CPU seconds per 1,000 reads.\n' +
        matrixTables(result.matrix, result.matrix.floor),
    );
  }
  const res = Object.entries(result.resources);
  if (res.length > 0) {
    parts.push(
      table(
        ['daemon', 'processes', 'RSS MB before -> after', 'PSS MB before -> after', 'after: anon/file/shmem', 'fds before -> after', 'CPU s total'],
        res.map(([name, r]) => [
          name,
          String(r.after.processes),
          `${mb(r.before.rssKb)} -> ${mb(r.after.rssKb)}`,
          `${mb(r.before.pssKb)} -> ${mb(r.after.pssKb)}`,
          `${mb(r.after.rssAnonKb)}/${mb(r.after.rssFileKb)}/${mb(r.after.rssShmemKb)}`,
          `${r.before.fds} -> ${r.after.fds}`,
          r.cpuSeconds.toFixed(2),
        ]),
      ),
    );
  }
  if (result.load) parts.push(`Host load per phase:\n${Object.entries(result.load).map(([phase, load]) => `  ${describeLoad(phase, load)}`).join('\n')}`);
  const cgprocfs = result.resources.cgprocfs;
  if (cgprocfs) parts.push(memoryLines(cgprocfs.before, cgprocfs.after));
  const state = result.resources.cgprocfs;
  if (state?.after.stateDirKb !== undefined) {
    parts.push(`cgprocfs state directory (tmpfs, not in RSS): ${mb(state.before.stateDirKb ?? 0)} -> ${mb(state.after.stateDirKb)} MB`);
  }
  if (result.containers) parts.push(`Many containers (meminfo, ${result.containers.slotMs} ms slots round-robin):\n${containersTable(result.containers)}`);
  if (result.noisy) {
    parts.push(
      `Noisy neighbour (a quiet container reading ${result.noisy.file}, alone and beside one container of ${result.noisy.flooders} readers reading it as fast as they can):\n` +
        noisyTable(result.noisy),
    );
  }
  if (result.soak) {
    const s = result.soak;
    parts.push(
      `Soak: ${s.minutes} min, ${s.readers} readers over ${s.cgroups} cgroups: ${rate(s.load.readsPerSec)} reads/s, ` +
        `${s.load.bad + s.load.errors} bad; RSS ${mb(s.samples[0]?.rssKb ?? 0)} -> ${mb(s.samples.at(-1)?.rssKb ?? 0)} MB ` +
        `(${(s.rssGrowthKbPerHour / 1024).toFixed(1)} MB/hour after ${Math.round(s.warmupSeconds)} s of warm-up), ` +
        `fds ${s.samples[0]?.fds} -> ${s.samples.at(-1)?.fds} (${s.fdGrowthPerHour.toFixed(1)}/hour)`,
    );
  }
  if (result.notes.length > 0) parts.push(`Notes:\n${result.notes.map((n) => `- ${n}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}

/** Writes one run's result, or `--repeat`'s runs and their summary. */
export function writeResult(path: string, result: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

/** cgprocfs's memory per process, before and after: what each costs and what the host's other node processes share. */
function memoryLines(before: Resources, after: Resources): string {
  const line = (m: ProcessMemory) => `  ${m.name} (pid ${m.pid}): PSS ${mb(m.pssKb)} MB, anonymous ${mb(m.anonKb)} MB, node binary RSS ${mb(m.exeRssKb)} MB (PSS ${mb(m.exePssKb)} MB)`;
  return [
    `cgprocfs memory, before -> after: PSS ${mb(before.pssKb)} -> ${mb(after.pssKb)} MB; ` +
      `with the node binary counted once between its processes (a host with no other node process): ${mb(before.pssAloneKb)} -> ${mb(after.pssAloneKb)} MB`,
    ...after.byProcess.map(line),
  ].join('\n');
}
