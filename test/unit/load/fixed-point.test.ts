import { describe, expect, it } from 'vitest';
import {
  advanceAverages, calcLoad, calcLoadN, EXP_1, EXP_15, EXP_5, FIXED_1, fixedPowerInt, formatLoad, FSHIFT, seededAverages,
} from '../../../src/load/fixed-point.js';

/** kernel/sched/loadavg.c calc_load, transliterated with 64-bit unsigned longs. */
function kernelCalcLoad(load: bigint, exp: bigint, active: bigint): bigint {
  let newload = load * exp + active * (2048n - exp);
  if (active >= load) newload += 2048n - 1n;
  return newload / 2048n;
}

const EXPS = [EXP_1, EXP_5, EXP_15] as const;
const steps = (load: number, exp: number, active: number, n: number) => {
  let value = load;
  for (let i = 0; i < n; i++) value = calcLoad(value, exp, active);
  return value;
};

describe('the kernel constants', () => {
  it('are those of include/linux/sched/loadavg.h', () => {
    expect([FSHIFT, FIXED_1, EXP_1, EXP_5, EXP_15]).toEqual([11, 2048, 1884, 2014, 2037]);
  });
});

describe('calc_load', () => {
  // Two active tasks from 0, by hand: step 1 = ceil(4096 * (2048 - exp) / 2048), step 2 = ceil((s1 * exp + 4096 * (2048 - exp)) / 2048).
  it.each([
    ['EXP_1', EXP_1, 328, 630], // 4096*164/2048 = 328; (328*1884 + 671744 + 2047) / 2048 = 1291743 / 2048 -> 630
    ['EXP_5', EXP_5, 68, 135], // 4096*34/2048 = 68; (68*2014 + 139264 + 2047) / 2048 = 278263 / 2048 -> 135
    ['EXP_15', EXP_15, 22, 44], // 4096*11/2048 = 22; (22*2037 + 45056 + 2047) / 2048 = 91917 / 2048 -> 44
  ])('rises towards two active tasks like the kernel (%s)', (_, exp, first, second) => {
    expect(calcLoad(0, exp, 2 * FIXED_1)).toBe(first);
    expect(calcLoad(first, exp, 2 * FIXED_1)).toBe(second);
  });

  it.each(EXPS)('matches the kernel transliteration for 60 ticks at constant active = 2 (exp %d)', (exp) => {
    let ours = 0;
    let kernel = 0n;
    for (let tick = 0; tick < 60; tick++) {
      ours = calcLoad(ours, exp, 2 * FIXED_1);
      kernel = kernelCalcLoad(kernel, BigInt(exp), 2n * 2048n);
      expect(ours).toBe(Number(kernel));
    }
  });

  it('shows 1.99 for the 1-minute average after 5 minutes at 2 active tasks (1 - e^-5 of the way)', () => {
    expect(formatLoad(steps(0, EXP_1, 2 * FIXED_1, 60))).toBe('1.99');
  });

  it.each(EXPS)('reaches a constant active count exactly and stays there (rounding up while rising, exp %d)', (exp) => {
    const settled = steps(0, exp, 2 * FIXED_1, 2000);
    expect(settled).toBe(2 * FIXED_1);
    expect(calcLoad(settled, exp, 2 * FIXED_1)).toBe(2 * FIXED_1);
  });

  it('decays from 1.00 to exactly 0, never rising, when nothing is active', () => {
    expect(calcLoad(FIXED_1, EXP_1, 0)).toBe(1884); // 2048*1884/2048, no rounding while falling
    let value = FIXED_1;
    for (let tick = 0; tick < 200; tick++) {
      const next = calcLoad(value, EXP_1, 0);
      expect(next).toBeLessThanOrEqual(value);
      value = next;
    }
    expect(value).toBe(0);
  });
});

describe('calc_load_n', () => {
  it('is fixed_power_int of the exponent: x^0 = 1.0, x^1 = x, x^2 rounded', () => {
    expect(fixedPowerInt(EXP_1, FSHIFT, 0)).toBe(FIXED_1);
    expect(fixedPowerInt(EXP_1, FSHIFT, 1)).toBe(EXP_1);
    expect(fixedPowerInt(EXP_1, FSHIFT, 2)).toBe(Math.floor((1884 * 1884 + 1024) / 2048)); // 1733
  });

  it.each(EXPS)('equals one calc_load for n = 1 and leaves the load alone for n = 0 (exp %d)', (exp) => {
    for (const load of [0, 700, 2048, 9000]) {
      expect(calcLoadN(load, exp, 3 * FIXED_1, 1)).toBe(calcLoad(load, exp, 3 * FIXED_1));
      expect(calcLoadN(load, exp, 3 * FIXED_1, 0)).toBe(load);
    }
  });

  // The kernel folds missed ticks with one rounded power, so it differs from n single
  // steps by rounding only: under 1/100 of a task for loads up to 4 and a minute missed.
  it.each(EXPS)('stays within 0.01 of n single steps for up to 12 missed ticks (exp %d)', (exp) => {
    let worst = 0;
    for (let load = 0; load <= 4 * FIXED_1; load += 64) {
      for (const active of [0, 1, 2, 4].map((tasks) => tasks * FIXED_1)) {
        for (let n = 1; n <= 12; n++) worst = Math.max(worst, Math.abs(calcLoadN(load, exp, active, n) - steps(load, exp, active, n)));
      }
    }
    expect(worst).toBeLessThan(FIXED_1 / 100);
  });

  it('advances all three averages at once', () => {
    const start = seededAverages(1);
    expect(start).toEqual([FIXED_1, FIXED_1, FIXED_1]);
    expect(advanceAverages(start, 0, 3)).toEqual(EXPS.map((exp) => calcLoadN(FIXED_1, exp, 0, 3)));
    expect(seededAverages(0)).toEqual([0, 0, 0]);
  });
});

describe('LOAD_INT.LOAD_FRAC printing with the FIXED_1/200 offset', () => {
  it.each([
    [0, '0.00'],
    [30, '0.01'], // (30 + 10) * 100 / 2048 = 1
    [328, '0.16'],
    [2047, '1.00'], // rounds up to 1.00 through the offset
    [FIXED_1, '1.00'],
    [4076, '1.99'],
    [20 * FIXED_1 + 1024, '20.50'],
  ])('prints %d as %s', (value, text) => {
    expect(formatLoad(value)).toBe(text);
  });
});
