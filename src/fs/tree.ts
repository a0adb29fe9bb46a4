// The virtual tree: which directories, files and symlinks exist and their node ids.
// Node ids are a hash of the path, not a counter, so a server that takes over a live
// connection (no new INIT, no lookup history) resolves the ids its predecessor gave out.

import { fnv1a64BigInt } from '../shared/fnv.js';

export type NodeKind = 'dir' | 'file' | 'link';

export interface TreeNode {
  readonly id: bigint;
  readonly path: string;
  readonly name: string;
  readonly kind: NodeKind;
  readonly parent: TreeNode | null;
  readonly children: Map<string, TreeNode>;
  /** A symlink's target, as READLINK answers it. */
  readonly target?: string;
}

export const ROOT_ID = 1n;

/** Ids below this are reserved (0 = negative entry, 1 = root). */
const FIRST_FREE_ID = 2n;

/** FNV-1a over the path's UTF-8 bytes: stable across versions and restarts. */
export function nodeIdOf(path: string): bigint {
  if (path === '') return ROOT_ID;
  const hash = fnv1a64BigInt(Buffer.from(path));
  return hash < FIRST_FREE_ID ? hash + FIRST_FREE_ID : hash;
}

export class Tree {
  readonly root: TreeNode;
  readonly files: readonly TreeNode[];
  private readonly byId = new Map<bigint, TreeNode>();

  /**
   * `files` are paths like 'proc/meminfo'; `dirs` are extra (possibly empty) directories;
   * `links` are symlinks and their targets.
   */
  constructor(files: readonly string[], dirs: readonly string[] = [], links: ReadonlyMap<string, string> = new Map()) {
    this.root = this.add(null, '', 'dir');
    for (const dir of dirs) this.ensureDir(dir);
    this.files = files.map((path) => this.add(this.parentOf(path), path, 'file'));
    for (const [path, target] of links) this.add(this.parentOf(path), path, 'link', target);
  }

  node(id: bigint): TreeNode | undefined {
    return this.byId.get(id);
  }

  /** The node at a path inside the tree ('' is the root). */
  byPath(path: string): TreeNode | undefined {
    return this.byId.get(nodeIdOf(path.replace(/^\/+|\/+$/g, '')));
  }

  private parentOf(path: string): TreeNode {
    const slash = path.lastIndexOf('/');
    return slash < 0 ? this.root : this.ensureDir(path.slice(0, slash));
  }

  private ensureDir(path: string): TreeNode {
    let node = this.root;
    for (const name of path.split('/').filter(Boolean)) {
      node = node.children.get(name) ?? this.add(node, node.path ? `${node.path}/${name}` : name, 'dir');
    }
    return node;
  }

  private add(parent: TreeNode | null, path: string, kind: NodeKind, target?: string): TreeNode {
    const id = nodeIdOf(path);
    if (this.byId.has(id)) throw new Error(`node id collision or duplicate path: ${path}`);
    const name = path.slice(path.lastIndexOf('/') + 1);
    const node: TreeNode = { id, path, name, kind, parent, children: new Map(), ...(target === undefined ? {} : { target }) };
    this.byId.set(id, node);
    parent?.children.set(name, node);
    return node;
  }
}
