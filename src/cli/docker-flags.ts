// `cgprocfs docker-flags`: the `docker run` flags that bind a live mount's files over a
// container's /proc and /sys/devices/system/cpu. `--mount ...,readonly`, never `-v`: with
// `-v` a missing source is created on the host as a directory and the container then fails
// with "not a directory" (issue 7). Only targets runc accepts inside /proc are offered.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_MOUNTPOINT } from '../daemon/config.js';
import { CgprocfsError } from '../errors.js';
import { bindsFrom, PRELOAD_LIBRARY, PRELOAD_TARGET, RUNC_TARGETS, type BindMount } from '../files/binds.js';
import { assertLiveMount, canonicalMountpoint } from '../fuse/mount.js';

export const FLAG_FORMATS = ['lines', 'args'] as const;
export type FlagFormat = (typeof FLAG_FORMATS)[number];

// Docker splits --mount on commas and unquoted `$(...)` output on whitespace and globs it:
// a path with any other character could not be passed through both intact.
export const SAFE_PATH = /^\/[A-Za-z0-9._/@%+:=~-]*$/;

/** The binds of the targets runc accepts (files/binds.ts) that `exists` accepts, in their order. */
export function dockerBinds(mountpoint: string, exists: (treePath: string) => boolean): BindMount[] {
  return bindsFrom(mountpoint, RUNC_TARGETS, exists);
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
  if (binds.length === 0) throw new CgprocfsError('MOUNTPOINT', `${where} is mounted but offers none of ${RUNC_TARGETS.join(', ')}`);
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

