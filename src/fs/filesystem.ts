// The read-only filesystem behind the dispatcher (the RawFilesystem that fuse defines):
// lookups and attributes of the static tree, per-open renderings kept in the shared
// handle store, and refusal of every write. It knows inodes and handles, not bytes on
// the wire; its refusals are errno names of the one vocabulary (shared/errno.ts).

import { AccessMask, FileType, OpenFlag } from '../fuse/abi.js';
import { ErrnoError, type Caller, type DirListing, type LookupEntry, type NodeAttr, type RawFilesystem } from '../fuse/filesystem-api.js';
import type { HandleStore } from './handles.js';
import { ShareExceededError, StoreFullError } from './store-errors.js';
import type { OwnerId } from './shares.js';
import { ROOT_ID, Tree, type TreeNode } from './tree.js';

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
  /** Whether this reader sees a per-reader path (its CPUs' and nodes' entries). */
  visible(path: string): boolean;
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

const MODE_FILE = FileType.S_IFREG | 0o444;
const MODE_DIR = FileType.S_IFDIR | 0o555;
/** S_IFLNK | 0777: a symlink's own permission bits are never checked (symlink(7)). */
const MODE_LINK = FileType.S_IFLNK | 0o777;
const BLOCK_SIZE = 4096;
/** No rendering is this large; larger READ offsets are simply past the end. */
const MAX_RENDERING = 2 ** 32;

export interface FilesystemDeps {
  tree: Tree;
  handles: HandleStore;
  content: ContentSource;
  /** The mount's birth time, shown as every node's atime/mtime/ctime. */
  mountedAtSec: number;
  /** Told when a container is refused for holding its whole share of open files. */
  onShareExceeded?: (container: ViewOwner, error: ShareExceededError) => void;
}

export class ReadOnlyFilesystem implements RawFilesystem {
  constructor(private readonly deps: FilesystemDeps) {}

  /** A child by name; a per-reader one the kernel must not cache (another reader may not see it). */
  lookup(parent: bigint, name: string, caller: Caller): LookupEntry {
    const child = this.dir(parent).children.get(name);
    if (!child || !this.visible(child, caller)) throw new ErrnoError('ENOENT', `no ${name} here`);
    return { id: child.id, attr: this.attrOf(child), perReader: this.deps.content.isPerReader(child.path) };
  }

  getattr(id: bigint): NodeAttr {
    return this.attrOf(this.node(id));
  }

