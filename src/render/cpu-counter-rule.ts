// The rule behind a view's CPU counters (µs), pure: the cgroup's CPU time spread
// evenly over the visible CPUs, and idle the rest of each CPU's elapsed time, so
// that over any interval user+system grows by the real usage and user+system+idle
// by (visible CPUs x elapsed). Counters are kept relative to a baseline, and a new
// baseline (other visible CPUs, a recreated cgroup) starts from the current values,
// so no counter ever goes down. The same holds for the counts /proc/stat keeps since
// the container's start besides CPU time (ctxt, intr: issue 21).
import type { CpuUsage } from '../cgroup/cpu.js';

export interface CpuTimes {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
}

/** /proc/stat's counts since the container's start besides CPU time. */
export interface EventCounts {
  /** Context switches (`ctxt`). */
  readonly ctxt: number;
  /** Interrupts (`intr`'s total). */
  readonly intr: number;
}

/**
 * What a read of /proc/stat samples for them: the context switches of the container's
 * live tasks (the kernel counts them per task only, so a task's go when it exits), the
 * host's interrupt total (no cgroup counts interrupts), and the share of the host's
 * CPUs the view shows, which scales the host's interrupts.
 */
export interface EventSample {
  readonly switches: number;
  readonly hostInterrupts: number;
  readonly share: number;
}

/** The event counts at a baseline, and the sample they count on from (undefined: the next one with events). */
export interface EventBaseline {
  readonly counts: EventCounts;
  readonly base: EventSample | undefined;
}

/** Where counting resumes from: the counters and the cgroup's usage at one instant. */
export interface CounterBaseline {
  /** Visible CPU ids, ascending; `perCpu` is in the same order. */
  readonly cpus: readonly number[];
  /** Monotonic clock, µs (the same in every process of one boot). */
  readonly at: number;
  readonly usageUser: number;
  readonly usageSystem: number;
  readonly perCpu: readonly CpuTimes[];
  readonly aggregate: CpuTimes;
  /** Undefined until a read of /proc/stat samples events (uptime reads do not). */
  readonly events?: EventBaseline;
}

/** What a read sees: the visible CPUs, the cgroup's CPU time and the clock (µs, about the host's uptime). */
export interface CpuSample {
  readonly cpus: readonly number[];
  readonly usage: CpuUsage;
  readonly now: number;
  /** Sampled by reads of /proc/stat only. */
  readonly events?: EventSample;
}

/**
 * The most a baseline's counters have grown in any read so far, µs: cgroup usage
 * (user, system) and idle per CPU. Later reads never show less (see countersAt).
 */
export interface CounterGrowth {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
  readonly ctxt: number;
  readonly intr: number;
}

export const NO_GROWTH: CounterGrowth = { user: 0, system: 0, idle: 0, ctxt: 0, intr: 0 };

export interface CpuCounters {
  readonly cpus: readonly number[];
  readonly perCpu: readonly CpuTimes[];
  readonly aggregate: CpuTimes;
  /** Undefined when neither the baseline nor the sample has any (a read of uptime). */
  readonly events: EventCounts | undefined;
  /** The growth over the baseline these counters show. */
  readonly growth: CounterGrowth;
}

const ZERO: CpuTimes = { user: 0, system: 0, idle: 0 };

