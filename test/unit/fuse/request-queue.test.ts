// Requests taken from the kernel's one FIFO queue and served in turns by requester
// class (issue 17): a container with many readers cannot keep a quiet one waiting.
import { describe, expect, it } from 'vitest';
import { Errno, Opcode } from '../../../src/fuse/abi.js';
import { encodeError } from '../../../src/fuse/codec.js';
import { serveDevice, type Connection, type FairService } from '../../../src/fuse/device.js';
import { allocateRequestQueue, RequestQueue } from '../../../src/fuse/request-queue.js';
import { request } from '../../support/requests.js';

const queue = (slots = 8) => new RequestQueue(allocateRequestQueue(slots, 256));

/** Queues a request of class `cls` whose first byte is `tag`, as a worker does after reading it. */
function put(q: RequestQueue, cls: number, tag: number): void {
  const slot = q.reserve()!;
  q.buffer(slot)[0] = tag;
  q.publish(slot, 1, cls);
}

/** The tags of every request taken, in order. */
function drain(q: RequestQueue): number[] {
  const tags: number[] = [];
  for (let next = q.take(); next !== undefined; next = q.take()) {
    tags.push(next.request[0]!);
    q.free(next.slot);
  }
  return tags;
}

describe('the request queue', () => {
  it('serves a class that waited behind a flood next, not after the flood', () => {
    const q = queue();
    for (let i = 1; i <= 5; i++) put(q, 7, i);
    put(q, 9, 100);
    // The flood's class was served once already; the quiet class never was.
    expect(q.take()?.request[0]).toBe(1);
    expect(drain(q)).toEqual([100, 2, 3, 4, 5]);
  });

  it('serves classes in turns and each class oldest first', () => {
    const q = queue();
    for (const [cls, tag] of [[1, 10], [1, 11], [1, 12], [2, 20], [2, 21], [3, 30]] as const) put(q, cls, tag);
    expect(drain(q)).toEqual([10, 20, 30, 11, 21, 12]);
  });

  it('has room for as many requests as slots, and takes more once one is free', () => {
    const q = queue(2);
    put(q, 1, 1);
    put(q, 1, 2);
    expect(q.reserve()).toBeUndefined();
    expect(q.waiting()).toBe(2);
    const next = q.take()!;
    q.free(next.slot);
    expect(q.reserve()).toBeDefined();
  });
});

describe('the device loop serving in turns', () => {
  /** A scripted connection: `waiting` requests are pending in the kernel; when none are left the connection ends. */
  function scripted(waiting: Buffer[]): { connection: Connection; pending: () => boolean } {
    return {
      connection: {
        read(buf) {
          const next = waiting.shift();
          if (next === undefined) throw Object.assign(new Error('unmounted'), { code: 'ENODEV' });
          next.copy(buf);
          return next.length;
        },
        write: () => undefined,
      },
      pending: () => waiting.length > 0,
    };
  }
  const log = { debug: () => undefined, error: () => undefined };
  /** Records the requester pid of each request in the order served. */
  const recorder = () => {
    const served: number[] = [];
    return {
      served,
      handler: {
        handle(r: Buffer) {
          served.push(r.readUInt32LE(32));
          return encodeError(r.readBigUInt64LE(8), Errno.ENOSYS);
        },
        replyDropped: () => undefined,
      },
    };
  };

  it('serves the quiet container\'s request second when it queued behind 20 of a flooding container', () => {
    const flood = Array.from({ length: 20 }, (_, i) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid: 1000 + i }));
    const quiet = request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid: 42 });
    const { connection, pending } = scripted([...flood, quiet]);
    const { served, handler } = recorder();
    const fair: FairService = { queue: queue(64), pending, classOf: (pid) => (pid === 42 ? 2 : 1) };
    expect(serveDevice(connection, handler, log, () => false, fair)).toBe('unmounted');
    expect(served).toHaveLength(21);
    expect(served.indexOf(42)).toBe(1);
  });

  it('serves in the kernel\'s order without a queue', () => {
    const requests = [5, 6, 7].map((pid) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid }));
    const { connection } = scripted(requests);
    const { served, handler } = recorder();
    expect(serveDevice(connection, handler, log)).toBe('unmounted');
    expect(served).toEqual([5, 6, 7]);
  });

  it('on a reload, stops reading but answers every request it queued', () => {
    const requests = [1, 2, 3].map((pid) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid }));
    const { connection, pending } = scripted(requests);
    const { served, handler } = recorder();
    let draining = false;
    const fair: FairService = { queue: queue(64), pending: () => !draining && pending(), classOf: () => 1 };
    // The first request read asks for the drain; the two queued with it are still served.
    const drainingAfterFirst = { ...handler, handle: (r: Buffer) => ((draining = true), handler.handle(r)) };
    expect(serveDevice(connection, drainingAfterFirst, log, () => draining, fair)).toBe('drained');
    expect(served).toEqual([1, 2, 3]);
  });
});
