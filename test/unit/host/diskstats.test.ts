import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceNumber, formatDiskstatsLine, parseDiskstats } from '../../../src/host/diskstats.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

const HOST = readFileSync(join(PROC_ROOT, 'diskstats'), 'utf8');
const roundTrip = (text: string) => parseDiskstats(text, 'test').map(formatDiskstatsLine).join('');

describe('the host /proc/diskstats parser', () => {
  it('round-trips the kernel layout byte for byte (loop devices, disks, partitions)', () => {
    expect(roundTrip(HOST)).toBe(HOST);
  });

  it('reads device numbers, names and the 17 counters of a 5.5+ kernel', () => {
    const lines = parseDiskstats(HOST, 'test');
    const nvme = lines.find((line) => line.name === 'nvme0n1');
    expect(lines.map(deviceNumber)).toContain('259:1');
    expect(nvme).toMatchObject({ major: 259, minor: 0 });
    expect(nvme?.counters).toHaveLength(17);
    expect(nvme?.counters[0]).toBe(985214n);
  });

  it.each([
    ['pre-4.18 (11 counters)', '   8       0 sda 1 2 3 4 5 6 7 8 0 9 10\n'],
    ['4.18-5.4 (15 counters)', '   8       0 sda 1 2 3 4 5 6 7 8 0 9 10 11 12 13 14\n'],
    ['a major wider than four columns', '65536 1048575 dm-99 1 2 3 4 5 6 7 8 0 9 10 11 12 13 14 15 16\n'],
  ])('round-trips the line of %s', (_, text) => {
    expect(roundTrip(text)).toBe(text);
  });

  it('keeps u64 counters above 2^53 exact', () => {
    const text = '   8       0 sda 1 0 18446744073709551615 0 0 0 9007199254740993 0 0 0 0 0 0 0 0 0 0\n';
    expect(roundTrip(text)).toBe(text);
  });

  it.each([
    ['too few counters', '   8       0 sda 1 2 3\n'],
    ['a non-numeric counter', '   8       0 sda 1 2 x 4 5 6 7 8 0 9 10\n'],
    ['no name', '   8       0\n'],
  ])('raises SOURCE_UNREADABLE for %s', (_, text) => {
    expect(() => parseDiskstats(text, 'test')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});
