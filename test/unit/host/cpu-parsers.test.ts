import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCpuinfo, parseCpuinfo } from '../../../src/host/cpuinfo.js';
import { onlineCpus, parseHostStat } from '../../../src/host/stat.js';
import { parseStartTime, parseUptime, readBootId, readStartTime } from '../../../src/host/uptime.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

const fixture = (file: string): string => readFileSync(join(PROC_ROOT, file), 'utf8');

describe('host CPU files', () => {
  it('reads /proc/stat: the aggregate, one line per online CPU and the other lines in order', () => {
    const stat = parseHostStat(fixture('stat'), 'stat');
    expect(stat.aggregate).toEqual([36200, 51, 14200, 1940300, 1170, 0, 550, 83, 0, 0]);
    expect(onlineCpus(stat)).toEqual([0, 1, 2, 3]);
    expect(stat.cpus.get(2)).toEqual([9450, 21, 3720, 484510, 350, 0, 170, 25, 0, 0]);
    expect(stat.others.map((line) => line.key)).toEqual(
      ['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked', 'softirq']);
  });

  it.each([['this host', '/proc/stat'], ['the fixture', join(PROC_ROOT, 'stat')]])('parses the /proc/stat of %s', (_, path) => {
    const stat = parseHostStat(readFileSync(path, 'utf8'), path);
    expect(stat.cpus.size).toBeGreaterThan(0);
  });

  it.each(['cpu0 1 2 x\n', 'intr 1\n'])('rejects a /proc/stat with a bad or missing cpu line: %j', (text) => {
    expect(() => parseHostStat(text, 'stat')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it.each([['this host', '/proc/cpuinfo'], ['the fixture', join(PROC_ROOT, 'cpuinfo')]])(
    'splits the cpuinfo of %s into processor blocks and joins them back byte for byte', (_, path) => {
      const text = readFileSync(path, 'utf8');
      const blocks = parseCpuinfo(text);
      expect(blocks.every((block) => block.processor !== undefined)).toBe(true);
      expect(formatCpuinfo(blocks)).toBe(text);
    });

  it('keeps a block without a processor field (a trailer on some architectures) as it is', () => {
    const blocks = parseCpuinfo('processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\n\n');
    expect(blocks.map((block) => block.processor)).toEqual([0, undefined]);
  });

  it('reads /proc/uptime in hundredths of a second', () => {
    expect(parseUptime('929.43 1514.05\n', 'uptime')).toEqual({ uptime: 92943, idle: 151405 });
    expect(() => parseUptime('929.4 1\n', 'uptime')).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });

  it('reads a start time after a command name with spaces and parentheses', () => {
    const text = '77 (a) b (c) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0 18446744073709551615\n';
    expect(parseStartTime(text, 'stat')).toBe(123456);
    expect(readStartTime(PROC_ROOT, 2100)).toBe(400_000);
    expect(readStartTime(PROC_ROOT, 99_999)).toBeUndefined();
    expect(parseStartTime(readFileSync('/proc/self/stat', 'utf8'), '/proc/self/stat')).toBeGreaterThan(0);
  });

  it('reads the boot id, and none from a proc root without one', () => {
    expect(readBootId(PROC_ROOT)).toBe('8f3c2a4e-1b7d-4c9e-a5f0-2d6b8e1c3a70');
    expect(readBootId(join(PROC_ROOT, '1'))).toBe('');
  });
});
