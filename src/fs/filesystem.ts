// The read-only filesystem behind the dispatcher: lookups and attributes of the static
// tree, per-open renderings kept in the shared handle store, and refusal of every
// write. It knows inodes and handles, not bytes on the wire.

import { CgprocfsError } from '../errors.js';
import { HandleStore, ShareExceededError, StoreFullError } from './handles.js';
import type { OwnerId } from './shares.js';
import { ROOT_ID, Tree, type TreeNode } from './tree.js';

export type FsErrno =
  | 'ENOENT' | 'EROFS' | 'EACCES' | 'EISDIR' | 'ENOTDIR' | 'EIO' | 'EBADF' | 'ENODATA' | 'ENFILE' | 'EMFILE' | 'EINVAL' | 'EPERM';

/** A refusal the caller sees as this errno. */
export class FsError extends Error {
  constructor(readonly errno: FsErrno, message: string) {
    super(message);
    this.name = 'FsError';
  }
}

/** Who is asking, from the request header: the fsuid, fsgid and thread id. */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
}

export interface NodeAttr {
  ino: bigint;
  size: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  timeSec: number;
  blksize: number;
}

export interface DirListing {
  ino: bigint;
  name: string;
  kind: 'dir' | 'file' | 'link';
}

/** The container a reader's view belongs to: what it holds of the handle store is accounted to it. */
export interface ViewOwner {
  readonly id: OwnerId;
  /** For log lines: its cgroup path. */
  readonly name: string;
}

/** A reader's view, resolved once per OPEN. */
export interface ReaderView {
  readonly container: ViewOwner;
  render(file: string): Buffer;
}

/** Renders a file of the tree for the reader whose thread id is `tid`, and says what it may see. */
export interface ContentSource {
  renderForReader(file: string, tid: number): Buffer;
  readerView(tid: number): ReaderView;
  /** True for paths whose presence depends on the reader. */
  isPerReader(path: string): boolean;
  /** Which per-reader paths the reader whose thread id is `tid` sees. */
  visibleFor(tid: number): (path: string) => boolean;
}

const MODE_FILE = 0o100444;
const MODE_DIR = 0o040555;
/** S_IFLNK | 0777: a symlink's own permission bits are never checked (symlink(7)). */
const MODE_LINK = 0o120777;
const BLOCK_SIZE = 4096;
/** No rendering is this large; larger READ offsets are simply past the end. */
const MAX_RENDERING = 2 ** 32;
const O_ACCMODE = 0o3;
const O_RDONLY = 0;
const O_TRUNC = 0o1000;
const W_OK = 2;
const X_OK = 1;

export interface FilesystemDeps {
  tree: Tree;
  handles: HandleStore;
  content: ContentSource;
  /** The mount's birth time, shown as every node's atime/mtime/ctime. */
  mountedAtSec: number;
  /** Told when a container is refused for holding its whole share of open files. */
  onShareExceeded?: (container: ViewOwner, error: ShareExceededError) => void;
}

/** Runs domain code; its catalogue errors become the errno the reader sees. */
function fromDomain<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof CgprocfsError) throw new FsError(err.errnoName as FsErrno, err.message);
    throw err;
  }
}

export class ReadOnlyFilesystem {
  constructor(private readonly deps: FilesystemDeps) {}

  /** A child by name; `perReader` entries must not be cached by the kernel (another reader may not see them). */
  lookup(parent: bigint, name: string, caller: Caller): { id: bigint; attr: NodeAttr; perReader: boolean } {
    const child = this.dir(parent).children.get(name);
    if (!child || !this.visible(child, caller)) throw new FsError('ENOENT', `no ${name} here`);
    return { id: child.id, attr: this.attrOf(child), perReader: this.deps.content.isPerReader(child.path) };
  }

  getattr(id: bigint): NodeAttr {
    return this.attrOf(this.node(id));
  }

