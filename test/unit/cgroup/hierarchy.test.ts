import { describe, expect, it } from 'vitest';
import { effectiveLimit, levelsBelowRoot, nonNegativeDifference, normalizeCgroupPath } from '../../../src/cgroup/hierarchy.js';

const HOST = 1000;

describe('cgroup hierarchy rules', () => {
  it.each([
    ['/a/b/c', ['/a/b/c', '/a/b', '/a']],
    ['/a', ['/a']],
    ['/', []],
  ])('lists %s and its ancestors below the root, nearest first', (path, levels) => {
    expect(levelsBelowRoot(path)).toEqual(levels);
  });

  it.each([
    ['the tightest ancestor', [Infinity, 300, 400], 300],
    ['the cgroup itself when it is tightest', [200, 300], 200],
    ['host size when nothing is set', [Infinity, Infinity], HOST],
    ['host size for a limit above host RAM', [5000], HOST],
    ['host size for an empty chain (the root)', [], HOST],
    ['a zero limit', [0, 300], 0],
  ])('takes %s as the effective limit', (_, chain, expected) => {
    expect(effectiveLimit(chain, HOST)).toBe(expected);
  });

  it.each([
    ['/system.slice/x.scope', '/system.slice/x.scope'],
    ['system.slice/x.scope/', '/system.slice/x.scope'],
    ['//a//b', '/a/b'],
    ['/', '/'],
    ['/../..', undefined],
    ['/a/../../etc', undefined],
  ])('normalizes the cgroup path %j to %j', (path, expected) => {
    expect(normalizeCgroupPath(path)).toBe(expected);
  });

  it('never returns a negative difference', () => {
    expect(nonNegativeDifference(3, 5)).toBe(0);
    expect(nonNegativeDifference(5, 3)).toBe(2);
  });
});
