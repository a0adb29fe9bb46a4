import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSwaps } from '../../../src/host/swaps.js';
import { PROC_ROOT } from '../helpers/fixtures.js';

describe('host swaps parser', () => {
  it('keeps the kernel header and each device line verbatim', () => {
    const swaps = parseSwaps(readFileSync(join(PROC_ROOT, 'swaps'), 'utf8'));
    expect(swaps.header).toBe('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority');
    expect(swaps.devices).toEqual(['/swapfile                               file\t\t4194300\t\t34816\t\t-2']);
  });

  it('reads a host without swap as a header and no devices', () => {
    expect(parseSwaps('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n').devices).toEqual([]);
  });

  it.each([[''], ['garbage\n']])('rejects %j without a header as SOURCE_UNREADABLE', (text) => {
    expect(() => parseSwaps(text)).toThrow(expect.objectContaining({ code: 'SOURCE_UNREADABLE' }));
  });
});
