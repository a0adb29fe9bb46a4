// Which cgroup a process is in, per controller: parsed from /proc/<pid>/cgroup
// ("hierarchy-ID:controller-list:cgroup-path", cgroups(7)), or one path for every
// controller (`render --cgroup`). Paths are absolute in the hierarchy we read.
import { CgprocfsError } from '../errors.js';
import { lines } from '../host/files.js';
import { ROOT_CGROUP } from './hierarchy.js';
import type { CgroupVersion } from './layout.js';

/** The cgroup path of `controller` on its hierarchy, or undefined when not a member. */
export type CgroupPaths = (controller: string, version: CgroupVersion) => string | undefined;

/** systemd running as a container's init moves itself into this leaf (lxcfs prune_init_slice). */
const INIT_SCOPE = '/init.scope';
/** The v2 line has hierarchy ID 0 and an empty controller list. */
const UNIFIED_LINE_PREFIX = '0::';

interface Membership {
  readonly unified: string | undefined;
  readonly v1: ReadonlyMap<string, string>;
}

function parseLines(text: string, source: string): Membership {
  let unified: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of lines(text)) {
    if (line.startsWith(UNIFIED_LINE_PREFIX)) {
      unified = line.slice(UNIFIED_LINE_PREFIX.length);
      continue;
    }
    // A v1 line may list no controller at all (`10::/`, seen here while another tool
    // mounted a cgroup hierarchy): it names none we read, and must fail no reader.
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (match === null) throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: bad line ${JSON.stringify(line)}`);
    const [, controllers = '', path = ''] = match;
    for (const controller of controllers.split(',').filter(Boolean)) v1.set(controller, path);
  }
  return { unified, v1 };
}

export function parseMembership(text: string, source = 'cgroup membership'): CgroupPaths {
  const membership = parseLines(text, source);
  return (controller, version) => (version === 2 ? membership.unified : membership.v1.get(controller));
}

/** The same path on every hierarchy. */
export function uniformPaths(path: string): CgroupPaths {
  return () => path;
}

/** `paths` with a trailing /init.scope removed, so a systemd container shows its own cgroup. */
export function withoutInitScope(paths: CgroupPaths): CgroupPaths {
  return (controller, version) => {
    const path = paths(controller, version);
    if (path === undefined || !path.endsWith(INIT_SCOPE)) return path;
    return path.slice(0, -INIT_SCOPE.length) || ROOT_CGROUP;
  };
}
