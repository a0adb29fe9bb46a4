// Builds FUSE request bytes the way the kernel lays them out (fuse_in_header + body),
// for driving the dispatcher without a kernel.
import { Opcode, Size } from '../../src/fuse/abi.js';

export interface Who {
  uid?: number;
  gid?: number;
  pid?: number;
}

let nextUnique = 2n;

export function request(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0), who: Who = {}, unique?: bigint): Buffer {
  const header = Buffer.alloc(Size.IN_HEADER);
  header.writeUInt32LE(Size.IN_HEADER + body.length, 0);
  header.writeUInt32LE(opcode, 4);
  header.writeBigUInt64LE(unique ?? (nextUnique += 2n), 8);
  header.writeBigUInt64LE(nodeid, 16);
  header.writeUInt32LE(who.uid ?? 0, 24);
  header.writeUInt32LE(who.gid ?? 0, 28);
  header.writeUInt32LE(who.pid ?? 0, 32);
  return Buffer.concat([header, body]);
}

const u32s = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  return b;
};

export const req = {
  init: (major: number, minor: number, flags = 0xffffffff, flags2 = 0): Buffer =>
    request(Opcode.INIT, 0n, Buffer.concat([u32s(major, minor, 131072, flags, flags2), Buffer.alloc(44)])),
  lookup: (parent: bigint, name: string, who?: Who): Buffer => request(Opcode.LOOKUP, parent, Buffer.from(`${name}\0`), who),
  getattr: (node: bigint): Buffer => request(Opcode.GETATTR, node, Buffer.alloc(Size.GETATTR_IN)),
  open: (node: bigint, flags: number, who?: Who): Buffer => request(Opcode.OPEN, node, u32s(flags, 0), who),
  opendir: (node: bigint): Buffer => request(Opcode.OPENDIR, node, u32s(0o304000, 0)),
  read: (node: bigint, fh: bigint, offset: bigint, size: number, who?: Who, opcode: number = Opcode.READ): Buffer => {
    const body = Buffer.alloc(Size.READ_IN);
    body.writeBigUInt64LE(fh, 0);
    body.writeBigUInt64LE(offset, 8);
    body.writeUInt32LE(size, 16);
    return request(opcode, node, body, who);
  },
  release: (node: bigint, fh: bigint, opcode: number = Opcode.RELEASE): Buffer => {
    const body = Buffer.alloc(Size.RELEASE_IN);
    body.writeBigUInt64LE(fh, 0);
    return request(opcode, node, body);
  },
  access: (node: bigint, mask: number): Buffer => request(Opcode.ACCESS, node, u32s(mask, 0)),
  getxattr: (node: bigint, name: string, size: number): Buffer =>
    request(Opcode.GETXATTR, node, Buffer.concat([u32s(size, 0), Buffer.from(`${name}\0`)])),
  listxattr: (node: bigint, size: number): Buffer => request(Opcode.LISTXATTR, node, u32s(size, 0)),
  forget: (node: bigint): Buffer => request(Opcode.FORGET, node, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])),
  interrupt: (target: bigint): Buffer => {
    const body = Buffer.alloc(Size.INTERRUPT_IN);
    body.writeBigUInt64LE(target);
    return request(Opcode.INTERRUPT, 0n, body, {}, target | 1n);
  },
};

/** A decoded reply: the errno (positive, 0 for success) and the payload. */
export interface Reply {
  errno: number;
  unique: bigint;
  payload: Buffer;
}

export function parseReply(bytes: Buffer | null): Reply {
  if (bytes === null) throw new Error('expected a reply, got none');
  if (bytes.readUInt32LE(0) !== bytes.length) throw new Error('reply length field disagrees with its size');
  return { errno: -bytes.readInt32LE(4) || 0, unique: bytes.readBigUInt64LE(8), payload: bytes.subarray(Size.OUT_HEADER) };
}
