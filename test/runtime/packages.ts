// Debian packages the container tests need, installed when missing with apt-get
// (--no-install-recommends; package installs start no services here: policy-rc.d).
import { run, runOk } from '../e2e/harness/exec.js';

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Another apt run (a colleague's, unattended-upgrades) may hold the lock for a while.
const APT_OPTIONS = ['-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300'];
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/** Which runtime needs which packages (reference: container-runtimes.md). */
export const PACKAGES = {
  docker: ['docker.io'],
  images: ['debootstrap'],
  podman: ['podman'],
  nspawn: ['systemd-container'],
  lxc: ['lxc'],
} as const;

async function installed(pkg: string): Promise<boolean> {
  const r = await run('dpkg-query', ['-W', '-f', '${db:Status-Status}', pkg], { timeoutMs: 30_000 });
  return r.code === 0 && r.stdout.trim() === 'installed';
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Installs what is missing of `pkgs`; returns what it installed. Refreshes stale package lists once. */
export async function ensurePackages(pkgs: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of new Set(pkgs)) if (!(await installed(pkg))) missing.push(pkg);
  if (missing.length === 0) return [];
  const install = () =>
    run('apt-get', ['install', ...APT_OPTIONS, ...missing], { env: APT_ENV, timeoutMs: INSTALL_TIMEOUT_MS });
  let r = await install();
  if (r.code !== 0) {
    // A fresh machine may have no package lists, or lists older than the archive.
    await runOk('apt-get', ['update', '-q'], { env: APT_ENV, timeoutMs: INSTALL_TIMEOUT_MS });
    r = await install();
  }
  if (r.code !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed:\n${tail(r.stdout + r.stderr)}`);
  return missing;
}
