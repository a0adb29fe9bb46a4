// A server process: the replaceable part of the daemon. It serves the FUSE
// connection it inherited as fd 3 with worker threads, keeps its snapshots in an
// arena file of its own epoch, and starts by asking the kernel to re-send whatever a
// dead predecessor left unanswered. The supervisor owns the connection and the mount.

import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { detectLayout } from '../cgroup/layout.js';
import { createHandleStore, DEFAULT_HANDLE_LIMITS, DEFAULT_OWNER_HANDLES, HandleStore, type HandleStoreMemory } from '../fs/handles.js';
import * as libc from '../native/libc.js';
import { pruneCpuCounters } from '../render/cpu-files.js';
import { LOAD_FREQ_MS, LoadavgSampler } from '../load/sampler.js';
import { allocateLoadavgMemory } from '../load/table.js';
import { allocateRenderingCache } from '../shared/rendering-cache.js';
import { allocateRequestQueue } from '../fuse/request-queue.js';
import { requestResend } from '../fuse/session.js';
import { monotonicMs } from '../shared/clock.js';
import { arenaDirOf, type ServeConfig } from './config.js';
import { allocateBeats, HEARTBEAT_MS, LivenessWatch } from './heartbeat.js';
import { scheduleExecutableDrops } from './executable-pages.js';
import { HEAP_REPORT_INTERVAL_MS, reportHeap } from './heap-report.js';
import { createLogger } from './logger.js';
import { arenaFailureWarning } from './server.js';
import { SERVER_FUSE_FD, SERVER_INPUT_ENV, ServerExitCode, type ServerInput, type ServerMessage, type SupervisorMessage } from './messages.js';
import { startWorkers } from './workers.js';

/**
 * Under memory pressure the kernel should kill this process (the supervisor restarts
 * it and no reader notices) rather than the supervisor, which holds the mount.
 */
const SERVER_OOM_SCORE_ADJ = '500';
const COUNTER_PRUNE_INTERVAL_MS = 5 * 60 * 1000;

/**
 * How often cgroups registered but never counted are looked for: a large container's
 * first reader leaves its count to the sampler, and its figures show once counted.
 */
const NEW_CGROUPS_MS = 500;
/** When the executable's start-up pages are first dropped: the workers' isolates are built by then. */
const EXECUTABLE_FIRST_DROP_MS = 5000;
/** How often pages freed by a flood of opens are given back (memory and arena space). */
const TRIM_INTERVAL_MS = 1000;

/** Runs `work` every `ms` on the main thread (not keeping the process alive); a failure is logged and the next run goes on. */
function every(ms: number, work: () => void, onError: (err: unknown) => void): NodeJS.Timeout {
  const timer = setInterval(() => {
    try {
      work();
    } catch (err) {
      onError(err);
    }
  }, ms);
  timer.unref();
  return timer;
}

/** The kernel's 5 s load sampling tick, for the cgroups readers asked about lately; new ones sooner. */
function sampleLoad(sampler: LoadavgSampler, log: Logger): NodeJS.Timeout[] {
  const tick = (newOnly: boolean) => () => {
    const result = sampler.tick({ newOnly });
    if (result.failed > 0) log.debug(result, 'loadavg: some cgroups could not be sampled');
  };
  const failed = (err: unknown) => log.error({ err }, 'loadavg sampling failed');
  return [every(LOAD_FREQ_MS, tick(false), failed), every(NEW_CGROUPS_MS, tick(true), failed)];
}

/** Gives back, every second, the pages of renderings whose files were closed (a flood of opens that ended). */
function trimHandles(memory: HandleStoreMemory, log: Logger): NodeJS.Timeout {
  const store = new HandleStore(memory, arenaFailureWarning(log));
  return every(TRIM_INTERVAL_MS, () => {
    const pages = store.trim(libc);
    if (pages > 0) log.debug({ pages }, 'gave back the pages of closed files');
  }, (err) => log.warn({ err }, 'could not give back the pages of closed files'));
}

/** CPU counter records of cgroups that are gone, every few minutes. */
function pruneCounters(config: ServeConfig, log: Logger): NodeJS.Timeout {
  const layout = detectLayout(config.cgroupRoot);
  return every(COUNTER_PRUNE_INTERVAL_MS, () => {
    const removed = pruneCpuCounters(config.stateDir, layout);
    if (removed > 0) log.debug({ removed }, 'pruned CPU counters of removed cgroups');
  }, (err) => log.warn({ err }, 'could not prune CPU counters'));
}

