import { describe, expect, it } from 'vitest';
import { collectingWhenIdle, fullCollector } from '../../../src/daemon/idle-collection.js';
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
  it('collects before a read that would block, once `every` requests were read since the last collection', () => {
    const inner = fakeConnection();
    let collections = 0;
    const connection = collectingWhenIdle(inner, () => false, () => collections++, 3);
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 3; i++) connection.read(buf);
    expect(collections).toBe(0);
    connection.read(buf);
    expect(collections).toBe(1);
    for (let i = 0; i < 2; i++) connection.read(buf);
    expect(collections).toBe(1);
    expect(inner.reads).toBe(6);
  });

  it('never collects while requests wait in the kernel: a busy worker serves first', () => {
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
});
