import { describe, expect, it } from 'vitest';
import {
  baselineServes, countersAt, firstBaseline, NO_GROWTH, rebaseline, type CounterBaseline, type CounterGrowth,
  type CpuCounters, type CpuSample,
} from '../../../src/render/cpu-counter-rule.js';

const SECOND = 1_000_000;
const sample = (cpus: number[], user: number, system: number, now: number): CpuSample => ({ cpus, usage: { user, system }, now });
const busy = (times: { user: number; system: number }): number => times.user + times.system;
const total = (times: { user: number; system: number; idle: number }): number => busy(times) + times.idle;

/** Every counter of `later` at least the one of `earlier`, CPU by CPU (CPUs in both) and in the aggregate. */
function expectNoDecrease(earlier: CpuCounters, later: CpuCounters): void {
  for (const key of ['user', 'system', 'idle'] as const) {
    expect(later.aggregate[key]).toBeGreaterThanOrEqual(earlier.aggregate[key]);
    earlier.cpus.forEach((id, index) => {
      const at = later.cpus.indexOf(id);
      if (at >= 0) expect(later.perCpu[at]![key]).toBeGreaterThanOrEqual(earlier.perCpu[index]![key]);
    });
  }
}

describe('CPU counters', () => {
  it('starts a new cgroup as if its usage were spread over its age', () => {
    const base = firstBaseline(sample([1, 2], 12 * SECOND, 3 * SECOND, 50 * SECOND), 1000 * SECOND);
    expect(base.perCpu).toEqual([
      { user: 6 * SECOND, system: 1.5 * SECOND, idle: 992.5 * SECOND },
      { user: 6 * SECOND, system: 1.5 * SECOND, idle: 992.5 * SECOND },
    ]);
    expect(base.aggregate).toEqual({ user: 12 * SECOND, system: 3 * SECOND, idle: 1985 * SECOND });
  });

  it('never starts idle below zero when usage exceeds the age over the CPUs', () => {
    const base = firstBaseline(sample([0], 30 * SECOND, 0, 0), 10 * SECOND);
    expect(base.perCpu[0]?.idle).toBe(0);
  });

  it('grows user+system by the real usage and the whole by (visible CPUs x elapsed)', () => {
    const base = firstBaseline(sample([0, 1, 2], 0, 0, 0), 100 * SECOND);
    const before = countersAt(base, sample([0, 1, 2], 0, 0, 0), NO_GROWTH);
    const after = countersAt(base, sample([0, 1, 2], 2 * SECOND, 0.4 * SECOND, 10 * SECOND), NO_GROWTH);
    expect(busy(after.aggregate) - busy(before.aggregate)).toBeCloseTo(2.4 * SECOND);
    expect(total(after.aggregate) - total(before.aggregate)).toBeCloseTo(3 * 10 * SECOND);
    const perCpuGrowth = after.perCpu.reduce((sum, times, index) => sum + total(times) - total(before.perCpu[index]!), 0);
    expect(perCpuGrowth).toBeCloseTo(3 * 10 * SECOND);
  });

  it('holds idle still instead of letting it fall when usage briefly outruns the visible CPUs', () => {
    const base = firstBaseline(sample([0], 0, 0, 0), 100 * SECOND);
    const first = countersAt(base, sample([0], 0.5 * SECOND, 0, 1 * SECOND), NO_GROWTH);
    // The next 100 ms used 300 ms (a quota of 1 CPU spent on 3 CPUs early in its period).
    const second = countersAt(base, sample([0], 0.8 * SECOND, 0, 1.1 * SECOND), first.growth);
    expectNoDecrease(first, second);
    expect(second.aggregate.idle).toBe(first.aggregate.idle);
    expect(busy(second.aggregate) - busy(first.aggregate)).toBeCloseTo(0.3 * SECOND);
  });

  it('keeps every counter growing across changes of the visible CPUs, with deltas that add up', () => {
    // Visible sets over time: 2 CPUs, then 3 (a quota raised), then 1 (a cpuset narrowed), then 2 again.
    const phases = [[1, 2], [1, 2, 3], [3], [0, 3]];
    let now = 0;
    let user = 12 * SECOND;
    let system = 3 * SECOND;
    let baseline: CounterBaseline = firstBaseline(sample(phases[0]!, user, system, now), 1000 * SECOND);
    let shown: CounterGrowth = NO_GROWTH;
    let previous = countersAt(baseline, sample(phases[0]!, user, system, now), shown);
    for (const cpus of phases) {
      for (let step = 0; step < 20; step++) {
        const elapsed = (0.2 + (step % 3) * 0.4) * SECOND;
        const used = elapsed * cpus.length * ((step * 7) % 10) / 10;
        now += elapsed;
        user += used * 0.75;
        system += used * 0.25;
        const next = sample(cpus, user, system, now);
        // The set changed at some instant of this interval: it is counted with the CPUs it began with.
        const counted = previous.cpus.length;
        if (!baselineServes(baseline, next)) {
          baseline = rebaseline(baseline, next, shown);
          shown = NO_GROWTH;
        }
        const counters = countersAt(baseline, next, shown);
        shown = counters.growth;
        expectNoDecrease(previous, counters);
        expect(busy(counters.aggregate) - busy(previous.aggregate)).toBeCloseTo(used, 3);
        expect(total(counters.aggregate) - total(previous.aggregate)).toBeCloseTo(counted * elapsed, 3);
        expect(counters.cpus).toEqual(cpus);
        previous = counters;
      }
    }
  });

  it('starts a CPU that joins the view at 0 and continues the aggregate', () => {
    const base = firstBaseline(sample([0], 10 * SECOND, 0, 0), 100 * SECOND);
    const widened = rebaseline(base, sample([0, 1], 10 * SECOND, 0, 5 * SECOND), NO_GROWTH);
    expect(widened.perCpu[0]).toEqual({ user: 10 * SECOND, system: 0, idle: 95 * SECOND });
    expect(widened.perCpu[1]).toEqual({ user: 0, system: 0, idle: 0 });
    expect(widened.aggregate).toEqual({ user: 10 * SECOND, system: 0, idle: 95 * SECOND });
  });

  it.each([
    ['the same CPUs and more usage', sample([1, 2], 20, 10, 100), true],
    ['other CPUs', sample([1], 20, 10, 100), false],
    ['less usage (the cgroup was recreated)', sample([1, 2], 5, 10, 100), false],
    ['less usage in a sample older than the baseline (another worker wrote it meanwhile)', sample([1, 2], 5, 10, 40), true],
  ] as const)('lets a baseline count a sample with %s: %s', (_, next, serves) => {
    const base = firstBaseline(sample([1, 2], 10, 10, 50), 1000);
    expect(baselineServes(base, next)).toBe(serves);
  });

  it('continues from the old counters when a recreated cgroup restarts its usage', () => {
    const base = firstBaseline(sample([0], 50 * SECOND, 0, 0), 100 * SECOND);
    const before = countersAt(base, sample([0], 60 * SECOND, 0, 20 * SECOND), NO_GROWTH);
    const restarted = rebaseline(base, sample([0], 1 * SECOND, 0, 30 * SECOND), before.growth);
    const after = countersAt(restarted, sample([0], 3 * SECOND, 0, 40 * SECOND), NO_GROWTH);
    expectNoDecrease(before, after);
    expect(after.aggregate.user - before.aggregate.user).toBeCloseTo(2 * SECOND);
  });
});
