import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HeldFiles, isOnPseudoFilesystem } from '../../../src/host/held-files.js';

const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-held-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** Replaces the file under its name (a new inode), as an atomic writer does. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.new`, text);
  renameSync(`${path}.new`, path);
}

describe('held pseudo-file descriptors', () => {
  it('tells pseudo filesystems from regular ones', () => {
    expect(['/proc/meminfo', '/sys/devices/system/cpu/online'].map(isOnPseudoFilesystem)).toEqual([true, true]);
    expect(isOnPseudoFilesystem(dir)).toBe(false);
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
});
