import { describe, expect, it } from 'vitest';
import { FileType, Opcode, Size } from '../../../src/fuse/abi.js';
import {
  DecodeError,
  decodeRequest,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeError,
  encodeInitOut,
  encodeNotify,
  encodeOpenOut,
  encodeReadlinkOut,
  encodeReply,
  ReplyInPlace,
  encodeStatfsOut,
  type Attr,
  type FileHandle,
} from '../../../src/fuse/codec.js';
import { hex } from '../../support/hex.js';

const fileAttr: Attr = { ino: 2n, size: 12, mode: 0o100444, nlink: 1, uid: 0, gid: 0, timeSec: 0x6b07b0f0, blksize: 4096 };

describe('struct sizes', () => {
  it.each([
    ['IN_HEADER', 40], ['OUT_HEADER', 16], ['INIT_IN', 64], ['INIT_OUT', 64], ['ATTR', 88],
    ['ENTRY_OUT', 128], ['ATTR_OUT', 104], ['GETATTR_IN', 16], ['OPEN_IN', 8], ['OPEN_OUT', 16],
    ['READ_IN', 40], ['RELEASE_IN', 24], ['FLUSH_IN', 24], ['FORGET_ONE', 16], ['STATFS_OUT', 80],
    ['DIRENT_HEADER', 24],
  ] as const)('%s is %d bytes as in fuse.h', (name, size) => {
    expect(Size[name]).toBe(size);
  });

  it('encodes replies at exactly the struct sizes the kernel checks', () => {
    expect(encodeEntryOut(2n, fileAttr, { entrySec: 1, attrSec: 1 })).toHaveLength(Size.ENTRY_OUT);
    expect(encodeAttrOut(fileAttr, 1)).toHaveLength(Size.ATTR_OUT);
    expect(encodeOpenOut(7n as FileHandle, 1)).toHaveLength(Size.OPEN_OUT);
    expect(encodeStatfsOut({ blockSize: 4096, nameMax: 255, files: 2 })).toHaveLength(Size.STATFS_OUT);
  });
});

