import { describe, expect, it } from 'vitest';
import { droppableMappings, parseSmaps } from '../../../src/daemon/executable-pages.js';

const mapping = (range: string, perms: string, path: string, anonymousKb: number) =>
  `${range} ${perms} 00000000 fe:01 1234                       ${path}\nSize:               8 kB\nRss:                8 kB\nAnonymous:       ${anonymousKb} kB\nVmFlags: rd mr mw me\n`;

// An executable's mappings as the loader leaves them: text, rodata, RELRO (read-only
// now, relocated at load), data; then the heap and a library.
const SMAPS = [
  mapping('00400000-00c00000', 'r--p', '/usr/bin/node', 0),
  mapping('00c00000-02800000', 'r-xp', '/usr/bin/node', 0),
  mapping('02800000-05800000', 'r--p', '/usr/bin/node', 0),
  mapping('05800000-05900000', 'r--p', '/usr/bin/node', 64),
  mapping('05900000-05a00000', 'rw-p', '/usr/bin/node', 0),
  mapping('05a00000-05b00000', 'rw-p', '[heap]', 1024),
  mapping('7f0000000000-7f0000100000', 'r-xp', '/usr/lib/x86_64-linux-gnu/libc.so.6', 0),
].join('');

describe('droppableMappings', () => {
  it('parses each mapping with its range, permissions, path and pages of its own', () => {
    const mappings = parseSmaps(SMAPS);
    expect(mappings).toHaveLength(7);
    expect(mappings[3]).toEqual({ start: 0x5800000n, end: 0x5900000n, perms: 'r--p', path: '/usr/bin/node', rssKb: 8, anonymousKb: 64 });
  });

  it('drops only the executable\'s read-only mappings that hold no written page: never RELRO, data, the heap or a library', () => {
    const dropped = droppableMappings(parseSmaps(SMAPS), '/usr/bin/node').map((m) => m.start);
    expect(dropped).toEqual([0x400000n, 0xc00000n, 0x2800000n]);
  });
});
