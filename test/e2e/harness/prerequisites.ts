// What the e2e suites need from the machine, and the one rule for a missing need: skip locally, fail under CI=true.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DAEMON_BIN = join(REPO_ROOT, 'dist/bin/cgprocfs.js');
export const CGROUP_ROOT = '/sys/fs/cgroup';
/** Plain-JS helper programs that tests run as child processes (inside cgroups, as other users). */
export const SCRIPTS = join(REPO_ROOT, 'test/e2e/harness/scripts');

const TOOLS = ['unshare', 'mount', 'umount', 'free', 'setpriv'] as const;

function onPath(tool: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Environment {
  uid: number | undefined;
  exists: (path: string) => boolean;
  onPath: (tool: string) => boolean;
}

const realEnvironment: Environment = { uid: process.getuid?.(), exists: existsSync, onPath: (tool) => onPath(tool) };

/** Every unmet prerequisite, as a sentence that says how to meet it. Empty when all are met. */
export function missingPrerequisites(env: Environment = realEnvironment): string[] {
  const missing: string[] = [];
  if (env.uid !== 0) missing.push('must run as root (mounts FUSE, writes cgroups)');
  if (!env.exists('/dev/fuse')) missing.push('/dev/fuse is absent (modprobe fuse)');
  for (const tool of TOOLS) if (!env.onPath(tool)) missing.push(`${tool} is not on PATH (util-linux / procps)`);
  if (!env.exists(`${CGROUP_ROOT}/memory/memory.limit_in_bytes`)) {
    missing.push(`no cgroup v1 memory hierarchy at ${CGROUP_ROOT}/memory`);
  }
  if (!env.exists(DAEMON_BIN)) missing.push(`${DAEMON_BIN} is absent (run npm run build)`);
  return missing;
}

export type Verdict = { run: true } | { run: false; fail: boolean; reason: string };

/** Under CI=true a missing prerequisite is a failure: a green CI run must have run the suites. */
export function verdict(missing: readonly string[], ci = process.env.CI === 'true'): Verdict {
  if (missing.length === 0) return { run: true };
  return { run: false, fail: ci, reason: `e2e prerequisites missing: ${missing.join('; ')}` };
}

/** `describe` for e2e suites: skips with a printed reason, or fails under CI=true, when the machine cannot run them. */
export function describeE2E(name: string, body: () => void): void {
  const v = verdict(missingPrerequisites());
  if (!v.run && v.fail) {
    describe(name, () => {
      it('has its e2e prerequisites (CI=true never skips)', () => {
        throw new Error(v.reason);
      });
    });
    return;
  }
  if (!v.run) console.warn(`[e2e] skipping "${name}": ${v.reason}`);
  describe.skipIf(!v.run)(name, body);
}
