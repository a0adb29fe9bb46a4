// The guest's root image: Debian <suite> (the host's, so that the host's node binary runs in it) made
// with debootstrap from the mirror apt uses, with Docker, the kernel's modules, the host's node, our
// PID 1 (guest/init.sh) and the test images' trees as tarballs for the runtime tests to import (the
// guest has no network). Built once per recipe into an ext4 image under the tier's cache; a run opens it
// with snapshot=on, so runs never change it.
import { chmodSync, copyFileSync, cpSync, createReadStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runOk } from '../e2e/harness/exec.js';
import { debianMirror, hostSuite, imageTag, removeTree, writeImageTarball, type ImageName } from '../runtime/images.js';
import { BUILD_DIR, DEBS_DIR, GUEST_SCRIPTS, IMAGES_DIR, log, publish, recipeKey, seconds } from './cache.js';
import { ensureKernel, type Kernel } from './kernel.js';

/** Bump when the build steps below change in a way the recipe's fields do not show. */
const STEPS = 1;
/**
 * What the tier runs in the guest needs: kmod and the kernel's modules, Docker (docker.io, and iptables,
 * which dockerd looks for), procps and util-linux for the tools the e2e tests run, debootstrap because
 * the runtime harness checks it is installed before it imports the image tarballs.
 */
const GUEST_PACKAGES = ['kmod', 'procps', 'util-linux', 'iproute2', 'docker.io', 'iptables', 'debootstrap', 'psmisc'] as const;
/** Loaded at boot: FUSE, and what dockerd's overlay2 storage and its (unused) networking probe for. */
const MODULES = ['fuse', 'overlay', 'veth', 'bridge', 'br_netfilter', 'nf_tables', 'nft_compat', 'nf_nat', 'nf_conntrack', 'ip_tables', 'iptable_nat', 'iptable_filter'] as const;
/** The runtime tests' images (test/runtime/images.ts), imported in the guest from these tarballs. */
const TEST_IMAGES: readonly ImageName[] = ['procps', 'systemd'];
/**
 * The cgroupfs driver (no systemd in the guest) and overlay2. Networking is off by the flags
 * test/runtime/engine.ts starts dockerd with (dockerd refuses a setting made both ways).
 */
const DOCKER_CONFIG = { 'storage-driver': 'overlay2', 'exec-opts': ['native.cgroupdriver=cgroupfs'] };
/** Sparse: the tree is about 700 MB; the rest is room for Docker's layers, a swap file and the tests. */
const ROOT_IMAGE_SIZE = '8G';
const DEBOOTSTRAP_TIMEOUT_MS = 30 * 60_000;