describe('decodeRequest', () => {
  // The LOOKUP of "hello" captured on a real kernel (reference §3).
  const lookupHello = hex`
    2e 00 00 00  01 00 00 00   # len 46, opcode LOOKUP
    04 00 00 00  00 00 00 00   # unique 4
    01 00 00 00  00 00 00 00   # nodeid 1 (root)
    00 00 00 00  00 00 00 00   # uid 0, gid 0
    9b 37 00 00  00 00 00 00   # pid 14235, total_extlen 0, padding
    68 65 6c 6c 6f 00          # "hello\\0"
  `;

  it('decodes a captured LOOKUP header and name', () => {
    const req = decodeRequest(lookupHello);
    expect(req).toMatchObject({ kind: 'lookup', name: 'hello' });
    expect(req.header).toEqual({ len: 46, opcode: Opcode.LOOKUP, unique: 4n, nodeid: 1n, uid: 0, gid: 0, pid: 14235 });
  });

  it('keeps bit 63 of a re-sent unique', () => {
    const resent = Buffer.from(lookupHello);
    resent.writeBigUInt64LE(0x8000000000000008n, 8);
    expect(decodeRequest(resent).header.unique).toBe(0x8000000000000008n);
  });

  it('decodes INIT flags and flags2 into one 64-bit set', () => {
    const init = hex`
      68 00 00 00  1a 00 00 00   # len 104, opcode INIT
      02 00 00 00  00 00 00 00   # unique 2
      00 00 00 00  00 00 00 00   # nodeid 0
      00 00 00 00  00 00 00 00   # uid, gid
      01 00 00 00  00 00 00 00   # pid 1
      07 00 00 00  2d 00 00 00   # major 7, minor 45
      00 00 02 00  fb ff ff 73   # max_readahead 131072, flags 0x73fffffb
      fd 05 00 00                # flags2 0x5fd
      ${'00 '.repeat(44)}        # unused
    `;
    expect(decodeRequest(init)).toMatchObject({ kind: 'init', major: 7, minor: 45, maxReadahead: 131072, flags: 0x5fd73fffffbn });
  });

  it('decodes READ with a u64 offset', () => {
    const read = hex`
      50 00 00 00  0f 00 00 00   # len 80, opcode READ
      0a 00 00 00  00 00 00 00   # unique 10
      05 00 00 00  00 00 00 00   # nodeid 5
      e8 03 00 00  e8 03 00 00   # uid 1000, gid 1000
      10 00 00 00  00 00 00 00   # pid 16
      2a 00 00 00  00 00 01 00   # fh 0x000100000000002a
      00 00 00 00  01 00 00 00   # offset 2^32
      00 00 02 00  02 00 00 00   # size 131072, read_flags LOCKOWNER
      00 00 00 00  00 00 00 00   # lock_owner
      00 80 00 00  00 00 00 00   # flags, padding
    `;
    expect(decodeRequest(read)).toMatchObject({ kind: 'read', fh: 0x000100000000002an, offset: 1n << 32n, size: 131072 });
  });

  it('decodes BATCH_FORGET entries', () => {
    const batch = hex`
      50 00 00 00  2a 00 00 00   # len 80, opcode BATCH_FORGET
      0c 00 00 00  00 00 00 00   # unique 12
      00 00 00 00  00 00 00 00   # nodeid 0
      00 00 00 00  00 00 00 00   # uid, gid
      00 00 00 00  00 00 00 00   # pid
      02 00 00 00  00 00 00 00   # count 2
      05 00 00 00  00 00 00 00   # nodeid 5
      01 00 00 00  00 00 00 00   # nlookup 1
      06 00 00 00  00 00 00 00   # nodeid 6
      03 00 00 00  00 00 00 00   # nlookup 3
    `;
    expect(decodeRequest(batch)).toMatchObject({ kind: 'batchForget', forgets: [{ nodeid: 5n, nlookup: 1n }, { nodeid: 6n, nlookup: 3n }] });
  });

  it.each([
    ['a header shorter than 40 bytes', lookupHello.subarray(0, 39)],
    ['a len field that disagrees with the bytes read', Buffer.concat([lookupHello, Buffer.from([0])])],
    ['a LOOKUP name without its NUL', (() => {
      const b = Buffer.from(lookupHello.subarray(0, 45));
      b.writeUInt32LE(45, 0);
      return b;
    })()],
    ['a READ body cut short', (() => {
      const b = Buffer.alloc(50);
      b.writeUInt32LE(50, 0);
      b.writeUInt32LE(Opcode.READ, 4);
      return b;
    })()],
    ['a BATCH_FORGET that claims more entries than it holds', (() => {
      const b = Buffer.alloc(64);
      b.writeUInt32LE(64, 0);
      b.writeUInt32LE(Opcode.BATCH_FORGET, 4);
      b.writeUInt32LE(1000, 40);
      return b;
    })()],
  ])('rejects %s with a DecodeError', (_name, bytes) => {
    expect(() => decodeRequest(bytes)).toThrow(DecodeError);
  });

  it('decodes READLINK, a header without a body, and rejects one that claims more bytes', () => {
    const readlink = hex`
      28 00 00 00  05 00 00 00   # len 40, opcode READLINK
      0a 00 00 00  00 00 00 00   # unique 10
      2a 00 00 00  00 00 00 00   # nodeid 42 (the symlink)
      00 00 00 00  00 00 00 00   # uid 0, gid 0
      9b 37 00 00  00 00 00 00   # pid 14235
    `;
    const req = decodeRequest(readlink);
    expect(req).toEqual({ kind: 'readlink', header: { len: 40, opcode: Opcode.READLINK, unique: 10n, nodeid: 42n, uid: 0, gid: 0, pid: 14235 } });
    const claimsMore = Buffer.from(readlink);
    claimsMore.writeUInt32LE(48, 0);
    expect(() => decodeRequest(claimsMore)).toThrow(DecodeError);
  });

  it('decodes an unknown opcode as other instead of failing', () => {
    const b = Buffer.alloc(40);
    b.writeUInt32LE(40, 0);
    b.writeUInt32LE(999, 4);
    expect(decodeRequest(b).kind).toBe('other');
  });
});

