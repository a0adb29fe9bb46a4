// What the dispatcher asks of a filesystem, in the wire's terms (as go-fuse's
// RawFileSystem): node ids, handles, attributes, directory entries, and refusals as
// errno names of the one vocabulary (shared/errno.ts). `fs` implements it; `fuse`
// knows nothing of `fs`.
import type { ErrnoName } from '../shared/errno.js';
import type { Attr } from './codec.js';

/** A refusal the caller sees as this errno; the dispatcher's one place that makes errno replies reads it. */
export class ErrnoError extends Error {
  constructor(readonly errno: ErrnoName, message: string) {
    super(message);
    this.name = 'ErrnoError';
  }
}

/** Who is asking, from the request header: the fsuid, fsgid and thread id. */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
}

/** A node's attributes, as the codec writes them. */
export type NodeAttr = Attr;

export interface DirListing {
  ino: bigint;
  name: string;
  kind: 'dir' | 'file' | 'link';
}

/** A LOOKUP's answer; `perReader` entries must not be cached by the kernel (another reader may not see them). */
export interface LookupEntry {
  id: bigint;
  attr: NodeAttr;
  perReader: boolean;
}

/** Every operation may throw ErrnoError; anything else becomes EIO and is logged. */
export interface RawFilesystem {
  lookup(parent: bigint, name: string, caller: Caller): LookupEntry;
  getattr(id: bigint): NodeAttr;
  /** Renders the file for the opener; the handle the kernel echoes in READ and RELEASE. */
  open(id: bigint, flags: number, caller: Caller): bigint;
  /**
   * `nodeId`: the node the READ names, for a handle whose rendering was never recorded
   * (issue 18). `payload(length)`: a place for bytes the filesystem copies anyway;
   * returning it (or a part from its start) saves the reply a copy.
   */
  read(fh: bigint, offset: bigint, size: number, caller: Caller, nodeId?: bigint, payload?: (length: number) => Buffer): Buffer;
  release(fh: bigint): void;
  readlink(id: bigint, caller: Caller): string;
  opendir(id: bigint): void;
  readdir(id: bigint, caller: Caller): DirListing[];
  access(id: bigint, mask: number): void;
  getxattr(id: bigint, name: string): Buffer;
  listxattr(id: bigint): string[];
  nodeCount(): number;
}
