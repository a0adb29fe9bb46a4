// /proc/pressure/{cpu,memory,io} for one view: the cgroup's own PSI file from the
// cgroup2 hierarchy (unified/ on a hybrid host), byte for byte. Host-wide (the
// host's /proc/pressure file) for the root cgroup, and on a pure v1 host, where
// the kernel keeps no per-cgroup PSI: there a container sees the host's pressure.
// A kernel without PSI has no file to copy: SOURCE_UNREADABLE.
import type { PressureResource } from '../cgroup/pressure.js';
import { readHostPressure } from '../host/proc-root.js';
import type { FileView, ViewContext } from './sources.js';

export interface PressureSnapshot {
  readonly text: string;
}

export function collect({ sources, target }: ViewContext, resource: PressureResource): PressureSnapshot {
  const own = sources.cgroups.pressure(target.cgroups, resource);
  return { text: own ?? readHostPressure(sources.procRoot, resource) };
}

export function render(snapshot: PressureSnapshot): string {
  return snapshot.text;
}

/** The view of one PSI file (`proc/pressure/<resource>`). */
export function pressureView(resource: PressureResource): FileView {
  return (context) => render(collect(context, resource));
}
