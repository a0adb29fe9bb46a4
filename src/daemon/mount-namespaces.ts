// The host's mount namespaces, one process each (issue 16): found from the identity of
// /proc/<pid>/ns/mnt, each read through that process's mountinfo. The heal and the
// stop's count of containers holding our files start here. Nothing here touches a
// FUSE mount: mountinfo and the namespace links are the kernel's own files.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo, type MountEntry } from '../fuse/mount.js';

export interface MountNamespace {
  /** The namespace as its link reads, e.g. "mnt:[4026532174]". */
  id: string;
  /**
   * The lowest pid in it (a container's init, usually): its mountinfo and its root are
   * the view paths are read and resolved in.
   */
  pid: number;
}

function readOptional(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    // The process exited while we looked.
    return undefined;
  }
}

/** Every mount namespace a process of `procRoot` is in, in pid order of their first process. */
export function listMountNamespaces(procRoot = '/proc'): MountNamespace[] {
  const firstPid = new Map<string, number>();
  const pids = readdirSync(procRoot)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    const id = readOptional(() => readlinkSync(join(procRoot, String(pid), 'ns', 'mnt')));
    if (id !== undefined && !firstPid.has(id)) firstPid.set(id, pid);
  }
  return [...firstPid].map(([id, pid]) => ({ id, pid }));
}

/** The namespace this process is in (the host's, for the daemon). */
export function ownMountNamespace(procRoot = '/proc'): string {
  return readlinkSync(join(procRoot, 'self', 'ns', 'mnt'));
}

/** The mounts `ns` holds, as its process sees them; undefined once that process is gone. */
export function readMounts(ns: MountNamespace, procRoot = '/proc'): MountEntry[] | undefined {
  const text = readOptional(() => readFileSync(join(procRoot, String(ns.pid), 'mountinfo'), 'utf8'));
  return text === undefined ? undefined : parseMountinfo(text);
}

/**
 * The cgroup that names the container a process is in, for log lines: its cgroup2 path
 * where it has one below the root, else its first v1 hierarchy's (the memory one on
 * hybrid hosts where cgroup2 holds no controller is as good as any).
 */
export function containerCgroup(pid: number, procRoot = '/proc'): string {
  const text = readOptional(() => readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8')) ?? '';
  const lines = text.split('\n').filter(Boolean).map((line) => ({ hierarchy: line.split(':')[0], path: line.split(':').slice(2).join(':') }));
  const unified = lines.find((line) => line.hierarchy === '0' && line.path !== '/');
  return (unified ?? lines.find((line) => line.hierarchy !== '0') ?? lines[0])?.path ?? '?';
}
