// The READ rule lives in the filesystem, not the store (issue 20 item 3): a READ at
// offset 0 after the start was served renders anew (top lseeks to 0 before every
// refresh); later offsets come from the rendering the pass began with; a predecessor's
// handle at offset 0, or whose rendering never reached its arena, is rendered anew.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReadOnlyFilesystem, type ContentSource } from '../../../src/fs/filesystem.js';
import { createHandleStore, HandleStore } from '../../../src/fs/handles.js';
import { nodeIdOf, Tree } from '../../../src/fs/tree.js';

const MEMINFO = 'proc/meminfo';
const READER = { uid: 0, gid: 0, pid: 4242 };
const arenas = mkdtempSync(join(tmpdir(), 'cgprocfs-read-rule-'));
afterAll(() => rmSync(arenas, { recursive: true, force: true }));

/** Each rendering says its number: which rendering a READ served is plain to see. */
function numberedSource(): ContentSource & { renderings: number } {
  const render = (): Buffer => Buffer.from(`rendering ${++source.renderings}\n`);
  const source = {
    renderings: 0,
    renderForReader: render,
    readerView: () => ({ container: { id: [1, 2, 3, 4] as const, name: '/c' }, render, visible: () => true }),
    isPerReader: () => false,
    visibleFor: () => () => true,
  };
  return source;
}

/** A server of epoch `epoch` over the arenas' directory; servers of one directory are predecessor and successor. */
function server(epoch: number, content = numberedSource()): { fs: ReadOnlyFilesystem; content: ReturnType<typeof numberedSource> } {
  const handles = new HandleStore(createHandleStore(arenas, epoch, { slots: 8, arenaBytes: 16 * 4096 }));
  return { fs: new ReadOnlyFilesystem({ tree: new Tree([MEMINFO]), handles, content, mountedAtSec: 0 }), content };
}

/** A handle opened by a server of `epoch`, whose reader was served its first `served` bytes, and that server's successor. */
function handedOver(epoch: number, successorEpoch: number, served: number): { fh: bigint; successor: ReturnType<typeof server> } {
  const predecessor = server(epoch);
  const fh = predecessor.fs.open(nodeIdOf(MEMINFO), 0, READER);
  if (served > 0) expect(predecessor.fs.read(fh, 0n, served, READER).toString()).toBe('rendering 1\n'.slice(0, served));
  return { fh, successor: server(successorEpoch) };
}

describe('the READ rule of the filesystem', () => {
  it('copies a READ served from the store into the payload place the dispatcher gives, once (issue 20)', () => {
    const { fh, successor } = handedOver(10, 11, 4);
    const own = server(12);
    const ownFh = own.fs.open(nodeIdOf(MEMINFO), 0, READER);
    for (const [fs, handle, offset] of [[own.fs, ownFh, 0n], [own.fs, ownFh, 3n], [successor.fs, fh, 4n]] as const) {
      const places: Buffer[] = [];
      const bytes = fs.read(handle, offset, 100, READER, undefined, (length) => places[places.push(Buffer.alloc(length)) - 1]!);
      expect(places).toHaveLength(1);
      expect(bytes).toBe(places[0]);
      expect(bytes.toString()).toBe('rendering 1\n'.slice(Number(offset)));
    }
  });

  it('serves later offsets from the OPEN\'s rendering and renders anew at a second READ at offset 0, whose rendering later offsets then serve', () => {
    const { fs, content } = server(1);
    const fh = fs.open(nodeIdOf(MEMINFO), 0, READER);
    expect(fs.read(fh, 0n, 4, READER).toString()).toBe('rend');
    expect(fs.read(fh, 4n, 100, READER).toString()).toBe('ering 1\n');
    expect(fs.read(fh, 0n, 100, READER).toString()).toBe('rendering 2\n');
    expect(fs.read(fh, 10n, 100, READER).toString()).toBe('2\n');
    expect(content.renderings).toBe(2);
  });

  it('renders a predecessor\'s handle anew at offset 0, and serves the rest of a rendering its reader was served part of', () => {
    const { fh, successor } = handedOver(2, 3, 4);
    expect(successor.fs.read(fh, 4n, 100, READER).toString()).toBe('ering 1\n');
    expect(successor.content.renderings).toBe(0);
    expect(successor.fs.read(fh, 0n, 100, READER).toString()).toBe('rendering 1\n');
    expect(successor.content.renderings).toBe(1);
  });

  it('renders anew a predecessor\'s handle whose rendering never reached its arena (no reader was served a part)', () => {
    const { fh, successor } = handedOver(4, 5, 0);
    expect(successor.fs.read(fh, 3n, 100, READER).toString()).toBe('dering 1\n');
    expect(successor.content.renderings).toBe(1);
    expect(successor.fs.read(fh, 10n, 100, READER).toString()).toBe('1\n');
    expect(successor.content.renderings).toBe(1);
  });

  it('serves an untracked handle (its arena is gone) from a new rendering of the node the READ names, and EBADF without one', () => {
    const { fs } = server(6);
    const untracked = (9n << 48n) | (1n << 24n);
    expect(fs.read(untracked, 2n, 100, READER, nodeIdOf(MEMINFO)).toString()).toBe('ndering 1\n');
    expect(() => fs.read(untracked, 2n, 100, READER)).toThrow(expect.objectContaining({ errno: 'EBADF' }));
  });
});
