// The cpu, cpuacct and cpuset controllers of one view, in cgroup v2 vocabulary: on
// which hierarchy and at which path each lives, the effective cpuset, the CFS quota
// of the cgroup and its ancestors, and the CPU time it used. The v1 and v2 drivers
// translate file names and formats, so renderers never branch on the version.
import { CgprocfsError } from '../errors.js';
import { cpuDriverV1 } from './cpu-v1.js';
import { cpuDriverV2 } from './cpu-v2.js';
import { nearestCpuset, parseCpuList, type CpuQuota } from './cpu-rules.js';
import { levelsBelowRoot, ROOT_CGROUP } from './hierarchy.js';
import type { CgroupLayout, CgroupVersion } from './layout.js';
import { locate, pathIn, type CgroupView, type ViewController } from './view.js';
import { CgroupDir } from './memory.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';

/** CPU time a cgroup and its descendants used since it was created, µs. */
export interface CpuUsage {
  readonly user: number;
  readonly system: number;
}

export interface CpuDriver {
  /** The files that hold a cgroup's effective CPUs, in order of preference. */
  readonly cpusetFiles: readonly string[];
  /** The cgroup's own CFS quota; undefined when it sets none. */
  quota(dir: CgroupDir): CpuQuota | undefined;
  /** The cgroup's CPU time. */
  usage(dir: CgroupDir): CpuUsage;
}

/** A controller's hierarchy and the view's cgroup on it. */
export interface Placed {
  readonly version: CgroupVersion;
  readonly mount: string;
  readonly path: string;
}

/** Where a view's CPU controllers are; undefined where the host has no such controller. */
export interface CpuPlacement {
  readonly cpuset: Placed | undefined;
  readonly cpu: Placed | undefined;
  /** Where CPU time is accounted: v1 cpuacct, else the v2 cpu hierarchy (cpu.stat). */
  readonly usage: Placed | undefined;
}

export interface CpuLimits {
  /** The nearest non-empty effective cpuset below the root; undefined: the host's online CPUs. */
  readonly cpuset: readonly number[] | undefined;
  /** The quota of the cpu cgroup and of each ancestor below the root that sets one, nearest first. */
  readonly quotaChain: readonly CpuQuota[];
}

const DRIVERS: Readonly<Record<CgroupVersion, CpuDriver>> = { 1: cpuDriverV1, 2: cpuDriverV2 };

function placed(layout: CgroupLayout, view: CgroupView, controller: ViewController): Placed | undefined {
  const at = locate(layout, view, controller);
  return at === undefined ? undefined : { version: at.version, mount: at.mount, path: pathIn(at.place, at.name) };
}

export function cpuPlacement(layout: CgroupLayout, view: CgroupView): CpuPlacement {
  const cpu = placed(layout, view, 'cpu');
  const cpuacct = placed(layout, view, 'cpuacct');
  const usage = cpuacct?.version === 1 ? cpuacct : cpu?.version === 2 ? cpu : undefined;
  return { cpuset: placed(layout, view, 'cpuset'), cpu, usage };
}

/** True when every CPU controller of the view is at the root: the view is the host's own. */
export function isHostWide(placement: CpuPlacement): boolean {
  return [placement.cpuset, placement.cpu, placement.usage].every((at) => at === undefined || at.path === ROOT_CGROUP);
}

function dirsBelowRoot(at: Placed): CgroupDir[] {
  return levelsBelowRoot(at.path).map((level) => new CgroupDir(at.mount, level));
}

/** Each level's cpuset from `at` up (its first cpuset file there; undefined without one), read as asked for. */
function* cpusetLevels(at: Placed): Generator<readonly number[] | undefined> {
  const { cpusetFiles } = DRIVERS[at.version];
  for (const dir of dirsBelowRoot(at)) {
    let ids: readonly number[] | undefined;
    for (const file of cpusetFiles) {
      const text = dir.optional(file);
      if (text === undefined) continue;
      ids = parseCpuList(text, dir.file(file));
      break;
    }
    yield ids;
  }
}

export function readCpuLimits(placement: CpuPlacement): CpuLimits {
  const { cpuset, cpu } = placement;
  const quotaChain =
    cpu === undefined ? [] : dirsBelowRoot(cpu).flatMap((dir) => DRIVERS[cpu.version].quota(dir) ?? []);
  return { cpuset: cpuset === undefined ? undefined : nearestCpuset(cpusetLevels(cpuset)), quotaChain };
}

/** Where the view's CPU time is accounted; CGROUP_LAYOUT on a host with no such controller. */
export function accountingOf(placement: CpuPlacement): Placed {
  if (placement.usage === undefined) {
    throw new CgprocfsError('CGROUP_LAYOUT', 'no cpuacct (v1) or cpu (v2) controller accounts CPU time');
  }
  return placement.usage;
}

export function readCpuUsage(at: Placed): CpuUsage {
  return DRIVERS[at.version].usage(new CgroupDir(at.mount, at.path));
}

/** How a view reads its CPU limits: straight from the files, or through a short-lived cache. */
export type CpuLimitsReader = (placement: CpuPlacement) => CpuLimits;

/** Limits this many cgroups apart per cache. */
const LIMITS_CACHE_ENTRIES = 1024;

/**
 * readCpuLimits, with each cgroup's answer reused for `ttlMs` (0: no cache). A cpuset or
 * quota change then shows within that bound; CPU usage is never cached.
 */
export function cachedCpuLimits(ttlMs: number, now: () => number = monotonicMs): CpuLimitsReader {
  if (ttlMs <= 0) return readCpuLimits;
  const cache = new LruMap<string, { at: number; limits: CpuLimits }>(LIMITS_CACHE_ENTRIES);
  return (placement) => {
    const key = [placement.cpuset, placement.cpu].map((at) => (at ? `${at.mount}:${at.path}` : '-')).join('|');
    const hit = cache.get(key);
    const time = now();
    if (hit && time - hit.at < ttlMs) return hit.limits;
    const limits = readCpuLimits(placement);
    cache.set(key, { at: time, limits });
    return limits;
  };
}
