// cgprocfs-runc: an OCI runtime that engines call exactly as they call runc. For `create`
// and `run` it appends read-only binds of the live mount's files to the bundle's
// config.json, then execs the real runc with the arguments unchanged (same pid, as
// nvidia-container-runtime does); every other call execs runc at once. Nothing here may
// stop a container: whatever goes wrong, runc gets the bundle as it was and one line
// saying why goes to stderr and to runc's --log, unless CGPROCFS_REQUIRE=1 asks to refuse.
// Imports stay few (no yargs, no pino): a runtime waits for this process at every call.

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MOUNTPOINT } from '../daemon/config.js';
import { bindsFrom, PRELOAD_LIBRARY, PRELOAD_TARGET, RUNC_TARGETS, type BindMount } from '../files/binds.js';
import { assertLiveMount, canonicalMountpoint } from '../fuse/mount.js';
import { createsContainer, parseRuncCall, splitWrapperArgs, type RuncCall, type WrapperArgs } from './args.js';
import { parseJson, stringifyJson } from '../shared/lossless-json.js';
import { resolveRunc } from './runc-path.js';
import { addBinds, readChoice } from './spec.js';

export const REQUIRE_ENV = 'CGPROCFS_REQUIRE';
export const MOUNTPOINT_ENV = 'CGPROCFS_MOUNTPOINT';
export const RUNC_ENV = 'CGPROCFS_RUNC';

/** What happened to one bundle. */
export type BundleOutcome =
  | { kind: 'bound'; bound: string[]; note?: string }
  | { kind: 'skipped'; why: string };

export interface BundleRequest {
  bundle: string;
  mountpoint: string;
  /** The preload library, when built (a container may ask for it). */
  preloadLibrary?: string;
}

/**
 * Edits `<bundle>/config.json` for a container that wants cgprocfs and returns what it did;
 * throws, leaving the file as it was, when the mount is not live or the spec cannot be
 * read, parsed or written.
 */
export function prepareBundle({ bundle, mountpoint, preloadLibrary }: BundleRequest): BundleOutcome {
  const file = join(bundle, 'config.json');
  const spec = parseJson(readFileSync(file, 'utf8'));
  const choice = readChoice(spec);
  if (!choice.wanted) return { kind: 'skipped', why: choice.why };
  const where = canonicalMountpoint(mountpoint);
  assertLiveMount(where);
  const binds = bindsFrom(where, RUNC_TARGETS, (path) => existsSync(join(where, path)));
  if (binds.length === 0) throw new Error(`${where} is mounted but offers none of ${RUNC_TARGETS.join(', ')}`);
  const preload: BindMount | undefined = choice.preload && preloadLibrary ? { src: preloadLibrary, dst: PRELOAD_TARGET } : undefined;
  const edited = addBinds(spec, { binds, preload });
  writeReplacing(file, `${stringifyJson(edited.spec)}\n`);
  const note = choice.preload && !preloadLibrary ? `the preload library was not built (${PRELOAD_LIBRARY}), so it is not bound` : undefined;
  return { kind: 'bound', bound: edited.bound, note };
}

/** Writes beside `file` and renames over it, so runc never reads half a file; keeps its mode. */
function writeReplacing(file: string, text: string): void {
  const temporary = `${file}.cgprocfs-${process.pid}`;
  try {
    writeFileSync(temporary, text, { mode: statSync(file).mode & 0o7777, flag: 'wx' });
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One line to stderr (the runtime's log, or the container's stderr) and to runc's --log. */
function report(call: RuncCall, message: string): void {
  const line = `cgprocfs-runc: ${message}`;
  try {
    // Written at once, not through process.stderr, whose errors (a closed pipe) arrive later and would end the process before runc runs.
    writeSync(2, `${line}\n`);
  } catch {
    // Nobody reads our stderr: the runc log below, if any, still gets the line.
  }
  if (!call.log) return;
  try {
    const entry = call.logFormat === 'json'
      ? JSON.stringify({ level: 'warning', msg: line, time: new Date().toISOString() })
      : `time="${new Date().toISOString()}" level=warning msg=${JSON.stringify(line)}`;
    appendFileSync(call.log, `${entry}\n`);
  } catch {
    // runc creates its log itself; not being able to add to it changes nothing.
  }
}

const ON = /^(1|true|yes|on)$/i;

/** How the line names the container: an engine's 64-hex id as `docker ps` shows it. */
function container(call: RuncCall): string {
  if (!call.id) return 'container';
  return `container ${/^[0-9a-f]{64}$/.test(call.id) ? call.id.slice(0, 12) : call.id}`;
}

/** create/run: the bundle edited, or left as it was with a line saying why (or refused). */
function handleCreate(args: WrapperArgs, call: RuncCall, env: NodeJS.ProcessEnv): void {
  const mountpoint = args.mountpoint ?? env[MOUNTPOINT_ENV] ?? DEFAULT_MOUNTPOINT;
  const required = ON.test(env[REQUIRE_ENV] ?? '');
  try {
    const outcome = prepareBundle({
      bundle: call.bundle ?? process.cwd(),
      mountpoint,
      preloadLibrary: existsSync(PRELOAD_LIBRARY) ? PRELOAD_LIBRARY : undefined,
    });
    if (outcome.kind === 'bound' && outcome.note) report(call, `${container(call)}: ${outcome.note}`);
  } catch (err) {
    if (required) {
      report(call, `${container(call)} refused (${REQUIRE_ENV}=${env[REQUIRE_ENV]}): ${errorText(err)}`);
      process.exit(1);
    }
    report(call, `${container(call)} starts without cgprocfs, with the host's /proc files: ${errorText(err)}`);
  }
}

/** Replaces this process with runc (koffi's execve); where koffi cannot load, runs it as a child. */
async function execRunc(runc: string, args: readonly string[], env: NodeJS.ProcessEnv, call: RuncCall): Promise<never> {
  let execve: typeof import('../native/libc.js').execve | undefined;
  try {
    ({ execve } = await import('../native/libc.js'));
  } catch {
    execve = undefined;
  }
  if (execve) {
    try {
      return execve(runc, [runc, ...args], env);
    } catch (err) {
      report(call, `cannot exec ${runc}: ${errorText(err)}`);
      process.exit(127);
    }
  }
  const child = spawnSync(runc, args, { stdio: 'inherit', env });
  if (child.error) report(call, `cannot run ${runc}: ${errorText(child.error)}`);
  process.exit(child.status ?? 127);
}

/** The whole wrapper: argv without node and the script. Returns only by exiting. */
export async function runWrapper(argv: readonly string[], env: NodeJS.ProcessEnv, self: string): Promise<never> {
  const args = splitWrapperArgs(argv);
  const call = parseRuncCall(args.runcArgs);
  // A broken registration: runc still gets everything after the wrapper's own options.
  if (args.problem) report(call, args.problem);
  let runc: string;
  try {
    runc = resolveRunc({ requested: args.runc ?? env[RUNC_ENV], path: env.PATH, self: realpathSync(self) });
  } catch (err) {
    report(call, errorText(err));
    process.exit(127);
  }
  if (createsContainer(call)) handleCreate(args, call, env);
  return execRunc(runc, args.runcArgs, env, call);
}
