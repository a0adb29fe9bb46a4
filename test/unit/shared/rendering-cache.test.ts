import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { allocateRenderingCache, RenderingCache } from '../../../src/shared/rendering-cache.js';
import { childModule } from '../../support/child-module.js';

function clock(startMs = 1000): { now: () => number; advance: (ms: number) => void } {
  let at = startMs;
  return { now: () => at, advance: (ms) => (at += ms) };
}

function counting(text: string): { render: () => Buffer; calls: () => number } {
  let calls = 0;
  return { render: () => Buffer.from(`${text} ${++calls}`), calls: () => calls };
}

describe('RenderingCache', () => {
  it('serves a rendering again until it is maxAge old, then renders anew', () => {
    const time = clock();
    const cache = new RenderingCache(allocateRenderingCache(8, 4096), time.now);
    const meminfo = counting('meminfo');
    expect(cache.through('a', 10, meminfo.render).toString()).toBe('meminfo 1');
    time.advance(9.9);
    expect(cache.through('a', 10, meminfo.render).toString()).toBe('meminfo 1');
    time.advance(0.1);
    expect(cache.through('a', 10, meminfo.render).toString()).toBe('meminfo 2');
    expect(meminfo.calls()).toBe(2);
  });

  it('never serves one key the rendering of another, even in the same bucket', () => {
    // One bucket: every key collides.
    const cache = new RenderingCache(allocateRenderingCache(1, 4096), clock().now);
    expect(cache.through('view of cgroup a', 200, () => Buffer.from('A')).toString()).toBe('A');
    expect(cache.through('view of cgroup b', 200, () => Buffer.from('B')).toString()).toBe('B');
    // Same length, same bucket, other bytes.
    expect(cache.through('view of cgroup c', 200, () => Buffer.from('C')).toString()).toBe('C');
    expect(cache.through('view of cgroup c', 200, () => Buffer.from('stale')).toString()).toBe('C');
  });

  it('renders every time with a maxAge of 0', () => {
    const cache = new RenderingCache(allocateRenderingCache(8, 4096), clock().now);
    const stat = counting('stat');
    cache.through('a', 0, stat.render);
    cache.through('a', 0, stat.render);
    expect(stat.calls()).toBe(2);
  });

  it('keeps no rendering larger than a bucket, and serves no older one in its place', () => {
    const time = clock();
    const cache = new RenderingCache(allocateRenderingCache(4, 64), time.now);
    expect(cache.through('k', 100, () => Buffer.from('small')).toString()).toBe('small');
    time.advance(200);
    const big = Buffer.alloc(100, 'x');
    expect(cache.through('k', 100, () => big)).toEqual(big);
    expect(cache.through('k', 100, () => Buffer.from('again')).toString()).toBe('again');
  });

  it('counts a rendering from a clock that went back as expired', () => {
    const time = clock();
    const cache = new RenderingCache(allocateRenderingCache(8, 4096), time.now);
    const uptime = counting('uptime');
    cache.through('a', 10, uptime.render);
    time.advance(-5);
    expect(cache.through('a', 10, uptime.render).toString()).toBe('uptime 2');
  });

  it('lets a failed rendering through and keeps serving', () => {
    const cache = new RenderingCache(allocateRenderingCache(8, 4096), clock().now);
    expect(() => cache.through('a', 10, () => { throw new Error('gone'); })).toThrow('gone');
    expect(cache.through('a', 10, () => Buffer.from('ok')).toString()).toBe('ok');
  });

  // The property counters rely on: two workers serving one reader alternately never
  // show it an older rendering than it has seen. A rendering here is a shared counter
  // read at render time; words[1] is the newest value any finished read was served.
  it('never serves an older rendering than one already served, across worker threads', async () => {
    const memory = allocateRenderingCache(16, 4096);
    const shared = new SharedArrayBuffer(8);
    const url = childModule('src/shared/rendering-cache.ts');
    const results = await Promise.all([0, 1].map(() => runWorker({ url, memory, shared })));
    expect(results.map((r) => r.regressions)).toEqual([0, 0]);
    // The entry expires quickly, so both rendered, and both were also served renderings.
    expect(results.every((r) => r.renders > 0 && r.renders < ROUNDS)).toBe(true);
  });
});

const ROUNDS = 20_000;
const WORKER = `
  const { workerData, parentPort } = require('node:worker_threads');
  import(workerData.url).then(({ RenderingCache }) => {
    const cache = new RenderingCache(workerData.memory);
    const words = new Int32Array(workerData.shared);
    let regressions = 0, renders = 0;
    for (let i = 0; i < ${ROUNDS}; i++) {
      // What reads that ended before this one began were served: this one, like the
      // next read of a reader, must be served no older.
      const before = Atomics.load(words, 1);
      const value = Number(cache.through('stat of one view', 0.05, () => {
        renders++;
        const v = Atomics.add(words, 0, 1) + 1;
        // Slow enough that the other worker wants the same key meanwhile.
        for (let spin = 0; spin < 200; spin++) Atomics.load(words, 0);
        return Buffer.from(String(v));
      }).toString());
      if (value < before) regressions++;
      let seen = Atomics.load(words, 1);
      while (value > seen) seen = Atomics.compareExchange(words, 1, seen, value) === seen ? value : Atomics.load(words, 1);
    }
    parentPort.postMessage({ regressions, renders });
  });
`;

function runWorker(workerData: Record<string, unknown>): Promise<{ regressions: number; renders: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}
