// `cgprocfs docker-flags`: the `docker run` flags that bind a live mount's files over a
// container's /proc and /sys/devices/system/cpu. `--mount ...,readonly`, never `-v`: with
// `-v` a missing source is created on the host as a directory and the container then fails
// with "not a directory" (issue 7). Only targets runc accepts inside /proc are offered.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_MOUNTPOINT } from '../daemon/config.js';
import { fileURLToPath } from 'node:url';
import { CgprocfsError } from '../errors.js';
import { canonicalMountpoint, FSTYPE, mountState } from '../fuse/mount.js';

/**
 * Tree paths a container may overlay, in output order. runc refuses every other bind target
 * inside /proc ("cannot be mounted because it is inside /proc"), so vmstat and pressure/*
 * are not here: LXC and systemd-nspawn can bind those (docs/containers.md).
 */
export const DOCKER_TARGETS: readonly string[] = [
  'proc/cpuinfo',
  'proc/diskstats',
  'proc/meminfo',
  'proc/stat',
  'proc/swaps',
  'proc/uptime',
  'proc/loadavg',
  // The whole CPU directory (cpuN entries of the visible CPUs, online, possible...):
  // tools count CPUs from its entries as well as from its lists (issue 9).
  'sys/devices/system/cpu',
  // The NUMA nodes of the visible CPUs, their CPU lists cut (lscpu, libnuma: issue 21).
  'sys/devices/system/node',
];

/** Where the preload library is installed with the daemon, and where a container gets it. */
export const PRELOAD_LIBRARY = fileURLToPath(new URL('../preload/libcgprocfs-preload.so', import.meta.url));
export const PRELOAD_TARGET = '/usr/lib/cgprocfs/libcgprocfs-preload.so';

export const FLAG_FORMATS = ['lines', 'args'] as const;
export type FlagFormat = (typeof FLAG_FORMATS)[number];

export interface BindMount {
  /** The file in the mount, on the host. */
  src: string;
  /** Where it goes in the container: the tree path under `/`. */
  dst: string;
}

// Docker splits --mount on commas and unquoted `$(...)` output on whitespace and globs it:
// a path with any other character could not be passed through both intact.
const SAFE_PATH = /^\/[A-Za-z0-9._/@%+:=~-]*$/;

/** The binds for the targets `exists` accepts, in DOCKER_TARGETS order. */
export function dockerBinds(mountpoint: string, exists: (treePath: string) => boolean): BindMount[] {
  return DOCKER_TARGETS.filter(exists).map((path) => ({ src: join(mountpoint, path), dst: `/${path}` }));
}

/**
 * `lines`: one flag per line; `args`: all of them on one line for `docker run $(...)`.
 * `env` adds `--env NAME=VALUE` flags after the binds.
 */
export function formatDockerFlags(binds: readonly BindMount[], format: FlagFormat, env: Readonly<Record<string, string>> = {}): string {
  const flags = binds.map(({ src, dst }) => {
    const unsafe = [src, dst].find((path) => !SAFE_PATH.test(path));
    if (unsafe !== undefined) {
      throw new CgprocfsError('USAGE', `${unsafe} has characters that docker --mount or shell word splitting would break; use another --mountpoint`);
    }
    return `--mount type=bind,src=${src},dst=${dst},readonly`;
  });
  for (const [name, value] of Object.entries(env)) flags.push(`--env ${name}=${value}`);
  if (flags.length === 0) return '';
  return `${flags.join(format === 'lines' ? '\n' : ' ')}\n`;
}

/** Throws MOUNTPOINT unless a cgprocfs mount at `mountpoint` answers. */
export function assertLiveMount(mountpoint: string): void {
  const state = mountState(mountpoint);
  if (state === 'live') return;
  const why = {
    absent: `no ${FSTYPE} is mounted there; start cgprocfs serve --mountpoint ${mountpoint}`,
    stale: 'its daemon is gone (Transport endpoint is not connected); restart cgprocfs serve',
    unanswered: 'nothing answers it (a restart in progress, or a stuck daemon); try again, or see cgprocfs check',
  }[state];
  throw new CgprocfsError('MOUNTPOINT', `${mountpoint} is not a live cgprocfs mount: ${why}`);
}

/** The bind and environment a container needs to load the preload library (docs/preload.md). */
function preloadFlags(): { bind: BindMount; env: Record<string, string> } {
  if (!existsSync(PRELOAD_LIBRARY)) {
    throw new CgprocfsError('MOUNTPOINT', `the preload library was not built (${PRELOAD_LIBRARY}): install a C compiler (apt-get install gcc libc6-dev) and run npm run build`);
  }
  return { bind: { src: PRELOAD_LIBRARY, dst: PRELOAD_TARGET }, env: { LD_PRELOAD: PRELOAD_TARGET } };
}

export function dockerFlags(mountpoint: string, format: FlagFormat, preload = false): string {
  const where = canonicalMountpoint(mountpoint);
  assertLiveMount(where);
  const binds = dockerBinds(where, (path) => existsSync(join(where, path)));
  if (binds.length === 0) throw new CgprocfsError('MOUNTPOINT', `${where} is mounted but offers none of ${DOCKER_TARGETS.join(', ')}`);
  if (!preload) return formatDockerFlags(binds, format);
  const library = preloadFlags();
  return formatDockerFlags([...binds, library.bind], format, library.env);
}

interface DockerFlagsArgs {
  mountpoint: string;
  format: FlagFormat;
  preload: boolean;
}

/** The command, printing through `stdout` (the CLI's injected output). */
export function makeDockerFlagsCommand(stdout: (text: string) => void): CommandModule<object, DockerFlagsArgs> {
  return {
    command: 'docker-flags',
    describe: 'print docker run --mount flags for the files the live mount offers',
    builder: (y) =>
      y
        .option('mountpoint', { type: 'string', default: DEFAULT_MOUNTPOINT, describe: 'where the tree is mounted' })
        .option('format', { choices: FLAG_FORMATS, default: 'lines' as FlagFormat, describe: 'one flag per line, or one line of arguments' })
        .option('preload', { type: 'boolean', default: false, describe: 'also load the LD_PRELOAD library that answers sysinfo()/sysconf() (docs/preload.md)' })
        .example('docker run $($0 docker-flags --format args) -m 256m debian free -m', 'a container that sees its own memory'),
    handler: (args) => {
      stdout(dockerFlags(args.mountpoint, args.format, args.preload));
    },
  };
}

