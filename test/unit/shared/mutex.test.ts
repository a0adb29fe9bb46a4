import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { withLock } from '../../../src/shared/mutex.js';
import { childModule } from '../../support/child-module.js';

// Worker threads load the module transpiled for them (no build needed).
const URL_OF_MUTEX = childModule('src/shared/mutex.ts');
const THREADS = 3;
const ROUNDS = 20_000;

// words[0] is the lock; words[1] a counter updated by a read, a pause and a write, so
// that two threads inside at once lose updates.
const WORKER = `
  const { workerData, parentPort } = require('node:worker_threads');
  import(workerData.url).then(({ withLock }) => {
    const words = new Int32Array(workerData.shared);
    for (let i = 0; i < ${ROUNDS}; i++) {
      withLock(words, 0, () => {
        const value = Atomics.load(words, 1);
        for (let spin = 0; spin < 50; spin++) Atomics.load(words, 2);
        Atomics.store(words, 1, value + 1);
      });
    }
    parentPort.postMessage('done');
  });
`;

describe('the shared-memory mutex', () => {
  it('lets one thread at a time in, and every thread through (no lost update, no lost wake-up)', async () => {
    const shared = new SharedArrayBuffer(12);
    await Promise.all(
      Array.from({ length: THREADS }, () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(WORKER, { eval: true, workerData: { url: URL_OF_MUTEX, shared } });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
      ),
    );
    const words = new Int32Array(shared);
    expect(words[1]).toBe(THREADS * ROUNDS);
    expect(words[0]).toBe(0);
  });

  it('unlocks when the critical section throws, and passes the error on', () => {
    const words = new Int32Array(new SharedArrayBuffer(4));
    expect(() => withLock(words, 0, () => { throw new Error('inside'); })).toThrow('inside');
    expect(words[0]).toBe(0);
    expect(withLock(words, 0, () => 42)).toBe(42);
  });
});
