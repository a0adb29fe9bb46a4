// /proc/vmstat for one view (issue 21): every host line, in host order. The counters
// since boot come from the view's cgroup: those memory.stat counts under the same name
// (pgfault, pgmajfault, pswpin, pswpout, pgscan_*, pgsteal_*, workingset_*, thp_*...),
// pgpgin and pgpgout from its block I/O (kB, as the kernel counts them: memcg v1's
// own pgpgin counts pages charged, another thing), oom_kill from its memory events;
// a counter no cgroup keeps is 0 (the host's would describe other tenants). The page
// gauges memory.stat has are its, nr_free_pages is meminfo's MemFree of the view, and
// the other gauges are the host's, as in meminfo. The root cgroup sees the host's file.
import type { IoReading } from '../cgroup/io.js';
import type { MemoryReading } from '../cgroup/memory.js';
import { readHostVmstat, type VmstatLine } from '../host/vmstat.js';
import { readHostMeminfo } from '../host/proc-root.js';
import { hostTotals, memoryFigures } from './figures.js';
import type { FileView, ViewContext } from './sources.js';

export interface VmstatSnapshot {
  readonly host: readonly VmstatLine[];
  /** Undefined for the root cgroup: the host's own numbers are the view. */
  readonly cgroup: { readonly memory: MemoryReading; readonly io: IoReading; readonly freeKb: number; readonly oomKills: number } | undefined;
  readonly pageBytes: number;
}

/** Gauges in pages from memory.stat fields (bytes); nr_kernel_stack counts kB. */
const PAGE_GAUGES: Readonly<Record<string, string>> = {
  nr_inactive_anon: 'inactive_anon',
  nr_active_anon: 'active_anon',
  nr_inactive_file: 'inactive_file',
  nr_active_file: 'active_file',
  nr_unevictable: 'unevictable',
  nr_slab_reclaimable: 'slab_reclaimable',
  nr_slab_unreclaimable: 'slab_unreclaimable',
  nr_anon_pages: 'anon',
  nr_mapped: 'file_mapped',
  nr_file_pages: 'file',
  nr_dirty: 'file_dirty',
  nr_writeback: 'file_writeback',
  nr_shmem: 'shmem',
  nr_page_table_pages: 'pagetables',
};
/** `nr_` lines that are counters since boot, not gauges. */
const NR_COUNTERS: ReadonlySet<string> = new Set(['nr_dirtied', 'nr_written', 'nr_foll_pin_acquired', 'nr_foll_pin_released']);
/** memory.stat names whose memcg count means something else than the vmstat line of that name (v1 pgpgin: pages charged). */
const NOT_FROM_MEMORY_STAT: ReadonlySet<string> = new Set(['pgpgin', 'pgpgout']);
const BYTES_PER_KB = 1024n;

export function isGauge(key: string): boolean {
  return (key.startsWith('nr_') && !NR_COUNTERS.has(key)) || key === 'workingset_nodes';
}

export function collect({ sources, target }: ViewContext): VmstatSnapshot {
  const host = readHostVmstat(sources.procRoot);
  const memory = sources.cgroups.memory(target.cgroups);
  const io = sources.cgroups.io(target.cgroups);
  if (memory === undefined || io === undefined) return { host, cgroup: undefined, pageBytes: sources.pageBytes() };
  const freeKb = memoryFigures(memory, hostTotals(readHostMeminfo(sources.procRoot))).memFree;
  const oomKills = sources.cgroups.oomKills(target.cgroups);
  return { host, cgroup: { memory, io, freeKb, oomKills }, pageBytes: sources.pageBytes() };
}

function ioKb(io: IoReading, direction: 'rbytes' | 'wbytes'): bigint {
  let bytes = 0n;
  for (const device of io.values()) bytes += device[direction];
  return bytes / BYTES_PER_KB;
}

/** The view's value of one line; undefined keeps the host's. */
function viewValue(line: VmstatLine, cgroup: NonNullable<VmstatSnapshot['cgroup']>, pageBytes: number): bigint | undefined {
  const { key } = line;
  const stat = cgroup.memory.stat;
  const pages = (bytes: number | undefined): bigint => BigInt(Math.floor((bytes ?? 0) / pageBytes));
  if (isGauge(key)) {
    if (key === 'nr_free_pages') return pages(cgroup.freeKb * 1024);
    if (key === 'nr_kernel_stack') return BigInt(Math.floor((stat['kernel_stack'] ?? 0) / 1024));
    const field = PAGE_GAUGES[key];
    return field === undefined || stat[field] === undefined ? undefined : pages(stat[field]);
  }
  if (key === 'pgpgin') return ioKb(cgroup.io, 'rbytes');
  if (key === 'pgpgout') return ioKb(cgroup.io, 'wbytes');
  if (key === 'oom_kill') return BigInt(cgroup.oomKills);
  const counted = NOT_FROM_MEMORY_STAT.has(key) ? undefined : stat[key];
  return BigInt(counted ?? 0);
}

export function render(snapshot: VmstatSnapshot): string {
  const { host, cgroup, pageBytes } = snapshot;
  return host
    .map((line) => `${line.key} ${(cgroup === undefined ? undefined : viewValue(line, cgroup, pageBytes)) ?? line.value}\n`)
    .join('');
}

export const view: FileView = (context) => render(collect(context));
