// What cgprocfs-runc changes in a bundle's config.json (the OCI runtime spec), as pure
// functions: whether a container wants cgprocfs (its annotations and environment, as
// nvidia-container-toolkit reads NVIDIA_VISIBLE_DEVICES), and the spec with our binds
// appended (after the runtime's own /proc and /sys mounts, so they land on top).

import { posix } from 'node:path';
import type { BindMount } from '../files/binds.js';
import { emptyObject, isJsonObject, type JsonObject, type JsonValue } from '../shared/lossless-json.js';

/** Docker 20.10 has no --annotation: the environment variables are the way there. */
export const ENABLE_ANNOTATION = 'io.cgprocfs.enable';
export const ENABLE_ENV = 'CGPROCFS_ENABLE';
export const PRELOAD_ANNOTATION = 'io.cgprocfs.preload';
export const PRELOAD_ENV = 'CGPROCFS_PRELOAD';

/** The options `docker run --mount type=bind,...,readonly` gives a bind (runc makes it read-only by a remount). */
const BIND_OPTIONS = ['rbind', 'ro', 'rprivate'];
/** A container that binds something here itself (explicit flags) is left as it is. */
const EXPLICIT_MARKER = '/proc/meminfo';

const OFF = /^(0|false|no|off)$/i;
const ON = /^(1|true|yes|on)$/i;

/** The spec does not have the shape runc would accept; the container is left as it is. */
export class SpecShapeError extends Error {
  override name = 'SpecShapeError';
}

export type Choice = { wanted: false; why: string } | { wanted: true; preload: boolean };

function annotation(spec: JsonObject, name: string): string | undefined {
  const annotations = spec.annotations;
  if (annotations === undefined || annotations === null) return undefined;
  if (!isJsonObject(annotations)) throw new SpecShapeError('annotations is not an object');
  const value = annotations[name];
  return typeof value === 'string' ? value : undefined;
}

function environment(spec: JsonObject): string[] | undefined {
  const process = spec.process;
  if (process === undefined || process === null) return undefined;
  if (!isJsonObject(process)) throw new SpecShapeError('process is not an object');
  const env = process.env;
  if (env === undefined || env === null) return undefined;
  if (!Array.isArray(env) || !env.every((entry) => typeof entry === 'string')) throw new SpecShapeError('process.env is not a list of strings');
  return env as string[];
}

/** The last value of NAME in an execve-style environment (engines write each name once). */
function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  const prefix = `${name}=`;
  return env?.findLast((entry) => entry.startsWith(prefix))?.slice(prefix.length);
}

function mounts(spec: JsonObject): JsonObject[] {
  const list = spec.mounts;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every(isJsonObject)) throw new SpecShapeError('mounts is not a list of objects');
  return list as JsonObject[];
}

/** A mount's destination as an absolute, normalized path (the spec allows relative ones). */
function destinationOf(mount: JsonObject): string | undefined {
  const destination = mount.destination;
  if (typeof destination !== 'string') return undefined;
  return posix.normalize(`/${destination}`).replace(/(.)\/+$/, '$1');
}

/** Whether the container wants cgprocfs, and the preload library. */
export function readChoice(spec: JsonValue): Choice {
  if (!isJsonObject(spec)) throw new SpecShapeError('config.json is not an object');
  const env = environment(spec);
  const enable = annotation(spec, ENABLE_ANNOTATION);
  if (enable !== undefined && OFF.test(enable)) return { wanted: false, why: `annotation ${ENABLE_ANNOTATION}=${enable}` };
  const enableEnv = envValue(env, ENABLE_ENV);
  if (enableEnv !== undefined && OFF.test(enableEnv)) return { wanted: false, why: `environment ${ENABLE_ENV}=${enableEnv}` };
  if (mounts(spec).some((m) => destinationOf(m) === EXPLICIT_MARKER)) return { wanted: false, why: `it binds ${EXPLICIT_MARKER} itself` };
  const preload = [annotation(spec, PRELOAD_ANNOTATION), envValue(env, PRELOAD_ENV)].some((v) => v !== undefined && ON.test(v));
  return { wanted: true, preload };
}

export interface Addition {
  binds: readonly BindMount[];
  /** The preload library's bind; its target also goes first in LD_PRELOAD. */
  preload?: BindMount;
}

/** True when `destination` is `target` or below it: a mount of the container's own there stays visible. */
function covers(target: string, destination: string): boolean {
  return destination === target || destination.startsWith(`${target}/`);
}

function withPreloadEnv(spec: JsonObject, process: JsonObject, library: string): JsonObject {
  const env = environment(spec) ?? [];
  const current = envValue(env, 'LD_PRELOAD');
  if (current !== undefined && current.split(/[ :]/).includes(library)) return spec;
  // glibc splits LD_PRELOAD at colons and spaces; ours goes first, the image's stay.
  const value = current ? `${library}:${current}` : library;
  const others = env.filter((entry) => !entry.startsWith('LD_PRELOAD='));
  const edited = Object.assign(emptyObject(), process, { env: [...others, `LD_PRELOAD=${value}`] });
  return Object.assign(emptyObject(), spec, { process: edited });
}

/**
 * The spec with `addition`'s binds appended, each but those whose target the container
 * already mounts something at or below (its own mount stays visible), and LD_PRELOAD set
 * when the preload library is bound. Returns the spec and the targets bound; `spec` itself
 * is not changed.
 */
export function addBinds(spec: JsonValue, addition: Addition): { spec: JsonObject; bound: string[] } {
  if (!isJsonObject(spec)) throw new SpecShapeError('config.json is not an object');
  const existing = mounts(spec).map(destinationOf).filter((d): d is string => d !== undefined);
  // Without a process (runc refuses such a spec anyway) there is no environment to preload through.
  const process = spec.process;
  const preload = isJsonObject(process) ? addition.preload : undefined;
  const wanted = preload ? [...addition.binds, preload] : [...addition.binds];
  const added = wanted.filter((bind) => !existing.some((destination) => covers(bind.dst, destination)));
  const entries = added.map((bind) => Object.assign(emptyObject(), { destination: bind.dst, type: 'bind', source: bind.src, options: [...BIND_OPTIONS] }));
  const edited = Object.assign(emptyObject(), spec, { mounts: [...mounts(spec), ...entries] });
  const withEnv = preload && isJsonObject(process) && added.includes(preload) ? withPreloadEnv(edited, process, preload.dst) : edited;
  return { spec: withEnv, bound: added.map((bind) => bind.dst) };
}
