// One daemon per state directory and per mountpoint (issue 16). flock(2) on a lock file
// in the state directory, held by the supervisor for its life: the kernel drops it when
// the supervisor exits however it exits, so a crashed holder never blocks the next
// start and a reused pid never counts as a holder. The file records who holds it, for
// the refusal line and for `cgprocfs unmount`. The bare mountpoint directory is locked
// the same way between its check and the mount, so two starts cannot both mount there.

import { closeSync, constants, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError, systemErrorCode } from '../errors.js';
import { flock, Native } from '../native/libc.js';
import { readFileNoFollow } from '../shared/private-files.js';

export const LOCK_FILE = 'serve.lock';

export interface LockHolder {
  pid: number;
  mountpoint: string;
  /** The systemd unit the daemon runs as, when systemd started it. */
  systemdUnit?: string;
}

/** True when this process now holds the lock; false when another open file does. */
function tryLock(fd: number, operation: number): boolean {
  try {
    flock(fd, operation | Native.LOCK_NB);
    return true;
  } catch (err) {
    if (systemErrorCode(err) === 'EWOULDBLOCK' || systemErrorCode(err) === 'EAGAIN') return false;
    throw err;
  }
}

function describeHolder(holder: LockHolder | undefined): string {
  if (holder === undefined) return 'another cgprocfs';
  return `the cgprocfs daemon pid ${holder.pid} (serving ${holder.mountpoint}${holder.systemdUnit ? `, ${holder.systemdUnit}` : ''})`;
}

function readRecord(path: string): LockHolder | undefined {
  try {
    const record = JSON.parse(readFileNoFollow(path)) as LockHolder;
    return Number.isInteger(record.pid) && typeof record.mountpoint === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the state directory's lock for this daemon and records `holder` in it; the
 * returned descriptor holds it (close-on-exec: server processes never inherit it).
 */
export function lockStateDir(stateDir: string, holder: LockHolder): number {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, LOCK_FILE);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  if (!tryLock(fd, Native.LOCK_EX)) {
    closeSync(fd);
    throw new CgprocfsError('ALREADY_RUNNING', `${describeHolder(readRecord(path))} holds the state directory ${stateDir}: stop it first, or give this one another --state-dir`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${JSON.stringify(holder)}\n`, 0);
  return fd;
}

/** Who holds the state directory's lock now; undefined when no daemon does. */
export function lockHolder(stateDir: string): LockHolder | undefined {
  const path = join(stateDir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    // A shared lock is granted unless a daemon holds the exclusive one.
    if (tryLock(fd, Native.LOCK_SH)) return undefined;
    return readRecord(path) ?? { pid: 0, mountpoint: '?' };
  } finally {
    closeSync(fd);
  }
}

/**
 * Locks the bare mountpoint directory until this process exits (the descriptor stays
 * open under the mount), so that two daemons starting at once cannot both mount there.
 * A filesystem without flock support is not a reason to refuse.
 */
export function lockMountpoint(mountpoint: string): void {
  const fd = openSync(mountpoint, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    if (tryLock(fd, Native.LOCK_EX)) return;
  } catch {
    closeSync(fd);
    return;
  }
  closeSync(fd);
  throw new CgprocfsError('ALREADY_RUNNING', `another cgprocfs is starting on ${mountpoint}: stop it first, or choose another --mountpoint`);
}
