// Which mounts of one mount namespace the heal replaces (issue 16), decided from its
// mountinfo alone: binds of a cgprocfs connection that is not the live one and that
// served the same mountpoint. Pure: the heal checks each chosen mount is dead (ENOTCONN)
// inside the namespace before it touches it.

import { FSTYPE, LEGACY_SOURCE, servedMountpoint, type MountEntry } from '../fuse/mount.js';

export interface LiveMount {
  mountpoint: string;
  /** major:minor of the live mount: its connection. */
  device: string;
}

export interface HealScope {
  live: LiveMount;
  /**
   * Connections known to have served this mountpoint although their source does not
   * say so (mounts made before the source named the mountpoint): the stale mounts
   * `serve` cleared from the mountpoint at its start.
   */
  legacyDevices: ReadonlySet<string>;
  /**
   * Whether every legacy mount counts as ours: true at the default mountpoint, where
   * every daemon before issue 16 ran unless told otherwise.
   */
  acceptLegacy: boolean;
}

/** A dead bind to replace: the live mount's `root` goes to `target`, in the namespace. */
export interface DeadBind {
  target: string;
  /** The path inside our tree it binds: '/proc/meminfo', '/sys/devices/system/cpu', '/'. */
  root: string;
  device: string;
}

export interface Skipped {
  target: string;
  reason: string;
}

export interface HealPlan {
  binds: DeadBind[];
  /** Dead binds of ours the heal leaves, and why. */
  skipped: Skipped[];
}

/** A cgprocfs mount of another connection that served `scope`'s mountpoint. */
export function isOtherConnectionOfOurs(entry: MountEntry, scope: HealScope): boolean {
  if (entry.fstype !== FSTYPE || entry.device === scope.live.device) return false;
  const served = servedMountpoint(entry.source);
  if (served !== undefined) return served === scope.live.mountpoint;
  return entry.source === LEGACY_SOURCE && (scope.acceptLegacy || scope.legacyDevices.has(entry.device));
}

/**
 * The binds of `mounts` (one namespace's mountinfo) the heal replaces. A bind hidden
 * under another mount at the same path is left: nobody reads through it. A bind with
 * mounts below it is left too: detaching it would take them with it.
 */
export function planHeal(mounts: readonly MountEntry[], scope: HealScope): HealPlan {
  const plan: HealPlan = { binds: [], skipped: [] };
  for (const entry of mounts) {
    if (!isOtherConnectionOfOurs(entry, scope)) continue;
    const children = mounts.filter((m) => m.parentId === entry.id && m.id !== entry.id);
    if (children.some((child) => child.mountpoint === entry.mountpoint)) continue;
    if (children.length > 0) {
      plan.skipped.push({ target: entry.mountpoint, reason: `other mounts lie below it (${children.map((c) => c.mountpoint).join(', ')})` });
      continue;
    }
    plan.binds.push({ target: entry.mountpoint, root: entry.root, device: entry.device });
  }
  return plan;
}

/**
 * The mounts of `mounts` that hold the connection `device`, other than `own` (the
 * host's mount itself, when `mounts` is the host's namespace).
 */
export function mountsOfConnection(mounts: readonly MountEntry[], device: string, own?: string): MountEntry[] {
  return mounts.filter((m) => m.fstype === FSTYPE && m.device === device && m.mountpoint !== own);
}
