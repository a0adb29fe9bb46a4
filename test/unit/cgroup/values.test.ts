import { describe, expect, it } from 'vitest';
import { parseCount, parseKeyedValues, parseLimit } from '../../../src/cgroup/values.js';

describe('cgroup value parsers', () => {
  it.each([
    ['max\n', Infinity],
    ['536870912\n', 536870912],
    ['0\n', 0],
  ])('reads the limit %j as %d', (text, expected) => {
    expect(parseLimit(text, 'memory.max')).toBe(expected);
  });

  it('reads v1\'s "unlimited" as a number above any host RAM', () => {
    expect(parseLimit('9223372036854771712\n', 'memory.limit_in_bytes')).toBeGreaterThan(2 ** 62);
  });

  it.each([['-1\n'], ['\n'], ['12 kB\n'], ['max\n']])('rejects the count %j as SOURCE_UNREADABLE', (text) => {
    expect(() => parseCount(text, 'memory.current')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('keeps prefix-sharing keys apart (lxcfs read file_mapped as file, total_rss_huge as total_rss)', () => {
    const stat = parseKeyedValues('file 100\nfile_mapped 7\ntotal_rss 5\ntotal_rss_huge 2\n', 'memory.stat');
    expect(stat).toEqual({ file: 100, file_mapped: 7, total_rss: 5, total_rss_huge: 2 });
  });

  it.each([['anon\n'], ['anon 1 2\n'], ['anon x\n'], [' 5\n'], ['anon  5\n']])('rejects the keyed line %j as SOURCE_UNREADABLE', (text) => {
    expect(() => parseKeyedValues(text, 'memory.stat')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});