  /** Renders the file for the opener and keeps the bytes until RELEASE. */
  open(id: bigint, flags: number, caller: Caller): bigint {
    const node = this.node(id);
    if (!this.visible(node, caller)) throw new FsError('ENOENT', `no ${node.path} for this reader`);
    if (node.kind === 'dir') throw new FsError('EISDIR', `${node.path} is a directory`);
    // The kernel follows symlinks itself and never opens one: only a confused request lands here.
    if (node.kind === 'link') throw new FsError('EINVAL', `${node.path} is a symlink`);
    if ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0) {
      throw new FsError('EROFS', `${node.path} is read-only`);
    }
    const view = fromDomain(() => this.deps.content.readerView(caller.pid));
    const content = fromDomain(() => view.render(node.path));
    return this.holding(view.container, () => this.deps.handles.open(node.id, content, view.container.id));
  }

  /**
   * Runs a store operation for `container`: beyond its share it gets EMFILE, the error
   * of a process that holds too many files (it is the one holding them); a full store
   * is ENFILE, the system's table being full.
   */
  private holding<T>(container: ViewOwner | undefined, work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (err instanceof ShareExceededError) {
        if (container !== undefined) this.deps.onShareExceeded?.(container, err);
        throw new FsError('EMFILE', err.message);
      }
      if (err instanceof StoreFullError) throw new FsError('ENFILE', err.message);
      throw err;
    }
  }

  /**
   * Serves [offset, offset+size) of the handle's rendering. A READ at offset 0 after the
   * first one re-renders, as the kernel's seq files do: readers like top keep the file
   * open and lseek(0) before every refresh. Reads past 0 never re-render a rendering
   * any reader was served part of, so one pass over the file sees one rendering.
   */
  read(fh: bigint, offset: bigint, size: number, caller: Caller, nodeId?: bigint): Buffer {
    const { handles, tree } = this.deps;
    // Offsets past 4 GiB are past the end of any rendering.
    const at = offset > BigInt(MAX_RENDERING) ? MAX_RENDERING : Number(offset);
    const result = handles.read(fh, at, size);
    if (!result) throw new FsError('EBADF', `unknown file handle ${fh}`);
    if (!result.rewind) return result.bytes;
    if (result.untracked) return this.renderUntracked(fh, nodeId, caller).subarray(at, at + size);
    const file = tree.node(result.nodeId);
    if (file?.kind !== 'file') throw new FsError('EBADF', `handle ${fh} names no file`);
    const content = this.render(file, caller);
    // A predecessor's handle whose extent cannot hold the new rendering fails rather
    // than mix two renderings in one pass.
    if (!this.holding(undefined, () => handles.replace(fh, content))) throw new FsError('EIO', `handle ${fh} cannot hold a new rendering`);
    return content.subarray(Math.min(at, content.length), at + size);
  }


  /**
   * A predecessor's handle whose record never reached its arena (a full state
   * directory, issue 18): served from a new rendering of the node the READ names, so the
   * reader gets its bytes, not an error; a pass over the file may mix two renderings.
   */
  private renderUntracked(fh: bigint, nodeId: bigint | undefined, caller: Caller): Buffer {
    const file = nodeId === undefined ? undefined : this.deps.tree.node(nodeId);
    if (file?.kind !== 'file') throw new FsError('EBADF', `unknown file handle ${fh}`);
    return this.render(file, caller);
  }

  release(fh: bigint): void {
    // An unknown handle is not an error: after a server restart the kernel releases
    // handles a predecessor opened.
    this.deps.handles.release(fh);
  }

  /** A symlink's target; EINVAL for anything else, as readlink(2) says. */
  readlink(id: bigint, caller: Caller): string {
    const node = this.node(id);
    if (!this.visible(node, caller)) throw new FsError('ENOENT', `no ${node.path} for this reader`);
    if (node.target === undefined) throw new FsError('EINVAL', `${node.path} is not a symlink`);
    return node.target;
  }

  opendir(id: bigint): void {
    this.dir(id);
  }

  /** Entries of a directory the reader sees, '.' and '..' first, in a stable order. */
  readdir(id: bigint, caller: Caller): DirListing[] {
    const dir = this.dir(id);
    const entries: DirListing[] = [
      { ino: dir.id, name: '.', kind: 'dir' },
      { ino: dir.parent?.id ?? ROOT_ID, name: '..', kind: 'dir' },
    ];
    let visible: ((path: string) => boolean) | undefined;
    for (const child of dir.children.values()) {
      if (this.deps.content.isPerReader(child.path)) {
        visible ??= this.visibility(caller);
        if (!visible(child.path)) continue;
      }
      entries.push({ ino: child.id, name: child.name, kind: child.kind });
    }
    return entries;
  }

  /** access(2): nothing here is writable, and only directories are searchable. */
  access(id: bigint, mask: number): void {
    const node = this.node(id);
    if (mask & W_OK) throw new FsError('EROFS', `${node.path} is read-only`);
    if (mask & X_OK && node.kind === 'file') throw new FsError('EACCES', `${node.path} is not executable`);
  }

  /** No node has extended attributes. */
  getxattr(id: bigint, name: string): never {
    this.node(id);
    throw new FsError('ENODATA', `no attribute ${name}`);
  }

  listxattr(id: bigint): string[] {
    this.node(id);
    return [];
  }

  nodeCount(): number {
    return this.deps.tree.files.length;
  }

  private visible(node: TreeNode, caller: Caller): boolean {
    return !this.deps.content.isPerReader(node.path) || this.visibility(caller)(node.path);
  }

  private visibility(caller: Caller): (path: string) => boolean {
    const visible = fromDomain(() => this.deps.content.visibleFor(caller.pid));
    // The predicate reads the reader's CPUs lazily: its errors need the same translation.
    return (path) => fromDomain(() => visible(path));
  }

  private render(node: TreeNode, caller: Caller): Buffer {
    return fromDomain(() => this.deps.content.renderForReader(node.path, caller.pid));
  }

  private node(id: bigint): TreeNode {
    const node = this.deps.tree.node(id);
    if (!node) throw new FsError('ENOENT', `no node ${id}`);
    return node;
  }

  private dir(id: bigint): TreeNode {
    const node = this.node(id);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', `${node.path} is not a directory`);
    return node;
  }

  private attrOf(node: TreeNode): NodeAttr {
    const isDir = node.kind === 'dir';
    return {
      ino: node.id,
      // Files report size 0, as the kernel's /proc does; FOPEN_DIRECT_IO makes readers
      // read to EOF instead of trusting st_size. A symlink's size is its target's length (lstat(2)).
      size: node.target === undefined ? 0 : Buffer.byteLength(node.target),
      mode: isDir ? MODE_DIR : node.kind === 'link' ? MODE_LINK : MODE_FILE,
      nlink: isDir ? 2 + [...node.children.values()].filter((c) => c.kind === 'dir').length : 1,
      uid: 0,
      gid: 0,
      timeSec: this.deps.mountedAtSec,
      blksize: BLOCK_SIZE,
    };
  }
}
