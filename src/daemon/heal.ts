// The heal (issue 16): after a stop, a kill or an upgrade of the supervisor, containers
// still bind files of the dead connection and every read fails with ENOTCONN. This finds
// them in every mount namespace of the host and puts a bind of the live mount's same
// file in place of each, read-only like the mount, one worker thread per namespace
// (heal-worker.ts). Run by `serve` once it serves (in a process of its own, never the
// one that serves the mount) and by `cgprocfs heal`.

import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CgprocfsError } from '../errors.js';
import { FSTYPE, mountsAt, type MountEntry } from '../fuse/mount.js';
import { DEFAULT_MOUNTPOINT } from './config.js';
import { mountsOfConnection, planHeal, type HealScope, type LiveMount } from './heal-plan.js';
import type { BindOutcome, HealJob } from './heal-worker.js';
import { containerCgroup, listMountNamespaces, ownMountNamespace, readMounts, type MountNamespace } from './mount-namespaces.js';

const WORKER_ENTRY = fileURLToPath(new URL('./heal-worker.js', import.meta.url));

export interface HealOptions {
  mountpoint: string;
  /** Connections that served this mountpoint before sources named it (see HealScope). */
  legacyDevices?: readonly string[];
  /** Called once per namespace that held dead binds of ours, as soon as it is done. */
  onNamespace?: (outcome: NamespaceOutcome) => void;
  /**
   * false: never try MOVE_MOUNT_BENEATH, as on kernels before 6.5 (detach the dead bind,
   * then mount). By default it is tried, and the older way used where the kernel refuses.
   */
  beneath?: boolean;
}

/** What the heal did in one mount namespace (a container, or one service of a VM-like one). */
export interface NamespaceOutcome {
  namespace: string;
  pid: number;
  cgroup: string;
  healed: Array<{ target: string; how: 'beneath' | 'replaced' }>;
  failed: Array<{ target: string; reason: string }>;
}

export interface HealSummary {
  mountpoint: string;
  namespaces: number;
  /** Namespaces where every dead bind was replaced, and where at least one was not. */
  healedNamespaces: number;
  failedNamespaces: number;
  healedBinds: number;
  failedBinds: number;
  ms: number;
}

/** The live mount at `mountpoint` (the top one), or a plain error that says how to get one. */
export function liveMountAt(mountpoint: string): LiveMount {
  const top = mountsAt(mountpoint).at(-1);
  if (top?.fstype !== FSTYPE) {
    throw new CgprocfsError('NOT_SERVING', `nothing of cgprocfs is mounted at ${mountpoint}: start cgprocfs serve (it heals containers when it starts)`);
  }
  return { mountpoint, device: top.device };
}

function namespaceInode(id: string): number {
  return Number(/\[(\d+)\]/.exec(id)?.[1]);
}

function runWorker(job: HealJob): Promise<BindOutcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_ENTRY, { workerData: job });
    worker.once('message', (message: { outcomes?: BindOutcome[]; error?: string }) => {
      if (message.outcomes) resolve(message.outcomes);
      else reject(new Error(message.error ?? 'the heal worker failed'));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the heal worker exited (${code}) without an answer`)));
  });
}

/** The mount a reader of `target` reaches: the one nothing else is mounted on at that path. */
function topMountAt(mounts: readonly MountEntry[], target: string): MountEntry | undefined {
  const here = mounts.filter((m) => m.mountpoint === target);
  return here.find((m) => !here.some((other) => other.parentId === m.id));
}

async function healNamespace(ns: MountNamespace, scope: HealScope, beneath: boolean): Promise<NamespaceOutcome | undefined> {
  // Read now, not at the start: what a heal mounts and detaches in one namespace
  // propagates to namespaces that receive its mount events (shared or slave mounts).
  const mounts = readMounts(ns);
  if (mounts === undefined) return undefined;
  const plan = planHeal(mounts, scope);
  if (plan.binds.length === 0 && plan.skipped.length === 0) return undefined;
  const outcome: NamespaceOutcome = { namespace: ns.id, pid: ns.pid, cgroup: containerCgroup(ns.pid), healed: [], failed: [...plan.skipped] };
  if (plan.binds.length === 0) return outcome;
  let results: BindOutcome[];
  try {
    const job: HealJob = { pid: ns.pid, namespaceInode: namespaceInode(ns.id), liveMountpoint: scope.live.mountpoint, binds: plan.binds, beneath };
    results = await runWorker(job);
  } catch (err) {
    // A namespace whose last process exited meanwhile needs no heal.
    if (readMounts(ns) === undefined) return undefined;
    const reason = err instanceof Error ? err.message : String(err);
    outcome.failed.push(...plan.binds.map(({ target }) => ({ target, reason })));
    return outcome;
  }
  const after = readMounts(ns) ?? [];
  for (const result of results) {
    if (result.outcome === 'failed') outcome.failed.push({ target: result.target, reason: result.reason });
    else if (topMountAt(after, result.target)?.device !== scope.live.device) outcome.failed.push({ target: result.target, reason: 'the live mount is not what the path shows afterwards' });
    else outcome.healed.push({ target: result.target, how: result.outcome });
  }
  return outcome;
}

/**
 * Replaces every dead bind of this mountpoint's earlier connections, in every mount
 * namespace of the host, with a bind of the live mount's same file. A namespace that
 * cannot be healed is reported, never a reason to stop.
 */
export async function healDeadBinds(options: HealOptions): Promise<HealSummary> {
  const started = Date.now();
  const scope: HealScope = {
    live: liveMountAt(options.mountpoint),
    legacyDevices: new Set(options.legacyDevices ?? []),
    acceptLegacy: options.mountpoint === DEFAULT_MOUNTPOINT,
  };
  const namespaces = listMountNamespaces();
  const summary: HealSummary = { mountpoint: options.mountpoint, namespaces: namespaces.length, healedNamespaces: 0, failedNamespaces: 0, healedBinds: 0, failedBinds: 0, ms: 0 };
  for (const ns of namespaces) {
    const outcome = await healNamespace(ns, scope, options.beneath ?? true);
    if (outcome === undefined) continue;
    summary.healedBinds += outcome.healed.length;
    summary.failedBinds += outcome.failed.length;
    if (outcome.failed.length > 0) summary.failedNamespaces++;
    else summary.healedNamespaces++;
    options.onNamespace?.(outcome);
  }
  summary.ms = Date.now() - started;
  return summary;
}

export interface Holder {
  pid: number;
  namespace: string;
  cgroup: string;
}

/**
 * The mount namespaces (containers, mostly) that bind files of the live connection;
 * the host's own mount at the mountpoint does not count. Their reads fail once the
 * connection ends, until a new daemon heals them.
 */
export function namespacesHolding(live: LiveMount): Holder[] {
  const own = ownMountNamespace();
  return listMountNamespaces().flatMap((ns) => {
    const mounts = readMounts(ns);
    if (!mounts || mountsOfConnection(mounts, live.device, ns.id === own ? live.mountpoint : undefined).length === 0) return [];
    return [{ pid: ns.pid, namespace: ns.id, cgroup: containerCgroup(ns.pid) }];
  });
}
