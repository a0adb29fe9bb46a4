// Starting the serving worker threads and waiting for them to end.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { LoopEnd } from '../fuse/device.js';
import type { HandleStoreMemory } from '../fs/handles.js';
import type { RequestQueueMemory } from '../fuse/request-queue.js';
import type { LoadavgMemory } from '../load/table.js';
import type { RenderingCacheMemory } from '../shared/rendering-cache.js';
import type { ServeConfig } from './config.js';

/**
 * A worker renders a few KiB per request and keeps small caches: a small heap keeps the
 * daemon's memory flat (V8's defaults grow each worker's young generation to 16 MiB).
 */
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 };

export interface WorkerInput {
  index: number;
  fd: number;
  config: ServeConfig;
  memory: HandleStoreMemory;
  mountedAtSec: number;
  /** The load averages the server's main thread samples. */
  loadavg: LoadavgMemory;
  /** Renderings all workers serve from. */
  renderingCache: RenderingCacheMemory;
  /** Requests taken from the kernel, served in turns (issue 17). */
  requests: RequestQueueMemory;
  /** Int32 flag: 1 = finish the current request and stop reading. */
  drain: SharedArrayBuffer;
  /** Where each worker marks its progress for the heartbeat (heartbeat.ts). */
  beats: SharedArrayBuffer;
}

export type WorkerOutput = { kind: 'ended'; reason: LoopEnd } | { kind: 'failed'; error: string };

/** How one worker ended: its loop's reason, or 'failed' (an exception or a crash). */
export type WorkerEnd = LoopEnd | 'failed';

export interface WorkerPool {
  /** Resolves when every worker has exited, with how each one ended. */
  readonly done: Promise<WorkerEnd[]>;
}

/**
 * `onFailure` runs when a worker fails: its in-flight request may never be answered
 * and it may have died holding a shared lock, so the process must go (the supervisor
 * starts a new one, which re-sends what this one held).
 */
export function startWorkers(base: Omit<WorkerInput, 'index'>, log: Logger, onFailure: () => void): WorkerPool {
  const exits: Promise<WorkerEnd>[] = [];
  for (let index = 0; index < base.config.workers; index++) {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { ...base, index }, resourceLimits: WORKER_HEAP });
    let end: WorkerEnd = 'failed';
    worker.on('message', (msg: WorkerOutput) => {
      if (msg.kind === 'ended') {
        end = msg.reason;
        log.debug({ worker: index, reason: msg.reason }, 'worker stopped serving');
      } else {
        log.error({ worker: index, error: msg.error }, 'worker failed');
      }
    });
    worker.on('error', (err) => log.error({ err, worker: index }, 'worker crashed'));
    exits.push(
      new Promise((resolve) =>
        worker.once('exit', () => {
          if (end === 'failed') onFailure();
          resolve(end);
        }),
      ),
    );
  }
  return { done: Promise.all(exits) };
}
