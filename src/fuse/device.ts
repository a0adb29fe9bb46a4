// The device loop: a blocking read of one request from /dev/fuse, the dispatcher's
// reply written back with one write. It runs in a worker thread (readSync blocks only
// that thread) and never touches the libuv threadpool (reference §8). Served fairly,
// once one requester floods the others a free worker first takes every request
// waiting in the kernel into the shared request queue, then serves the one whose
// requester's turn it is (request-queue.ts).

import { readSync, writeSync } from 'node:fs';
import { REQUEST_BUFFER_SIZE } from './abi.js';
import { requestPid } from './codec.js';
import { FloodWatch, type RequestQueue } from './request-queue.js';
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
 * A read that returns sooner than this found its request waiting: others may wait
 * behind it. One that slept was woken for a new request, with nothing else queued:
 * it is served at once, without asking the kernel (the usual case, a few readers).
 */
const WAITING_READ_NS = 10_000n;

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
  /** The queue slot of the request served last, given back when the next is taken. */
  let done: number | undefined;
  const watch = new FloodWatch();
  for (;;) {
    if (fair !== undefined && (done !== undefined || fair.queue.queued() > 0)) {
      // Requests wait: gather the kernel's too, and serve the one whose turn it is.
      const gathered = draining() ? undefined : gather(connection, fair, buf, watch);
      if (typeof gathered === 'string') return gathered;
      if (gathered !== undefined) {
        serve(buf.subarray(0, gathered));
        continue;
      }
      const next = fair.queue.take(done);
      done = next?.slot;
      if (next !== undefined) {
        serve(next.request);
        continue;
      }
    }
    if (draining()) return 'drained';
    const started = process.hrtime.bigint();
    const length = readOne(connection, buf);
    if (typeof length === 'string') return length;
    if (length === undefined) continue;
    const request = buf.subarray(0, length);
    if (fair !== undefined) {
      const cls = fair.classOf(requestPid(request));
      watch.record(cls);
      // Found waiting with others behind it, in a flood: it takes its turn with them.
      const foundWaiting = process.hrtime.bigint() - started < WAITING_READ_NS;
      if (foundWaiting && watch.flooded() && !draining() && fair.pending() && fair.queue.push(request, cls)) continue;
    }
    serve(request);
  }
}

/**
 * Moves the requests waiting in the kernel into the queue; returns why the connection
 * ended, if it did, or the length of a request left in `buf` because the queue is
 * full (served at once, in the kernel's order). Another worker may take a request
 * between the poll and the read: this read then waits for the next one, which is what
 * an idle worker does anyway.
 */
function gather(connection: Connection, fair: FairService, buf: Buffer, watch: FloodWatch): number | Exclude<LoopEnd, 'drained'> | undefined {
  while (fair.pending()) {
    const length = readOne(connection, buf);
    if (length === undefined) continue;
    if (typeof length === 'string') return length;
    const request = buf.subarray(0, length);
    const cls = fair.classOf(requestPid(request));
    watch.record(cls);
    if (!fair.queue.push(request, cls)) return length;
  }
  return undefined;
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
