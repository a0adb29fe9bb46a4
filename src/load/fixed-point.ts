// The kernel's load-average arithmetic (kernel/sched/loadavg.c and
// include/linux/sched/loadavg.h), so a container's averages move exactly like the
// host's: unsigned fixed point with 11 fractional bits, one step per LOAD_FREQ,
// `calc_load_n` for missed steps, and the `LOAD_INT.LOAD_FRAC` printing.
// Every value stays an integer far below 2^53, so Number arithmetic is exact.

export const FSHIFT = 11;
/** 1.0 in fixed point. */
export const FIXED_1 = 2 ** FSHIFT;
/** 1/exp(5 s/1 min), 1/exp(5 s/5 min), 1/exp(5 s/15 min) in fixed point. */
export const EXP_1 = 1884;
export const EXP_5 = 2014;
export const EXP_15 = 2037;
const EXPONENTS = [EXP_1, EXP_5, EXP_15] as const;

/** The 1, 5 and 15 minute averages, fixed point (the kernel's `avenrun[3]`). */
export type LoadAverages = readonly [number, number, number];

/** `calc_load`: one decay step towards `active` (fixed point); rounds up while the load rises. */
export function calcLoad(load: number, exp: number, active: number): number {
  let next = load * exp + active * (FIXED_1 - exp);
  if (active >= load) next += FIXED_1 - 1;
  return Math.floor(next / FIXED_1);
}

/** `fixed_power_int`: x^n in fixed point with `fracBits` fractional bits, rounding each product. */
export function fixedPowerInt(x: number, fracBits: number, n: number): number {
  const one = 2 ** fracBits;
  const half = one / 2;
  let result = one;
  let base = x;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) result = Math.floor((result * base + half) / one);
    if (rest > 1) base = Math.floor((base * base + half) / one);
  }
  return result;
}

/** `calc_load_n`: n steps at a constant `active` in one, as the kernel folds missed (NO_HZ) ticks. */
export function calcLoadN(load: number, exp: number, active: number, n: number): number {
  return calcLoad(load, fixedPowerInt(exp, FSHIFT, n), active);
}

/** The kernel's `active`: running plus uninterruptible tasks, in fixed point. */
export function activeLoad(tasks: number): number {
  return tasks > 0 ? tasks * FIXED_1 : 0;
}

/** The three averages after `steps` LOAD_FREQ intervals with `tasks` active tasks. */
export function advanceAverages(averages: LoadAverages, tasks: number, steps: number): LoadAverages {
  const active = activeLoad(tasks);
  const [a1, a5, a15] = EXPONENTS.map((exp, i) => calcLoadN(averages[i]!, exp, active, steps));
  return [a1!, a5!, a15!];
}

/**
 * Averages that start at the current number of active tasks. The kernel starts from
 * 0 at boot; a container first read after hours would otherwise show ~0 for 15 minutes.
 */
export function seededAverages(tasks: number): LoadAverages {
  const active = activeLoad(tasks);
  return [active, active, active];
}

/** `get_avenrun(avnrun, FIXED_1/200, 0)` then `LOAD_INT.LOAD_FRAC`: "1.05" for 2150. */
export function formatLoad(average: number): string {
  const rounded = average + Math.floor(FIXED_1 / 200);
  const whole = Math.floor(rounded / FIXED_1);
  const hundredths = Math.floor(((rounded % FIXED_1) * 100) / FIXED_1);
  return `${whole}.${String(hundredths).padStart(2, '0')}`;
}
