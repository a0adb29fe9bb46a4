// Test images built from Debian's archive with no registry: debootstrap --variant=minbase
// (from the mirror apt uses) into a build directory, trimmed, then `docker import`; or
// imported from a tarball of that tree made in advance (the v2 guest's images, test/v2).
// The tag carries a hash of the recipe, so a run finds a built image by name and a changed
// recipe builds a new one. Images are kept; half-made build directories are removed, also
// those of killed runs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isAlive, run, runOk } from '../e2e/harness/exec.js';
import { readMountInfo } from '../e2e/harness/mounts.js';
import type { Containers } from './containers.js';
import { STATE_DIR } from './engine.js';

export const IMAGE_NAMES = ['procps', 'systemd'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/** Everything that decides an image's contents; the tag hashes all of it. */
interface Recipe {
  /** Bump when the build steps below change in a way the fields do not show. */
  steps: number;
  suite: string;
  variant: 'minbase';
  packages: readonly string[];
  trim: readonly string[];
}

// apt's caches and lists, docs and locales: about 120 MB down to 76 MB.
const TRIM = ['var/cache/apt/archives/*.deb', 'var/lib/apt/lists/*', 'usr/share/doc/*', 'usr/share/man/*', 'usr/share/locale/*'];
const PACKAGES: Record<ImageName, readonly string[]> = {
  procps: ['procps'],
  systemd: ['procps', 'systemd', 'systemd-sysv', 'dbus'],
};
const BUILD_ROOT = join(STATE_DIR, 'build');
const TARBALLS = join(STATE_DIR, 'tarballs');
const BUILD_TIMEOUT_MS = 20 * 60_000;
const SOURCES_LIST = '/etc/apt/sources.list';
const SOURCES_PARTS = '/etc/apt/sources.list.d';

/** The host's release: the images must share its glibc, so that the host's node runs inside. */
export function hostSuite(): string {
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const codename = /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
  if (!codename) throw new Error('/etc/os-release names no VERSION_CODENAME: cannot choose a Debian suite to debootstrap');
  return codename;
}

export function recipeOf(name: ImageName, suite = hostSuite()): Recipe {
  return { steps: 1, suite, variant: 'minbase', packages: PACKAGES[name], trim: TRIM };
}

export function imageTag(name: ImageName, recipe: Recipe = recipeOf(name)): string {
  const hash = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
  return `cgprocfs-test/${name}:${hash}`;
}

/** Where a prebuilt tree of an image waits as a tarball, imported instead of debootstrapped (the v2 guest has no network). */
export function imageTarball(tag: string): string {
  return join(TARBALLS, `${tag.replace(/[/:]/g, '-')}.tar`);
}

/**
 * The archive URI of `suite` in apt's sources: one-line `deb [options] URI SUITE ...` entries
 * and deb822 stanzas (`URIs:` with `Suites:`), whose other suites (-updates, -security) do not count.
 */
export function mirrorInSources(texts: readonly string[], suite: string): string | undefined {
  for (const text of texts) {
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)) if (m[2] === suite) return m[1];
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (!field('Types').includes('deb') || !field('Suites').includes(suite)) continue;
      const [uri] = field('URIs');
      if (uri) return uri;
    }
  }
  return undefined;
}

function readSources(): string[] {
  let parts: string[] = [];
  try {
    parts = readdirSync(SOURCES_PARTS).filter((f) => /\.(list|sources)$/.test(f)).map((f) => join(SOURCES_PARTS, f));
  } catch {
    // no sources.list.d
  }
  return [SOURCES_LIST, ...parts].flatMap((file) => {
    try {
      return [readFileSync(file, 'utf8')];
    } catch {
      return [];
    }
  });
}

/** The Debian mirror apt uses here for `suite`, so no other host is ever contacted; an error when apt names none. */
export function debianMirror(suite = hostSuite()): string {
  const mirror = mirrorInSources(readSources(), suite);
  if (mirror === undefined) throw new Error(`apt's sources (${SOURCES_LIST}, ${SOURCES_PARTS}/) name no mirror for ${suite}`);
  return mirror.replace(/\/+$/, '');
}

async function imageExists(tag: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { timeoutMs: 30_000 })).code === 0;
}

/**
 * Removes a build directory: first whatever is mounted below it (a debootstrap killed
 * mid-way leaves proc/sys mounted in its target), then the files, never crossing into
 * another filesystem.
 */
