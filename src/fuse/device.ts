// The device loop: a blocking read of one request from /dev/fuse, the dispatcher's
// reply written back with one write. It runs in a worker thread (readSync blocks only
// that thread) and never touches the libuv threadpool (reference §8). Served fairly,
// a free worker first takes every request waiting in the kernel into the shared
// request queue, then serves the one whose requester's turn it is (request-queue.ts).

import { readSync, writeSync } from 'node:fs';
import { REQUEST_BUFFER_SIZE } from './abi.js';
import { requestPid } from './codec.js';
import type { RequestQueue } from './request-queue.js';
import { systemErrorCode } from '../errors.js';

export interface LoopLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Why a device loop ended. */
export type LoopEnd = 'unmounted' | 'aborted' | 'drained';

/** read() errors after which the next read may succeed. */
const RETRY_READ = new Set(['EINTR', 'EAGAIN', 'ENOENT']);

/** What the loop serves with: the dispatcher, or anything shaped like it. */
export interface RequestHandler {
  handle(request: Buffer): Buffer | null;
  /** The kernel refused the reply because the caller is gone; undo what it promised (an open handle). */
  replyDropped(request: Buffer, reply: Buffer): void;
}

/** Fair service: the queue the workers share, and what it needs to know. */
export interface FairService {
  readonly queue: RequestQueue;
  /** Whether a request waits in the kernel now (poll(2) with no timeout). */
  readonly pending: () => boolean;
  /** The class of the requester with thread id `pid` (its container): classes take turns. */
  readonly classOf: (pid: number) => number;
}

/** The connection as the loop uses it: one request per read, one reply per write (errors thrown as by readSync/writeSync). */
export interface Connection {
  read(buf: Buffer): number;
  write(reply: Buffer): void;
}

/** A /dev/fuse descriptor as a Connection. */
export function deviceConnection(fd: number): Connection {
  return {
    read: (buf) => readSync(fd, buf, 0, buf.length, null),
    write: (reply) => {
      writeSync(fd, reply);
    },
  };
}

/**
 * Serves requests until the connection ends, or until `draining()` turns true
 * (checked after each request: a reload lets the old server finish what it holds,
 * its queued requests included). Throws on an unexpected read error.
 */
export function serveDevice(fd: number | Connection, handler: RequestHandler, log: LoopLogger, draining: () => boolean = () => false, fair?: FairService): LoopEnd {
  const connection = typeof fd === 'number' ? deviceConnection(fd) : fd;
  const buf = Buffer.allocUnsafe(REQUEST_BUFFER_SIZE);
  const serve = (request: Buffer): void => {
    const reply = handler.handle(request);
    if (reply && !writeReply(connection, reply, log)) handler.replyDropped(request, reply);
  };
  for (;;) {
    if (fair !== undefined) {
      const end = draining() ? undefined : takeWaiting(connection, fair);
      if (end !== undefined) return end;
      const next = fair.queue.take();
      if (next !== undefined) {
        try {
          serve(next.request);
        } finally {
          fair.queue.free(next.slot);
        }
        continue;
      }
    }
    if (draining()) return 'drained';
    // Nothing waits: block for the next request and serve it at once.
    const length = readOne(connection, buf);
    if (typeof length === 'string') return length;
    if (length !== undefined) serve(buf.subarray(0, length));
  }
}

/** One request read into `buf`: its length, undefined to retry, or why the connection ended. */
function readOne(connection: Connection, buf: Buffer): number | Exclude<LoopEnd, 'drained'> | undefined {
  try {
    return connection.read(buf);
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENODEV') return 'unmounted';
    if (code === 'ECONNABORTED') return 'aborted';
    if (code && RETRY_READ.has(code)) return undefined;
    throw err;
  }
}

/**
 * Moves every request waiting in the kernel into the queue, while it has room. Another
 * worker may take a request between the poll and the read: this read then waits for
 * the next one, which is what an idle worker does anyway.
 */
function takeWaiting(connection: Connection, fair: FairService): Exclude<LoopEnd, 'drained'> | undefined {
  while (fair.pending()) {
    const slot = fair.queue.reserve();
    if (slot === undefined) return undefined;
    const length = readOne(connection, fair.queue.buffer(slot));
    if (typeof length !== 'number') {
      fair.queue.free(slot);
      if (length === undefined) continue;
      return length;
    }
    fair.queue.publish(slot, length, fair.classOf(requestPid(fair.queue.buffer(slot, length))));
  }
  return undefined;
}

/**
 * Writes one reply; false when the kernel no longer waits for it. ENOENT means the
 * caller is gone (interrupted) or the request was re-sent to another server: not an
 * error, but what the reply granted must be taken back.
 */
export function writeReply(connection: Connection, reply: Buffer, log: LoopLogger): boolean {
  try {
    connection.write(reply);
    return true;
  } catch (err) {
    const code = systemErrorCode(err);
    if (code === 'ENOENT') log.debug({ unique: reply.readBigUInt64LE(8).toString() }, 'reply to a request the kernel dropped');
    else if (code === 'ENODEV') log.debug({}, 'reply after the connection ended');
    else log.error({ err, bytes: reply.length }, 'kernel refused a reply');
    return false;
  }
}

/** Reads the next request, retrying transient errors (used for the INIT handshake). */
export function readRequest(fd: number): Buffer {
  const buf = Buffer.allocUnsafe(REQUEST_BUFFER_SIZE);
  for (;;) {
    try {
      return Buffer.from(buf.subarray(0, readSync(fd, buf, 0, buf.length, null)));
    } catch (err) {
      const code = systemErrorCode(err);
      if (code && RETRY_READ.has(code)) continue;
      throw err;
    }
  }
}
