// Which CPUs a view shows, decided once for every CPU file (cpuinfo, stat, uptime,
// the sys cpu lists): the effective cpuset (the host's online CPUs without one),
// under `--cpu-count quota` cut to the first ceil(tightest quota/period) of it.
// Kernel CPU ids throughout, so a program that pins to a listed CPU may run there.
import { isHostWide, type CpuPlacement } from '../cgroup/cpu.js';
import { quotaCpuCount, visibleCpuIds, type CpuCountMode } from '../cgroup/cpu-rules.js';
import type { CgroupView } from '../cgroup/view.js';
import type { ViewSources } from './sources.js';

export type { CpuCountMode };

export interface CpuView {
  readonly placement: CpuPlacement;
  /** Every CPU controller of the view is at the root: the host's own files are the view. */
  readonly hostWide: boolean;
  /** The visible CPU ids, ascending; never empty. */
  readonly cpus: readonly number[];
}

/** `hostOnline` (default: the host's online CPUs, reused for a tick: sources.hostOnlineCpus) is read only when no cpuset applies. */
export function cpuViewOf(
  sources: ViewSources,
  cgroups: CgroupView,
  mode: CpuCountMode,
  hostOnline: () => readonly number[] = () => sources.hostOnlineCpus(),
): CpuView {
  const placement = sources.cgroups.cpuPlacement(cgroups);
  const { cpuset, quotaChain } = sources.cgroups.cpuLimits(placement);
  const cpus = visibleCpuIds(cpuset, cpuset === undefined ? hostOnline() : [], quotaCpuCount(quotaChain), mode);
  return { placement, hostWide: isHostWide(placement), cpus };
}

/** The CPUs the view of `cgroups` shows (kernel ids, ascending), for any view or tool that needs them. */
export function visibleCpus(sources: ViewSources, cgroups: CgroupView, mode: CpuCountMode): number[] {
  return [...cpuViewOf(sources, cgroups, mode).cpus];
}
