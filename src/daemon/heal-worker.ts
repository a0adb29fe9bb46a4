// The heal's worker thread: re-binds the live mount's files over dead binds inside one
// mount namespace (issue 16). setns(CLONE_NEWNS) fails with EINVAL in a process with
// several threads sharing one fs_struct, and every Node process has several; a thread
// that first unshares CLONE_FS has one of its own and may enter. It then sees only the
// container's files, so it does one namespace and ends. Only synchronous calls here:
// they run on this thread, where libuv's pool threads are still in the host's namespace.

import { closeSync, constants, fstatSync, openSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { chroot, closeNative, fchdir, moveMount, Native, openTreeClone, setns, umount2, unshare } from '../native/libc.js';
import { isDeadConnectionError } from '../fuse/mount.js';

export interface HealJob {
  pid: number;
  /** The namespace's inode, as planned: a pid reused meanwhile is in another one. */
  namespaceInode: number;
  liveMountpoint: string;
  binds: ReadonlyArray<{ target: string; root: string }>;
  /** Whether to try MOVE_MOUNT_BENEATH first (see HealOptions). */
  beneath: boolean;
}

/** How one bind went: re-bound beneath the dead mount, or after detaching it, or not. */
export type BindOutcome =
  | { target: string; outcome: 'beneath' | 'replaced' }
  | { target: string; outcome: 'failed'; reason: string };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Throws unless the mount at `target` is dead: only a dead bind is ever replaced. */
function assertDead(target: string): void {
  try {
    statfsSync(target);
  } catch (err) {
    if (isDeadConnectionError(err)) return;
    throw err;
  }
  throw new Error('it answers: not a dead mount');
}

/** True when the kernel put `tree` beneath the dead bind at `target`; false where it refuses (EINVAL). */
function mountedBeneath(tree: number, target: string): boolean {
  try {
    moveMount(tree, target, Native.MOVE_MOUNT_BENEATH);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'EINVAL') return false;
    throw err;
  }
}

/**
 * Kernels >= 6.5 mount beneath the dead bind, then detach it: the path never lacks a
 * mount. Older kernels refuse MOVE_MOUNT_BENEATH with EINVAL (so does a mount the
 * kernel will not put anything beneath); then the dead bind is detached first, and for
 * that moment the path shows what lies under it (the container's own /proc file).
 */
function rebind(tree: number, target: string, beneath: boolean): 'beneath' | 'replaced' {
  if (beneath && mountedBeneath(tree, target)) {
    try {
      umount2(target, Native.MNT_DETACH);
    } catch (err) {
      throw new Error(`mounted the live file beneath it, but the dead mount could not be detached (${errorText(err)})`);
    }
    return 'beneath';
  }
  try {
    umount2(target, Native.MNT_DETACH);
  } catch (err) {
    throw new Error(`the kernel would not detach the dead mount (${errorText(err)})`);
  }
  try {
    moveMount(tree, target);
  } catch (err) {
    throw new Error(`detached the dead mount, but could not mount the live file (${errorText(err)}): the path shows what lay under it`);
  }
  return 'replaced';
}

function healOne(tree: number | Error, target: string, beneath: boolean): BindOutcome {
  try {
    if (tree instanceof Error) throw tree;
    assertDead(target);
    const how = rebind(tree, target, beneath);
    statfsSync(target);
    return { target, outcome: how };
  } catch (err) {
    return { target, outcome: 'failed', reason: errorText(err) };
  }
}

function run(job: HealJob): BindOutcome[] {
  const namespace = openSync(`/proc/${job.pid}/ns/mnt`, 'r');
  const root = openSync(`/proc/${job.pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  if (fstatSync(namespace).ino !== job.namespaceInode) throw new Error(`process ${job.pid} is no longer in the planned namespace`);
  // Clones of the live files are made here, in the host's namespace, before entering.
  const trees = job.binds.map((bind) => {
    try {
      return openTreeClone(join(job.liveMountpoint, bind.root));
    } catch (err) {
      return new Error(`the live mount has no ${bind.root} (${errorText(err)})`);
    }
  });
  unshare(Native.CLONE_FS);
  setns(namespace, Native.CLONE_NEWNS);
  // The process's own root, which its mountinfo paths are relative to.
  fchdir(root);
  chroot('.');
  const outcomes = job.binds.map((bind, i) => healOne(trees[i]!, bind.target, job.beneath));
  closeSync(namespace);
  closeSync(root);
  for (const tree of trees) if (typeof tree === 'number') closeNative(tree);
  return outcomes;
}

try {
  parentPort?.postMessage({ outcomes: run(workerData as HealJob) });
} catch (err) {
  parentPort?.postMessage({ error: errorText(err) });
}
