// A minimal "container" for e2e tests: new mount + pid namespaces inside a test cgroup, our files bound over /proc.
import type { TestCgroups } from './cgroups.js';
import type { RunOptions, RunResult } from './exec.js';

/** The files a container gets from the mount, as `docker run -v MNT/proc/X:/proc/X` would bind them. */
export const BOUND_PROC_FILES = ['meminfo', 'swaps'] as const;

/**
 * unshare's arguments for running `command` as pid 1 of a fresh pid namespace with its own /proc
 * (--mount-proc) and our files bound over it. --kill-child ties the namespace to unshare's pid,
 * so killing the pid we started ends every process inside.
 */
export function containerArgs(mountpoint: string, command: readonly string[]): string[] {
  const binds = BOUND_PROC_FILES.map((f) => `mount --bind "$m/proc/${f}" /proc/${f}`).join(' && ');
  return [
    '--mount', '--pid', '--fork', '--mount-proc', '--kill-child',
    'sh', '-c', `m=$1; shift; ${binds} && exec "$@"`, 'container', mountpoint, ...command,
  ];
}

/** Runs `command` in a container whose init lives in cgroup `rel`. */
export function runInContainer(
  cgroups: TestCgroups,
  rel: string,
  mountpoint: string,
  command: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return cgroups.run(rel, 'unshare', containerArgs(mountpoint, command), opts);
}
