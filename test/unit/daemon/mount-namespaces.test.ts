// Finding the host's mount namespaces from /proc (issue 16): one process each, the
// lowest pid; gone processes skipped; a container named by its cgroup.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerCgroup, listMountNamespaces, readMounts } from '../../../src/daemon/mount-namespaces.js';

const root = mkdtempSync(join(tmpdir(), 'cgprocfs-mntns-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function processDir(pid: number, ns: string | undefined, files: Record<string, string> = {}): void {
  mkdirSync(join(root, String(pid), 'ns'), { recursive: true });
  if (ns !== undefined) symlinkSync(ns, join(root, String(pid), 'ns', 'mnt'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, String(pid), name), text);
}

processDir(1, 'mnt:[4026531841]');
processDir(900, 'mnt:[4026532200]', { mountinfo: '1 0 8:1 / / rw - ext4 /dev/vda rw\n', cgroup: '12:memory:/docker/abc\n0::/docker/abc\n' });
processDir(450, 'mnt:[4026532200]');
processDir(77, 'mnt:[4026531841]');
processDir(3000, undefined); // a process that exited while we looked
mkdirSync(join(root, 'self'));
writeFileSync(join(root, 'cpuinfo'), '');

describe('mount namespaces', () => {
  it('lists each namespace once, with its lowest pid, in that order', () => {
    expect(listMountNamespaces(root)).toEqual([
      { id: 'mnt:[4026531841]', pid: 1 },
      { id: 'mnt:[4026532200]', pid: 450 },
    ]);
  });

  it('reads a namespace\'s mounts through its process, and nothing once that process is gone', () => {
    expect(readMounts({ id: 'mnt:[4026532200]', pid: 900 }, root)?.map((m) => m.mountpoint)).toEqual(['/']);
    expect(readMounts({ id: 'mnt:[4026532200]', pid: 450 }, root)).toBeUndefined();
  });

  it('names a container by its cgroup2 path, else its first v1 path', () => {
    expect(containerCgroup(900, root)).toBe('/docker/abc');
    writeFileSync(join(root, '900', 'cgroup'), '12:memory:/lxc/b\n0::/\n');
    expect(containerCgroup(900, root)).toBe('/lxc/b');
    expect(containerCgroup(31337, root)).toBe('?');
  });
});
