import { describe, expect, it } from 'vitest';
import { isNamespaceInit, parseStatus, ProcessFiles } from '../../../src/caller/process.js';
import { NS, PROC_ROOT } from '../helpers/fixtures.js';

const files = new ProcessFiles(PROC_ROOT);

describe('per-process files', () => {
  it('reads Tgid, PPid and NSpid (outermost first) from a thread\'s status', () => {
    expect(files.status(2101)).toEqual({ tgid: 2100, ppid: 2000, nspid: [2101, 2] });
  });

  it.each([
    [2100, true],
    [3200, true],
    [2101, false],
    [3201, false],
  ])('tells pid %d is the init of its innermost namespace: %s', (pid, expected) => {
    expect(isNamespaceInit(files.status(pid)!)).toBe(expected);
  });

  it('reads pid namespace links, the daemon\'s own through self', () => {
    expect(files.pidNamespace('self')).toBe(NS.host);
    expect(files.pidNamespace(2300)).toBe(NS.dockerA);
  });

  it('reads a process that is gone as absent', () => {
    expect(files.status(99999)).toBeUndefined();
    expect(files.pidNamespace(99999)).toBeUndefined();
    expect(files.cgroupText(99999)).toBeUndefined();
  });

  it('lists processes, not the other entries of the proc root', () => {
    expect(files.listedPids()).toContain(2100);
    expect(files.listedPids().every(Number.isInteger)).toBe(true);
  });

  it('rejects a status without NSpid as SOURCE_UNREADABLE', () => {
    expect(() => parseStatus('Tgid:\t5\nPPid:\t1\n')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});
