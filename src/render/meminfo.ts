// /proc/meminfo for one view: every host line, in host order and the kernel's
// column widths; the lines the memory cgroup accounts for are replaced, every
// other line passes through. collect() does the I/O, render() is pure.
import type { MemoryReading } from '../cgroup/memory.js';
import { formatMeminfoLine, type MeminfoLine } from '../host/meminfo.js';
import { readHostMeminfo } from '../host/proc-root.js';
import { hostTotals, memoryFigures, statSumKb } from './figures.js';
import type { FileView, ViewContext } from './sources.js';

export interface MeminfoSnapshot {
  readonly host: readonly MeminfoLine[];
  /** Undefined for the root cgroup: the host's own numbers are the view. */
  readonly memory: MemoryReading | undefined;
  readonly swap: boolean;
}

/** meminfo lines that are a memory.stat field, or the sum of several (v2 names). */
const STAT_LINES: Readonly<Record<string, readonly string[]>> = {
  Cached: ['file'],
  Active: ['active_anon', 'active_file'],
  Inactive: ['inactive_anon', 'inactive_file'],
  'Active(anon)': ['active_anon'],
  'Inactive(anon)': ['inactive_anon'],
  'Active(file)': ['active_file'],
  'Inactive(file)': ['inactive_file'],
  Unevictable: ['unevictable'],
  Dirty: ['file_dirty'],
  Writeback: ['file_writeback'],
  AnonPages: ['anon'],
  Mapped: ['file_mapped'],
  Shmem: ['shmem'],
  Slab: ['slab'],
  SReclaimable: ['slab_reclaimable'],
  SUnreclaim: ['slab_unreclaimable'],
  KernelStack: ['kernel_stack'],
  PageTables: ['pagetables'],
  AnonHugePages: ['anon_thp'],
  ShmemHugePages: ['shmem_thp'],
  FileHugePages: ['file_thp'],
};

/** Lines a memory cgroup has no counter for; the host's would describe other tenants. */
const ZERO_LINES = ['Buffers', 'SwapCached'] as const;

export function collect({ sources, target, options }: ViewContext): MeminfoSnapshot {
  return { host: readHostMeminfo(sources.procRoot), memory: sources.cgroups.memory(target.cgroups), swap: options.swap };
}

function cgroupValues(memory: MemoryReading, host: readonly MeminfoLine[]): Map<string, number> {
  const figures = memoryFigures(memory, hostTotals(host));
  const values = new Map<string, number>(ZERO_LINES.map((key) => [key, 0]));
  for (const [line, keys] of Object.entries(STAT_LINES)) {
    values.set(line, statSumKb(memory, keys));
  }
  values.set('MemTotal', figures.memTotal).set('MemFree', figures.memFree).set('MemAvailable', figures.memAvailable);
  return values.set('SwapTotal', figures.swap.total).set('SwapFree', figures.swap.free);
}

export function render(snapshot: MeminfoSnapshot): string {
  const values = snapshot.memory === undefined ? new Map<string, number>() : cgroupValues(snapshot.memory, snapshot.host);
  if (!snapshot.swap) values.set('SwapTotal', 0).set('SwapFree', 0);
  return snapshot.host.map((line) => `${formatMeminfoLine(line, values.get(line.key))}\n`).join('');
}

export const view: FileView = (context) => render(collect(context));
