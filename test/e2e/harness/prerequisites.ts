// What the e2e suites need from the machine, and the one rule for a missing need: skip locally, fail under CI=true.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
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
  /** A file's text, or undefined when it cannot be read. */
  read: (path: string) => string | undefined;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const realEnvironment: Environment = { uid: process.getuid?.(), exists: existsSync, onPath: (tool) => onPath(tool), read: readOptional };

/** What the suites make limits with, on a pure cgroup v2 host: the root must delegate them to its children. */
const V2_NEEDED_CONTROLLERS = ['memory', 'cpu', 'cpuset', 'io'] as const;

/**
 * The cgroup layouts the suites run on: v1 or hybrid with a v1 memory hierarchy, or pure cgroup v2
 * (cgroup.controllers at the top) whose root delegates the controllers the suites set limits with.
 */
function missingCgroups(env: Environment): string[] {
  const subtree = env.read(`${CGROUP_ROOT}/cgroup.subtree_control`);
  if (env.exists(`${CGROUP_ROOT}/cgroup.controllers`) && subtree !== undefined) {
    const enabled = subtree.split(/\s+/);
    const absent = V2_NEEDED_CONTROLLERS.filter((c) => !enabled.includes(c));
    if (absent.length === 0) return [];
    const fix = absent.map((c) => `+${c}`).join(' ');
    return [`cgroup v2: the root does not delegate ${absent.join(', ')} (echo '${fix}' > ${CGROUP_ROOT}/cgroup.subtree_control)`];
  }
  if (env.exists(`${CGROUP_ROOT}/memory/memory.limit_in_bytes`)) return [];
  return [`no cgroup v1 memory hierarchy at ${CGROUP_ROOT}/memory and no cgroup v2 tree at ${CGROUP_ROOT}`];
}

/** Every unmet prerequisite, as a sentence that says how to meet it. Empty when all are met. */
export function missingPrerequisites(env: Environment = realEnvironment): string[] {
  const missing: string[] = [];
  if (env.uid !== 0) missing.push('must run as root (mounts FUSE, writes cgroups)');
  if (!env.exists('/dev/fuse')) missing.push('/dev/fuse is absent (modprobe fuse)');
  for (const tool of TOOLS) if (!env.onPath(tool)) missing.push(`${tool} is not on PATH (util-linux / procps)`);
  missing.push(...missingCgroups(env));
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
