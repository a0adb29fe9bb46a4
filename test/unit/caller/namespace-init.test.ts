import { rmSync, symlinkSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NamespaceInits } from '../../../src/caller/namespace-init.js';
import { ProcessFiles } from '../../../src/caller/process.js';
import { NS, PROC_ROOT, useFixtureCopies } from '../helpers/fixtures.js';

describe('finding the init of a pid namespace', () => {
  it.each([
    ['the init itself', NS.dockerA, 2100, 2100],
    ['a child, by walking up its parents', NS.dockerA, 2150, 2100],
    ['a non-leader thread of the init, through its thread group', NS.dockerA, 2101, 2100],
    ['an exec\'d process whose parent is outside the namespace, by scanning', NS.dockerA, 2300, 2100],
    ['a systemd container\'s service', NS.lxcB, 3150, 3100],
    ['a nested namespace, whose init is innermost NSpid 1', NS.nestedInB, 3201, 3200],
  ])('finds it from %s', (_, ns, tid, init) => {
    expect(new NamespaceInits(new ProcessFiles(PROC_ROOT)).find(ns, tid)).toBe(init);
  });

  it('answers a repeated lookup from the cache, without scanning the proc root', () => {
    const files = new ProcessFiles(PROC_ROOT);
    const scan = vi.spyOn(files, 'listedPids');
    const inits = new NamespaceInits(files);
    expect(inits.find(NS.dockerA, 2300)).toBe(2100);
    expect(inits.find(NS.dockerA, 2300)).toBe(2100);
    expect(scan).toHaveBeenCalledTimes(1);
  });

  it('finds nothing for a namespace with no init', () => {
    expect(new NamespaceInits(new ProcessFiles(PROC_ROOT)).find('pid:[1]', 2150)).toBeUndefined();
  });
});

describe('the init cache when pids are reused', () => {
  const copy = useFixtureCopies();

  /** Makes `pid` a process of namespace `ns` with the given NSpid values. */
  function makeProcess(root: string, pid: number, ns: string, nspid: number[], ppid: number): void {
    rmSync(join(root, String(pid)), { recursive: true, force: true });
    mkdirSync(join(root, String(pid), 'ns'), { recursive: true });
    symlinkSync(ns, join(root, String(pid), 'ns', 'pid'));
    const status = readFileSync(join(PROC_ROOT, '2150', 'status'), 'utf8')
      .replace(/^Tgid:.*$/m, `Tgid:\t${pid}`)
      .replace(/^Pid:.*$/m, `Pid:\t${pid}`)
      .replace(/^PPid:.*$/m, `PPid:\t${ppid}`)
      .replace(/^NSpid:.*$/m, `NSpid:\t${nspid.join('\t')}`);
    writeFileSync(join(root, String(pid), 'status'), status);
  }

  it('re-resolves when the cached init pid now belongs to a process of another namespace', () => {
    const root = copy(PROC_ROOT);
    const inits = new NamespaceInits(new ProcessFiles(root));
    expect(inits.find(NS.dockerA, 2150)).toBe(2100);
    // Container A's first init died; its pid went to a host process, and a new init 2500 serves the namespace.
    makeProcess(root, 2100, NS.host, [2100], 1);
    makeProcess(root, 2500, NS.dockerA, [2500, 1], 2000);
    makeProcess(root, 2150, NS.dockerA, [2150, 7], 2500);
    expect(inits.find(NS.dockerA, 2150)).toBe(2500);
  });

  it('re-resolves when the cached pid is still in the namespace but no longer its init', () => {
    const root = copy(PROC_ROOT);
    const inits = new NamespaceInits(new ProcessFiles(root));
    expect(inits.find(NS.dockerA, 2150)).toBe(2100);
    makeProcess(root, 2100, NS.dockerA, [2100, 30], 2500);
    makeProcess(root, 2500, NS.dockerA, [2500, 1], 2000);
    expect(inits.find(NS.dockerA, 2150)).toBe(2500);
  });

  it('forgets the least recently used namespace beyond its capacity', () => {
    const files = new ProcessFiles(PROC_ROOT);
    const scan = vi.spyOn(files, 'listedPids');
    const inits = new NamespaceInits(files, 1);
    inits.find(NS.dockerA, 2300);
    inits.find(NS.lxcB, 3150);
    inits.find(NS.dockerA, 2300);
    expect(scan).toHaveBeenCalledTimes(2);
  });
});
