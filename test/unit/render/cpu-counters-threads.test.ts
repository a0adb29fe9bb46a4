import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { useStateDirs } from '../helpers/render-context.js';
import { childModule } from '../../support/child-module.js';

const WRITERS = 6;
/** flags[0]: writers ready; flags[1]: the round the main thread has started. */
const READY = 0;
const ROUND = 1;

// A worker thread cannot load TypeScript: it loads the compiled store (npm test builds first).
const WORKER = `
  const { parentPort, workerData: { url, stateDir, flags, index, key } } = require('node:worker_threads');
  const waitRound = (round) => { while (Atomics.load(flags, 1) < round) Atomics.wait(flags, 1, Atomics.load(flags, 1), 50); };
  import(url).then(({ CpuCounterStore }) => {
    const store = new CpuCounterStore(stateDir);
    const results = [];
    for (const [round, sample] of [[1, { cpus: [1, 2], usage: { user: 12e6, system: 3e6 }, now: 5000e6 }],
                                   [2, { cpus: [1, 2, 3], usage: { user: 13e6, system: 3e6 }, now: 5001e6 }]]) {
      Atomics.add(flags, 0, 1);
      Atomics.notify(flags, 0);
      waitRound(round);
      // Each writer would start the counters from another age: only the first one's may stand.
      results.push(store.counters(key, 'boot', sample, () => (1000 + index) * 1e6));
    }
    parentPort.postMessage({ results });
  }).catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

function waitReady(flags: Int32Array, count: number): void {
  const deadline = Date.now() + 10_000;
  while (Atomics.load(flags, READY) < count) {
    if (Date.now() > deadline) throw new Error('writers did not get ready');
    Atomics.wait(flags, READY, Atomics.load(flags, READY), 50);
  }
}

describe('the CPU counter store under concurrent writers', () => {
  const stateDir = useStateDirs();

  it('keeps one record when writers in several threads start and change the same counters at once', async () => {
    const dir = stateDir();
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const url = childModule('src/render/cpu-counters.ts');
    const key = { cpuDir: '/sys/fs/cgroup/cpu/a', usageDir: '/sys/fs/cgroup/cpuacct/a' };
    const workers = Array.from({ length: WRITERS }, (_, index) =>
      new Worker(WORKER, { eval: true, workerData: { url, stateDir: dir, flags, index, key } }));
    const replies = workers.map((worker) => new Promise<{ results?: { cpus: number[]; aggregate: unknown }[]; error?: string }>(
      (resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); }));
    try {
      for (const round of [1, 2]) {
        waitReady(flags, WRITERS * round);
        Atomics.store(flags, ROUND, round);
        Atomics.notify(flags, ROUND);
      }
      const results = await Promise.all(replies);
      expect(results.map((reply) => reply.error)).toEqual(Array(WRITERS).fill(undefined));
      const roundOf = (round: number) => results.map((reply) => reply.results![round]!);
      const [firstRound, secondRound] = [roundOf(0), roundOf(1)];
      // Round 1: every writer counts from the one record that was created first.
      expect(new Set(firstRound.map((counters) => JSON.stringify(counters))).size).toBe(1);
      // Round 2: the visible CPUs changed; a writer that lost the lock counts from the old record this time.
      for (const counters of secondRound) expect([[1, 2], [1, 2, 3]]).toContainEqual(counters.cpus);
      expect(secondRound.some((counters) => counters.cpus.length === 3)).toBe(true);
      const names = readdirSync(join(dir, 'cpu'));
      expect(names.filter((name) => name.endsWith('.json'))).toHaveLength(1);
      expect(names.filter((name) => name.endsWith('.tmp') || name.endsWith('.lock'))).toEqual([]);
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
  });
});
