// A serving worker's heap, collected when the worker goes idle (issue 22). V8 shrinks an
// isolate's heap from timers it runs between tasks (its memory reducer), and a worker
// blocked in read() on /dev/fuse runs none: its heap grows to its next collection limit
// and stays there, idle or not. Here, once enough requests were served since the last
// collection, a worker that finds nothing to read for IDLE_MS collects before it blocks:
// never while requests keep coming, once at the end of a burst. The collection compacts,
// and then the malloc arenas give their free pages back (idleCollector).

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
 * What a worker does when it goes idle: V8's full collection, then the free pages of the
 * malloc arenas given back (trimMalloc), where the buffers the collection freed were.
 *
 * Every full collection of the process compacts from here on (V8's flags are the
 * process's; set at run time, a Node whose V8 lacks the flag warns and serves on, where
 * an unknown flag on the command line would stop the daemon from starting). One that
 * does not compact keeps every page that still holds one live object, and a serving
 * thread's heap after many containers is such pages. V8 itself made 2-4 full collections
 * per thread in a 30 s bench run besides the idle ones, so the few ms a compaction adds
 * cost nothing measurable. Measured 8 s after the quick bench's 500-cgroup phase: the
 * server's V8 heap pages were 139-157 (33-38 MB) without compaction and 103-113
 * (24-27 MB) with it; its memory outside V8's heap 18.6-19.4 MB with the trim and
 * 24.6-26.5 MB without (bench/README.md "Where the memory goes").
 */
export function idleCollector(setFlags: (flags: string) => void = setFlagsFromString, trim: () => void = trimMalloc): () => void {
  setFlags('--compact-on-every-full-gc');
  const collect = fullCollector();
  return () => {
    collect();
    trim();
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
