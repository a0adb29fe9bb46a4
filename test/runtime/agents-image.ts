// The agents image of issue 9: the procps test image plus the monitoring agents users run
// in their containers, installed from Debian's own packages with no network in the build.
// The .debs are fetched on the host by apt-get against the base image's dpkg status (so
// exactly what the image lacks comes down), then `docker build --network none` installs
// them with apt-get (dpkg -i alone fails on pre-dependencies). The tag carries a hash of
// the recipe and of the base image's tag, so a run finds a built image by name and a
// changed recipe or base builds a new one. Images are kept; build directories are not
// (named like images.ts's, so its sweep removes those of killed runs).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from '../e2e/harness/exec.js';
import { STATE_DIR } from './engine.js';
import { removeTree } from './images.js';

/** Debian 12 ships all of them (apt-cache policy: zabbix-agent 1:6.0.14, prometheus-node-exporter 1.5.0, sysstat 12.6.1). */
export const AGENT_PACKAGES = ['zabbix-agent', 'zabbix-agent2', 'prometheus-node-exporter', 'busybox', 'python3-psutil', 'sysstat'] as const;

interface AgentsRecipe {
  /** Bump when the steps below change in a way the fields do not show. */
  steps: number;
  base: string;
  packages: readonly string[];
  aptOptions: readonly string[];
}

const APT_OPTIONS = ['--no-install-recommends'];
const BUILD_ROOT = join(STATE_DIR, 'build');
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const DOWNLOAD_TIMEOUT_MS = 15 * 60_000;
const BUILD_TIMEOUT_MS = 10 * 60_000;

// policy-rc.d keeps the packages' maintainer scripts from starting their services in the build.
const DOCKERFILE = (base: string) => `FROM ${base}
COPY debs /tmp/debs
RUN printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${APT_OPTIONS.join(' ')} /tmp/debs/*.deb \\
 && rm -rf /tmp/debs /usr/sbin/policy-rc.d /var/cache/apt/*.bin /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
`;

export function agentsRecipe(base: string): AgentsRecipe {
  return { steps: 1, base, packages: AGENT_PACKAGES, aptOptions: APT_OPTIONS };
}

export function agentsTag(base: string): string {
  const hash = createHash('sha256').update(JSON.stringify(agentsRecipe(base))).digest('hex').slice(0, 12);
  return `cgprocfs-test/agents:${hash}`;
}

async function imageExists(tag: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { timeoutMs: 30_000 })).code === 0;
}

/** The base image's /var/lib/dpkg/status, copied out of a created (never started) container, removed by id. */
async function copyDpkgStatus(base: string, to: string): Promise<void> {
  const id = (await runOk('docker', ['create', '--network', 'none', '--pull', 'never', base, 'true'], { timeoutMs: 60_000 })).trim();
  try {
    await runOk('docker', ['cp', `${id}:/var/lib/dpkg/status`, to], { timeoutMs: 60_000 });
  } finally {
    const r = await run('docker', ['rm', '-f', id], { timeoutMs: 60_000 });
    if (r.code !== 0 && !/no such container/i.test(r.stderr)) throw new Error(`docker rm -f ${id}: ${r.stderr.trim()}`);
  }
}

/**
 * apt-get on the host fetches what the base image lacks: its own package lists, the
 * image's dpkg status, our directory as the archive cache, and no cache files of its own
 * written (the host's apt state is left as it was).
 */
async function downloadDebs(status: string, archives: string): Promise<void> {
  mkdirSync(join(archives, 'partial'), { recursive: true });
  const args = [
    '-q', '-y', ...APT_OPTIONS,
    '-o', `Dir::State::status=${status}`,
    '-o', `Dir::Cache::archives=${archives}`,
    '-o', 'Dir::Cache::pkgcache=',
    '-o', 'Dir::Cache::srcpkgcache=',
    'install', '--download-only', ...AGENT_PACKAGES,
  ];
  const download = () => run('apt-get', args, { env: APT_ENV, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  let r = await download();
  if (r.code !== 0) {
    // No package lists yet, or lists older than the archive: refresh once (as packages.ts does).
    await runOk('apt-get', ['update', '-q'], { env: APT_ENV, timeoutMs: DOWNLOAD_TIMEOUT_MS });
    r = await download();
  }
  if (r.code !== 0) throw new Error(`apt-get install --download-only ${AGENT_PACKAGES.join(' ')} failed:\n${(r.stdout + r.stderr).trim().split('\n').slice(-15).join('\n')}`);
}

async function build(base: string, tag: string): Promise<void> {
  mkdirSync(BUILD_ROOT, { recursive: true });
  const dir = mkdtempSync(join(BUILD_ROOT, `agents-${process.pid}-`));
  try {
    const status = join(dir, 'status');
    const context = join(dir, 'context');
    const debs = join(context, 'debs');
    mkdirSync(debs, { recursive: true });
    await copyDpkgStatus(base, status);
    await downloadDebs(status, debs);
    const fetched = readdirSync(debs).filter((f) => f.endsWith('.deb'));
    if (fetched.length === 0) throw new Error('apt-get downloaded no .deb: is every agent already in the base image?');
    writeFileSync(join(context, 'Dockerfile'), DOCKERFILE(base));
    writeFileSync(join(context, '.dockerignore'), 'debs/partial\ndebs/lock\n');
    // The classic builder: it takes --network none and a local FROM image on every Docker
    // version the tests meet; --force-rm removes its intermediate containers even on failure.
    const args = ['build', '--network', 'none', '--pull=false', '--rm', '--force-rm', '--label', 'org.cgprocfs.test-image=agents', '-t', tag, context];
    await runOk('docker', args, { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeoutMs: BUILD_TIMEOUT_MS });
  } finally {
    await removeTree(dir);
  }
}

/** The agents image on top of `base`, built when missing; `built` says whether this call built it. */
export async function ensureAgentsImage(base: string): Promise<{ tag: string; built: boolean }> {
  const tag = agentsTag(base);
  if (await imageExists(tag)) return { tag, built: false };
  await build(base, tag);
  return { tag, built: true };
}