describe('encoders', () => {
  it('builds a READ reply in the payload place it handed out: the header before it, no copy of the bytes (issue 20)', () => {
    const reply = new ReplyInPlace(7n);
    const payload = reply.payload(16);
    payload.write('rendering 1\n');
    const framed = reply.reply(payload.subarray(0, 12));
    expect(framed).toEqual(encodeReply(7n, Buffer.from('rendering 1\n')));
    // One memory: the reply is the payload's buffer with the header in front.
    expect([framed.buffer, framed.byteOffset + 16]).toEqual([payload.buffer, payload.byteOffset]);
    payload.write('R');
    expect(framed.subarray(16, 17).toString()).toBe('R');
  });

  it('copies bytes it did not hand out (a fresh rendering) into a reply like encodeReply', () => {
    const reply = new ReplyInPlace(8n);
    const payload = reply.payload(4);
    const other = Buffer.from('other');
    for (const bytes of [other, payload.subarray(1)]) {
      const framed = reply.reply(bytes);
      expect(framed).toEqual(encodeReply(8n, bytes));
      expect(framed.buffer === bytes.buffer && framed.byteOffset + 16 === bytes.byteOffset).toBe(false);
    }
    expect(new ReplyInPlace(9n).reply(other)).toEqual(encodeReply(9n, other));
  });

  it('encodes the captured LOOKUP reply byte for byte', () => {
    const reply = encodeReply(4n, encodeEntryOut(2n, fileAttr, { entrySec: 1, attrSec: 1 }));
    expect(reply).toEqual(hex`
      90 00 00 00  00 00 00 00   # len 144, error 0
      04 00 00 00  00 00 00 00   # unique 4
      02 00 00 00  00 00 00 00   # nodeid 2
      00 00 00 00  00 00 00 00   # generation
      01 00 00 00  00 00 00 00   # entry_valid 1 s
      01 00 00 00  00 00 00 00   # attr_valid 1 s
      00 00 00 00  00 00 00 00   # entry/attr valid nsec
      02 00 00 00  00 00 00 00   # ino 2
      0c 00 00 00  00 00 00 00   # size 12
      01 00 00 00  00 00 00 00   # blocks 1
      f0 b0 07 6b  00 00 00 00   # atime
      f0 b0 07 6b  00 00 00 00   # mtime
      f0 b0 07 6b  00 00 00 00   # ctime
      00 00 00 00  00 00 00 00   # atime/mtime nsec
      00 00 00 00  24 81 00 00   # ctime nsec, mode 0100444
      01 00 00 00  00 00 00 00   # nlink 1, uid 0
      00 00 00 00  00 00 00 00   # gid 0, rdev 0
      00 10 00 00  00 00 00 00   # blksize 4096, flags
    `);
  });

  it('encodes an error as a bare header with the errno negated', () => {
    expect(encodeError(6n, 2)).toEqual(hex`
      10 00 00 00  fe ff ff ff   # len 16, error -ENOENT
      06 00 00 00  00 00 00 00   # unique 6
    `);
  });

  it('encodes NOTIFY_RESEND as a header with unique 0 and the code in error', () => {
    expect(encodeNotify(7)).toEqual(hex`10 00 00 00 07 00 00 00 ${'00 '.repeat(8)}`);
  });

  it('puts flags2 in the high word of init_out only at offset 32', () => {
    const out = encodeInitOut({
      major: 7, minor: 45, maxReadahead: 131072, flags: (1n << 39n) | 1n, maxBackground: 16,
      congestionThreshold: 12, maxWrite: 4096, timeGranNs: 1, maxPages: 0,
    });
    expect(out).toHaveLength(64);
    expect(out.readUInt32LE(12)).toBe(1);
    expect(out.readUInt32LE(32)).toBe(1 << 7);
  });

  it('encodes a READLINK reply as the target\'s bytes alone, without a NUL', () => {
    expect(encodeReply(10n, encodeReadlinkOut('../../node/node0'))).toEqual(hex`
      20 00 00 00  00 00 00 00   # len 32, error 0
      0a 00 00 00  00 00 00 00   # unique 10
      2e 2e 2f 2e  2e 2f 6e 6f   # "../../no"
      64 65 2f 6e  6f 64 65 30   # "de/node0"
    `);
  });

  it('gives a symlink\'s dirent type DT_LNK (10)', () => {
    const out = encodeDirents([{ ino: 9n, name: 'node0', type: FileType.DT_LNK }], 0, 4096);
    expect(out.readUInt32LE(20)).toBe(10);
  });

  it('pads dirents to 8 bytes and points each off at the next entry', () => {
    const out = encodeDirents([{ ino: 1n, name: '.', type: 4 }, { ino: 9n, name: 'meminfo', type: 8 }], 0, 4096);
    expect(out).toHaveLength(32 + 32);
    expect(out.readBigUInt64LE(8)).toBe(1n);
    expect(out.readBigUInt64LE(32 + 8)).toBe(2n);
    expect(out.toString('utf8', 32 + 24, 32 + 31)).toBe('meminfo');
  });

  it('stops packing dirents before exceeding the reader\'s buffer', () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ ino: BigInt(i + 2), name: `f${i}`, type: 8 }));
    expect(encodeDirents(entries, 0, 100)).toHaveLength(96);
    expect(encodeDirents(entries, 9, 4096)).toHaveLength(32);
  });
});
