// The state directory is verified before the daemon uses it (issue 18): a root daemon
// that followed a symlink there, or used a directory others can write, would let them
// choose what it overwrites and what counters it trusts. Refused with one line.
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { daemonUid, directoryUnsafety, ensurePrivateDir } from '../shared/private-files.js';
import { arenaDirOf, type ServeConfig } from './config.js';

/** Sticky (like /tmp): others may create names in it but not replace ours. */
const S_ISVTX = 0o1000;

/** `/a/b/c` -> ['/', '/a', '/a/b', '/a/b/c']. */
function prefixes(path: string): string[] {
  const parts = path.split(sep).filter(Boolean);
  return ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

function refuse(stateDir: string, why: string): never {
  throw new CgprocfsError('STATE_DIR_UNSAFE', `--state-dir ${stateDir} ${why}: give a directory that only root can write (the default /run/cgprocfs is)`);
}

/**
 * Why an ancestor of the state directory would let someone else replace it: a
 * directory not root's (or the daemon's), or writable by others without the sticky bit.
 */
function ancestorUnsafety(path: string, uid: number): string | undefined {
  const stat = lstatSync(path);
  if (stat.uid !== 0 && stat.uid !== uid) return `is owned by uid ${stat.uid}`;
  if (stat.isSymbolicLink()) return undefined; // its target is checked as a real path
  if ((stat.mode & 0o022) !== 0 && (stat.mode & S_ISVTX) === 0) return `is writable by others (mode ${(stat.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Makes the state directory if it is missing (mode 0700), then checks it: a directory,
 * not a symlink, owned by the daemon's uid, not writable by group or others, and no
 * ancestor (as given, and as resolved) that someone else could use to replace it.
 * STATE_DIR_UNSAFE otherwise.
 */
export function verifyStateDir(stateDir: string): void {
  const uid = daemonUid();
  const path = resolve(stateDir);
  if (lstatSync(path, { throwIfNoEntry: false }) === undefined) mkdirSync(path, { recursive: true, mode: 0o700 });
  const why = directoryUnsafety(lstatSync(path), uid);
  if (why !== undefined) refuse(stateDir, why);
  const parent = dirname(path);
  for (const ancestor of new Set([...prefixes(parent), ...prefixes(realpathSync(parent))])) {
    const unsafe = ancestorUnsafety(ancestor, uid);
    if (unsafe !== undefined) refuse(stateDir, `is inside ${ancestor}, which ${unsafe}`);
  }
}

/** The mountpoint's arena directory (and `handles/` above it), made or checked like the state directory itself. */
export function prepareArenaDir(config: Pick<ServeConfig, 'stateDir' | 'mountpoint'>): string {
  const dir = arenaDirOf(config);
  ensurePrivateDir(dirname(dir));
  ensurePrivateDir(dir);
  return dir;
}
