// The device loop: a blocking read of one request from /dev/fuse, the dispatcher's
// reply written back with one write. It runs in a worker thread (readSync blocks only
// that thread) and never touches the libuv threadpool (reference §8).

import { readSync, writeSync } from 'node:fs';
import { REQUEST_BUFFER_SIZE } from './abi.js';
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

/**
 * Serves requests until the connection ends, or until `draining()` turns true
 * (checked after each request: a reload lets the old server finish what it holds).
 * Throws on an unexpected read error.
 */
export function serveDevice(fd: number, handler: RequestHandler, log: LoopLogger, draining: () => boolean = () => false): LoopEnd {
  const buf = Buffer.allocUnsafe(REQUEST_BUFFER_SIZE);
  while (!draining()) {
    let length: number;
    try {
      length = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      const code = systemErrorCode(err);
      if (code === 'ENODEV') return 'unmounted';
      if (code === 'ECONNABORTED') return 'aborted';
      if (code && RETRY_READ.has(code)) continue;
      throw err;
    }
    const request = buf.subarray(0, length);
    const reply = handler.handle(request);
    if (reply && !writeReply(fd, reply, log)) handler.replyDropped(request, reply);
  }
  return 'drained';
}

/**
 * Writes one reply; false when the kernel no longer waits for it. ENOENT means the
 * caller is gone (interrupted) or the request was re-sent to another server: not an
 * error, but what the reply granted must be taken back.
 */
export function writeReply(fd: number, reply: Buffer, log: LoopLogger): boolean {
  try {
    writeSync(fd, reply);
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
