import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HeldFiles, heldFilesCapacity, readsAnewThroughDescriptor } from '../../../src/host/held-files.js';

const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-held-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const V1_MEMORY = '/sys/fs/cgroup/memory';
/** The cgroup2 hierarchy: the whole tree on a v2 host, unified/ on a hybrid one; none on pure v1. */
const CGROUP2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((dir) => existsSync(join(dir, 'cgroup.controllers')));

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** A Node program that starts four worker threads (each a stack and a V8 heap of mappings), then stops itself. */
const MANY_MAPPINGS = `const { Worker } = require('node:worker_threads'); let online = 0;
for (let i = 0; i < 4; i++) new Worker('setInterval(() => {}, 1e6)', { eval: true })
  .on('online', () => { if (++online === 4) process.kill(process.pid, 'SIGSTOP'); });`;

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Replaces the file under its name (a new inode), as an atomic writer does. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

describe('held pseudo-file descriptors', () => {
  it('holds kernel files that a read at offset 0 generates anew, and no regular file', () => {
    expect(['/proc/meminfo', '/sys/devices/system/cpu/online'].map(readsAnewThroughDescriptor)).toEqual([true, true]);
    expect(readsAnewThroughDescriptor(dir)).toBe(false);
  });

  // cgroup v1 serves a descriptor's old task list again to reads within a second.
  it.runIf(existsSync(V1_MEMORY))('does not hold the task lists of a cgroup v1 hierarchy', () => {
    expect(['tasks', 'cgroup.procs', 'memory.stat'].map((name) => readsAnewThroughDescriptor(join(V1_MEMORY, name))))
      .toEqual([false, false, true]);
  });

  // cgroup2 restarts a task list's iteration at every read at offset 0 (kernel/cgroup/cgroup.c
  // __cgroup_procs_start): a held descriptor shows a task started after it was opened.
  it.runIf(CGROUP2 !== undefined)('holds the task list of a cgroup2 cgroup, which shows a task started since', async () => {
    const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
    const procs = join(CGROUP2!, own, 'cgroup.procs');
    expect(readsAnewThroughDescriptor(procs)).toBe(true);
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000 });
    const pids = (text: string) => text.split('\n').filter(Boolean).map(Number);
    const before = pids(files.read(procs));
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await until(() => existsSync(`/proc/${child.pid}`));
      expect(before).not.toContain(child.pid);
      expect(pids(files.read(procs))).toContain(child.pid);
      expect(files.size).toBe(1);
    } finally {
      child.kill('SIGKILL');
      files.clear();
    }
  });

  it('reads a kernel file whose reads return a page at a time, whole', async () => {
    // /proc/<pid>/maps is a seq_file: one read returns at most a page of its records. A
    // stopped process with four worker threads has about 15 KiB of them, on any machine
    // (/proc/crypto, say, is 11 KiB on one kernel and 4.6 KiB on another), and no mapping
    // changes while it is stopped.
    const child = spawn(process.execPath, ['-e', MANY_MAPPINGS], { stdio: 'ignore' });
    try {
      const maps = `/proc/${child.pid}/maps`;
      await until(() => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T') === true);
      const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000 });
      const whole = readFileSync(maps, 'utf8');
      expect(whole.length).toBeGreaterThan(8192);
      expect([files.read(maps), files.read(maps), files.size]).toEqual([whole, whole, 1]);
      files.clear();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('closes a descriptor nobody reads once it is past its age', () => {
    let now = 0;
    const files = new HeldFiles({ capacity: 8, maxAgeMs: 2000, clockMs: () => now });
    files.read('/proc/uptime');
    now = 1000;
    files.read('/proc/loadavg');
    now = 2500; // /proc/uptime is past its age; each read closes at most the oldest
    files.read('/proc/loadavg');
    expect(files.size).toBe(1);
    now = 3000;
    files.read('/proc/stat');
    expect(files.size).toBe(1);
    files.clear();
  });

  it('reads a held file anew at every read', () => {
    const path = join(dir, 'in-place');
    writeFileSync(path, 'one\n');
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000, holdable: () => true });
    expect(files.read(path)).toBe('one\n');
    writeFileSync(path, 'two\n'); // same inode, as a kernel file that changes
    expect([files.read(path), files.size]).toEqual(['two\n', 1]);
    files.clear();
  });

  it('never holds a regular file, so a replaced one is read at once', () => {
    const path = join(dir, 'fixture');
    writeFileSync(path, 'old\n');
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000 });
    expect(files.read(path)).toBe('old\n');
    replace(path, 'new\n');
    expect([files.read(path), files.size]).toEqual(['new\n', 0]);
  });

  it('serves a read whose path cannot be asked about afterwards, holding nothing', () => {
    const path = join(dir, 'asked');
    writeFileSync(path, 'text\n');
    const files = new HeldFiles({
      capacity: 4,
      maxAgeMs: 60_000,
      holdable: () => {
        throw Object.assign(new Error('gone meanwhile'), { code: 'ENOENT' });
      },
    });
    expect([files.read(path), files.size]).toEqual(['text\n', 0]);
  });

  it('reopens a descriptor older than its maximum age', () => {
    const path = join(dir, 'aging');
    writeFileSync(path, 'first\n');
    let now = 0;
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 2000, clockMs: () => now, holdable: () => true });
    expect(files.read(path)).toBe('first\n');
    replace(path, 'second\n');
    now = 1999; // the held descriptor still names the replaced file
    expect(files.read(path)).toBe('first\n');
    now = 2000;
    expect(files.read(path)).toBe('second\n');
    files.clear();
  });

  it("reopens the path when the held task is gone, and reports the path's absence", async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    const path = `/proc/${child.pid}/stat`;
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000 });
    expect(files.read(path)).toMatch(new RegExp(`^${child.pid} \\(sleep\\) `));
    expect(files.size).toBe(1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The held descriptor now fails (ESRCH); the reopen finds no such process.
    expect(() => files.read(path)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(files.size).toBe(0);
  });

  it('holds at most its capacity, closing the least recently read', () => {
    const before = openFds();
    const files = new HeldFiles({ capacity: 2, maxAgeMs: 60_000 });
    for (const name of ['meminfo', 'stat', 'uptime', 'loadavg']) files.read(`/proc/${name}`);
    expect([files.size, openFds() - before]).toEqual([2, 2]);
    files.clear();
    expect([files.size, openFds()]).toEqual([0, before]);
  });

  it('reads a file larger than one read takes, whole', () => {
    const path = join(dir, 'large');
    const text = 'x'.repeat(200 * 1024 + 17);
    writeFileSync(path, text);
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000, holdable: () => true });
    expect(files.read(path)).toBe(text);
    expect(files.read(path)).toBe(text);
    files.clear();
  });

  it('throws the system error of a path that cannot be read, holding nothing', () => {
    const files = new HeldFiles({ capacity: 4, maxAgeMs: 60_000, holdable: () => true });
    expect(() => files.read(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => files.read(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
    expect(files.size).toBe(0);
  });

  it('gives back its descriptors rather than fail a read when the process runs out', () => {
    // Test files run one at a time, each in its own process: lowering this process's
    // soft limit on open files touches no other test.
    const softLimit = (): string => /Max open files\s+(\S+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '';
    const original = softLimit();
    const margin = 24;
    const files = new HeldFiles({ capacity: 10_000, maxAgeMs: 60_000 });
    const names = ['stat', 'status', 'comm', 'statm', 'limits', 'cgroup', 'io', 'sched', 'schedstat', 'cmdline'];
    const tasks = readdirSync(`/proc/${process.pid}/task`);
    const paths = tasks.flatMap((tid) => names.map((name) => `/proc/${process.pid}/task/${tid}/${name}`));
    expect(paths.length).toBeGreaterThan(2 * margin);
    const lower = spawnSync('prlimit', [`--pid=${process.pid}`, `--nofile=${openFds() + margin}:`]);
    expect(lower.status).toBe(0);
    try {
      const texts = paths.map((path) => files.read(path));
      expect(texts.every((text) => text.length > 0)).toBe(true);
      expect(files.size).toBeLessThan(margin);
    } finally {
      files.clear();
      spawnSync('prlimit', [`--pid=${process.pid}`, `--nofile=${original}:`]);
    }
    expect(softLimit()).toBe(original);
  });

  it('takes a sixteenth of the soft open-files limit, at most what it wants', () => {
    const limits = (soft: string) =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                524288               files\n`;
    expect(heldFilesCapacity(1024, limits('1048576'))).toBe(1024);
    expect(heldFilesCapacity(1024, limits('1024'))).toBe(64);
    expect(heldFilesCapacity(1024, limits('8'))).toBe(1);
    expect(heldFilesCapacity(1024, limits('unlimited'))).toBe(1024);
    expect(heldFilesCapacity(1024, undefined)).toBe(1024);
  });
});
