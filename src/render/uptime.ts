// /proc/uptime for one view: the age of the container (its pid namespace init's
// start time against the host's uptime; the host's uptime for any other view), and
// idle summed over the visible CPUs: the aggregate idle of /proc/stat, so the two
// files always agree. Kernel layout (fs/proc/uptime.c): `%lu.%02lu %lu.%02lu\n`.
import { onlineCpus, readHostStat, type HostStat } from '../host/stat.js';
import { readHostUptime } from '../host/uptime.js';
import { collectCpuTimes, IDLE_FIELD, viewAge, type CpuViewDeps } from './cpu-times.js';
import { cpuViewOf } from './cpu-view.js';
import type { ViewContext } from './sources.js';

export interface UptimeSnapshot {
  /** Hundredths of a second. */
  readonly uptime: number;
  readonly idle: number;
}

export function collect(context: ViewContext, deps: CpuViewDeps): UptimeSnapshot {
  const { procRoot } = context.sources;
  const host = readHostUptime(procRoot);
  const uptime = viewAge(procRoot, context.target, host);
  let stat: HostStat | undefined;
  const hostStat = (): HostStat => (stat ??= readHostStat(procRoot));
  const view = cpuViewOf(context.sources, context.target.cgroups, deps.cpuCount, () => onlineCpus(hostStat()));
  if (view.hostWide) return { uptime, idle: host.idle };
  const idle = collectCpuTimes(context, deps, view, hostStat).aggregate[IDLE_FIELD] ?? 0;
  // The counters' clock is read a moment after the uptime: never show more idle time
  // than the visible CPUs had since the view began.
  return { uptime, idle: Math.min(idle, view.cpus.length * uptime) };
}

function seconds(hundredths: number): string {
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

export function render(snapshot: UptimeSnapshot): string {
  return `${seconds(snapshot.uptime)} ${seconds(snapshot.idle)}\n`;
}
