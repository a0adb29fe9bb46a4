// The rule behind a view's CPU counters (µs), pure: the cgroup's CPU time spread
// evenly over the visible CPUs, and idle the rest of each CPU's elapsed time, so
// that over any interval user+system grows by the real usage and user+system+idle
// by (visible CPUs x elapsed). Counters are kept relative to a baseline, and a new
// baseline (other visible CPUs, a recreated cgroup) starts from the current values,
// so no counter ever goes down.
import type { CpuUsage } from '../cgroup/cpu.js';

export interface CpuTimes {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
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
}

/** What a read sees: the visible CPUs, the cgroup's CPU time and the clock. */
export interface CpuSample {
  readonly cpus: readonly number[];
  readonly usage: CpuUsage;
  readonly now: number;
}

/**
 * The most a baseline's counters have grown in any read so far, µs: cgroup usage
 * (user, system) and idle per CPU. Later reads never show less (see countersAt).
 */
export interface CounterGrowth {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
}

export const NO_GROWTH: CounterGrowth = { user: 0, system: 0, idle: 0 };

export interface CpuCounters {
  readonly cpus: readonly number[];
  readonly perCpu: readonly CpuTimes[];
  readonly aggregate: CpuTimes;
  /** The growth over the baseline these counters show. */
  readonly growth: CounterGrowth;
}

const ZERO: CpuTimes = { user: 0, system: 0, idle: 0 };

function sameCpus(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}

/** A cgroup seen for the first time: as if its usage had been spread over its whole age. */
export function firstBaseline(sample: CpuSample, ageUs: number): CounterBaseline {
  const n = sample.cpus.length;
  const { user, system } = sample.usage;
  const perCpu = { user: user / n, system: system / n, idle: Math.max(0, ageUs - (user + system) / n) };
  return {
    cpus: [...sample.cpus],
    at: sample.now,
    usageUser: user,
    usageSystem: system,
    perCpu: sample.cpus.map(() => perCpu),
    aggregate: { user, system, idle: perCpu.idle * n },
  };
}

/**
 * True when the baseline can count this sample: the same CPUs, and usage not below
 * the baseline's (a recreated cgroup) unless the sample is older than the baseline
 * (another worker wrote it meanwhile; the sample then counts as no progress).
 */
export function baselineServes(baseline: CounterBaseline, sample: CpuSample): boolean {
  const usageKept = sample.usage.user >= baseline.usageUser && sample.usage.system >= baseline.usageSystem;
  return sameCpus(baseline.cpus, sample.cpus) && (usageKept || sample.now < baseline.at);
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
  return {
    cpus: baseline.cpus,
    perCpu,
    aggregate: { user: aggregate.user + user, system: aggregate.system + system, idle: aggregate.idle + idle * n },
    growth: { user, system, idle },
  };
}

/**
 * A baseline for the sample that continues `baseline`: CPUs that stay keep their
 * counters, new ones start at 0, the aggregate runs on (so, as in the kernel after a
 * hotplug, it may differ from the sum of the lines), usage is taken as it is now.
 */
export function rebaseline(baseline: CounterBaseline, sample: CpuSample, shown: CounterGrowth): CounterBaseline {
  const current = countersAt(baseline, sample, shown);
  return {
    cpus: [...sample.cpus],
    at: Math.max(sample.now, baseline.at),
    usageUser: sample.usage.user,
    usageSystem: sample.usage.system,
    perCpu: sample.cpus.map((id) => current.perCpu[baseline.cpus.indexOf(id)] ?? ZERO),
    aggregate: current.aggregate,
  };
}
