// The memory and swap numbers of a view, in kB, from a cgroup memory reading and
// the host's totals. Pure: shared by meminfo and swaps so the two always agree.
import { effectiveLimit, nonNegativeDifference } from '../cgroup/hierarchy.js';
import type { MemoryReading } from '../cgroup/memory.js';
import { meminfoValue, type MeminfoLine } from '../host/meminfo.js';

const BYTES_PER_KB = 1024;
/** What the kernel could free for the cgroup: the file LRUs (tmpfs/shmem pages sit on
 *  the anon LRU, so are not in them) and reclaimable slab (absent on v1: 0). */
const RECLAIMABLE_STAT_KEYS = ['active_file', 'inactive_file', 'slab_reclaimable'] as const;

/** The host's own totals, kB, from its /proc/meminfo. */
export interface HostTotals {
  readonly memTotal: number;
  readonly swapTotal: number;
}

export function hostTotals(meminfo: readonly MeminfoLine[]): HostTotals {
  return { memTotal: meminfoValue(meminfo, 'MemTotal'), swapTotal: meminfoValue(meminfo, 'SwapTotal') };
}

export interface SwapFigures {
  readonly total: number;
  readonly used: number;
  readonly free: number;
}

export interface MemoryFigures {
  readonly memTotal: number;
  readonly memFree: number;
  readonly memAvailable: number;
  readonly swap: SwapFigures;
}

const NO_SWAP: SwapFigures = { total: 0, used: 0, free: 0 };

function toKb(bytes: number): number {
  return Math.floor(bytes / BYTES_PER_KB);
}

/** A memory.stat field in kB; a key the kernel does not report counts as 0. */
function statKb(reading: MemoryReading, key: string): number {
  return toKb(reading.stat[key] ?? 0);
}

/** The sum of memory.stat fields, kB. */
export function statSumKb(reading: MemoryReading, keys: readonly string[]): number {
  return keys.reduce((sum, key) => sum + statKb(reading, key), 0);
}

function memoryLimitBytes(reading: MemoryReading, host: HostTotals): number {
  return effectiveLimit(reading.limitChain, host.memTotal * BYTES_PER_KB);
}

/**
 * Swap of the view. The limit is the tightest ancestor's (v1's memory+swap limit
 * less the memory limit), at most the host's swap; swappiness 0 means the cgroup
 * never swaps more, shown as a full device of the size in use (lxcfs README).
 */
export function swapFigures(reading: MemoryReading, host: HostTotals): SwapFigures {
  const swap = reading.swap;
  if (swap === undefined) return NO_SWAP;
  const chainLimit = Math.min(...swap.limitChain);
  const limit = swap.limitIncludesMemory
    ? nonNegativeDifference(chainLimit, memoryLimitBytes(reading, host))
    : chainLimit;
  const used = toKb(swap.current);
  const total = swap.swappiness === 0 ? used : Math.min(toKb(limit), host.swapTotal);
  return { total, used, free: nonNegativeDifference(total, used) };
}

export function memoryFigures(reading: MemoryReading, host: HostTotals): MemoryFigures {
  const memTotal = toKb(memoryLimitBytes(reading, host));
  const memFree = nonNegativeDifference(memTotal, toKb(reading.current));
  const reclaimable = statSumKb(reading, RECLAIMABLE_STAT_KEYS);
  return {
    memTotal,
    memFree,
    memAvailable: Math.min(memTotal, memFree + reclaimable),
    swap: swapFigures(reading, host),
  };
}
