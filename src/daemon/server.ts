// Builds one serving stack (views -> tree -> filesystem -> dispatcher) from a config.
// Each worker thread calls this once; protocol tests call it with fixture roots.

import type { Logger } from 'pino';
import { Dispatcher } from '../fuse/dispatcher.js';
import { ReadOnlyFilesystem } from '../fs/filesystem.js';
import { HandleStore, type HandleStoreMemory } from '../fs/handles.js';
import { Tree } from '../fs/tree.js';
import { createViewService, type ViewOptions } from '../render/views.js';
import { EXTRA_DIRECTORIES } from './config.js';

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
  const views = createViewService({ cacheMs: RENDERING_CACHE_MS, counterCacheMs: COUNTER_CACHE_MS, callerCacheSize: CALLER_CACHE_SIZE, ...options });
  const tree = new Tree(views.files, [...EXTRA_DIRECTORIES, ...views.dirs], views.links);
  const handles = new HandleStore(memory);
  const filesystem = new ReadOnlyFilesystem({ tree, handles, content: views, mountedAtSec });
  const dispatcher = new Dispatcher(filesystem, log.child({ component: 'dispatcher' }));
  return { dispatcher, filesystem, handles, tree };
}
