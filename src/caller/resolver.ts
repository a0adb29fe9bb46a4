// From the thread id in a FUSE request to the cgroups whose view it gets. Policy
// `init` (lxcfs's choice): the init of the caller's pid namespace, or the caller
// itself when it shares the daemon's namespace. Policy `caller`: the caller itself.
// Membership is read at every call, never cached: a moved process sees its new
// cgroup at its next open, and a reused pid never inherits a stale view. Who a
// thread's view comes from may be cached (task-cache.ts), checked at every use.
import { CgprocfsError } from '../errors.js';
import { NamespaceInits } from './namespace-init.js';
import { ProcessFiles } from './process.js';
import { TaskCache } from './task-cache.js';
import { targetOf, type ViewTarget, type Whose } from './target.js';

export type ResolvePolicy = 'init' | 'caller';

export interface CallerResolver {
  /** Whose view thread `tid` gets; CALLER_UNKNOWN when it is gone. */
  targetFor(tid: number): ViewTarget;
}

export interface ResolverOptions {
  /** Threads whose `Whose` is remembered (0: resolve every time). */
  cacheSize?: number;
}

function unknownCaller(tid: number, why: string): CgprocfsError {
  return new CgprocfsError('CALLER_UNKNOWN', `caller ${tid} ${why}`);
}

function daemonNamespace(processes: ProcessFiles): string {
  const ns = processes.pidNamespace('self');
  if (ns === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `${processes.procRoot}/self/ns/pid is missing`);
  return ns;
}

/** Decides whose view a thread gets, without caching anything but namespace inits. */
function whoseViewFinder(processes: ProcessFiles, policy: ResolvePolicy): (tid: number) => Whose {
  if (policy === 'caller') return (tid) => ({ pid: tid, containerInit: false });
  const hostNamespace = daemonNamespace(processes);
  const inits = new NamespaceInits(processes);
  return (tid) => {
    const ns = processes.pidNamespace(tid);
    if (ns === undefined) throw unknownCaller(tid, 'is gone');
    if (ns === hostNamespace) return { pid: tid, containerInit: false };
    const init = inits.find(ns, tid);
    // No init found (the namespace is being torn down): like lxcfs, the caller's own view.
    return init === undefined ? { pid: tid, containerInit: false } : { pid: init, containerInit: true };
  };
}

export function createCallerResolver(procRoot: string, policy: ResolvePolicy, options: ResolverOptions = {}): CallerResolver {
  const processes = new ProcessFiles(procRoot);
  const whoseView = whoseViewFinder(processes, policy);
  const fresh = (tid: number): ViewTarget => {
    const whose = whoseView(tid);
    const text = processes.cgroupText(whose.pid);
    if (text === undefined) throw unknownCaller(tid, whose.pid === tid ? 'is gone' : `lost its init ${whose.pid}`);
    return targetOf(whose, text, `${procRoot}/${whose.pid}/cgroup`);
  };
  if (!options.cacheSize) return { targetFor: (tid) => fresh(checkedTid(tid)) };
  const cache = new TaskCache(procRoot, options.cacheSize);
  return {
    targetFor(tid) {
      checkedTid(tid);
      const known = cache.targetFor(tid);
      if (known) return known;
      // Remembered before the membership is read, so the descriptors' view and the
      // returned one are the same reading.
      return cache.remember(tid, whoseView(tid)) ?? fresh(tid);
    },
  };
}

/** The kernel sends pid 0 when the caller's pid namespace is not visible from ours. */
function checkedTid(tid: number): number {
  if (!Number.isSafeInteger(tid) || tid <= 0) throw unknownCaller(tid, 'is not visible from our pid namespace');
  return tid;
}
