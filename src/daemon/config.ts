// What `cgprocfs serve` runs with: one plain object, built by the CLI, handed to the
// supervisor, to each server process (as JSON) and to every worker thread.

import { join } from 'node:path';
import { fnv1a32Hex } from '../shared/fnv.js';
import type { LogLevel } from './logger.js';
import type { BtimePolicy, CpuCountMode } from '../render/cpu-files.js';
import type { ResolvePolicy } from '../render/views.js';

export interface ServeConfig {
  mountpoint: string;
  resolve: ResolvePolicy;
  swap: boolean;
  cgroupRoot: string;
  procRoot: string;
  logLevel: LogLevel;
  /** Worker threads blocking on the device; measured best at 2 on 2-CPU hosts (issue 8). */
  workers: number;
  /** Runtime state that must outlive a server process: handle arenas, CPU counters. */
  stateDir: string;
  /** How many CPUs a container sees: its cpuset cut by its CPU quota, or the cpuset alone. */
  cpuCount: CpuCountMode;
  /** /proc/stat's btime: the host's boot or the container's. */
  btime: BtimePolicy;
  /** Where sysfs is mounted ('/sys'); the CPU directory is read from it. */
  sysRoot: string;
  /** Re-bind the live mount's files over dead binds in containers once serving (issue 16). */
  heal: boolean;
  /** Most files one container may hold open at once (its share of the handle store, issue 17). */
  maxOpenPerContainer: number;
}

export const DEFAULT_MOUNTPOINT = '/var/lib/cgprocfs';
export const DEFAULT_STATE_DIR = '/run/cgprocfs';
export const DEFAULT_WORKERS = 2;
export { DEFAULT_OWNER_HANDLES as DEFAULT_MAX_OPEN_PER_CONTAINER, MAX_OWNER_HANDLES as MAX_OPEN_PER_CONTAINER } from '../fs/handles.js';
/** More threads than this only wait on each other: every one reads the same queue. */
export const MAX_WORKERS = 64;

/**
 * Where a server keeps its handle arenas: one directory per mountpoint, so daemons
 * serving different mountpoints from one state directory never collect each other's
 * arenas (CPU counter records, facts about cgroups, are shared on purpose).
 */
export function arenaDirOf(config: Pick<ServeConfig, 'stateDir' | 'mountpoint'>): string {
  const readable = config.mountpoint.replace(/^\/+|\/+$/g, '').replace(/[^A-Za-z0-9._-]/g, '_') || 'root';
  // The hash tells apart paths the readable form would merge (/a_b, /a/b).
  return join(config.stateDir, 'handles', `${readable}-${fnv1a32Hex(config.mountpoint)}`);
}
