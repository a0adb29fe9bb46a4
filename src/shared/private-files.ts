// Files of the state directory, which a root daemon trusts (issue 18): directories it
// made itself and that only it can write, files opened with O_NOFOLLOW, and new files
// created with O_EXCL under names nobody can predict, so nothing planted in their
// place is ever followed or overwritten.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, writeSync, type Stats } from 'node:fs';
import { CgprocfsError, systemErrorCode } from '../errors.js';

/** open(2) flags: an existing file, never through a symlink. */
export const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
export const WRITE_NOFOLLOW = constants.O_RDWR | constants.O_NOFOLLOW;
/** A new file, never one already there (a symlink included: O_EXCL fails on it). */
export const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The daemon's effective uid: the owner every state file must have. */
export function daemonUid(): number {
  return process.geteuid?.() ?? 0;
}

/** Why `stat` (of an lstat) is no directory the daemon may trust; undefined when it is. */
export function directoryUnsafety(stat: Stats, uid = daemonUid()): string | undefined {
  if (stat.isSymbolicLink()) return 'is a symlink';
  if (!stat.isDirectory()) return 'is not a directory';
  if (stat.uid !== uid) return `is owned by uid ${stat.uid}, not by the daemon's uid ${uid}`;
  if ((stat.mode & 0o022) !== 0) return `is writable by ${(stat.mode & 0o002) !== 0 ? 'others' : 'its group'} (mode ${(stat.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Makes `dir` (mode 0700; its parent must exist) unless it is there, then checks it is
 * a directory of the daemon's that only it can write. STATE_DIR_UNSAFE otherwise.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (systemErrorCode(err) !== 'EEXIST') throw err;
  }
  const why = directoryUnsafety(lstatSync(dir));
  if (why !== undefined) throw new CgprocfsError('STATE_DIR_UNSAFE', `${dir} ${why}: cgprocfs keeps state only in a directory that only it can write`);
}

/** A name beside `path` that nobody can guess, for a file written whole and then renamed or linked. */
export function temporaryName(path: string): string {
  return `${path}.${randomBytes(8).toString('hex')}.tmp`;
}

/** Creates `path` with `text`; EEXIST when anything (a symlink too) is there. */
export function writeNewFile(path: string, text: string | Buffer, mode = 0o600): void {
  const fd = openSync(path, CREATE_NEW, mode);
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
  } finally {
    closeSync(fd);
  }
}

/** The file's text; ELOOP when it is a symlink. */
export function readFileNoFollow(path: string): string {
  const fd = openSync(path, READ_NOFOLLOW);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
