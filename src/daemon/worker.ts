// A serving worker thread: builds its own stack and blocks on /dev/fuse until the
// connection ends, then tells the main thread why.

import { parentPort, workerData } from 'node:worker_threads';
import { requesterClasses } from '../caller/requester-class.js';
import { deviceConnection, serveDevice } from '../fuse/device.js';
import { RequestQueue } from '../fuse/request-queue.js';
import { readable } from '../native/libc.js';
import { withHeapReports } from './heap-report.js';
import { collectingWhenIdle, idleCollector } from './idle-collection.js';
import { createLogger } from './logger.js';
import { beatingConnection, beatingHandler, ThreadBeat } from './heartbeat.js';
import { buildServer } from './server.js';
import type { WorkerInput, WorkerOutput } from './workers.js';

const input = workerData as WorkerInput;
const log = createLogger(input.config.logLevel, { worker: input.index });
const { dispatcher } = buildServer({ ...input.config, loadavg: input.loadavg, renderingCache: input.renderingCache }, input.memory, log, input.mountedAtSec);
const drain = new Int32Array(input.drain);
const fair = { queue: new RequestQueue(input.requests), pending: () => readable(input.fd), classOf: requesterClasses(input.config.procRoot) };
let message: WorkerOutput;
try {
  const beat = new ThreadBeat(input.beats, input.index);
  const connection = collectingWhenIdle(beatingConnection(deviceConnection(input.fd), beat), (ms) => readable(input.fd, ms), idleCollector());
  message = { kind: 'ended', reason: serveDevice(connection, withHeapReports(beatingHandler(dispatcher, beat), log), log, () => Atomics.load(drain, 0) === 1, fair) };
} catch (err) {
  log.error({ err }, 'device loop failed');
  message = { kind: 'failed', error: String(err) };
}
parentPort?.postMessage(message);