export interface GuestImage {
  readonly key: string;
  readonly kernel: Kernel;
  /** The ext4 root filesystem. */
  readonly rootfs: string;
  /** True when this run built it. */
  readonly built: boolean;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Everything that decides the image's contents. */
async function recipeOf(kernel: Kernel, suite: string, mirror: string) {
  return {
    steps: STEPS,
    suite,
    mirror,
    kernel: kernel.deb,
    packages: GUEST_PACKAGES,
    modules: MODULES,
    node: { version: process.version, sha256: await sha256(process.execPath) },
    init: createHash('sha256').update(readFileSync(join(GUEST_SCRIPTS, 'init.sh'))).digest('hex'),
    testImages: TEST_IMAGES.map((name) => imageTag(name)),
    docker: DOCKER_CONFIG,
  };
}

/** debootstrap of the guest's root into `root` (an empty directory), its downloads kept for the next build. */
async function debootstrap(root: string, suite: string, mirror: string): Promise<void> {
  const cache = join(DEBS_DIR, `debootstrap-${suite}`);
  mkdirSync(cache, { recursive: true });
  const args = ['--variant=minbase', `--cache-dir=${cache}`, `--include=${GUEST_PACKAGES.join(',')}`, suite, root, mirror];
  await runOk('debootstrap', args, { timeoutMs: DEBOOTSTRAP_TIMEOUT_MS });
}

/** The test images' tarballs, made beside the root (debootstrap wants its target to itself), then moved in. */
async function testImageTarballs(staging: string): Promise<void> {
  await Promise.all(TEST_IMAGES.map((name) => writeImageTarball(name, staging)));
}

/** Kernel modules, the host's node, the init, Docker's and the guest's configuration. */
async function furnish(root: string, kernel: Kernel): Promise<void> {
  const modules = join(root, 'lib/modules', kernel.release);
  cpSync(kernel.modules, modules, { recursive: true });
  await runOk('chroot', [root, '/sbin/depmod', kernel.release], { timeoutMs: 5 * 60_000 });
  mkdirSync(join(root, 'etc/cgprocfs-v2'), { recursive: true });
  writeFileSync(join(root, 'etc/cgprocfs-v2/modules'), `${MODULES.join('\n')}\n`);
  // Debian 12's own nodejs is 18, below the project's engines (>= 20): the host's binary, same glibc.
  copyFileSync(process.execPath, join(root, 'usr/local/bin/node'));
  chmodSync(join(root, 'usr/local/bin/node'), 0o755);
  copyFileSync(join(GUEST_SCRIPTS, 'init.sh'), join(root, 'sbin/cgprocfs-v2-init'));
  chmodSync(join(root, 'sbin/cgprocfs-v2-init'), 0o755);
  mkdirSync(join(root, 'etc/docker'), { recursive: true });
  writeFileSync(join(root, 'etc/docker/daemon.json'), `${JSON.stringify(DOCKER_CONFIG)}\n`);
  writeFileSync(join(root, 'etc/hostname'), 'cgprocfs-v2\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost cgprocfs-v2\n::1 localhost\n');
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  // apt's downloads and lists: about 100 MB the guest never uses.
  await runOk('sh', ['-c', 'cd "$1" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* usr/share/man/*', 'trim', root]);
}

function moveTree(from: string, to: string): void {
  cpSync(from, to, { recursive: true, force: false, errorOnExist: false });
  rmSync(from, { recursive: true, force: true });
}

async function build(final: string, kernel: Kernel, suite: string, mirror: string, recipe: unknown): Promise<void> {
  const work = join(BUILD_DIR, `image-${process.pid}`);
  const [root, staging] = [join(work, 'root'), join(work, 'tarballs')];
  mkdirSync(work, { recursive: true });
  try {
    const started = Date.now();
    log(`image: debootstrap ${suite} (+ ${GUEST_PACKAGES.join(' ')}) and the test images ${TEST_IMAGES.join(', ')}, from ${mirror}`);
    await Promise.all([debootstrap(root, suite, mirror), testImageTarballs(staging)]);
    log(`image: debootstraps done in ${seconds(started)}`);
    moveTree(staging, root);
    await furnish(root, kernel);
    await publish(final, async (tmp) => {
      const image = join(tmp, 'rootfs.img');
      await runOk('truncate', ['-s', ROOT_IMAGE_SIZE, image]);
      await runOk('mkfs.ext4', ['-q', '-F', '-L', 'cgprocfs-v2', '-E', 'root_owner=0:0', '-d', root, image], { timeoutMs: 10 * 60_000 });
      writeFileSync(join(tmp, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
    });
    log(`image: built in ${seconds(started)}: ${final} (${(statSync(join(final, 'rootfs.img')).blocks * 512 / 2 ** 20).toFixed(0)} MB used)`);
  } finally {
    await removeTree(work);
  }
}

/** The image for the host's suite and the current backports kernel: reused when its recipe was built before. */
export async function ensureImage(): Promise<GuestImage> {
  const suite = hostSuite();
  const mirror = debianMirror(suite);
  const kernel = await ensureKernel(mirror, suite);
  const recipe = await recipeOf(kernel, suite, mirror);
  const key = recipeKey(recipe);
  const final = join(IMAGES_DIR, key);
  const rootfs = join(final, 'rootfs.img');
  let built = false;
  try {
    statSync(rootfs);
  } catch {
    await build(final, kernel, suite, mirror, recipe);
    built = true;
  }
  return { key, kernel, rootfs, built };
}
