import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMeminfoLine, meminfoValue, parseMeminfo } from '../../../src/host/meminfo.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

const FIXTURE_MEMINFO = readFileSync(join(PROC_ROOT, 'meminfo'), 'utf8');
const REAL_MEMINFO = '/proc/meminfo';

function roundTrip(text: string): string {
  return parseMeminfo(text).map((line) => `${formatMeminfoLine(line)}\n`).join('');
}

describe('host meminfo parser', () => {
  it('reproduces every line of the fixture byte for byte', () => {
    expect(roundTrip(FIXTURE_MEMINFO)).toBe(FIXTURE_MEMINFO);
  });

  it.runIf(existsSync(REAL_MEMINFO))('reproduces every line of this machine\'s /proc/meminfo byte for byte', () => {
    const text = readFileSync(REAL_MEMINFO, 'utf8');
    expect(roundTrip(text)).toBe(text);
  });

  it('keeps the lines in host order with key, value and unit', () => {
    const lines = parseMeminfo(FIXTURE_MEMINFO);
    expect(lines.slice(0, 2).map(({ key, value, suffix }) => ({ key, value, suffix }))).toEqual([
      { key: 'MemTotal', value: 24684084, suffix: ' kB' },
      { key: 'MemFree', value: 20934512, suffix: ' kB' },
    ]);
    expect(lines.find((line) => line.key === 'HugePages_Total')?.suffix).toBe('');
  });

  it.each([
    ['a narrower value', 'MemTotal:       24684084 kB', 307200, 'MemTotal:         307200 kB'],
    ['a value wider than the kernel width', 'MemTotal:       24684084 kB', 123456789, 'MemTotal:       123456789 kB'],
    ['a line the host printed overflowing', 'VmallocTotal:   34359738367 kB', 5, 'VmallocTotal:          5 kB'],
    ['a unitless count', 'HugePages_Total:       0', 12, 'HugePages_Total:      12'],
    ['a negative value, clamped to 0', 'MemFree:        20934512 kB', -4, 'MemFree:               0 kB'],
  ])('formats %s in the kernel\'s %%-16s%%8lu layout', (_, host, value, expected) => {
    const [line] = parseMeminfo(`${host}\n`);
    expect(formatMeminfoLine(line!, value)).toBe(expected);
  });

  it('finds a value by exact key', () => {
    const lines = parseMeminfo(FIXTURE_MEMINFO);
    expect(meminfoValue(lines, 'Active')).toBe(1105472);
    expect(meminfoValue(lines, 'Active(anon)')).toBe(402156);
  });

  it.each([
    ['an empty file', ''],
    ['a line without a number', 'MemTotal: lots\n'],
  ])('rejects %s as SOURCE_UNREADABLE', (_, text) => {
    expect(() => parseMeminfo(text)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('rejects a missing line as SOURCE_UNREADABLE', () => {
    expect(() => meminfoValue(parseMeminfo(FIXTURE_MEMINFO), 'NoSuchLine')).toThrow(
      expect.objectContaining({ code: 'SOURCE_UNREADABLE' }),
    );
  });
});
