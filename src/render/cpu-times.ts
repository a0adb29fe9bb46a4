// The CPU times a view shows, in USER_HZ ticks, shared by /proc/stat and /proc/uptime
// so the two never disagree: the counter store's numbers for a cgroup with its own
// CPU accounting; the host's lines of the visible CPUs when accounting is at the root.
import { join } from 'node:path';
import { accountingOf } from '../cgroup/cpu.js';
import type { CpuCountMode } from '../cgroup/cpu-rules.js';
import { ROOT_CGROUP } from '../cgroup/hierarchy.js';
import type { ViewTarget } from '../caller/target.js';
import type { CpuTicks, HostStat } from '../host/stat.js';
import { readHostUptime, readStartTime, type HostUptime } from '../host/uptime.js';
import type { CpuCounterStore } from './cpu-counters.js';
import type { CpuTimes, EventCounts, EventSample } from './cpu-counter-rule.js';
import type { CpuView } from './cpu-view.js';
import type { ViewContext } from './sources.js';

/** What the CPU views need besides the context; built once per worker by createCpuDeps. */
/** Whose boot /proc/stat's btime shows: the host's, or the container's (its init's start). */
export type BtimePolicy = 'host' | 'container';

export interface CpuViewDeps {
  readonly cpuCount: CpuCountMode;
  readonly btime: BtimePolicy;
  readonly counters: CpuCounterStore;
  /** Monotonic clock, µs, the same in every process of one boot. */
  readonly now: () => number;
  bootId(procRoot: string): string;
}

export interface CpuLine {
  readonly id: number;
  readonly ticks: CpuTicks;
}

export interface CpuTimesView {
  readonly aggregate: CpuTicks;
  readonly lines: readonly CpuLine[];
  /** ctxt and intr since the container's start; undefined when not sampled, or the host's own accounting. */
  readonly events?: EventCounts;
}

/** USER_HZ: /proc/stat and /proc/uptime count hundredths of a second. */
const US_PER_TICK = 10_000;
export const TICKS_PER_SECOND = 100;
/** user nice system idle iowait irq softirq steal guest guest_nice (fs/proc/stat.c). */
const CPU_FIELDS = 10;
export const IDLE_FIELD = 3;

function toTicks(us: number): number {
  return Math.floor(us / US_PER_TICK);
}

/** A cpu line from counters: user, system and idle; the rest 0 (no cgroup counts them). */
function ticksOf(times: CpuTimes): CpuTicks {
  const ticks = new Array<number>(CPU_FIELDS).fill(0);
  ticks[0] = toTicks(times.user);
  ticks[2] = toTicks(times.system);
  ticks[IDLE_FIELD] = toTicks(times.idle);
  return ticks;
}

function hostLines(host: HostStat, cpus: readonly number[]): CpuTimesView {
  const zero = new Array<number>(CPU_FIELDS).fill(0);
  const lines = cpus.map((id) => ({ id, ticks: host.cpus.get(id) ?? zero }));
  const aggregate = zero.map((_, field) => lines.reduce((sum, line) => sum + (line.ticks[field] ?? 0), 0));
  return { aggregate, lines };
}

/** The process whose start is the view's boot: its container's init, else `datedBy`; undefined: the host's boot. */
export function datingPid(target: ViewTarget): number | undefined {
  return target.containerInit ? target.pid : target.datedBy;
}

/** The view's age in ticks: its dating process's (see datingPid), else the host's uptime. */
export function viewAge(procRoot: string, target: ViewTarget, host: HostUptime): number {
  const pid = datingPid(target);
  const start = pid === undefined ? undefined : readStartTime(procRoot, pid);
  return start === undefined ? host.uptime : Math.max(0, host.uptime - start);
}

/** `events` samples ctxt and intr (stat); uptime needs CPU time only. */
export function collectCpuTimes(
  context: ViewContext,
  deps: CpuViewDeps,
  view: CpuView,
  host: () => HostStat,
  events?: () => EventSample,
): CpuTimesView {
  const { procRoot } = context.sources;
  const accounting = accountingOf(view.placement);
  if (accounting.path === ROOT_CGROUP) return hostLines(host(), view.cpus);
  const sample = { cpus: view.cpus, usage: context.sources.cgroups.cpuUsage(accounting), now: deps.now(), events: events?.() };
  const cpu = view.placement.cpu ?? accounting;
  const key = { cpuDir: join(cpu.mount, cpu.path), usageDir: join(accounting.mount, accounting.path) };
  const ageUs = (): number => viewAge(procRoot, context.target, readHostUptime(procRoot)) * US_PER_TICK;
  const counters = deps.counters.counters(key, deps.bootId(procRoot), sample, ageUs);
  const lines = counters.cpus.map((id, index) => ({ id, ticks: ticksOf(counters.perCpu[index]!) }));
  return { aggregate: ticksOf(counters.aggregate), lines, events: counters.events };
}
