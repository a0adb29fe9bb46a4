// Requests taken from the kernel's one FIFO queue and served in turns by requester
// class (issue 17): a container with many readers cannot keep a quiet one waiting.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Errno, Opcode } from '../../../src/fuse/abi.js';
import { encodeError } from '../../../src/fuse/codec.js';
import { serveDevice, type Connection, type FairService } from '../../../src/fuse/device.js';
import { allocateRequestQueue, FloodWatch, NO_REQUESTER, RequestQueue } from '../../../src/fuse/request-queue.js';
import { request } from '../../support/requests.js';

const queue = (slots = 8) => new RequestQueue(allocateRequestQueue(slots, 256));

/** Queues a request of class `cls` whose only byte is `tag`, as a worker does after reading it. */
function put(q: RequestQueue, cls: number, tag: number): boolean {
  return q.push(Buffer.of(tag), cls);
}

/** The tags of every request taken, in order, each slot given back at the next take. */
function drain(q: RequestQueue): number[] {
  const tags: number[] = [];
  let done: number | undefined;
  for (let next = q.take(); next !== undefined; next = q.take(done)) {
    tags.push(next.request[0]!);
    done = next.slot;
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

  it('serves requests of no requester (RELEASE, FORGET: class 0) before any class, so closed files are given back at once', () => {
    const q = queue();
    put(q, 1, 10);
    put(q, 2, 20);
    for (const tag of [1, 2, 3]) put(q, NO_REQUESTER, tag);
    expect(drain(q)).toEqual([1, 2, 3, 10, 20]);
  });

  it('has room for as many requests as slots, and takes more once a served one\'s slot is given back', () => {
    const q = queue(2);
    expect([put(q, 1, 1), put(q, 1, 2), put(q, 1, 3)]).toEqual([true, true, false]);
    expect(q.queued()).toBe(2);
    const next = q.take()!;
    expect(put(q, 1, 3)).toBe(false);
    q.take(next.slot);
    expect(put(q, 1, 3)).toBe(true);
  });
});

describe('watching for a flood', () => {
  it('sees a flood when one class sends three quarters of the requests while another reads too', () => {
    const watch = new FloodWatch();
    for (let i = 0; i < 60; i++) watch.record(7);
    expect(watch.flooded()).toBe(false);
    for (let i = 0; i < 4; i++) watch.record(9);
    expect(watch.flooded()).toBe(true);
  });

  it('sees none among containers reading alike, and forgets a flood once it passes', () => {
    const watch = new FloodWatch();
    for (let i = 0; i < 64; i++) watch.record(1 + (i % 4));
    expect(watch.flooded()).toBe(false);
    for (let i = 0; i < 64; i++) watch.record(i % 16 === 0 ? 2 : 1);
    expect(watch.flooded()).toBe(true);
    for (let i = 0; i < 64; i++) watch.record(1 + (i % 2));
    expect(watch.flooded()).toBe(false);
  });

  it('leaves out requests of no requester (RELEASE)', () => {
    const watch = new FloodWatch();
    for (let i = 0; i < 64; i++) watch.record(i % 2 === 0 ? 5 : NO_REQUESTER);
    watch.record(6);
    expect(watch.flooded()).toBe(true);
  });
});

describe('the device loop serving in turns', () => {
  // The loop queues a request only when its read returned within 10 µs (it found the request
  // waiting). A scripted read always finds one; a stopped clock says so on any machine (under
  // qemu's emulation a scripted read took longer and the flood was served in the kernel's order).
  beforeEach(() => void vi.spyOn(process.hrtime, 'bigint').mockReturnValue(0n));
  afterEach(() => void vi.restoreAllMocks());

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

  it('once a container floods, serves a quiet container\'s request right away instead of behind the flood\'s', () => {
    const at = (pid: number) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid });
    // 64 of the flood's requests and a quiet one show the flood; then 20 more wait ahead of the quiet one.
    const flood = (n: number) => Array.from({ length: n }, (_, i) => at(1000 + (i % 32)));
    const { connection, pending } = scripted([...flood(64), at(42), ...flood(20), at(42), ...flood(20)]);
    const { served, handler } = recorder();
    const fair: FairService = { queue: queue(64), pending, classOf: (pid) => (pid === 42 ? 2 : 1) };
    expect(serveDevice(connection, handler, log, () => false, fair)).toBe('unmounted');
    const quiet = served.flatMap((pid, i) => (pid === 42 ? [i] : []));
    // The first waits its turn in the kernel's order; the second goes before the 20 ahead of it.
    expect(quiet[0]).toBe(64);
    expect(quiet[1]! - quiet[0]!).toBeLessThanOrEqual(3);
  });

  it('keeps the kernel\'s order while no container floods', () => {
    const pids = Array.from({ length: 40 }, (_, i) => 100 + (i % 8));
    const { connection, pending } = scripted(pids.map((pid) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid })));
    const { served, handler } = recorder();
    const fair: FairService = { queue: queue(64), pending, classOf: (pid) => pid };
    expect(serveDevice(connection, handler, log, () => false, fair)).toBe('unmounted');
    expect(served).toEqual(pids);
  });

  it('serves in the kernel\'s order without a queue', () => {
    const requests = [5, 6, 7].map((pid) => request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid }));
    const { connection } = scripted(requests);
    const { served, handler } = recorder();
    expect(serveDevice(connection, handler, log)).toBe('unmounted');
    expect(served).toEqual([5, 6, 7]);
  });

  it('on a reload, stops reading but answers every request queued (by any worker)', () => {
    const q = queue(64);
    for (const pid of [1, 2]) q.push(request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid }), pid);
    const { connection, pending } = scripted([request(Opcode.GETATTR, 1n, Buffer.alloc(16), { pid: 3 })]);
    const { served, handler } = recorder();
    const fair: FairService = { queue: q, pending, classOf: (pid) => pid };
    expect(serveDevice(connection, handler, log, () => true, fair)).toBe('drained');
    // The two queued are answered; the one still in the kernel is left for the successor.
    expect(served.sort()).toEqual([1, 2]);
    expect(pending()).toBe(true);
  });
});
