// Which cgroup layout a host has and where each controller lives: a cgroup2 tree
// (cgroup.controllers at its top), v1 controller directories, or hybrid (v1
// directories plus a cgroup2 at <root>/unified that owns the controllers no v1
// hierarchy holds). Detected once, from the files, so fixture trees work too.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { isAbsentError, readOptionalText } from '../host/files.js';

export type CgroupVersion = 1 | 2;
export type LayoutKind = 'v1' | 'v2' | 'hybrid';

export interface Hierarchy {
  readonly version: CgroupVersion;
  /** The directory of the hierarchy's root cgroup. */
  readonly mount: string;
}

export interface CgroupLayout {
  readonly kind: LayoutKind;
  readonly root: string;
  readonly controllers: ReadonlyMap<string, Hierarchy>;
}

const CONTROLLERS_FILE = 'cgroup.controllers';
/** Every v1 hierarchy root has it; it tells a hierarchy from a stray directory. */
const V1_HIERARCHY_MARKER = 'cgroup.procs';
/** Where systemd's hybrid mode mounts cgroup2 below the v1 directories. */
const HYBRID_UNIFIED_DIR = 'unified';

function controllersOf(mount: string): string[] | undefined {
  return readOptionalText(join(mount, CONTROLLERS_FILE))?.split(/\s+/).filter(Boolean);
}

function listEntries(root: string): string[] {
  try {
    return readdirSync(root);
  } catch (error) {
    const reason = isAbsentError(error) ? 'does not exist' : 'cannot be listed';
    throw new CgprocfsError('CGROUP_LAYOUT', `cgroup root ${root} ${reason}`, { cause: error });
  }
}

/** v1 hierarchies by controller; `cpu,cpuacct` serves both, a `cpu` link to it wins. */
function v1Hierarchies(root: string): Map<string, Hierarchy> {
  const found = new Map<string, Hierarchy>();
  for (const entry of listEntries(root)) {
    const mount = join(root, entry);
    if (entry === HYBRID_UNIFIED_DIR || !existsSync(join(mount, V1_HIERARCHY_MARKER))) continue;
    for (const controller of entry.split(',')) {
      if (!found.has(controller) || controller === entry) found.set(controller, { version: 1, mount });
    }
  }
  return found;
}

export function detectLayout(root: string): CgroupLayout {
  const unifiedTop = controllersOf(root);
  if (unifiedTop !== undefined) {
    const hierarchy: Hierarchy = { version: 2, mount: root };
    return { kind: 'v2', root, controllers: new Map(unifiedTop.map((name) => [name, hierarchy])) };
  }
  const controllers = v1Hierarchies(root);
  if (controllers.size === 0) {
    throw new CgprocfsError('CGROUP_LAYOUT', `${root} has neither ${CONTROLLERS_FILE} nor v1 controller directories`);
  }
  const unifiedMount = join(root, HYBRID_UNIFIED_DIR);
  const unified = controllersOf(unifiedMount);
  if (unified === undefined) return { kind: 'v1', root, controllers };
  for (const name of unified) {
    if (!controllers.has(name)) controllers.set(name, { version: 2, mount: unifiedMount });
  }
  return { kind: 'hybrid', root, controllers };
}

/** The hierarchy that holds `controller`; a layout without it is a CGROUP_LAYOUT error. */
export function hierarchyOf(layout: CgroupLayout, controller: string): Hierarchy {
  const hierarchy = layout.controllers.get(controller);
  if (hierarchy === undefined) {
    throw new CgprocfsError('CGROUP_LAYOUT', `no ${controller} controller under ${layout.root}`);
  }
  return hierarchy;
}

/**
 * The directory of the cgroup2 hierarchy's root: the tree on a v2 host, `unified/` on
 * a hybrid one (present even when it holds no controller: its core files, such as the
 * PSI `*.pressure` files, exist in every cgroup), undefined on a pure v1 host.
 */
export function cgroup2Mount(layout: CgroupLayout): string | undefined {
  if (layout.kind === 'v2') return layout.root;
  return layout.kind === 'hybrid' ? join(layout.root, HYBRID_UNIFIED_DIR) : undefined;
}

/** For the startup log: the layout kind and each controller's version. */
export function describeLayout(layout: CgroupLayout): Record<string, unknown> {
  const controllers = Object.fromEntries(
    [...layout.controllers].sort(([a], [b]) => a.localeCompare(b)).map(([name, h]) => [name, `v${h.version}`]),
  );
  return { kind: layout.kind, cgroupRoot: layout.root, controllers };
}
