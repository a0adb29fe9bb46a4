// Pure rules of the CPU view: the kernel's CPU list format (`0-3,5`, parsed by
// lib/bitmap.c bitmap_parselist, printed with %*pbl), the nearest non-empty cpuset
// up the tree, and how many CPUs a CFS quota buys. No I/O: drivers read, these decide.
import { unparsable } from '../host/files.js';

/** `quota`: CPUs = ceil(tightest quota/period), first of the cpuset; `cpuset`: the whole cpuset. */
export type CpuCountMode = 'quota' | 'cpuset';

/** A CFS bandwidth limit: `quota` µs of CPU time per `period` µs. */
export interface CpuQuota {
  readonly quota: number;
  readonly period: number;
}

/** Above any NR_CPUS the kernel builds with (8192): bounds the work on a garbled list. */
const MAX_CPU_ID = 65535;
const LIST_ITEM = /^(\d+)(?:-(\d+))?$/;

/** A CPU list such as `0-3,5` as ascending unique ids; an empty list is `[]`. */
export function parseCpuList(text: string, source: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const ids = new Set<number>();
  for (const item of trimmed.split(',')) {
    const match = LIST_ITEM.exec(item);
    if (match === null) throw unparsable(source, text, 'CPU list ');
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > MAX_CPU_ID) throw unparsable(source, text, 'CPU list ');
    for (let id = first; id <= last; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Ids in the kernel's canonical form: ascending runs, `a-b` for a run, `a` alone. */
export function formatCpuList(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    runs.push(end === start ? `${sorted[start]}` : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return runs.join(',');
}

/**
 * The first non-empty cpuset of the levels (nearest first); undefined when all are empty.
 * Levels are taken one at a time, so a lazy sequence is read no further up than it has to.
 */
export function nearestCpuset(levels: Iterable<readonly number[] | undefined>): readonly number[] | undefined {
  for (const ids of levels) if (ids !== undefined && ids.length > 0) return ids;
  return undefined;
}

/** CPUs the tightest quota of the chain buys, rounded up; undefined without any quota. */
export function quotaCpuCount(chain: readonly CpuQuota[]): number | undefined {
  const counts = chain.map(({ quota, period }) => Math.ceil(quota / period));
  return counts.length === 0 ? undefined : Math.max(1, Math.min(...counts));
}

/**
 * The CPUs a view shows, with the kernel's ids: the cpuset (or the host's online CPUs
 * without one), cut to the first `quotaCount` under `quota` mode. Never fewer than one.
 */
export function visibleCpuIds(
  cpuset: readonly number[] | undefined,
  hostOnline: readonly number[],
  quotaCount: number | undefined,
  mode: CpuCountMode,
): number[] {
  const base = cpuset !== undefined && cpuset.length > 0 ? cpuset : hostOnline;
  if (base.length === 0) return [0];
  const count = mode === 'quota' && quotaCount !== undefined ? Math.min(quotaCount, base.length) : base.length;
  return base.slice(0, Math.max(1, count));
}