export async function removeTree(dir: string): Promise<void> {
  const below = readMountInfo()
    .map((m) => m.mountPoint)
    .filter((mp) => mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mp of below) await run('umount', ['-l', mp], { timeoutMs: 30_000 });
  await runOk('rm', ['-rf', '--one-file-system', dir], { timeoutMs: 120_000 });
}

/** Build directories whose run is gone (the pid in their name is dead). */
async function sweepAbandonedBuilds(): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(BUILD_ROOT);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(/^[a-z]+-(\d+)-/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !isAlive(pid)) await removeTree(join(BUILD_ROOT, entry));
  }
}

/** Debootstraps the image's tree into the empty directory `dir` and trims it. */
async function makeTree(name: ImageName, dir: string): Promise<void> {
  const recipe = recipeOf(name);
  const debootstrap = ['--variant=minbase', `--include=${recipe.packages.join(',')}`, recipe.suite, dir, debianMirror(recipe.suite)];
  await runOk('debootstrap', debootstrap, { timeoutMs: BUILD_TIMEOUT_MS });
  await runOk('sh', ['-c', `cd "$1" && rm -rf ${recipe.trim.join(' ')}`, 'trim', dir]);
}

/** A fresh build directory (named so that the sweep finds it once this run is gone), removed after `use`. */
async function inBuildDir(name: ImageName, use: (dir: string) => Promise<void>): Promise<void> {
  mkdirSync(BUILD_ROOT, { recursive: true });
  const dir = mkdtempSync(join(BUILD_ROOT, `${name}-${process.pid}-`));
  try {
    await use(dir);
  } finally {
    await removeTree(dir);
  }
}

async function build(name: ImageName, tag: string): Promise<void> {
  const tarball = imageTarball(tag);
  if (existsSync(tarball)) {
    const script = 'docker import --change "LABEL org.cgprocfs.test-image=$3" "$1" "$2"';
    await runOk('sh', ['-c', script, 'import', tarball, tag, name], { timeoutMs: 10 * 60_000 });
    return;
  }
  await inBuildDir(name, async (dir) => {
    await makeTree(name, dir);
    const importScript = 'tar -C "$1" --numeric-owner -c . | docker import --change "LABEL org.cgprocfs.test-image=$3" - "$2"';
    await runOk('bash', ['-o', 'pipefail', '-c', importScript, 'import', dir, tag, name], { timeoutMs: 5 * 60_000 });
  });
}

/**
 * Writes the tree of image `name` as a tarball that build() imports in place of a debootstrap,
 * at imageTarball() below `root` (a guest's root directory). Returns the tarball's path.
 */
export async function writeImageTarball(name: ImageName, root: string): Promise<string> {
  const file = join(root, imageTarball(imageTag(name)));
  mkdirSync(dirname(file), { recursive: true });
  await inBuildDir(name, async (dir) => {
    await makeTree(name, dir);
    await runOk('tar', ['-C', dir, '--numeric-owner', '-cf', file, '.'], { timeoutMs: 5 * 60_000 });
  });
  return file;
}

export interface ImageReport {
  tags: Record<ImageName, string>;
  built: ImageName[];
}

/** Makes sure every image in `names` exists, building the missing ones side by side. */
export async function ensureImages(names: readonly ImageName[]): Promise<ImageReport> {
  await sweepAbandonedBuilds();
  const tags = Object.fromEntries(IMAGE_NAMES.map((n) => [n, imageTag(n)])) as Record<ImageName, string>;
  const missing: ImageName[] = [];
  for (const name of new Set(names)) if (!(await imageExists(tags[name]))) missing.push(name);
  const results = await Promise.allSettled(missing.map((name) => build(name, tags[name])));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${missing[i]}: ${(r.reason as Error).message.slice(-2000)}`] : []));
  if (failures.length > 0) throw new Error(`building test images failed:\n${failures.join('\n')}`);
  return { tags, built: missing };
}

/** Unpacks an image's tree into `dir` (for podman --rootfs and nspawn -D), through a container of ours. */
export async function exportImage(tag: string, dir: string, docker: Containers): Promise<void> {
  const name = docker.claimName();
  try {
    await runOk('docker', ['create', '--name', name, '--network', 'none', '--pull', 'never', tag, 'true']);
    const script = 'docker export "$1" | tar -x -C "$2" --numeric-owner';
    await runOk('bash', ['-o', 'pipefail', '-c', script, 'export', name, dir], { timeoutMs: 120_000 });
  } finally {
    await docker.remove(name);
  }
}
