import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { allocateHandleStoreMemory, HandleStore, StoreFullError } from '../../../src/fs/handles.js';

const small = () => new HandleStore(allocateHandleStoreMemory({ slots: 4, arenaBytes: 4 * 4096 }, 7));

describe('HandleStore', () => {
  it('returns the exact bytes stored at open until release', () => {
    const store = small();
    const fh = store.open(3, Buffer.from('MemTotal: 1 kB\n'));
    expect(store.get(fh)).toEqual({ fileIndex: 3, content: Buffer.from('MemTotal: 1 kB\n'), servedStart: false });
    expect(store.release(fh)).toBe(true);
    expect(store.get(fh)).toBeUndefined();
  });

  it('never resolves a released handle to the content of the slot\'s next user', () => {
    const store = small();
    const old = store.open(0, Buffer.from('old'));
    store.release(old);
    const next = store.open(0, Buffer.from('new'));
    expect(next).not.toBe(old);
    expect(store.get(old)).toBeUndefined();
    expect(store.get(next)?.content.toString()).toBe('new');
  });

  it('rejects handles of another epoch (a predecessor server)', () => {
    const memory = allocateHandleStoreMemory({ slots: 4, arenaBytes: 4096 }, 1);
    const fh = new HandleStore(memory).open(0, Buffer.from('x'));
    expect(new HandleStore({ ...memory, epoch: 2 }).get(fh)).toBeUndefined();
  });

  it('grows a handle\'s extent when a re-rendering is larger', () => {
    const store = small();
    const fh = store.open(0, Buffer.alloc(100, 'a'));
    expect(store.replace(fh, Buffer.alloc(9000, 'b'))).toBe(true);
    expect(store.get(fh)?.content).toEqual(Buffer.alloc(9000, 'b'));
  });

  it('reports a full store instead of overwriting live handles', () => {
    const store = small();
    const fhs = [0, 1, 2, 3].map((i) => store.open(i, Buffer.from(`${i}`)));
    expect(() => store.open(9, Buffer.from('x'))).toThrow(StoreFullError);
    expect(fhs.map((fh) => store.get(fh)?.content.toString())).toEqual(['0', '1', '2', '3']);
    store.release(fhs[0]!);
    expect(() => store.open(9, Buffer.alloc(5 * 4096))).toThrow(StoreFullError);
    expect(store.openCount()).toBe(3);
  });

  it('lets another thread read and release what this thread opened', async () => {
    const memory = allocateHandleStoreMemory({ slots: 8, arenaBytes: 8 * 4096 }, 5);
    const fh = new HandleStore(memory).open(1, Buffer.from('shared'));
    // A worker thread cannot load TypeScript: it loads the compiled store (npm test builds first).
    const url = new URL('../../../dist/fs/handles.js', import.meta.url).href;
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.url).then(({ HandleStore }) => {
         const s = new HandleStore(workerData.memory);
         const snap = s.get(workerData.fh);
         parentPort.postMessage({ content: snap && snap.content.toString(), released: s.release(workerData.fh) });
       }).catch((e) => parentPort.postMessage({ error: String(e) }));`,
      { eval: true, workerData: { memory, fh, url } },
    );
    const reply = await new Promise<{ content?: string; released?: boolean; error?: string }>((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(reply.error).toBeUndefined();
    expect(reply).toEqual({ content: 'shared', released: true });
    expect(new HandleStore(memory).get(fh)).toBeUndefined();
  });
});
