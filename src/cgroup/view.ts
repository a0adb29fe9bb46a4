// The reader's cgroup as one value (issue 20): for every controller a view reads, in
// cgroup v2 vocabulary, its normalized path on each version's hierarchy, or why it has
// none. Built once where the target is made; the host's layout (reader.ts) then picks
// the hierarchy, so a value never holds a mount and costs only the paths it normalizes.
import { CgprocfsError } from '../errors.js';
import { normalizeCgroupPath } from './hierarchy.js';
import type { CgroupLayout, CgroupVersion, Hierarchy } from './layout.js';
import type { CgroupPaths } from './membership.js';

/** The view's cgroup on one hierarchy: its normal path, or undefined with what was listed. */
export interface CgroupPlace {
  /** As /proc/<pid>/cgroup listed it; undefined when not listed at all. */
  readonly raw: string | undefined;
  /** Absolute and normal; undefined when not listed or outside the hierarchy (`/..`). */
  readonly path: string | undefined;
}

/** A controller's place on either version's hierarchy (the layout says which the host uses). */
export type ControllerPlaces = Readonly<Record<CgroupVersion, CgroupPlace>>;

/** The controllers a view reads, named as cgroup v2 names them. */
export interface CgroupView {
  readonly memory: ControllerPlaces;
  /** Quota and weight; on v2 also the CPU time (cpu.stat). */
  readonly cpu: ControllerPlaces;
  /** v1 only: where CPU time is accounted (cpuacct); its v2 place is the cgroup2 path. */
  readonly cpuacct: ControllerPlaces;
  readonly cpuset: ControllerPlaces;
  /** v1: blkio. */
  readonly io: ControllerPlaces;
  readonly pids: ControllerPlaces;
  /** The cgroup2 path, whose PSI files are core files in every cgroup (pressure.ts). */
  readonly pressure: CgroupPlace;
}

export type ViewController = Exclude<keyof CgroupView, 'pressure'>;

/** Each v2 controller's name on a v1 hierarchy. */
const V1_NAMES: Readonly<Record<ViewController, string>> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuacct: 'cpuacct',
  cpuset: 'cpuset',
  io: 'blkio',
  pids: 'pids',
};

/** The name a controller has on a hierarchy of `version` (errors name it as the kernel does). */
export function controllerName(controller: ViewController, version: CgroupVersion): string {
  return version === 1 ? V1_NAMES[controller] : controller;
}

function placeOf(raw: string | undefined): CgroupPlace {
  return { raw, path: raw === undefined ? undefined : normalizeCgroupPath(raw) };
}

/** The view of a membership (parsed /proc/<pid>/cgroup, or one path for all: `render --cgroup`). */
export function cgroupViewOf(paths: CgroupPaths): CgroupView {
  const places = new Map<string | undefined, CgroupPlace>();
  // On cgroup2 and on a v1 `cpu,cpuacct` mount several controllers share one path: normalized once.
  const place = (raw: string | undefined): CgroupPlace => {
    let known = places.get(raw);
    if (known === undefined) places.set(raw, (known = placeOf(raw)));
    return known;
  };
  const both = (controller: ViewController): ControllerPlaces => ({
    1: place(paths(V1_NAMES[controller], 1)),
    2: place(paths(controller, 2)),
  });
  return {
    memory: both('memory'),
    cpu: both('cpu'),
    cpuacct: both('cpuacct'),
    cpuset: both('cpuset'),
    io: both('io'),
    pids: both('pids'),
    pressure: place(paths('cpu', 2)),
  };
}

/** The normal path of `place`; SOURCE_UNREADABLE, naming `controller`, when it has none. */
export function pathIn(place: CgroupPlace, controller: string): string {
  if (place.path !== undefined) return place.path;
  const why = place.raw === undefined ? 'is not listed' : `is outside the hierarchy (${place.raw})`;
  throw new CgprocfsError('SOURCE_UNREADABLE', `the ${controller} cgroup ${why}`);
}

/** A controller's hierarchy on this host, its name there, and the view's place on it. */
export interface Located extends Hierarchy {
  readonly name: string;
  readonly place: CgroupPlace;
}

/** Where `controller` of the view is on `layout`; undefined when the host has no such controller. */
export function locate(layout: CgroupLayout, view: CgroupView, controller: ViewController): Located | undefined {
  const hierarchy = layout.controllers.get(controller) ?? layout.controllers.get(V1_NAMES[controller]);
  if (hierarchy === undefined) return undefined;
  return { ...hierarchy, name: controllerName(controller, hierarchy.version), place: view[controller][hierarchy.version] };
}
