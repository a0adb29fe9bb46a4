// /sys/devices/system/cpu/{online,possible,present,offline} for one view: the first
// three list the visible CPUs (the view claims no CPU it cannot run on), `offline` the
// rest of what they claim, which is none: an empty line, as the kernel prints it.
// The root cgroup's visible CPUs are the host's online ones.
import { formatCpuList } from '../cgroup/cpu-rules.js';
import type { CpuViewDeps } from './cpu-times.js';
import { visibleCpus } from './cpu-view.js';
import type { ViewContext } from './sources.js';

export const CPU_LIST_FILES = ['online', 'possible', 'present', 'offline'] as const;
export type CpuListFile = (typeof CPU_LIST_FILES)[number];

export function collect(context: ViewContext, deps: CpuViewDeps): readonly number[] {
  return visibleCpus(context.sources, context.target.cgroups, deps.cpuCount);
}

export function render(file: CpuListFile, cpus: readonly number[]): string {
  return `${file === 'offline' ? '' : formatCpuList(cpus)}\n`;
}
