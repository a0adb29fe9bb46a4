// The guest's kernel: Debian's cloud kernel from <suite>-backports (6.12 for bookworm: FUSE_NOTIFY_RESEND
// needs >= 6.9), fetched from the mirror apt uses through a private apt state (its own sources list, lists
// and caches under the tier's cache), so the host's apt configuration is never changed. Unpacked once per
// package version: vmlinuz, and the modules the root image gets.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { run, runOk } from '../e2e/harness/exec.js';
import { APT_DIR, DEBS_DIR, KERNELS_DIR, log, publish } from './cache.js';

/** The metapackage that names the newest cloud kernel: virtio, NVMe and ext4 built in, no initramfs needed. */
const KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
const APT_TIMEOUT_MS = 10 * 60_000;
/** Lists older than this are refreshed, so a new kernel upload is picked up within a week. */
const LISTS_MAX_AGE_MS = 7 * 24 * 3600_000;

export interface Kernel {
  /** `uname -r` of the kernel, e.g. 6.12.95+deb12-cloud-amd64. */
  readonly release: string;
  /** The file name of the .deb it came from: part of the image's recipe. */
  readonly deb: string;
  readonly vmlinuz: string;
  /** lib/modules/<release> of the unpacked package. */
  readonly modules: string;
}

const LISTS = join(APT_DIR, 'lists');

function aptOptions(): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${join(APT_DIR, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State::Lists=${LISTS}`,
    '-o', `Dir::Cache=${join(APT_DIR, 'cache')}`,
  ];
}

/** Touched after each update: apt dates the lists themselves as the archive dated them. */
const UPDATED = join(APT_DIR, 'updated');

/** How long ago the lists were updated; Infinity when never. */
function listsAgeMs(): number {
  return existsSync(UPDATED) ? Date.now() - statSync(UPDATED).mtimeMs : Infinity;
}

/** Refreshes the private lists of `<suite>-backports` when missing, stale or for another mirror. */
async function refreshLists(mirror: string, suite: string): Promise<void> {
  const sources = `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite}-backports main\n`;
  const sourcesFile = join(APT_DIR, 'sources.list');
  const same = existsSync(sourcesFile) && readFileSync(sourcesFile, 'utf8') === sources;
  if (same && listsAgeMs() < LISTS_MAX_AGE_MS) return;
  mkdirSync(join(LISTS, 'partial'), { recursive: true });
  mkdirSync(join(APT_DIR, 'cache', 'archives', 'partial'), { recursive: true });
  writeFileSync(sourcesFile, sources);
  log(`kernel: apt-get update of ${suite}-backports (private lists under ${APT_DIR})`);
  await runOk('apt-get', [...aptOptions(), 'update', '-q'], { timeoutMs: APT_TIMEOUT_MS });
  writeFileSync(UPDATED, `${new Date().toISOString()}\n`);
}

/** The versioned kernel package the metapackage depends on now, e.g. linux-image-6.12.95+deb12-cloud-amd64. */
async function currentKernelPackage(): Promise<string> {
  const depends = await runOk('apt-cache', [...aptOptions(), 'depends', KERNEL_METAPACKAGE], { timeoutMs: 60_000 });
  const name = /Depends: (linux-image-\S+)/.exec(depends)?.[1];
  if (name === undefined) throw new Error(`apt-cache depends ${KERNEL_METAPACKAGE} named no kernel:\n${depends}`);
  return name;
}

async function download(pkg: string): Promise<string> {
  mkdirSync(DEBS_DIR, { recursive: true });
  const have = () => readdirSync(DEBS_DIR).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  const found = have();
  if (found) return join(DEBS_DIR, found);
  log(`kernel: downloading ${pkg}`);
  // apt-get download writes into the working directory; as root it warns that _apt cannot sandbox it.
  const r = await run('apt-get', [...aptOptions(), 'download', pkg], { cwd: DEBS_DIR, timeoutMs: APT_TIMEOUT_MS });
  const got = have();
  if (r.code !== 0 || got === undefined) throw new Error(`apt-get download ${pkg} failed:\n${r.stdout}${r.stderr}`);
  return join(DEBS_DIR, got);
}

/** The cloud kernel of `<suite>-backports` from `mirror`, downloaded and unpacked (each once). */
export async function ensureKernel(mirror: string, suite: string): Promise<Kernel> {
  await refreshLists(mirror, suite);
  const deb = await download(await currentKernelPackage());
  const dir = join(KERNELS_DIR, basename(deb, '.deb'));
  if (!existsSync(dir)) {
    log(`kernel: unpacking ${basename(deb)}`);
    await publish(dir, async (tmp) => void (await runOk('dpkg-deb', ['-x', deb, tmp], { timeoutMs: 5 * 60_000 })));
  }
  const [release] = readdirSync(join(dir, 'lib/modules'));
  if (release === undefined) throw new Error(`${deb} holds no lib/modules/<release>`);
  return { release, deb: basename(deb), vmlinuz: join(dir, 'boot', `vmlinuz-${release}`), modules: join(dir, 'lib/modules', release) };
}
