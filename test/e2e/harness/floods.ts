// Noisy and quiet "containers" for the isolation tests (issue 17): readers that time
// every read (scripts/timed-reads.mjs), each pid 1 of its own pid namespace in a test
// cgroup, or joined to another container's pid namespace; test programs built with cc.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TestCgroups } from './cgroups.js';
import { describeRun, runOk } from './exec.js';
import { REPO_ROOT, SCRIPTS } from './prerequisites.js';

/** What scripts/timed-reads.mjs reports. */
export interface TimedReads {
  reads: number;
  errors: Record<string, number>;
  firstMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  last: Record<string, string>;
}

const TIMED_READS = join(SCRIPTS, 'timed-reads.mjs');
/** C sources of the test programs. */
export const PROGRAMS = join(REPO_ROOT, 'test/e2e/programs');

function parsed(argv: readonly string[], r: { code: number | null; stdout: string } & Parameters<typeof describeRun>[1]): TimedReads {
  if (r.code !== 0) throw new Error(describeRun(argv, r));
  return JSON.parse(r.stdout) as TimedReads;
}

/** Reads `paths` in turn for `ms` (0: once) as pid 1 of a new pid namespace in cgroup `rel`. */
export async function readsInContainer(cgroups: TestCgroups, rel: string, ms: number, paths: readonly string[]): Promise<TimedReads> {
  const argv = ['--pid', '--fork', '--kill-child', process.execPath, TIMED_READS, String(ms), ...paths];
  return parsed(['unshare', ...argv], await cgroups.run(rel, 'unshare', argv, { timeoutMs: ms + 60_000 }));
}

/** Reads `paths` in turn for `ms` (0: once) inside the pid namespace of host pid `nsOf`, in cgroup `rel`. */
export async function readsInNamespaceOf(cgroups: TestCgroups, rel: string, nsOf: number, ms: number, paths: readonly string[]): Promise<TimedReads> {
  const argv = ['-t', String(nsOf), '-p', '--', process.execPath, TIMED_READS, String(ms), ...paths];
  return parsed(['nsenter', ...argv], await cgroups.run(rel, 'nsenter', argv, { timeoutMs: ms + 60_000 }));
}

/**
 * Test programs for one suite: `build` compiles test/e2e/programs/<name>.c into a
 * scratch directory, and `started` programs get their stdin closed (they exit) and the
 * directory is removed after the suite (their cgroups' cleanup kills what is left).
 */
export function usePrograms(): { build(name: string): Promise<string>; started(child: ChildProcess): ChildProcess } {
  let dir: string | undefined;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cgprocfs-e2e-programs-'));
  });
  afterAll(() => {
    for (const child of children.splice(0)) child.stdin?.end();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    async build(name) {
      const bin = join(dir!, name);
      await runOk('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', bin, join(PROGRAMS, `${name}.c`)]);
      return bin;
    },
    started(child) {
      children.push(child);
      return child;
    },
  };
}

/** The process of cgroup `rel` that is pid 1 of a pid namespace below ours (a container's init), by host pid. */
export function containerInit(cgroups: TestCgroups, rel: string): number | undefined {
  for (const pid of readFileSync(join(cgroups.dir(rel), 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)) {
    try {
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (nspid?.length === 2 && nspid[1] === '1') return pid;
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** p50/p99/max of a reader, for the printed figures. */
export function figures(r: TimedReads): string {
  return `${r.reads} reads, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, errors ${JSON.stringify(r.errors)}`;
}

/** The machine's load averages, printed beside every figure (the machine is shared). */
export function load(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
