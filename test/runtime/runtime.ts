// The container test runtime, set up by the test files themselves (top-level await, so a
// machine that cannot run containers is known before any test is declared): e2e
// prerequisites, Debian packages, a Docker engine, the test images. Then one fixture per
// file: a cgprocfs daemon on a fresh mountpoint, test cgroups, container registries, and
// a teardown that removes all of it and stops the engine only if this file started it.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { TestCgroups } from '../e2e/harness/cgroups.js';
import { Daemon } from '../e2e/harness/daemon.js';
import { runOk } from '../e2e/harness/exec.js';
import { DAEMON_BIN, missingPrerequisites } from '../e2e/harness/prerequisites.js';
import { teardown } from '../e2e/harness/suite.js';
import { Containers, removeEmptyCgroupTrees } from './containers.js';
import { DockerEngine, STATE_DIR } from './engine.js';
import { ensureImages, exportImage, removeTree, type ImageName } from './images.js';
import { ensurePackages, PACKAGES } from './packages.js';

export interface RuntimeNeeds {
  images: readonly ImageName[];
  podman?: boolean;
  nspawn?: boolean;
}

export interface Runtime {
  engine: DockerEngine;
  images: Record<ImageName, string>;
  /** One line for the test log: what setup did and how long it took. */
  summary: string;
}

export type Prepared = { ok: true; runtime: Runtime } | { ok: false; reason: string };

/** Sets up what the file needs. Never throws: a failure is a reason, judged by describeRuntime. */
export async function prepareRuntime(needs: RuntimeNeeds): Promise<Prepared> {
  const missing = missingPrerequisites();
  if (missing.length > 0) return { ok: false, reason: `e2e prerequisites missing: ${missing.join('; ')}` };
  const started = Date.now();
  let engine: DockerEngine | undefined;
  try {
    const packages: string[] = [...PACKAGES.docker, ...PACKAGES.images];
    if (needs.podman) packages.push(...PACKAGES.podman);
    if (needs.nspawn) packages.push(...PACKAGES.nspawn);
    const installed = await ensurePackages(packages);
    engine = await DockerEngine.ensure();
    const images = await ensureImages(needs.images);
    const summary =
      `[runtime] ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      `installed ${installed.join(' ') || 'nothing'}; engine: ${engine.description}; ` +
      `built ${images.built.join(' ') || 'no image'}; using ${needs.images.map((n) => images.tags[n]).join(' ')}`;
    return { ok: true, runtime: { engine, images: images.tags, summary } };
  } catch (err) {
    await engine?.stop().catch(() => undefined);
    return { ok: false, reason: `container runtime setup failed: ${(err as Error).message}` };
  }
}

export interface RuntimeFixture {
  readonly runtime: Runtime;
  readonly daemon: Daemon;
  readonly cgroups: TestCgroups;
  readonly docker: Containers;
  readonly podman: Containers;
  image(name: ImageName): string;
  /** `cgprocfs docker-flags` of the built CLI for this daemon's mount, as argv words. */
  flags(): Promise<string[]>;
  /** The procps image exported to a fresh directory (for podman --rootfs and nspawn -D); removed in teardown. */
  rootfs(): Promise<string>;
}

/** The built CLI's `docker-flags` output for `mountpoint` in `format`. */
export async function dockerFlagsOutput(mountpoint: string, format: 'lines' | 'args' = 'lines'): Promise<string> {
  return runOk(process.execPath, [DAEMON_BIN, 'docker-flags', '--mountpoint', mountpoint, '--format', format], { timeoutMs: 15_000 });
}

/** Podman here lacks CAP_SYS_RESOURCE: raising rlimits to its defaults fails unless they are set to what we have. */
async function podmanUlimits(): Promise<string[]> {
  const hardNofile = (await runOk('sh', ['-c', 'ulimit -Hn'])).trim();
  return ['--ulimit', `nofile=${hardNofile}:${hardNofile}`, '--ulimit', 'nproc=32768:32768'];
}

function useRuntimeFixture(runtime: Runtime): RuntimeFixture {
  let daemon: Daemon | undefined;
  let cgroups: TestCgroups | undefined;
  let flags: Promise<string[]> | undefined;
  let podman: Containers | undefined;
  const docker = new Containers('docker');
  const rootfsDirs: string[] = [];
  let stateDir: string | undefined;
  beforeAll(async () => {
    console.info(runtime.summary);
    cgroups = await TestCgroups.create();
    // A state directory of its own: daemons sharing the default /run/cgprocfs (other test
    // runs on this machine) remove each other's handle arenas.
    stateDir = mkdtempSync('/run/cgprocfs-test-');
    daemon = await Daemon.start({ args: ['--state-dir', stateDir] });
    podman = new Containers('podman', await podmanUlimits());
  });
  // Containers first (they pin the mount), then the daemon, cgroups, exported trees, and
  // last the engine, with the empty parent cgroups the engines made.
  afterAll(() =>
    teardown(
      async () => {
        await podman?.cleanup();
        if (podman?.used) removeEmptyCgroupTrees('libpod_parent');
      },
      () => docker.cleanup(),
      () => daemon?.destroy(),
      async () => stateDir && rmSync(stateDir, { recursive: true, force: true }),
      () => cgroups?.cleanup(),
      async () => {
        for (const dir of rootfsDirs.splice(0)) await removeTree(dir);
      },
      async () => {
        if (await runtime.engine.stop()) removeEmptyCgroupTrees('docker');
      },
    ),
  );
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up (see beforeAll)`);
    return value;
  };
  return {
    runtime,
    get daemon() {
      return need(daemon, 'the daemon');
    },
    get cgroups() {
      return need(cgroups, 'the test cgroups');
    },
    docker,
    get podman() {
      return need(podman, 'podman');
    },
    image: (name) => runtime.images[name],
    flags() {
      flags ??= dockerFlagsOutput(need(daemon, 'the daemon').mountpoint).then(splitFlagLines);
      return flags;
    },
    async rootfs() {
      const dir = mkdtempSync(join(STATE_DIR, 'rootfs-'));
      rootfsDirs.push(dir);
      await exportImage(runtime.images.procps, dir, docker);
      return dir;
    },
  };
}

/** `--mount VALUE` lines -> ['--mount', 'VALUE', ...]; anything else is a broken output. */
export function splitFlagLines(text: string): string[] {
  return text.split('\n').filter(Boolean).flatMap((line) => {
    const m = /^--mount (\S+)$/.exec(line);
    if (!m?.[1]) throw new Error(`docker-flags printed a line that is not "--mount VALUE": ${JSON.stringify(line)}`);
    return ['--mount', m[1]];
  });
}

/**
 * `describe` for container suites: runs `body` with a fixture when setup worked; otherwise
 * a failing test under CI=true (a green CI run must have run them), a printed skip elsewhere.
 */
export function describeRuntime(name: string, prepared: Prepared, body: (fx: RuntimeFixture) => void): void {
  if (prepared.ok) {
    describe(name, () => body(useRuntimeFixture(prepared.runtime)));
    return;
  }
  const reason = prepared.reason;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its container runtime (CI=true never skips)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`[runtime] skipping "${name}": ${reason}`);
  describe.skip(name, () => {
    it('needs a container runtime', () => undefined);
  });
}
