// The host's /sys/devices/system/cpu and /sys/devices/system/node under an injectable sys
// root: which of their files the mount passes through (walked once, when the view service
// is built) with their directories and symlinks, and their text, read again at every open.
// Files not readable by everyone are left out: the mount shows every file as mode 0444.
import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readText } from './files.js';

/** The CPU directory inside a sys root. */
export const CPU_SYSFS_DIR = 'devices/system/cpu';
/** The NUMA node directory inside a sys root. */
export const NODE_SYSFS_DIR = 'devices/system/node';

export interface SysfsWalkLimits {
  /** Directory levels below the CPU directory (`cpu0/cpuidle/state0/s2idle/usage` is 5). */
  readonly maxDepth: number;
  /** At most this many files; the shallowest come first, so every `cpuN` keeps its own files. */
  readonly maxFiles: number;
}

export const DEFAULT_WALK_LIMITS: SysfsWalkLimits = { maxDepth: 6, maxFiles: 20_000 };

/** S_IROTH: the mount serves every file 0444, so only world-readable files may pass. */
const WORLD_READABLE = 0o004;

// cpu2 before cpu10, as a person (and `ls -v`) would list them.
const byName = new Intl.Collator('en', { numeric: true }).compare;

/** A directory's entries in a stable order; an unreadable or vanished directory has none. */
function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
  } catch {
    return [];
  }
}

function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

type EntryKind = 'dir' | 'file' | 'link' | 'other';

/** From the dirent, or lstat where the filesystem gives no d_type. */
function kindOf(entry: Dirent, path: string): EntryKind {
  const known = entry.isDirectory() || entry.isFile() || entry.isSymbolicLink();
  const stats = known ? entry : lstatOf(path);
  if (stats?.isDirectory()) return 'dir';
  if (stats?.isSymbolicLink()) return 'link';
  return stats?.isFile() ? 'file' : 'other';
}

function linkTargetOf(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function isWorldReadable(path: string): boolean {
  return ((lstatOf(path)?.mode ?? 0) & WORLD_READABLE) !== 0;
}

/**
 * The regular, world-readable files under `<sysRoot>/devices/system/cpu`, as paths relative
 * to it ('kernel_max', 'cpu0/topology/core_id'), breadth first. A missing directory gives [].
 * Nothing is logged when a limit cuts the walk: what fits is served.
 */
export function listCpuSysfsFiles(sysRoot: string, limits: SysfsWalkLimits = DEFAULT_WALK_LIMITS): string[] {
  return listSysfsFiles(sysRoot, CPU_SYSFS_DIR, limits);
}

/** The same walk under another directory of the sys root (`dir` relative to it). */
export function listSysfsFiles(sysRoot: string, under: string, limits: SysfsWalkLimits = DEFAULT_WALK_LIMITS): string[] {
  return walkSysfs(sysRoot, under, limits).files;
}

/** What a walk found, relative to the walked directory, breadth first. */
export interface SysfsWalk {
  readonly files: string[];
  /** Every directory walked into, empty ones too ('cpufreq', 'cpu0/power'). */
  readonly dirs: string[];
  /** Symlinks and their targets as the host has them ('cpu0/node0' -> '../../node/node0'). */
  readonly links: Map<string, string>;
}

/**
 * Files, directories and symlinks under `<sysRoot>/<under>`, breadth first. `maxFiles` bounds
 * files and symlinks together; directories below `maxDepth` are neither listed nor walked.
 */
export function walkSysfs(sysRoot: string, under: string, limits: SysfsWalkLimits = DEFAULT_WALK_LIMITS): SysfsWalk {
  const top = join(sysRoot, under);
  const walk: SysfsWalk = { files: [], dirs: [], links: new Map() };
  let level = [''];
  for (let depth = 1; depth <= limits.maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const entry of entriesOf(join(top, dir))) {
        const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
        addEntry(walk, next, rel, kindOf(entry, join(top, rel)), join(top, rel));
        if (walk.files.length + walk.links.size >= limits.maxFiles) return walk;
      }
    }
    if (depth < limits.maxDepth) walk.dirs.push(...next);
    level = next;
  }
  return walk;
}

function addEntry(walk: SysfsWalk, nextLevel: string[], rel: string, kind: EntryKind, path: string): void {
  if (kind === 'dir') nextLevel.push(rel);
  else if (kind === 'file' && isWorldReadable(path)) walk.files.push(rel);
  else if (kind === 'link') {
    const target = linkTargetOf(path);
    if (target !== undefined) walk.links.set(rel, target);
  }
}

/** A file of the CPU directory (`rel` as listed); one that vanished is a SOURCE_UNREADABLE error. */
export function readCpuSysfsFile(sysRoot: string, rel: string): string {
  return readText(join(sysRoot, CPU_SYSFS_DIR, rel));
}

/** A file of another directory of the sys root; one that vanished is a SOURCE_UNREADABLE error. */
export function readSysfsFile(sysRoot: string, dir: string, rel: string): string {
  return readText(join(sysRoot, dir, rel));
}
