import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallerResolver } from '../../../src/caller/resolver.js';
import type { ViewTarget } from '../../../src/caller/target.js';
import { TaskCache } from '../../../src/caller/task-cache.js';

// These run against the real /proc: what protects the cache from pid reuse is the
// kernel's rule that a descriptor on /proc/<pid>/... fails once that task is gone.
const children = new Map<number, ChildProcess>();
afterEach(() => {
  for (const child of children.values()) child.kill('SIGKILL');
  children.clear();
});

function sleeper(): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.set(child.pid!, child);
  return new Promise((resolve) => child.once('spawn', () => resolve(child.pid!)));
}

/** Kills a sleeper and waits until it is reaped: a zombie's /proc files still read. */
async function killAndReap(pid: number): Promise<void> {
  const child = children.get(pid)!;
  const reaped = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await reaped;
}

describe('the resolver\'s task cache', () => {
  it('gives the same view as an uncached resolver', async () => {
    const pid = await sleeper();
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 8 });
    const plain = createCallerResolver('/proc', 'caller');
    expect(cached.targetFor(pid).key).toBe(plain.targetFor(pid).key);
    expect(cached.targetFor(pid).key).toBe(plain.targetFor(pid).key);
  });

  it('forgets a thread the moment it exits, so a reused pid is resolved afresh', async () => {
    const pid = await sleeper();
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 8 });
    cached.targetFor(pid);
    await killAndReap(pid);
    expect(() => cached.targetFor(pid)).toThrow(expect.objectContaining({ code: 'CALLER_UNKNOWN' }));
  });

  it('forgets a reader that exits while the init whose view it got lives on', async () => {
    const [init, reader] = await Promise.all([sleeper(), sleeper()]);
    const cache = new TaskCache('/proc', 8);
    expect(cache.remember(reader, { pid: init, containerInit: true })?.pid).toBe(init);
    expect(cache.targetFor(reader)?.pid).toBe(init);
    await killAndReap(reader);
    expect(cache.targetFor(reader)).toBeUndefined();
  });

  it('keeps at most its capacity of threads', async () => {
    const pids = await Promise.all([sleeper(), sleeper(), sleeper()]);
    const cached = createCallerResolver('/proc', 'caller', { cacheSize: 2 });
    for (const pid of pids) expect(cached.targetFor(pid).pid).toBe(pid);
    expect(cached.targetFor(pids[0]!).pid).toBe(pids[0]);
  });
});

describe('the task cache after a membership change (regression: descriptors closed under a live entry)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A proc root with the two files the cache holds open per task. */
  function procRoot(tasks: Record<number, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-proc-'));
    dirs.push(root);
    for (const [pid, cgroup] of Object.entries(tasks)) {
      mkdirSync(join(root, pid));
      writeFileSync(join(root, pid, 'comm'), `task${pid}\n`);
      writeFileSync(join(root, pid, 'cgroup'), `0::${cgroup}\n`);
    }
    return root;
  }

  it('never answers for one task from another task\'s files after a move', () => {
    const root = procRoot({ 100: '/tenantA', 200: '/tenantB' });
    const cache = new TaskCache(root, 8);
    const memory = (target: ViewTarget | undefined) => target?.cgroups.memory[2].raw;
    expect(memory(cache.remember(100, { pid: 100, containerInit: false }))).toBe('/tenantA');
    writeFileSync(join(root, '100', 'cgroup'), '0::/tenantA/moved\n');
    expect(memory(cache.targetFor(100))).toBe('/tenantA/moved');
    // Descriptors opened now take the lowest free numbers: had task 100's been closed,
    // task 200 would get them and task 100 would read task 200's membership.
    expect(memory(cache.remember(200, { pid: 200, containerInit: false }))).toBe('/tenantB');
    expect(memory(cache.targetFor(100))).toBe('/tenantA/moved');
    expect(memory(cache.targetFor(200))).toBe('/tenantB');
  });
});
