// /proc/stat for one view: the aggregate line and one cpuN line per visible CPU from
// the view's CPU times (cpu-times.ts), processes/procs_running/procs_blocked from
// the view's tasks, ctxt and intr counted since the container's start (its tasks'
// context switches; its share of the host's interrupts), so that vmstat, which divides
// them by the CPU time since boot, sees the container's rates (issue 21); btime and
// softirq as the host's kernel wrote them.
import { taskCensus } from './task-census.js';
import { onlineCpus, readHostStat, type CpuTicks, type HostStat } from '../host/stat.js';
import { readHostUptime, readStartTime } from '../host/uptime.js';
import type { EventSample } from './cpu-counter-rule.js';
import { collectCpuTimes, datingPid, TICKS_PER_SECOND, type CpuTimesView, type CpuViewDeps } from './cpu-times.js';
import { cpuViewOf } from './cpu-view.js';
import type { ViewContext } from './sources.js';

const MS_PER_SECOND = 1000;
/** Just under a second: the part of the boot time the kernel's btime truncates. */
const MAX_FRACTION = 0.999;

export interface StatTasks {
  /** The pid namespace's newest pid for a container's view; undefined: the host's line. */
  readonly processes: number | undefined;
  readonly running: number;
  readonly blocked: number;
  /** The container's boot (its init's start) under --btime container; undefined: the host's. */
  readonly btime: number | undefined;
}

export interface StatSnapshot {
  readonly host: HostStat;
  /** Undefined for a host-wide view: the host's own file is the view. */
  readonly view: { readonly cpu: CpuTimesView; readonly tasks: StatTasks } | undefined;
}

export function collect(context: ViewContext, deps: CpuViewDeps): StatSnapshot {
  const { sources, target } = context;
  const host = readHostStat(sources.procRoot);
  const view = cpuViewOf(sources, target.cgroups, deps.cpuCount, () => onlineCpus(host));
  if (view.hostWide) return { host, view: undefined };
  const level = sources.pidLevels.of(target);
  // The tasks' context switches are counted in the same pass (ctxt), within the same budget.
  const census = taskCensus(sources, target.cgroups, typeof level === 'number' ? level : undefined, true);
  const tasks = {
    // The pid namespace's newest pid counts its forks without showing a host pid.
    processes: typeof level === 'number' ? census.newestNsPid : level === 'gone' ? 0 : undefined,
    // The reader itself is running while it reads.
    running: Math.max(1, census.running),
    blocked: census.blocked,
    btime: deps.btime === 'container' ? containerBtime(context, host) : undefined,
  };
  const events = (): EventSample => ({
    switches: census.switches,
    hostInterrupts: interruptTotal(host),
    share: view.cpus.length / Math.max(1, onlineCpus(host).length),
  });
  return { host, view: { cpu: collectCpuTimes(context, deps, view, () => host, events), tasks } };
}

/** Where the total starts in an `intr` line: after `intr `. */
const INTR_TOTAL_AT = 'intr '.length;

/** The host's interrupts since boot: the first number of its `intr` line (0 without one). */
function interruptTotal(host: HostStat): number {
  const text = host.others.find((line) => line.key === 'intr')?.text ?? '';
  // Only the first number is cut out: the line holds one more per interrupt (hundreds).
  const end = text.indexOf(' ', INTR_TOTAL_AT);
  const total = Number(text.slice(INTR_TOTAL_AT, end === -1 ? undefined : end) || NaN);
  return Number.isSafeInteger(total) && total >= 0 ? total : 0;
}

/**
 * The `intr` line of a view: its total, then the per-interrupt counts as zeros (as many
 * as the host prints): no cgroup counts interrupts by number, and the host's would
 * describe other tenants.
 */
function interruptLine(hostLine: string, total: number): string {
  let perInterrupt = -1; // the spaces after `intr` and the total
  for (let at = hostLine.indexOf(' '); at !== -1; at = hostLine.indexOf(' ', at + 1)) perInterrupt++;
  return `intr ${total}${' 0'.repeat(Math.max(0, perInterrupt))}`;
}

/**
 * The container's boot: the host's boot plus its init's start (ticks since the host's
 * boot). The kernel's btime is the host's boot truncated to the second; the fraction it
 * dropped comes from the wall clock and /proc/uptime, kept within that second, so the
 * sum is truncated once, as the kernel truncates its own.
 */
function containerBtime({ sources, target }: ViewContext, host: HostStat): number | undefined {
  const pid = datingPid(target);
  if (pid === undefined) return undefined;
  const hostBtime = Number(host.others.find((line) => line.key === 'btime')?.text.split(' ')[1]);
  const start = readStartTime(sources.procRoot, pid);
  if (!Number.isFinite(hostBtime) || start === undefined) return undefined;
  const boot = Date.now() / MS_PER_SECOND - readHostUptime(sources.procRoot).uptime / TICKS_PER_SECOND;
  const fraction = Math.min(Math.max(boot - hostBtime, 0), MAX_FRACTION);
  return Math.floor(hostBtime + fraction + start / TICKS_PER_SECOND);
}

function cpuLine(label: string, ticks: CpuTicks): string {
  return `${label} ${ticks.join(' ')}`;
}

export function render(snapshot: StatSnapshot): string {
  const { host, view } = snapshot;
  if (view === undefined) return host.text;
  const { cpu, tasks } = view;
  const replaced = new Map<string, number | undefined>([
    ['processes', tasks.processes],
    ['procs_running', tasks.running],
    ['procs_blocked', tasks.blocked],
    ['btime', tasks.btime],
  ]);
  if (cpu.events !== undefined) replaced.set('ctxt', cpu.events.ctxt);
  const others = host.others.map(({ key, text }) => {
    if (key === 'intr' && cpu.events !== undefined) return interruptLine(text, cpu.events.intr);
    const value = replaced.get(key);
    return value === undefined ? text : `${key} ${value}`;
  });
  // The aggregate's label is `cpu` and a space, then the space before each field.
  const cpus = [cpuLine('cpu ', cpu.aggregate), ...cpu.lines.map(({ id, ticks }) => cpuLine(`cpu${id}`, ticks))];
  return [...cpus, ...others].map((line) => `${line}\n`).join('');
}
