// Which CPUs a view shows, decided once for every CPU file (cpuinfo, stat, uptime,
// the sys cpu lists): the effective cpuset (the host's online CPUs without one),
// under `--cpu-count quota` cut to the first ceil(tightest quota/period) of it.
// Kernel CPU ids throughout, so a program that pins to a listed CPU may run there.
import { cpuPlacement, isHostWide, readCpuLimits, type CpuLimitsReader, type CpuPlacement } from '../cgroup/cpu.js';
import { quotaCpuCount, visibleCpuIds, type CpuCountMode } from '../cgroup/cpu-rules.js';
import type { CgroupLayout } from '../cgroup/layout.js';
import type { CgroupPaths } from '../cgroup/membership.js';
import { onlineCpus, readHostStat } from '../host/stat.js';
import type { ViewSources } from './sources.js';

export type { CpuCountMode };

export interface CpuView {
  readonly placement: CpuPlacement;
  /** Every CPU controller of the view is at the root: the host's own files are the view. */
  readonly hostWide: boolean;
  /** The visible CPU ids, ascending; never empty. */
  readonly cpus: readonly number[];
}

/** `hostOnline` is read only when no cpuset applies. */
export function cpuViewOf(
  layout: CgroupLayout,
  paths: CgroupPaths,
  mode: CpuCountMode,
  hostOnline: () => readonly number[],
  limits: CpuLimitsReader = readCpuLimits,
): CpuView {
  const placement = cpuPlacement(layout, paths);
  const { cpuset, quotaChain } = limits(placement);
  const cpus = visibleCpuIds(cpuset, cpuset === undefined ? hostOnline() : [], quotaCpuCount(quotaChain), mode);
  return { placement, hostWide: isHostWide(placement), cpus };
}

/** The CPUs the view of `paths` shows (kernel ids, ascending), for any view or tool that needs them. */
export function visibleCpus(sources: ViewSources, paths: CgroupPaths, mode: CpuCountMode): number[] {
  return [...cpuViewOf(sources.layout, paths, mode, () => onlineCpus(readHostStat(sources.procRoot)), sources.cpuLimits).cpus];
}