function sameCpus(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/**
 * A container's events when first seen: its live tasks' switches (those of tasks that
 * ended are not known), and its share of the host's interrupts at the host's average
 * rate over its age (`sample.now`, the monotonic clock, stands for the host's uptime).
 */
export function firstEvents(events: EventSample, ageUs: number, now: number): EventCounts {
  const ageShare = now > 0 ? Math.min(1, Math.max(0, ageUs / now)) : 1;
  return { ctxt: events.switches, intr: Math.floor(events.hostInterrupts * events.share * ageShare) };
}

/** A cgroup seen for the first time: as if its usage had been spread over its whole age. */
export function firstBaseline(sample: CpuSample, ageUs: number): CounterBaseline {
  const n = sample.cpus.length;
  const { user, system } = sample.usage;
  const perCpu = { user: user / n, system: system / n, idle: Math.max(0, ageUs - (user + system) / n) };
  const { events } = sample;
  return {
    cpus: [...sample.cpus],
    at: sample.now,
    usageUser: user,
    usageSystem: system,
    perCpu: sample.cpus.map(() => perCpu),
    aggregate: { user, system, idle: perCpu.idle * n },
    ...(events && { events: { counts: firstEvents(events, ageUs, sample.now), base: events } }),
  };
}

/**
 * True when the baseline can count this sample: the same CPUs, usage not below the
 * baseline's (a recreated cgroup) and events that count on (see eventsKept), unless
 * the sample is older than the baseline (another worker wrote it meanwhile; the sample
 * then counts as no progress).
 */
export function baselineServes(baseline: CounterBaseline, sample: CpuSample, shown: CounterGrowth = NO_GROWTH): boolean {
  const usageKept = sample.usage.user >= baseline.usageUser && sample.usage.system >= baseline.usageSystem;
  const kept = usageKept && eventsKept(baseline, sample, shown);
  return sameCpus(baseline.cpus, sample.cpus) && (kept || sample.now < baseline.at);
}

/**
 * True when the baseline counts the sample's events: none sampled, or the live tasks'
 * switches still at least what was shown over the base. A task that exits takes its
 * switches along: the next baseline goes on from what was shown, so the others' later
 * switches count at once (the exited task's since the last read are lost).
 */
function eventsKept(baseline: CounterBaseline, sample: CpuSample, shown: CounterGrowth): boolean {
  const base = baseline.events?.base;
  if (sample.events === undefined) return true;
  if (base === undefined) return false;
  return sample.events.switches - base.switches >= shown.ctxt && sample.events.hostInterrupts >= base.hostInterrupts;
}

/** The growth of the events over their base, never below what was shown. */
function eventGrowth(baseline: CounterBaseline, sample: CpuSample, shown: CounterGrowth): { ctxt: number; intr: number } {
  const base = baseline.events?.base;
  if (base === undefined || sample.events === undefined) return { ctxt: shown.ctxt, intr: shown.intr };
  return {
    ctxt: Math.max(shown.ctxt, sample.events.switches - base.switches),
    intr: Math.max(shown.intr, Math.floor((sample.events.hostInterrupts - base.hostInterrupts) * base.share)),
  };
}

/**
 * The counters at the sample, over the baseline's CPUs, never below `shown` (the
 * growth earlier reads showed). Idle per CPU grows by elapsed - usage/n; usage can
 * briefly outrun n CPUs (a quota spent on more CPUs than it buys, tick-based
 * accounting), and a sample can be older than another worker's, so each part of
 * the growth is held at what was shown: idle then pauses instead of going down.
 */
export function countersAt(baseline: CounterBaseline, sample: CpuSample, shown: CounterGrowth): CpuCounters {
  const n = baseline.cpus.length;
  const user = Math.max(shown.user, sample.usage.user - baseline.usageUser);
  const system = Math.max(shown.system, sample.usage.system - baseline.usageSystem);
  const elapsed = Math.max(0, sample.now - baseline.at);
  const idle = Math.max(0, shown.idle, elapsed - (user + system) / n);
  const perCpu = baseline.perCpu.map((times) => ({
    user: times.user + user / n,
    system: times.system + system / n,
    idle: times.idle + idle,
  }));
  const { aggregate } = baseline;
  const { ctxt, intr } = eventGrowth(baseline, sample, shown);
  const counts = baseline.events?.counts;
  return {
    cpus: baseline.cpus,
    perCpu,
    aggregate: { user: aggregate.user + user, system: aggregate.system + system, idle: aggregate.idle + idle * n },
    events: counts && { ctxt: counts.ctxt + ctxt, intr: counts.intr + intr },
    growth: { user, system, idle, ctxt, intr },
  };
}

/**
 * A baseline for the sample that continues `baseline`: CPUs that stay keep their
 * counters, new ones start at 0, the aggregate runs on (so, as in the kernel after a
 * hotplug, it may differ from the sum of the lines), usage is taken as it is now.
 * Events run on from the sample's (a baseline of a read without events keeps their
 * counts and takes its base from the next read with them); a baseline that has none
 * yet starts them at `first` (firstEvents; by default from its live tasks' switches alone).
 */
export function rebaseline(
  baseline: CounterBaseline,
  sample: CpuSample,
  shown: CounterGrowth,
  first: (events: EventSample) => EventCounts = (events) => firstEvents(events, 0, sample.now),
): CounterBaseline {
  const current = countersAt(baseline, sample, shown);
  const counts = current.events ?? (sample.events && first(sample.events));
  return {
    cpus: [...sample.cpus],
    at: Math.max(sample.now, baseline.at),
    usageUser: sample.usage.user,
    usageSystem: sample.usage.system,
    perCpu: sample.cpus.map((id) => current.perCpu[baseline.cpus.indexOf(id)] ?? ZERO),
    aggregate: current.aggregate,
    ...(counts && { events: { counts, base: sample.events } }),
  };
}
