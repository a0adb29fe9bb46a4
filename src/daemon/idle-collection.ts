// A serving worker's heap, collected when the worker goes idle (issue 22). V8 shrinks an
// isolate's heap from timers it runs between tasks (its memory reducer), and a worker
// blocked in read() on /dev/fuse runs none: its heap grows to its next collection limit
// and stays there, idle or not. Here, once enough requests were served since the last
// collection, a worker that finds nothing to read for IDLE_MS collects before it blocks:
// never while requests keep coming, once at the end of a burst.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Connection } from '../fuse/device.js';
import { trimMalloc } from '../native/libc.js';

/** Requests served before a collection is worth its few milliseconds. */
export const REQUESTS_PER_COLLECTION = 10_000;
/** How long a worker waits for the next request before it counts as idle. */
export const IDLE_MS = 100;

/** V8's full collection: the `gc` that --expose-gc gives a context made after it is set. */
export function fullCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * What a worker does when it goes idle: V8's full collection (which compacts, with the
 * daemon's --compact-on-every-full-gc, supervisor-exec.ts), then the free pages of the
 * malloc arenas given back (trimMalloc), where the buffers the collection freed were.
 * Measured 8 s after the quick bench's 500-cgroup phase: the server's memory outside
 * V8's heap was 18.1-18.6 MB with the trim and 24.6-26.5 MB without.
 */
export function idleCollector(): () => void {
  const collect = fullCollector();
  return () => {
    collect();
    trimMalloc();
  };
}

/**
 * `connection`, collecting the heap before a read once `every` requests were read since
 * the last collection and `requestWithin(IDLE_MS)` says none came meanwhile (a poll:
 * a request that comes is read at once).
 */
export function collectingWhenIdle(connection: Connection, requestWithin: (ms: number) => boolean, collect: () => void, every = REQUESTS_PER_COLLECTION): Connection {
  let reads = 0;
  return {
    read(buf) {
      if (reads >= every && !requestWithin(IDLE_MS)) {
        reads = 0;
        collect();
      }
      const length = connection.read(buf);
      reads++;
      return length;
    },
    write: (reply) => connection.write(reply),
  };
}
