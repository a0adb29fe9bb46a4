// A minimal "container" for e2e tests: new mount + pid namespaces inside a test cgroup, our files bound over /proc.
import type { TestCgroups } from './cgroups.js';
import type { RunOptions, RunResult } from './exec.js';

/** The files a container gets from the mount, as `docker run -v MNT/proc/X:/proc/X` would bind them. */
export const BOUND_PROC_FILES = ['meminfo', 'swaps'] as const;

/** Paths inside the mount bound over the same path from / (default: BOUND_PROC_FILES). */
const DEFAULT_BINDS: readonly string[] = BOUND_PROC_FILES.map((f) => `proc/${f}`);

/** What a CPU-aware container binds: every proc file top, uptime and getconf read, and sysfs `online`. */
export const CPU_VIEW_BINDS: readonly string[] = [
  ...['cpuinfo', 'stat', 'uptime', 'loadavg', 'meminfo'].map((f) => `proc/${f}`),
  'sys/devices/system/cpu/online',
];

/**
 * unshare's arguments for running `command` as pid 1 of a fresh pid namespace with its own /proc
 * (--mount-proc) and our files bound over it. --kill-child ties the namespace to unshare's pid,
 * so killing the pid we started ends every process inside. `binds` are paths inside the mount.
 */
export function containerArgs(mountpoint: string, command: readonly string[], binds: readonly string[] = DEFAULT_BINDS): string[] {
  const mounts = binds.map((path) => `mount --bind "$m/${path}" "/${path}"`).join(' && ');
  return [
    '--mount', '--pid', '--fork', '--mount-proc', '--kill-child',
    'sh', '-c', `m=$1; shift; ${mounts} && exec "$@"`, 'container', mountpoint, ...command,
  ];
}

/** Runs `command` in a container whose init lives in cgroup `rel`. */
export function runInContainer(
  cgroups: TestCgroups,
  rel: string,
  mountpoint: string,
  command: readonly string[],
  opts: RunOptions = {},
  binds: readonly string[] = DEFAULT_BINDS,
): Promise<RunResult> {
  return cgroups.run(rel, 'unshare', containerArgs(mountpoint, command, binds), opts);
}
