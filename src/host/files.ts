// Synchronous reads of kernel pseudo-files (/proc, /sys/fs/cgroup) for the domain.
// The domain runs in worker threads that serve in blocking loops, so nothing here
// may go through the libuv threadpool; a file that does not exist is "absent"
// (undefined), any other failure is a SOURCE_UNREADABLE catalogue error.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { CgprocfsError, systemErrorCode } from '../errors.js';
import { HeldFiles, heldFilesCapacity } from './held-files.js';

// ESRCH: a /proc/<pid> file of a process that exits while we read it.
const ABSENT_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ESRCH']);

export function isAbsentError(error: unknown): boolean {
  const code = systemErrorCode(error);
  return code !== undefined && ABSENT_ERRNOS.has(code);
}

function attempt<T>(path: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (isAbsentError(error)) return undefined;
    throw new CgprocfsError('SOURCE_UNREADABLE', `cannot read ${path}`, { cause: error });
  }
}

/** /proc/self/limits, or undefined where it cannot be read. */
function ownLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * One set per thread (each worker thread loads its own copy of this module). A serving
 * thread holds up to 1,024 descriptors, the files of about a hundred views read at
 * once; reads beyond that cost an open each, as without holding. A main thread reads
 * for the load sampler, every 5 s, past the age at which a descriptor is reopened
 * anyway, so it holds few. 2 s bounds the one change a held descriptor does not see
 * (held-files.ts).
 */
const pseudoFiles = new HeldFiles({
  capacity: heldFilesCapacity(isMainThread ? 64 : 1024, ownLimits()),
  maxAgeMs: 2000,
});

export interface ReadOptions {
  /**
   * False for a file read once (a task's status, read when the task is first seen):
   * holding its descriptor would only push out one that is read again.
   */
  readonly hold?: boolean;
}

/** The file's text, or undefined when it does not exist. */
export function readOptionalText(path: string, options: ReadOptions = {}): string | undefined {
  return attempt(path, () => pseudoFiles.read(path, options.hold ?? true));
}

/** The file's text; a missing file is a SOURCE_UNREADABLE error. */
export function readText(path: string): string {
  const text = readOptionalText(path);
  if (text === undefined) throw new CgprocfsError('SOURCE_UNREADABLE', `${path} does not exist`);
  return text;
}

/** A symlink's target (e.g. `pid:[4026531836]`), or undefined when it does not exist. */
export function readOptionalLink(path: string): string | undefined {
  return attempt(path, () => readlinkSync(path));
}

/** The non-empty lines of a pseudo-file, which always ends in a newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}

/** The error for a kernel file whose text is not what its format says. */
export function unparsable(source: string, text: string, what = ''): CgprocfsError {
  return new CgprocfsError('SOURCE_UNREADABLE', `${source}: cannot parse ${what}${JSON.stringify(text.trim().slice(0, 80))}`);
}

/** Names of the directories in `dir`; none when `dir` is gone (a cgroup removed while we walk it). */
export function subdirectoryNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (isAbsentError(error)) return [];
    throw error;
  }
}