/** Tells the supervisor, every HEARTBEAT_MS, that some serving thread can answer (heartbeat.ts). */
function heartbeat(beats: SharedArrayBuffer): NodeJS.Timeout {
  const watch = new LivenessWatch(beats, monotonicMs);
  const timer = setInterval(() => {
    if (watch.canAnswer()) send({ kind: 'alive' });
  }, HEARTBEAT_MS);
  timer.unref();
  return timer;
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<number> {
  const input = JSON.parse(process.env[SERVER_INPUT_ENV] ?? 'null') as ServerInput | null;
  if (!input) throw new Error(`${SERVER_INPUT_ENV} is not set: this process is started by cgprocfs serve`);
  const { config, epoch, mountedAtSec } = input;
  const log = createLogger(config.logLevel, { component: 'server', epoch });
  try {
    writeFileSync('/proc/self/oom_score_adj', SERVER_OOM_SCORE_ADJ);
  } catch (err) {
    log.debug({ err }, 'could not raise oom_score_adj');
  }

  // An older supervisor's config has no share: the default then.
  const ownerHandles = config.maxOpenPerContainer ?? DEFAULT_OWNER_HANDLES;
  const memory = createHandleStore(arenaDirOf(config), epoch, { ...DEFAULT_HANDLE_LIMITS, ownerHandles }, libc);
  if (memory.noArena !== undefined) {
    log.warn({ reason: memory.noArena }, 'could not make this server\'s handle arena (the state directory is full or failing): open files are served from memory and do not survive a crash of this server');
  }
  const loadavg = allocateLoadavgMemory();
  const renderingCache = allocateRenderingCache();
  const drain = new Int32Array(new SharedArrayBuffer(4));
  const requests = allocateRequestQueue();
  const beats = allocateBeats(config.workers);
  const pool = startWorkers({ fd: SERVER_FUSE_FD, config, memory, loadavg, renderingCache, requests, mountedAtSec, drain: drain.buffer as SharedArrayBuffer, beats }, log, () => {
    log.error({}, 'a worker failed; stopping this server so a new one takes over');
    // Other workers block in read() and cannot be joined: end the process outright.
    process.kill(process.pid, 'SIGKILL');
  });
  const sampling = sampleLoad(new LoadavgSampler(loadavg, config.procRoot), log);
  const pruning = pruneCounters(config, log);
  const trimming = trimHandles(memory, log);
  const heapReports = log.isLevelEnabled('debug') ? [every(HEAP_REPORT_INTERVAL_MS, () => reportHeap(log), () => undefined)] : [];
  const resend = requestResend(SERVER_FUSE_FD);
  if (resend === 'unsupported') log.warn({}, 'kernel cannot re-send requests (FUSE < 7.40): readers a dead server left waiting stay blocked');
  process.on('message', (message: SupervisorMessage) => {
    if (message.kind === 'drain') Atomics.store(drain, 0, 1);
    else if (message.kind === 'resend') requestResend(SERVER_FUSE_FD);
  });
  // The supervisor owns this process's life: if it is gone (killed outright), stop
  // serving rather than hold the connection as an orphan no new supervisor can take
  // over. Workers blocked in read() cannot be joined, so the exit is immediate.
  process.on('disconnect', () => {
    log.error({}, 'supervisor gone; stopping');
    process.kill(process.pid, 'SIGKILL');
  });
  send({ kind: 'ready', resend });
  const beating = heartbeat(beats);
  scheduleExecutableDrops(log, EXECUTABLE_FIRST_DROP_MS);
  log.debug({ workers: config.workers }, 'server ready');

  const ends = await pool.done;
  sampling.forEach(clearInterval);
  clearInterval(pruning);
  clearInterval(trimming);
  clearInterval(beating);
  heapReports.forEach(clearInterval);
  log.debug({ ends }, 'server stopped');
  process.removeAllListeners('disconnect');
  process.disconnect?.();
  if (ends.includes('failed')) return ServerExitCode.FAILED;
  if (ends.includes('aborted')) return ServerExitCode.ABORTED;
  if (ends.includes('unmounted')) return ServerExitCode.UNMOUNTED;
  return ServerExitCode.DONE;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cgprocfs server: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = ServerExitCode.FAILED;
    process.disconnect?.();
  },
);
