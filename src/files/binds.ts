// What a container gets from a live mount, bound over its own /proc and /sys: the targets
// each kind of runtime accepts, read from the table of served files (files/table.ts), for
// `docker-flags`, the OCI runtime wrapper (cgprocfs-runc) and the LXC hook (issue 15).
// Also where the preload library is.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindTargets } from './table.js';

/** The targets a runc-based runtime accepts, in table order. */
export const RUNC_TARGETS: readonly string[] = bindTargets('runc');

/** Every target: what a runtime that mounts /proc itself (LXC) can bind. */
export const ALL_TARGETS: readonly string[] = bindTargets('own-proc');

export interface BindMount {
  /** The file in the mount, on the host. */
  src: string;
  /** Where it goes in the container: the tree path under `/`. */
  dst: string;
}

/** The binds of `targets` that `exists` accepts (a mount offers them), in their order. */
export function bindsFrom(mountpoint: string, targets: readonly string[], exists: (treePath: string) => boolean): BindMount[] {
  return targets.filter(exists).map((path) => ({ src: join(mountpoint, path), dst: `/${path}` }));
}

/** Where the preload library is installed with the daemon (docs/preload.md), and where a container gets it. */
export const PRELOAD_LIBRARY = fileURLToPath(new URL('../preload/libcgprocfs-preload.so', import.meta.url));
export const PRELOAD_TARGET = '/usr/lib/cgprocfs/libcgprocfs-preload.so';
