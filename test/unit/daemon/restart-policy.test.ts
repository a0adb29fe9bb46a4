// When a new server starts after one died (issue 16): at once after a server that had
// been serving, however often; later and later only when servers die at start-up.
import { describe, expect, it } from 'vitest';
import { RestartPolicy, restartDelay, SERVED_WELL_MS, START_UP_LOOP } from '../../../src/daemon/restart-policy.js';

describe('RestartPolicy', () => {
  it('restarts at once after each of twenty servers killed 3 s after their start (the stall of issue 16 was 30 s)', () => {
    const policy = new RestartPolicy();
    const delays = Array.from({ length: 20 }, (_, i) => policy.afterDeath({ readyAt: i * 3_000 + 400, diedAt: (i + 1) * 3_000 }).delayMs);
    expect(delays).toEqual(new Array(20).fill(0));
  });

  it('backs off 0, 0.5, 1, 2 s ... up to 30 s while servers die before they are ready, and says it is a loop from the third', () => {
    const policy = new RestartPolicy();
    const decisions = Array.from({ length: 9 }, () => policy.afterDeath({ readyAt: undefined, diedAt: 1_000 }));
    expect(decisions.map((d) => d.delayMs)).toEqual([0, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(decisions.map((d) => d.loop)).toEqual([false, false, true, true, true, true, true, true, true]);
    expect(decisions[START_UP_LOOP - 1]?.startupFailures).toBe(START_UP_LOOP);
  });

  it('counts a server that dies right after it was ready (a request that kills every server) as failing at start-up', () => {
    const policy = new RestartPolicy();
    policy.afterDeath({ readyAt: 0, diedAt: SERVED_WELL_MS - 1 });
    expect(policy.afterDeath({ readyAt: 0, diedAt: 10 }).delayMs).toBe(500);
  });

  it('starts over after a server that served, so one late crash after a start-up loop waits nothing', () => {
    const policy = new RestartPolicy();
    for (let i = 0; i < 6; i++) policy.afterDeath({ readyAt: undefined, diedAt: 0 });
    expect(policy.afterDeath({ readyAt: 0, diedAt: SERVED_WELL_MS })).toEqual({ delayMs: 0, startupFailures: 0, loop: false });
  });

  it('treats a server that could not be spawned as a start-up failure', () => {
    const policy = new RestartPolicy();
    policy.afterSpawnFailure();
    expect(policy.afterSpawnFailure().delayMs).toBe(restartDelay(2));
  });
});
