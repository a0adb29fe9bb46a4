// Where the cgroup v2 test tier keeps what it builds between runs (under /var/tmp, which survives reboots
// on Debian), and the small file helpers its modules share: atomic publication and recipe hashes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../e2e/harness/exec.js';

/** The checkout: the nearest directory above this module with a package.json (from test/v2 or dist-v2/test/v2). */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const DAEMON_BIN = join(REPO_ROOT, 'dist/bin/cgprocfs.js');
/** The guest's own scripts: its PID 1 and the tier's runner. */
export const GUEST_SCRIPTS = join(REPO_ROOT, 'test/v2/guest');

export const CACHE_DIR = process.env['CGPROCFS_V2_CACHE'] ?? '/var/tmp/cgprocfs-v2';
/** apt's private state for the kernel's suite: the host's own sources and lists are never touched. */
export const APT_DIR = join(CACHE_DIR, 'apt');
/** Downloaded packages: the kernel's .deb, debootstrap's cache. */
export const DEBS_DIR = join(CACHE_DIR, 'debs');
export const KERNELS_DIR = join(CACHE_DIR, 'kernels');
export const IMAGES_DIR = join(CACHE_DIR, 'images');
export const RUNS_DIR = join(CACHE_DIR, 'runs');
export const BUILD_DIR = join(CACHE_DIR, 'build');

export const log = (line: string): void => void process.stderr.write(`[test:v2] ${line}\n`);

/** A short, stable name for a recipe: what decides a built thing's contents. */
export function recipeKey(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

/**
 * Builds into a fresh `<final>.<pid>.tmp` and renames it to `final` only when `make` succeeded, so a
 * killed or failed build never leaves a half-made result under the name a later run would reuse.
 */
export async function publish(final: string, make: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${final}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await make(tmp);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

/** Built images kept: the newest few, so a changed recipe does not fill the disk (each is about 1 GB). */
const IMAGES_KEPT = 2;

/** The pid a build directory or temporary result is named after (`image-<pid>`, `<name>.<pid>.tmp`). */
function ownerPid(entry: string): number | undefined {
  const pid = Number(/^image-(\d+)$|\.(\d+)\.tmp$/.exec(entry)?.slice(1).find(Boolean));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Removes what killed runs left (build trees, temporary results: `remove` unmounts what a killed
 * debootstrap left mounted in its target first) and all but the newest built images.
 */
export async function sweepCache(remove: (dir: string) => Promise<void>): Promise<void> {
  for (const parent of [BUILD_DIR, IMAGES_DIR, KERNELS_DIR]) {
    for (const entry of existsSync(parent) ? readdirSync(parent) : []) {
      const pid = ownerPid(entry);
      if (pid !== undefined && !isAlive(pid)) await remove(join(parent, entry));
    }
  }
  const images = existsSync(IMAGES_DIR) ? readdirSync(IMAGES_DIR).filter((e) => /^[0-9a-f]{16}$/.test(e)) : [];
  const newestFirst = images.map((e) => join(IMAGES_DIR, e)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of newestFirst.slice(IMAGES_KEPT)) rmSync(old, { recursive: true, force: true });
}
