// Paths of the fixture trees (real kernel formats, see test/fixtures/README.md)
// and writable copies of them for tests that change a tree mid-test.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');
export const PROC_ROOT = join(FIXTURES, 'proc');
export const CGROUP_V1 = join(FIXTURES, 'cgroup-v1');
export const CGROUP_V2 = join(FIXTURES, 'cgroup-v2');
export const CGROUP_HYBRID = join(FIXTURES, 'cgroup-hybrid');
/** A sys root holding the fixture host's devices/system/cpu. */
export const SYS_ROOT = join(FIXTURES, 'sys');
export const GOLDEN = join(FIXTURES, 'golden');
/** The three cgroup layouts the fixture host is drawn in. */
export const LAYOUTS = [['v1', CGROUP_V1], ['v2', CGROUP_V2], ['hybrid', CGROUP_HYBRID]] as const;

/** Cgroups of the fixture host: docker container A, B's nginx service, the namespace nested in B. */
export const DOCKER_A = '/system.slice/docker-a1b2c3.scope';
export const NGINX_B = '/lxc.payload.b/system.slice/nginx.service';
export const NESTED = '/lxc.payload.b/nested';

/** Pid namespaces of the fixture proc root, as their ns/pid links read. */
export const NS = {
  host: 'pid:[4026531836]',
  dockerA: 'pid:[4026532501]',
  lxcB: 'pid:[4026532601]',
  nestedInB: 'pid:[4026532701]',
} as const;

/** Host RAM and swap of test/fixtures/proc/meminfo, kB. */
export const HOST_MEM_TOTAL_KB = 24684084;
export const HOST_SWAP_TOTAL_KB = 4194300;
export const MIB_IN_KB = 1024;
/** CPUs of the fixture host (test/fixtures/proc/stat, cpuinfo). */
export const HOST_CPUS = 4;
/** The fixture host's uptime (test/fixtures/proc/uptime), µs. */
export const HOST_UPTIME_US = 5000_000_000;

/** Registers cleanup; each call returns a fresh writable copy of a fixture tree. */
export function useFixtureCopies(): (fixture: string) => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (fixture) => {
    const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-'));
    made.push(dir);
    cpSync(fixture, dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  };
}

/** The value of one meminfo line (`MemTotal` -> 524288). */
export function meminfoField(text: string, key: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${key}:`));
  if (line === undefined) throw new Error(`no ${key} line`);
  return Number(line.slice(key.length + 1).trim().split(/\s+/)[0]);
}

/**
 * A state directory for the CPU counters of views under test: one per test file
 * (vitest evaluates this module once per file), removed after the file's tests.
 */
export const STATE_DIR = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-state-'));
afterAll(() => rmSync(STATE_DIR, { recursive: true, force: true }));

/** View options that differ only where a test says so. */
export const VIEW_DEFAULTS = { resolve: 'init', swap: true, cpuCount: 'quota', stateDir: STATE_DIR, sysRoot: SYS_ROOT } as const;
