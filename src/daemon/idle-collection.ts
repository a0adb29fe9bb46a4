// A serving worker's heap, collected when the worker goes idle (issue 22). V8 shrinks an
// isolate's heap from timers it runs between tasks (its memory reducer), and a worker
// blocked in read() on /dev/fuse runs none: its heap grows to its next collection limit
// and stays there, idle or not. Here, once enough requests were served since the last
// collection, a read that would block (nothing waits in the kernel) first collects.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Connection } from '../fuse/device.js';

/**
 * Requests between two collections: a full collection of a worker's heap takes a few
 * milliseconds, a few nanoseconds per request spread over this many.
 */
export const REQUESTS_PER_COLLECTION = 20_000;

/** V8's full collection: the `gc` that --expose-gc gives a context made after it is set. */
export function fullCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * `connection`, collecting the heap before a read once `every` requests were read
 * since the last collection and none waits (`pending()` false: the read would block).
 */
export function collectingWhenIdle(connection: Connection, pending: () => boolean, collect: () => void, every = REQUESTS_PER_COLLECTION): Connection {
  let reads = 0;
  return {
    read(buf) {
      if (reads >= every && !pending()) {
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
