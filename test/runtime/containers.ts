// Containers the tests create, through the docker or podman CLI: every one gets a name of
// ours, `--network none --pull never`, and is removed by that name in cleanup, so nothing
// another user runs on the engine is ever touched.
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeRun, run, type RunOptions, type RunResult } from '../e2e/harness/exec.js';
import { hierarchyRoots } from '../e2e/harness/cgroups.js';

export type Cli = 'docker' | 'podman';

const RUN_TIMEOUT_MS = 60_000;

export class Containers {
  private readonly names = new Set<string>();
  private readonly ids = new Map<string, string>();
  private count = 0;
  /** Whether any container was ever started through this registry. */
  used = false;

  /** `fixed` go right after `run` (podman's --ulimit workaround). */
  constructor(
    readonly cli: Cli,
    private readonly fixed: readonly string[] = [],
  ) {}

  /** A fresh name of ours, removed in cleanup even when something else started the container. */
  claimName(): string {
    this.used = true;
    const name = `cgprocfs-test-${process.pid}-${++this.count}`;
    this.names.add(name);
    return name;
  }

  private runArgs(name: string, options: readonly string[], image: readonly string[], command: readonly string[]): string[] {
    return ['run', '--name', name, '--network', 'none', '--pull', 'never', ...this.fixed, ...options, ...image, ...command];
  }

  /**
   * Runs a container to completion and removes it. `image` is `[tag]` for docker,
   * `['--rootfs', 'DIR:O']` for podman.
   */
  async run(options: readonly string[], image: readonly string[], command: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const name = this.claimName();
    try {
      return await run(this.cli, this.runArgs(name, options, image, command), { timeoutMs: RUN_TIMEOUT_MS, ...opts });
    } finally {
      await this.remove(name);
    }
  }

  /** Like run(), but a non-zero exit throws with the output. */
  async runOk(options: readonly string[], image: readonly string[], command: readonly string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.run(options, image, command, opts);
    if (r.code !== 0) throw new Error(describeRun([this.cli, 'run', ...options, ...image, ...command], r));
    return r.stdout;
  }

  /** Starts a detached container; returns its name. */
  async start(options: readonly string[], image: readonly string[], command: readonly string[]): Promise<string> {
    const name = this.claimName();
    const r = await run(this.cli, this.runArgs(name, ['-d', ...options], image, command), { timeoutMs: RUN_TIMEOUT_MS });
    if (r.code !== 0) throw new Error(describeRun([this.cli, 'run', '-d', ...options, ...image, ...command], r));
    this.ids.set(name, r.stdout.trim());
    return name;
  }

  async exec(name: string, command: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(this.cli, ['exec', name, ...command], { timeoutMs: RUN_TIMEOUT_MS, ...opts });
  }

  async execOk(name: string, command: readonly string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(name, command, opts);
    if (r.code !== 0) throw new Error(describeRun([this.cli, 'exec', name, ...command], r));
    return r.stdout;
  }

  async inspect(name: string, format: string): Promise<string> {
    const r = await run(this.cli, ['inspect', '--format', format, name], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(describeRun([this.cli, 'inspect', name], r));
    return r.stdout.trim();
  }

  /** Removes one of ours (SIGKILL if running), then any cgroup its init left under its id. */
  async remove(name: string): Promise<void> {
    const r = await run(this.cli, ['rm', '-f', name], { timeoutMs: 60_000 });
    if (r.code !== 0 && !/no such container/i.test(r.stderr)) throw new Error(describeRun([this.cli, 'rm', '-f', name], r));
    const id = this.ids.get(name);
    if (id) removeLeftCgroups(id);
    this.names.delete(name);
    this.ids.delete(name);
  }

  /** Removes every container this registry created; reports all failures at the end. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    for (const name of [...this.names]) {
      await this.remove(name).catch((err: Error) => errors.push(err.message));
    }
    if (errors.length > 0) throw new Error(`${this.cli} cleanup: ${errors.join('\n')}`);
  }
}

/**
 * A systemd init killed without its shutdown leaves the sub-cgroups it made (init.scope,
 * system.slice/...) under /docker/<id> in the hierarchies it may write; runc's own rmdir
 * then fails. They are empty once the container is gone: remove them children first.
 */
function removeLeftCgroups(id: string): void {
  if (!/^[0-9a-f]{64}$/.test(id)) return;
  for (const root of hierarchyRoots()) {
    const top = join(root, 'docker', id);
    if (existsSync(top)) removeCgroupTree(top);
  }
}

/**
 * Removes the empty parent cgroups an engine makes on first use (`docker`,
 * `libpod_parent`) in every hierarchy; one that still holds a container stays.
 */
export function removeEmptyCgroupTrees(name: string): void {
  for (const root of hierarchyRoots()) {
    const top = join(root, name);
    if (existsSync(join(top, 'cgroup.procs'))) removeCgroupTree(top);
  }
}

function removeCgroupTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    // still populated or already gone; the engine's own cleanup owns the rest
  }
}
