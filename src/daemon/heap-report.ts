// Debug lines saying where an isolate's memory is (issue 22): each worker thread is an
// isolate of its own, with its own heap, and only code running in it can read its
// statistics. At log level debug, the server's main thread reports every minute and each
// worker between requests, at most once a minute.

import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import type { RequestHandler } from '../fuse/device.js';
import { monotonicMs } from '../shared/clock.js';

export const HEAP_REPORT_INTERVAL_MS = 60_000;
/** Requests between two looks at the clock: a report costs nothing per request. */
const REQUESTS_PER_CLOCK_CHECK = 1024;

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

/** This isolate's heap in MB: resident, used, off-heap (Buffers), and each space resident. */
export function heapFigures(): Record<string, number | Record<string, number>> {
  const heap = getHeapStatistics();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().filter((s) => s.physical_space_size > 0).map((s) => [s.space_name, mb(s.physical_space_size)]));
  return { residentMb: mb(heap.total_physical_size), usedMb: mb(heap.used_heap_size), externalMb: mb(heap.external_memory), mallocedMb: mb(heap.malloced_memory), spacesMb: spaces };
}

export function reportHeap(log: Logger): void {
  log.debug(heapFigures(), 'isolate memory');
}

/** `handler`, reporting this isolate's heap at most once a minute while it serves; itself when debug is off. */
export function withHeapReports(handler: RequestHandler, log: Logger): RequestHandler {
  if (!log.isLevelEnabled('debug')) return handler;
  let requests = 0;
  let reportedAt = monotonicMs();
  reportHeap(log);
  return {
    handle(request) {
      if (++requests % REQUESTS_PER_CLOCK_CHECK === 0 && monotonicMs() - reportedAt >= HEAP_REPORT_INTERVAL_MS) {
        reportedAt = monotonicMs();
        reportHeap(log);
      }
      return handler.handle(request);
    },
    replyDropped: (request, reply) => handler.replyDropped(request, reply),
  };
}
