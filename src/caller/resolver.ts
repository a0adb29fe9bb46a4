// From the thread id in a FUSE request to the cgroups whose view it gets. Policy
// `init` (lxcfs's choice): the init of the caller's pid namespace, or the caller
// itself when it shares the daemon's namespace. Policy `caller`: the caller itself.
// Membership is read at every call, never cached: a moved process sees its new
// cgroup at its next open, and a reused pid never inherits a stale view.
import { CgprocfsError } from '../errors.js';
import { parseMembership, withoutInitScope, type CgroupPaths } from '../cgroup/membership.js';
import { NamespaceInits } from './namespace-init.js';
import { ProcessFiles } from './process.js';

export type ResolvePolicy = 'init' | 'caller';

/** Whose view a reader gets: the cgroups, and the process they were taken from. */
export interface ViewTarget {
  readonly paths: CgroupPaths;
  /** Host pid of that process (the pidns init or the caller); undefined for an explicit cgroup. */
  readonly pid: number | undefined;
  /** True when `pid` is the init of a pid namespace other than the daemon's (a container). */
  readonly containerInit: boolean;
}

export interface CallerResolver {
  /** Whose view thread `tid` gets; CALLER_UNKNOWN when it is gone. */
  targetFor(tid: number): ViewTarget;
}

function unknownCaller(tid: number, why: string): CgprocfsError {
  return new CgprocfsError('CALLER_UNKNOWN', `caller ${tid} ${why}`);
}

function membershipOf(processes: ProcessFiles, pid: number, caller: number): CgroupPaths {
  const text = processes.cgroupText(pid);
  if (text === undefined) throw unknownCaller(caller, pid === caller ? 'is gone' : `lost its init ${pid}`);
  return parseMembership(text, `${processes.procRoot}/${pid}/cgroup`);
}

function daemonNamespace(processes: ProcessFiles): string {
  const ns = processes.pidNamespace('self');
  if (ns === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `${processes.procRoot}/self/ns/pid is missing`);
  return ns;
}

export function createCallerResolver(procRoot: string, policy: ResolvePolicy): CallerResolver {
  const processes = new ProcessFiles(procRoot);
  const own = (tid: number): ViewTarget => ({ paths: membershipOf(processes, tid, tid), pid: tid, containerInit: false });
  if (policy === 'caller') return { targetFor: (tid) => own(checkedTid(tid)) };

  const hostNamespace = daemonNamespace(processes);
  const inits = new NamespaceInits(processes);
  return {
    targetFor(tid) {
      const ns = processes.pidNamespace(checkedTid(tid));
      if (ns === undefined) throw unknownCaller(tid, 'is gone');
      if (ns === hostNamespace) return own(tid);
      const init = inits.find(ns, tid);
      // No init found (the namespace is being torn down): like lxcfs, the caller's own view.
      if (init === undefined) return own(tid);
      return { paths: withoutInitScope(membershipOf(processes, init, tid)), pid: init, containerInit: true };
    },
  };
}

/** The kernel sends pid 0 when the caller's pid namespace is not visible from ours. */
function checkedTid(tid: number): number {
  if (!Number.isSafeInteger(tid) || tid <= 0) throw unknownCaller(tid, 'is not visible from our pid namespace');
  return tid;
}
