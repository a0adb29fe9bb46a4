// Builds one serving stack (views -> tree -> filesystem -> dispatcher) from a config.
// Each worker thread calls this once; protocol tests call it with fixture roots.

import type { Logger } from 'pino';
import { Dispatcher } from '../fuse/dispatcher.js';
import { ReadOnlyFilesystem, type ViewOwner } from '../fs/filesystem.js';
import { HandleStore, type HandleStoreMemory } from '../fs/handles.js';
import type { ShareExceededError } from '../fs/store-errors.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';
import { Tree } from '../fs/tree.js';
import { createViewService, type ViewOptions } from '../render/views.js';

/**
 * How long a rendering without counters is reused for readers of the same view: a
 * changed limit or usage shows within this bound (README, "Performance").
 */
export const RENDERING_CACHE_MS = 200;
/**
 * How long a rendering with counters (stat, uptime, diskstats, pressure) or momentary
 * figures (loadavg) is reused for readers of the same view: one clock tick (USER_HZ
 * is 100), the step in which the kernel's own counters advance.
 */
export const COUNTER_CACHE_MS = 10;
/** Reader threads per worker whose resolution is remembered (two descriptors each). */
const CALLER_CACHE_SIZE = 128;
/** One warning per container per minute per worker: a flooding container must not flood the log too. */
const SHARE_WARNING_INTERVAL_MS = 60_000;
const SHARE_WARNINGS_REMEMBERED = 1024;

/** Logs a container refused for holding its share of open files, at most once a minute. */
function shareWarnings(log: Logger): (container: ViewOwner, error: ShareExceededError) => void {
  const warnedAt = new LruMap<string, number>(SHARE_WARNINGS_REMEMBERED);
  return (container, error) => {
    const now = monotonicMs();
    const last = warnedAt.get(container.name);
    if (last !== undefined && now - last < SHARE_WARNING_INTERVAL_MS) return;
    warnedAt.set(container.name, now);
    log.warn(
      { container: container.name, open: error.held.handles, pages: error.held.pages, share: error.limits.ownerHandles },
      'a container holds its whole share of open files: its further opens fail with EMFILE until it closes some (others are unaffected); raise the share with cgprocfs serve --max-open-per-container',
    );
  };
}

/** Said once per server start, by whichever thread meets the failure first (issue 18). */
export function arenaFailureWarning(log: Logger): (reason: string) => void {
  return (reason) =>
    log.warn({ reason }, 'the state directory is full or failing: open files are served from memory from now on, and those not written there do not survive a crash of this server');
}

export interface ServerStack {
  dispatcher: Dispatcher;
  filesystem: ReadOnlyFilesystem;
  handles: HandleStore;
  tree: Tree;
}

export function buildServer(
  options: ViewOptions,
  memory: HandleStoreMemory,
  log: Logger,
  mountedAtSec: number,
): ServerStack {
  const onIgnoredCounterRecord = (file: string, why: string): void =>
    log.warn({ file, why }, 'ignored a CPU counter record the kernel could not have given (forged or corrupt); the counters of its cgroup start anew');
  const views = createViewService({ cacheMs: RENDERING_CACHE_MS, counterCacheMs: COUNTER_CACHE_MS, callerCacheSize: CALLER_CACHE_SIZE, onIgnoredCounterRecord, ...options });
  const tree = new Tree(views.files, views.dirs, views.links);
  const handles = new HandleStore(memory, arenaFailureWarning(log));
  const filesystem = new ReadOnlyFilesystem({ tree, handles, content: views, mountedAtSec, onShareExceeded: shareWarnings(log.child({ component: 'shares' })) });
  const dispatcher = new Dispatcher(filesystem, log.child({ component: 'dispatcher' }));
  return { dispatcher, filesystem, handles, tree };
}
