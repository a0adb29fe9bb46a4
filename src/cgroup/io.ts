// What the I/O controller says about one cgroup and its descendants, per device,
// in cgroup v2 vocabulary (io.stat's keys); the v1 driver translates blkio's
// throttle counters. Renderers call readIo and never learn which version answered.
import { ROOT_CGROUP } from './hierarchy.js';
import { readIoV1 } from './io-v1.js';
import { readIoV2 } from './io-v2.js';
import type { CgroupLayout, CgroupVersion } from './layout.js';
import { locate, pathIn, type CgroupView } from './view.js';

/** Bytes and completed operations (bios) by direction, recursive over the subtree. */
export interface DeviceIo {
  readonly rbytes: bigint;
  readonly wbytes: bigint;
  readonly rios: bigint;
  readonly wios: bigint;
  readonly dbytes: bigint;
  readonly dios: bigint;
}

/** By whole-disk device number `MAJ:MIN` (cgroups account per disk, not per partition). */
export type IoReading = ReadonlyMap<string, DeviceIo>;

/** Reads one non-root cgroup of one hierarchy; an empty map when it has no I/O accounting. */
export type IoDriver = (mount: string, path: string) => IoReading;

const DRIVERS: Readonly<Record<CgroupVersion, IoDriver>> = { 1: readIoV1, 2: readIoV2 };
/**
 * The view's I/O by device. Undefined for the root cgroup, which stands for the
 * whole host. Empty when the cgroup has no accounting of its own (never an
 * ancestor's numbers, which count other tenants), and when the layout has no I/O
 * controller at all: then nothing is accounted, and no cgroup is known to be the root.
 */
export function readIo(layout: CgroupLayout, view: CgroupView): IoReading | undefined {
  const at = locate(layout, view, 'io');
  if (at === undefined) return new Map();
  const path = pathIn(at.place, at.name);
  if (path === ROOT_CGROUP) return undefined;
  return DRIVERS[at.version](at.mount, path);
}

/** True when the cgroup did any I/O on the device. */
export function didIo(io: DeviceIo): boolean {
  return Object.values(io).some((value) => value > 0n);
}
