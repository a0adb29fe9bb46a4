// A cgroup's own pressure stall information (PSI): cpu.pressure, memory.pressure
// and io.pressure are cgroup2 core files, present in every cgroup of the cgroup2
// hierarchy whatever controllers it enables (kernel/cgroup/cgroup.c
// cgroup_psi_files), so a hybrid host has them under unified/ too. cgroup v1 has
// no per-cgroup PSI at all.
import { CgprocfsError } from '../errors.js';
import { ROOT_CGROUP } from './hierarchy.js';
import { cgroup2Mount, type CgroupLayout } from './layout.js';
import { CgroupDir } from './memory.js';
import { pathIn, type CgroupView } from './view.js';

export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

/**
 * The text of the view's `<resource>.pressure`, byte for byte. Undefined when the
 * view is host-wide: the root cgroup, or a pure v1 host (no cgroup2 to read from).
 * A cgroup without the file (PSI disabled by psi=0 or cgroup.pressure=0) is a
 * SOURCE_UNREADABLE error, like the kernel's own absence of /proc/pressure.
 */
export function readCgroupPressure(layout: CgroupLayout, view: CgroupView, resource: PressureResource): string | undefined {
  const mount = cgroup2Mount(layout);
  if (mount === undefined) return undefined;
  // On cgroup2 one path serves every controller; the name only labels errors.
  const path = pathIn(view.pressure, resource);
  if (path === ROOT_CGROUP) return undefined;
  const dir = new CgroupDir(mount, path);
  const name = `${resource}.pressure`;
  const text = dir.optional(name);
  if (text !== undefined) return text;
  dir.mustExist();
  throw new CgprocfsError('SOURCE_UNREADABLE', `${dir.file(name)} is missing (PSI is disabled)`);
}
