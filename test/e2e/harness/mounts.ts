// The host's mount table as the e2e suites see it: mountinfo entries at a path, lazy unmount, FUSE connection abort.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseMountinfo } from '../../../src/fuse/mount.js';
import { runOk, run } from './exec.js';

export interface MountEntry {
  mountPoint: string;
  /** "major:minor" of the mount's st_dev; for FUSE the minor names the fusectl connection. */
  device: string;
  fsType: string;
  source: string;
  options: string;
}

/** The kernel's mount table, parsed by the daemon's own parser, in the harness's field names. */
export function readMountInfo(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => ({
    mountPoint: m.mountpoint,
    device: m.device,
    fsType: m.fstype,
    source: m.source,
    options: m.options,
  }));
}

export function mountsAt(path: string): MountEntry[] {
  return readMountInfo().filter((m) => m.mountPoint === path);
}

/** Detaches every mount stacked at `path` (a stale mount can sit under a live one). */
export async function unmountAll(path: string): Promise<void> {
  for (let i = 0; i < 16 && mountsAt(path).length > 0; i++) await run('umount', ['-l', path], { timeoutMs: 10_000 });
  const left = mountsAt(path);
  if (left.length > 0) throw new Error(`could not unmount ${path}: ${JSON.stringify(left)}`);
}

const FUSECTL = '/sys/fs/fuse/connections';

/**
 * Aborts the FUSE connections mounted at `path`. Last resort for a server stuck in D state
 * (reference/fuse-protocol.md §1: only fusectl abort frees a self-deadlocked server).
 * Mounts fusectl only if needed and unmounts it again.
 */
export async function abortFuseConnections(path: string): Promise<void> {
  const fuse = mountsAt(path).filter((m) => m.fsType === 'fuse' || m.fsType.startsWith('fuse.'));
  if (fuse.length === 0) return;
  // Unmounted fusectl leaves a plain sysfs directory: same device as its parent.
  const mountHere = existsSync(FUSECTL) && statSync(FUSECTL).dev === statSync('/sys/fs/fuse').dev;
  if (mountHere) await runOk('mount', ['-t', 'fusectl', 'none', FUSECTL]);
  try {
    for (const m of fuse) {
      const abort = `${FUSECTL}/${m.device.split(':')[1]}/abort`;
      if (existsSync(abort)) writeFileSync(abort, '1');
    }
  } finally {
    if (mountHere) await run('umount', [FUSECTL]);
  }
}
