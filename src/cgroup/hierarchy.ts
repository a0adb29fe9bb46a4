// Pure rules of the cgroup hierarchy: cgroup paths and their ancestors, and how
// limits combine up the tree (the tightest ancestor wins, and nothing exceeds
// what the host has). No I/O here; the drivers read, these functions decide.
import { posix } from 'node:path';
import type { Limit } from './values.js';

export const ROOT_CGROUP = '/';

/**
 * `path` made absolute and normal, or undefined when it has a `..` segment: the
 * kernel prints `/../..` for a cgroup outside the reader's cgroup namespace
 * (lxcfs #598), and no such path may reach outside the hierarchy we read.
 */
export function normalizeCgroupPath(path: string): string | undefined {
  if (path.split('/').includes('..')) return undefined;
  const normal = posix.normalize(posix.join(ROOT_CGROUP, path));
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** The cgroup and its ancestors below the root, nearest first: `/a/b` -> [`/a/b`, `/a`]. */
export function levelsBelowRoot(path: string): string[] {
  const levels: string[] = [];
  for (let level = path; level !== ROOT_CGROUP && level !== '.'; level = posix.dirname(level)) {
    levels.push(level);
  }
  return levels;
}

/** The effective limit: the minimum over the cgroup and its ancestors, at most `hostSize`. */
export function effectiveLimit(chain: readonly Limit[], hostSize: number): number {
  return Math.min(hostSize, ...chain);
}

/** `a - b`, never below zero (usage counters are sampled apart and can cross). */
export function nonNegativeDifference(a: number, b: number): number {
  return Math.max(0, a - b);
}
