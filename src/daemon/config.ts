// What `cgprocfs serve` runs with: one plain object, built by the CLI, passed to the
// main thread and (structured-cloned) to every worker.

import type { LogLevel } from './logger.js';
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
}

export const DEFAULT_MOUNTPOINT = '/var/lib/cgprocfs';
export const DEFAULT_WORKERS = 2;

/** Directories later views fill; present now so bind-mount recipes stay stable. */
export const EXTRA_DIRECTORIES: readonly string[] = ['proc', 'sys/devices/system/cpu'];
