// Finds the init of a pid namespace (the process whose innermost NSpid is 1) as the
// daemon sees it, without fork or setns: walk up the parents while they stay in the
// namespace, else scan the proc root. Results are cached per namespace with a bound,
// and every hit is re-checked because pids are reused.
import { LruMap } from '../shared/lru.js';
import { isNamespaceInit, type ProcessFiles } from './process.js';

/** One entry per live container is plenty; lxcfs sizes its init store the same. */
export const INIT_CACHE_CAPACITY = 4096;
/** Deeper than any real process tree; guards against a corrupt or cyclic proc root. */
const MAX_ANCESTRY_STEPS = 4096;

export class NamespaceInits {
  private readonly cache: LruMap<string, number>;

  constructor(
    private readonly processes: ProcessFiles,
    capacity = INIT_CACHE_CAPACITY,
  ) {
    this.cache = new LruMap(capacity);
  }

  /** The init pid of namespace `ns`, starting the search at `tid` (a thread in it). */
  find(ns: string, tid: number): number | undefined {
    const cached = this.cache.get(ns);
    if (cached !== undefined && this.isInitOf(cached, ns)) return cached;
    this.cache.delete(ns);
    const init = this.walkUp(ns, tid) ?? this.scan(ns);
    if (init !== undefined) this.cache.set(ns, init);
    return init;
  }

  /** Still true after a pid is reused only if the new process is that namespace's init. */
  private isInitOf(pid: number, ns: string): boolean {
    if (tolerant(() => this.processes.pidNamespace(pid)) !== ns) return false;
    const status = tolerant(() => this.processes.status(pid));
    return status !== undefined && isNamespaceInit(status);
  }

  /** Thread -> its process -> parents, while they stay in `ns`. */
  private walkUp(ns: string, tid: number): number | undefined {
    let pid = tid;
    for (let step = 0; step < MAX_ANCESTRY_STEPS; step++) {
      const status = this.processes.status(pid);
      if (status === undefined) return undefined;
      if (isNamespaceInit(status)) return pid;
      const next = status.tgid !== pid ? status.tgid : status.ppid;
      // A `docker exec`/nsenter'd process has its parent outside the namespace.
      if (next <= 0 || tolerant(() => this.processes.pidNamespace(next)) !== ns) return undefined;
      pid = next;
    }
    return undefined;
  }

  private scan(ns: string): number | undefined {
    return this.processes.listedPids().find((pid) => this.isInitOf(pid, ns));
  }
}

/** Another process's files: unreadable (gone, or not ours to inspect) is simply not a match. */
export function tolerant<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
