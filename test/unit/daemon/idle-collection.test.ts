import { describe, expect, it } from 'vitest';
import { collectingWhenIdle, fullCollector, idleCollector, IDLE_MS } from '../../../src/daemon/idle-collection.js';
import type { Connection } from '../../../src/fuse/device.js';

function fakeConnection(): Connection & { reads: number } {
  return {
    reads: 0,
    read(buf) {
      this.reads++;
      return buf.length;
    },
    write: () => undefined,
  };
}

describe('collectingWhenIdle', () => {
  it('collects before a read once `every` requests were read since the last collection and none came within IDLE_MS', () => {
    const inner = fakeConnection();
    let collections = 0;
    const waits: number[] = [];
    const connection = collectingWhenIdle(inner, (ms) => (waits.push(ms), false), () => collections++, 3);
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 3; i++) connection.read(buf);
    expect(collections).toBe(0);
    connection.read(buf);
    expect(collections).toBe(1);
    for (let i = 0; i < 2; i++) connection.read(buf);
    expect(collections).toBe(1);
    expect(inner.reads).toBe(6);
    expect(waits).toEqual([IDLE_MS]);
  });

  it('never collects while requests keep coming: a busy worker serves first', () => {
    let waiting = true;
    let collections = 0;
    const connection = collectingWhenIdle(fakeConnection(), () => waiting, () => collections++, 2);
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 10; i++) connection.read(buf);
    expect(collections).toBe(0);
    waiting = false;
    connection.read(buf);
    expect(collections).toBe(1);
  });

  it('gets V8\'s full collection in a process started without --expose-gc', () => {
    expect(typeof fullCollector()).toBe('function');
    expect(() => fullCollector()()).not.toThrow();
  });

  it('an idle collection compacts from the start (the flag is set once, when the worker starts) and trims malloc after the collection', () => {
    const calls: string[] = [];
    const collect = idleCollector((flags) => void calls.push(flags), () => void calls.push('trim'));
    expect(calls).toEqual(['--compact-on-every-full-gc']);
    collect();
    collect();
    expect(calls).toEqual(['--compact-on-every-full-gc', 'trim', 'trim']);
  });
});
