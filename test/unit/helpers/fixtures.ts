// Paths of the fixture trees (real kernel formats, see test/fixtures/README.md)
// and writable copies of them for tests that change a tree mid-test.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CgroupSpec, MemoryStat } from './cgroup-tree.js';

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

const MiB = 2 ** 20;
const CAPTURED_STAT = readFileSync(join(CGROUP_V2, DOCKER_A, 'memory.stat'), 'utf8').trim().split('\n').map((line) => line.split(' '));
/**
 * Container A as a description for helpers/cgroup-tree.ts: 512 MiB with 256 MiB of swap,
 * 1.5 CPUs of cpuset 1-3, 12 s user and 3 s system, I/O on sda and nvme0n1, its four tasks.
 */
export const DOCKER_A_DESCRIPTION: CgroupSpec = {
  memory: {
    limit: 512 * MiB, usage: 265216000, swapLimit: 256 * MiB, swapUsage: 20 * MiB,
    stat: Object.fromEntries(CAPTURED_STAT.map(([key, value]) => [key, Number(value)])) as MemoryStat,
  },
  cpu: { cpus: 1.5, userUs: 12_000_000, systemUs: 3_000_000 },
  cpuset: '1-3',
  io: {
    '8:0': { rbytes: 18743296, wbytes: 52428800, rios: 1204, wios: 3310 },
    '259:0': { rbytes: 7340032, wbytes: 104857600, rios: 512, wios: 2048, dbytes: 1073741824, dios: 16 },
    '8:16': {},
    '8:32': { rbytes: 4096, rios: 1 },
  },
  tasks: [2100, 2101, 2150, 2300],
  processes: [2100, 2150, 2300],
};

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
