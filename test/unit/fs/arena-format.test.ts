// The arena file's layout, which a successor reads (reference §7): records and file
// handles round-trip, the "not saved" bit, and headers that are none of ours.
import { describe, expect, it } from 'vitest';
import { dataStart, decodeFh, decodeHeader, decodeRecord, encodeFh, encodeHeader, encodeRecord, extentPages, PAGE, RECORD } from '../../../src/fs/arena-format.js';

describe('the arena format', () => {
  it('round-trips a record, saved or not, in 24 bytes', () => {
    const record = { gen: 0xabcdef, saved: true, page: 17, pages: 5, length: 18_000, nodeId: 0x1234_5678_9abcn };
    expect(encodeRecord(record)).toHaveLength(RECORD);
    expect(decodeRecord(encodeRecord(record))).toEqual(record);
    expect(decodeRecord(encodeRecord({ ...record, saved: false }))).toEqual({ ...record, saved: false });
  });

  it('reads a record of an earlier version (no "not saved" bit) as saved', () => {
    const old = Buffer.alloc(RECORD);
    old.writeUInt32LE(9, 0);
    old.writeUInt32LE(1, 8);
    expect(decodeRecord(old)).toMatchObject({ gen: 9, saved: true, pages: 1 });
  });

  it('round-trips a file handle: epoch, generation and slot', () => {
    const parts = { epoch: 0xfffe, gen: 0xffffff, slot: 65535 };
    expect(decodeFh(encodeFh(parts))).toEqual(parts);
  });

  it('reads its own header and refuses another magic or a slot count no handle can name', () => {
    expect(decodeHeader(encodeHeader(8))).toBe(8);
    expect(decodeHeader(Buffer.from('not an arena'))).toBeUndefined();
    expect(decodeHeader(encodeHeader(2 ** 24 + 1))).toBeUndefined();
  });

  it('starts contents page aligned after the directory, and gives a rendering room to grow', () => {
    expect(dataStart(8)).toBe(2 * PAGE);
    expect(dataStart(171)).toBe(3 * PAGE);
    expect(extentPages(0)).toBe(4);
    expect(extentPages(20_000)).toBe(Math.ceil(40_000 / PAGE));
  });
});
