import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { advanceAverages, seededAverages } from '../../../src/load/fixed-point.js';
import { LOAD_FREQ_MS, LoadavgSampler } from '../../../src/load/sampler.js';
import { allocateLoadavgMemory, LoadavgTable } from '../../../src/load/table.js';
import { CGROUP_V2, PROC_ROOT } from '../helpers/fixtures.js';
import { childModule } from '../../support/child-module.js';

const T0 = 1_700_000_000_000;
const PUBLISHES = 200_000;
/** Stress reads the worker must have made before the publishing stops (a loaded host may not run it at first). */
const MIN_STRESS_READS = 1_000;
const tasks = (total: number) => ({ running: 0, blocked: 0, total, newestTid: 0, switches: 0 });
/** Phases the two threads step through, in a shared Int32 word. */
const Phase = { REGISTERED: 1, TICKED: 2, SEEN: 3, STRESS: 4, STOP: 5 } as const;

// A worker thread cannot load TypeScript: it loads the compiled table (npm test builds first).
const WORKER = `
  const { parentPort, workerData: { url, memory, flags, key, T0, Phase } } = require('node:worker_threads');
  const waitFor = (phase) => { while (Atomics.load(flags, 0) < phase) Atomics.wait(flags, 0, Atomics.load(flags, 0), 50); };
  import(url).then(({ LoadavgTable }) => {
    const table = new LoadavgTable(memory);
    const seeded = table.read(key, T0, { active: 3, total: 7 });
    Atomics.store(flags, 0, Phase.REGISTERED);
    Atomics.notify(flags, 0);
    waitFor(Phase.TICKED);
    const afterTick = table.read(key, T0, { active: 0, total: 0 });
    Atomics.store(flags, 0, Phase.SEEN);
    Atomics.notify(flags, 0);
    let reads = 0, torn = 0, phase;
    while ((phase = Atomics.load(flags, 0)) !== Phase.STOP) {
      const a = table.read(key, T0, { active: 0, total: 0 });
      if (phase !== Phase.STRESS || a === undefined) continue;
      reads++;
      if (reads % 64 === 0) Atomics.store(flags, 1, reads);
      if (a[1] !== a[0] + 1 || a[2] !== a[0] + 2) torn++;
    }
    parentPort.postMessage({ seeded, afterTick, reads, torn, final: table.read(key, T0, { active: 0, total: 0 }) });
  }).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function waitFor(flags: Int32Array, phase: number): void {
  const deadline = Date.now() + 30_000;
  while (Atomics.load(flags, 0) < phase) {
    if (Date.now() > deadline) throw new Error(`worker did not reach phase ${phase}`);
    Atomics.wait(flags, 0, Atomics.load(flags, 0), 50);
  }
}

function advance(flags: Int32Array, phase: number): void {
  Atomics.store(flags, 0, phase);
  Atomics.notify(flags, 0);
}

describe('the loadavg table across threads', () => {
  it('lets a worker register and read while this thread samples, and never shows it a torn triple', async () => {
    const memory = allocateLoadavgMemory(16);
    // Word 0: the phase; word 1: the worker's stress reads so far.
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const key = { dir: join(CGROUP_V2, 'lxc.payload.b'), file: 'cgroup.threads' } as const;
    const url = childModule('src/load/table.ts');
    const worker = new Worker(WORKER, { eval: true, workerData: { url, memory, flags, key, T0, Phase } });
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    try {
      waitFor(flags, Phase.REGISTERED);
      // The worker registered B with a seed of 3; B's stat files say 3 tasks are active.
      expect(new LoadavgSampler(memory, PROC_ROOT, () => T0 + 2 * LOAD_FREQ_MS).tick()).toEqual({ sampled: 1, skipped: 0, freed: 0, failed: 0 });
      advance(flags, Phase.TICKED);
      waitFor(flags, Phase.SEEN);

      const table = new LoadavgTable(memory);
      const slot = table.register(key, T0)!;
      table.publish(slot, [0, 1, 2], tasks(7), T0);
      advance(flags, Phase.STRESS);
      // Publish until the worker has read enough to have met a publish mid-way, however late
      // the host schedules it.
      const deadline = Date.now() + 30_000;
      let v = 1;
      while (v < PUBLISHES || (Atomics.load(flags, 1) < MIN_STRESS_READS && Date.now() < deadline)) {
        table.publish(slot, [v, v + 1, v + 2], tasks(7), T0);
        v++;
      }
      advance(flags, Phase.STOP);
      const result = await reply;
      expect(result).toMatchObject({
        seeded: seededAverages(3),
        afterTick: advanceAverages(seededAverages(3), 3, 2),
        torn: 0,
        final: [v - 1, v, v + 1],
      });
      expect(result.reads).toBeGreaterThanOrEqual(MIN_STRESS_READS);
    } finally {
      await worker.terminate();
    }
  });
});
