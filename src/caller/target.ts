// Whose view a reader gets, as a value: the cgroups it is rendered from, the process they
// were taken from, and the keys that tell two views (and two containers) apart. Built by
// the resolver and by its task cache, which both import it.
import { parseMembership, withoutInitScope } from '../cgroup/membership.js';
import { cgroupViewOf, type CgroupView } from '../cgroup/view.js';

/** Whose view a reader gets: the cgroups, and the process they were taken from. */
export interface ViewTarget {
  /** The cgroups the view is rendered from, resolved once (cgroup/view.ts). */
  readonly cgroups: CgroupView;
  /** Host pid of that process (the pidns init or the caller); undefined for an explicit cgroup. */
  readonly pid: number | undefined;
  /** True when `pid` is the init of a pid namespace other than the daemon's (a container). */
  readonly containerInit: boolean;
  /** Equal for two targets that every view renders alike (for caches of renderings). */
  readonly key: string;
  /**
   * The process whose start is the view's boot when `pid` is not a container's init:
   * an explicit cgroup's oldest task (cgroup-target.ts). Undefined: the host's boot.
   */
  readonly datedBy?: number;
}

/** The process whose cgroups a thread's view shows. */
export interface Whose {
  readonly pid: number;
  readonly containerInit: boolean;
}

/** How a target's key starts: a container's init, or a process seen with its own cgroups. */
const INIT_KEY = 'init ';
const CGROUPS_KEY = 'cgroups\n';

/**
 * What makes two targets the same container, for its share of what the daemon holds
 * (issue 17): the cgroup membership it is rendered from, whatever the init's pid (a
 * container that makes pid namespaces stays one container).
 */
export function containerKeyOf(target: ViewTarget): string {
  const firstLine = target.key.indexOf('\n');
  return target.key.startsWith(INIT_KEY) || target.key.startsWith(CGROUPS_KEY) ? target.key.slice(firstLine + 1) : target.key;
}

/** The view of `whose` given its /proc/<pid>/cgroup text. */
export function targetOf(whose: Whose, cgroupText: string, source: string): ViewTarget {
  const membership = parseMembership(cgroupText, source);
  return {
    cgroups: cgroupViewOf(whose.containerInit ? withoutInitScope(membership) : membership),
    pid: whose.pid,
    containerInit: whose.containerInit,
    key: whose.containerInit ? `${INIT_KEY}${whose.pid}\n${cgroupText}` : `${CGROUPS_KEY}${cgroupText}`,
  };
}