  /** Renders the file for the opener and keeps the bytes until RELEASE. */
  open(id: bigint, flags: number, caller: Caller): bigint {
    const node = this.node(id);
    // The reader is resolved once per OPEN, and only when needed: what it may see and
    // what it gets come from one view. Domain errors (the catalogue's, errors.ts) pass
    // through: the dispatcher answers their errno.
    let resolved: ReaderView | undefined;
    const view = (): ReaderView => (resolved ??= this.deps.content.readerView(caller.pid));
    if (this.deps.content.isPerReader(node.path) && !view().visible(node.path)) throw new ErrnoError('ENOENT', `no ${node.path} for this reader`);
    if (node.kind === 'dir') throw new ErrnoError('EISDIR', `${node.path} is a directory`);
    // The kernel follows symlinks itself and never opens one: only a confused request lands here.
    if (node.kind === 'link') throw new ErrnoError('EINVAL', `${node.path} is a symlink`);
    if ((flags & OpenFlag.ACCMODE) !== OpenFlag.RDONLY || (flags & OpenFlag.TRUNC) !== 0) {
      throw new ErrnoError('EROFS', `${node.path} is read-only`);
    }
    const content = view().render(node.path);
    const { container } = view();
    return this.holding(container, () => this.deps.handles.open(node.id, content, container.id));
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
        throw new ErrnoError('EMFILE', err.message);
      }
      if (err instanceof StoreFullError) throw new ErrnoError('ENFILE', err.message);
      throw err;
    }
  }

  /**
   * Serves [offset, offset+size) of the handle's rendering. The READ rule: a READ at
   * offset 0 after the start was served re-renders, as the kernel's seq files do:
   * readers like top keep the file open and lseek(0) before every refresh (a
   * predecessor's handle at offset 0 is a rewind or a re-sent first READ, and a new
   * rendering serves both). Reads past 0 never re-render a rendering any reader was
   * served part of, so one pass over the file sees one rendering.
   */
  read(fh: bigint, offset: bigint, size: number, caller: Caller, nodeId?: bigint, payload?: (length: number) => Buffer): Buffer {
    const { handles } = this.deps;
    // Offsets past 4 GiB are past the end of any rendering.
    const at = offset > BigInt(MAX_RENDERING) ? MAX_RENDERING : Number(offset);
    if (at === 0) {
      const start = handles.markStartServed(fh);
      if (start?.before) return this.renderAnew(fh, start.nodeId, caller).subarray(0, size);
    }
    const stored = handles.read(fh, at, size, payload);
    if (!stored) throw new ErrnoError('EBADF', `unknown file handle ${fh}`);
    if (stored.kind === 'range') return stored.bytes;
    if (stored.kind === 'untracked') return this.renderUntracked(fh, nodeId, caller).subarray(at, at + size);
    // A predecessor's rendering nobody was served a part of, which never reached its arena.
    const content = this.renderAnew(fh, stored.nodeId, caller);
    return content.subarray(Math.min(at, content.length), at + size);
  }

  /** A new rendering of the handle's node, which the handle keeps from now on. */
  private renderAnew(fh: bigint, nodeId: bigint, caller: Caller): Buffer {
    const file = this.deps.tree.node(nodeId);
    if (file?.kind !== 'file') throw new ErrnoError('EBADF', `handle ${fh} names no file`);
    const content = this.render(file, caller);
    // A predecessor's handle whose extent cannot hold the new rendering fails rather
    // than mix two renderings in one pass.
    if (!this.holding(undefined, () => this.deps.handles.replace(fh, content))) throw new ErrnoError('EIO', `handle ${fh} cannot hold a new rendering`);
    return content;
  }

  /**
   * A predecessor's handle whose record never reached its arena (a full state
   * directory, issue 18): served from a new rendering of the node the READ names, so the
   * reader gets its bytes, not an error; a pass over the file may mix two renderings.
   */
  private renderUntracked(fh: bigint, nodeId: bigint | undefined, caller: Caller): Buffer {
    const file = nodeId === undefined ? undefined : this.deps.tree.node(nodeId);
    if (file?.kind !== 'file') throw new ErrnoError('EBADF', `unknown file handle ${fh}`);
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
    if (!this.visible(node, caller)) throw new ErrnoError('ENOENT', `no ${node.path} for this reader`);
    if (node.target === undefined) throw new ErrnoError('EINVAL', `${node.path} is not a symlink`);
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
    if (mask & AccessMask.W_OK) throw new ErrnoError('EROFS', `${node.path} is read-only`);
    if (mask & AccessMask.X_OK && node.kind === 'file') throw new ErrnoError('EACCES', `${node.path} is not executable`);
  }

  /** No node has extended attributes. */
  getxattr(id: bigint, name: string): never {
    this.node(id);
    throw new ErrnoError('ENODATA', `no attribute ${name}`);
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
    return this.deps.content.visibleFor(caller.pid);
  }

  private render(node: TreeNode, caller: Caller): Buffer {
    return this.deps.content.renderForReader(node.path, caller.pid);
  }

  private node(id: bigint): TreeNode {
    const node = this.deps.tree.node(id);
    if (!node) throw new ErrnoError('ENOENT', `no node ${id}`);
    return node;
  }

  private dir(id: bigint): TreeNode {
    const node = this.node(id);
    if (node.kind !== 'dir') throw new ErrnoError('ENOTDIR', `${node.path} is not a directory`);
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
