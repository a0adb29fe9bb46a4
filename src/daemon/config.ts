// What `cgprocfs serve` runs with: one plain object, built by the CLI, handed to the
// supervisor, to each server process (as JSON) and to every worker thread.

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
}

export const DEFAULT_MOUNTPOINT = '/var/lib/cgprocfs';
export const DEFAULT_STATE_DIR = '/run/cgprocfs';
export const DEFAULT_WORKERS = 2;

/** Directories later views fill; present now so bind-mount recipes stay stable. */
export const EXTRA_DIRECTORIES: readonly string[] = ['proc', 'sys/devices/system/cpu'];

/** Where a server keeps its handle arenas. */
export function arenaDirOf(config: Pick<ServeConfig, 'stateDir'>): string {
  return `${config.stateDir}/handles`;
}
