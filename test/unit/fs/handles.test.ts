import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { arenaEpochs, collectIdleArenas } from '../../../src/fs/arena-file.js';
import { createHandleStore, HandleStore, type HandleStoreLimits, type StoredRange } from '../../../src/fs/handles.js';
import { ShareExceededError, StoreFullError } from '../../../src/fs/store-errors.js';
import { RESERVE_OWNER_HANDLES, type OwnerId } from '../../../src/fs/shares.js';
import * as libc from '../../../src/native/libc.js';
import { childModule } from '../../support/child-module.js';

const dirs: string[] = [];
const stores: HandleStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function arenaDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cgprocfs-unit-arena-'));
  dirs.push(dir);
  return dir;
}

function storeOf(dir: string, epoch: number, limits: HandleStoreLimits = { slots: 8, arenaBytes: 64 * 4096 }): HandleStore {
  const store = new HandleStore(createHandleStore(dir, epoch, limits));
  stores.push(store);
  return store;
}

const MEMINFO = 0x1234n;

/** The bytes of a READ the store served from what it holds. */
function bytesOf(stored: StoredRange | undefined): Buffer | undefined {
  return stored?.kind === 'range' ? stored.bytes : undefined;
}

describe('HandleStore', () => {
  it('returns the exact bytes stored at open, at any offset, until release', () => {
    const store = storeOf(arenaDir(), 7);
    const fh = store.open(MEMINFO, Buffer.from('MemTotal: 1 kB\n'));
    expect(store.read(fh, 0, 4096)).toEqual({ kind: 'range', nodeId: MEMINFO, bytes: Buffer.from('MemTotal: 1 kB\n') });
    expect(bytesOf(store.read(fh, 3, 5))?.toString()).toBe('Total');
    expect(bytesOf(store.read(fh, 15, 10))).toHaveLength(0);
    expect(bytesOf(store.read(fh, 99, 10))).toHaveLength(0);
    expect(store.release(fh)).toBe(true);
    expect(store.read(fh, 0, 10)).toBeUndefined();
  });

  it('says whether the start of a rendering was served before (a second READ at offset 0 is the filesystem\'s rewind), and serves the replacement after it', () => {
    const store = storeOf(arenaDir(), 7);
    const fh = store.open(MEMINFO, Buffer.from('first'));
    expect(store.markStartServed(fh)).toEqual({ nodeId: MEMINFO, before: false });
    expect(bytesOf(store.read(fh, 0, 100))?.toString()).toBe('first');
    expect(bytesOf(store.read(fh, 2, 100))?.toString()).toBe('rst');
    expect(store.markStartServed(fh)).toEqual({ nodeId: MEMINFO, before: true });
    expect(store.replace(fh, Buffer.from('second'))).toBe(true);
    expect(bytesOf(store.read(fh, 3, 100))?.toString()).toBe('ond');
  });

  it('never resolves a released handle to the content of the slot\'s next user', () => {
    const store = storeOf(arenaDir(), 7);
    const old = store.open(MEMINFO, Buffer.from('old'));
    store.release(old);
    const next = store.open(MEMINFO, Buffer.from('new'));
    expect(next).not.toBe(old);
    expect(store.read(old, 0, 10)).toBeUndefined();
    expect(bytesOf(store.read(next, 0, 10))?.toString()).toBe('new');
  });

  it('grows a handle\'s extent when a re-rendering is larger', () => {
    const store = storeOf(arenaDir(), 7);
    const fh = store.open(MEMINFO, Buffer.alloc(100, 'a'));
    expect(store.replace(fh, Buffer.alloc(90_000, 'b'))).toBe(true);
    expect(bytesOf(store.read(fh, 0, 100_000))).toEqual(Buffer.alloc(90_000, 'b'));
  });

  it('reports a full store instead of overwriting live handles', () => {
    const store = storeOf(arenaDir(), 7, { slots: 4, arenaBytes: 64 * 4096 });
    const fhs = [0, 1, 2, 3].map((i) => store.open(BigInt(i), Buffer.from(`${i}`)));
    expect(() => store.open(9n, Buffer.from('x'))).toThrow(StoreFullError);
    expect(fhs.map((fh) => bytesOf(store.read(fh, 0, 10))?.toString())).toEqual(['0', '1', '2', '3']);
    store.release(fhs[0]!);
    expect(() => store.open(9n, Buffer.alloc(64 * 4096))).toThrow(StoreFullError);
    expect(store.openCount()).toBe(3);
  });

  it('lets another thread read and release what this thread opened', async () => {
    const memory = createHandleStore(arenaDir(), 5, { slots: 8, arenaBytes: 16 * 4096 });
    const store = new HandleStore(memory);
    stores.push(store);
    const fh = store.open(MEMINFO, Buffer.from('shared'));
    // A worker thread cannot load TypeScript: it loads the store transpiled for it.
    const url = childModule('src/fs/handles.ts');
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.url).then(({ HandleStore }) => {
         const s = new HandleStore(workerData.memory);
         const got = s.read(workerData.fh, 0, 100);
         parentPort.postMessage({ content: got && got.bytes.toString(), released: s.release(workerData.fh) });
       }).catch((e) => parentPort.postMessage({ error: String(e) }));`,
      { eval: true, workerData: { memory, fh, url } },
    );
    const reply = await new Promise<{ content?: string; released?: boolean; error?: string }>((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(reply).toEqual({ content: 'shared', released: true });
    expect(store.read(fh, 1, 10)).toBeUndefined();
  });
});

describe('a successor server and its predecessor\'s handles', () => {
  it('serves the rest of a predecessor\'s rendering byte for byte once a reader was served part of it', () => {
    const dir = arenaDir();
    const predecessor = storeOf(dir, 1);
    const fh = predecessor.open(MEMINFO, Buffer.from('rendered by the old server'));
    expect(bytesOf(predecessor.read(fh, 0, 9))?.toString()).toBe('rendered ');
    const successor = storeOf(dir, 2);
    expect(successor.read(fh, 9, 100)).toEqual({ kind: 'range', nodeId: MEMINFO, bytes: Buffer.from('by the old server') });
  });

  it('has a successor render anew where no reader was served part of the rendering', () => {
    const dir = arenaDir();
    const predecessor = storeOf(dir, 1);
    const whole = predecessor.open(MEMINFO, Buffer.from('taken whole by the first READ'));
    expect(bytesOf(predecessor.read(whole, 0, 4096))?.toString()).toBe('taken whole by the first READ');
    // The READ at the end that follows (every reader sends one) serves nothing and saves nothing.
    expect(bytesOf(predecessor.read(whole, 29, 4096))?.length).toBe(0);
    const untouched = predecessor.open(MEMINFO, Buffer.from('never read'));
    const successor = storeOf(dir, 2);
    // The end of a rendering taken whole needs only its length.
    expect(successor.read(whole, 29, 4096)).toEqual({ kind: 'range', nodeId: MEMINFO, bytes: Buffer.alloc(0) });
    expect(successor.read(whole, 5, 4096)).toEqual({ kind: 'unsaved', nodeId: MEMINFO });
    expect(successor.read(untouched, 3, 4096)).toEqual({ kind: 'unsaved', nodeId: MEMINFO });
    // Rendered anew in place, the rest is served from the new rendering.
    expect(successor.replace(untouched, Buffer.from('rendered again'))).toBe(true);
    expect(bytesOf(successor.read(untouched, 3, 4096))?.toString()).toBe('dered again');
  });

  it('saves a re-rendering at once: the filesystem serves its first part without another READ of the store', () => {
    const dir = arenaDir();
    const predecessor = storeOf(dir, 1);
    const fh = predecessor.open(MEMINFO, Buffer.from('first rendering'));
    predecessor.markStartServed(fh);
    predecessor.read(fh, 0, 100);
    expect(predecessor.markStartServed(fh)?.before).toBe(true);
    expect(predecessor.replace(fh, Buffer.from('second rendering'))).toBe(true);
    // The reader got 'second' from the replacement; a successor serves the rest of it.
    expect(storeOf(dir, 2).read(fh, 6, 100)).toEqual({ kind: 'range', nodeId: MEMINFO, bytes: Buffer.from(' rendering') });
  });

  it('hands an empty rendering over to a successor like any other (regression: it read as released)', () => {
    const dir = arenaDir();
    const fh = storeOf(dir, 1).open(MEMINFO, Buffer.alloc(0));
    const successor = storeOf(dir, 2);
    expect(successor.markStartServed(fh)).toEqual({ nodeId: MEMINFO, before: true });
    expect(successor.replace(fh, Buffer.alloc(0))).toBe(true);
    expect(collectIdleArenas(dir, new Set([2]))).toEqual([]);
  });

  it('counts the start of a predecessor\'s handle as served before, so the filesystem renders anew at offset 0', () => {
    const dir = arenaDir();
    const fh = storeOf(dir, 1).open(MEMINFO, Buffer.from('old'));
    expect(storeOf(dir, 2).markStartServed(fh)).toEqual({ nodeId: MEMINFO, before: true });
  });

  it('re-renders a predecessor\'s handle in place, so later reads see the new rendering', () => {
    const dir = arenaDir();
    const fh = storeOf(dir, 1).open(MEMINFO, Buffer.from('old rendering'));
    const successor = storeOf(dir, 2);
    expect(successor.replace(fh, Buffer.from('a new, longer rendering'))).toBe(true);
    expect(bytesOf(successor.read(fh, 2, 100))?.toString()).toBe('new, longer rendering');
  });

  it('releases a predecessor\'s handle, after which its arena is idle and collected', () => {
    const dir = arenaDir();
    const fh = storeOf(dir, 1).open(MEMINFO, Buffer.from('x'));
    const successor = storeOf(dir, 2);
    expect(collectIdleArenas(dir, new Set([2]))).toEqual([]);
    expect(successor.release(fh)).toBe(true);
    expect(successor.read(fh, 1, 10)).toEqual({ kind: 'untracked' });
    expect(collectIdleArenas(dir, new Set([2]))).toEqual([1]);
    expect(arenaEpochs(dir)).toEqual([2]);
  });

  it('has a handle of an epoch whose arena is gone rendered anew (untracked), and answers undefined for epoch 0, which no server has', () => {
    const successor = storeOf(arenaDir(), 2);
    expect(successor.read((9n << 48n) | (1n << 24n), 1, 10)).toEqual({ kind: 'untracked' });
    expect(successor.read(1n << 24n, 1, 10)).toBeUndefined();
    expect(successor.release((9n << 48n) | (1n << 24n))).toBe(false);
  });

  it('never creates an arena through a symlink planted at its name, nor reads one as a predecessor\'s (issue 18)', () => {
    const dir = arenaDir();
    writeFileSync(join(dir, 'secret'), 'root only\n', { mode: 0o600 });
    symlinkSync(join(dir, 'secret'), join(dir, 'handles-3.arena'));
    expect(() => createHandleStore(dir, 3, { slots: 8, arenaBytes: 64 * 4096 })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(storeOf(dir, 4).read((3n << 48n) | (1n << 24n), 1, 10)).toEqual({ kind: 'untracked' });
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe('root only\n');
  });

  it('serves from memory when the arena cannot be made (ENOSPC): no file is left, handles work, a successor renders them anew', () => {
    const dir = arenaDir();
    const full = { addressOf: libc.addressOf, reserve: () => { throw Object.assign(new Error('fallocate: ENOSPC'), { code: 'ENOSPC' }); } };
    const memory = createHandleStore(dir, 3, { slots: 8, arenaBytes: 64 * 4096 }, full);
    expect(memory.noArena).toMatch(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
    const store = new HandleStore(memory);
    stores.push(store);
    const fh = store.open(MEMINFO, Buffer.from('from memory'));
    expect(store.markStartServed(fh)?.before).toBe(false);
    expect(bytesOf(store.read(fh, 0, 5))?.toString()).toBe('from ');
    expect(bytesOf(store.read(fh, 5, 100))?.toString()).toBe('memory');
    expect(store.markStartServed(fh)?.before).toBe(true);
    expect(store.replace(fh, Buffer.from('again from memory'))).toBe(true);
    expect(bytesOf(store.read(fh, 6, 100))?.toString()).toBe('from memory');
    expect(storeOf(dir, 4).read(fh, 6, 100)).toEqual({ kind: 'untracked' });
    expect(store.release(fh)).toBe(true);
  });

  it('takes the lowest free slot, so the records of the handles in use stay in the first pages of the directory', () => {
    const store = storeOf(arenaDir(), 7);
    const slotOf = (fh: bigint) => Number(fh & 0xffffffn);
    const [a, b, c] = [0, 1, 2].map(() => store.open(MEMINFO, Buffer.from('x')));
    expect([a, b, c].map((fh) => slotOf(fh!))).toEqual([0, 1, 2]);
    store.release(b!);
    expect(slotOf(store.open(MEMINFO, Buffer.from('y')))).toBe(1);
    expect(slotOf(store.open(MEMINFO, Buffer.from('z')))).toBe(3);
  });
});

describe('each container\'s share of the store (issue 17)', () => {
  const A: OwnerId = [1, 1, 1, 1];
  const B: OwnerId = [2, 2, 2, 2];
  // 64 slots, 512 pages: a share of 4 handles (32 pages), a reserve of 8 slots and 64 pages.
  const shared = (): HandleStore => storeOf(arenaDir(), 3, { slots: 64, arenaBytes: 512 * 4096, ownerHandles: 4 });
  const meminfo = Buffer.alloc(1500, 'm');

  it('refuses a container past its share, and only that container', () => {
    const store = shared();
    for (let i = 0; i < 4; i++) store.open(MEMINFO, meminfo, A);
    expect(() => store.open(MEMINFO, meminfo, A)).toThrow(ShareExceededError);
    expect(bytesOf(store.read(store.open(MEMINFO, meminfo, B), 0, 10))?.toString()).toBe('mmmmmmmmmm');
    expect(store.holding(A)).toEqual({ handles: 4, pages: 20 });
  });

  it('gives a container its share back as its files close', () => {
    const store = shared();
    const fhs = Array.from({ length: 4 }, () => store.open(MEMINFO, meminfo, A));
    for (const fh of fhs) store.release(fh);
    expect(store.holding(A)).toEqual({ handles: 0, pages: 0 });
    expect(() => store.open(MEMINFO, meminfo, A)).not.toThrow();
  });

  it('counts a larger re-rendering against the share, and refuses one beyond it', () => {
    const store = shared();
    const fh = store.open(MEMINFO, meminfo, A);
    expect(store.replace(fh, Buffer.alloc(40_000, 'b'))).toBe(true);
    expect(store.holding(A)).toEqual({ handles: 1, pages: 20 });
    expect(() => store.replace(fh, Buffer.alloc(100_000, 'c'))).toThrow(ShareExceededError);
    expect(bytesOf(store.read(fh, 0, 3))?.toString()).toBe('bbb');
  });

  it('keeps a reserve for containers that hold little when the others filled the rest', () => {
    // 256 slots, a share of 32: seven containers at their share fill all but the reserve of 32 slots.
    const store = storeOf(arenaDir(), 3, { slots: 256, arenaBytes: 2048 * 4096, ownerHandles: 32 });
    const open = (owner: number) => store.open(MEMINFO, meminfo, [owner, 0, 0, 0]);
    for (let owner = 0; owner < 7; owner++) for (let i = 0; i < 32; i++) open(owner);
    // A container that comes now takes the little the reserve is for (16 files), not more...
    for (let i = 0; i < RESERVE_OWNER_HANDLES; i++) open(100);
    expect(() => open(100)).toThrow(StoreFullError);
    // ...so that others still open files.
    expect(() => open(101)).not.toThrow();
  });
});

describe('giving back the pages of closed files', () => {
  const allocatedBlocks = (dir: string) => statSync(join(dir, readdirSync(dir)[0]!)).blocks;

  it('frees the memory and arena blocks of released renderings beyond those kept, and leaves live ones intact', () => {
    const dir = arenaDir();
    const memory = createHandleStore(dir, 4, { slots: 256, arenaBytes: 2048 * 4096 }, libc);
    const store = new HandleStore(memory);
    stores.push(store);
    const live = store.open(MEMINFO, Buffer.from('still open'));
    // A flood: 200 handles, each read in part so its rendering reaches the arena file.
    const flood = Array.from({ length: 200 }, (_, i) => store.open(BigInt(i), Buffer.alloc(3000, 'f')));
    for (const fh of flood) store.read(fh, 0, 10);
    const before = allocatedBlocks(dir);
    for (const fh of flood) store.release(fh);
    expect(store.trim(libc, 8)).toBeGreaterThan(900);
    expect(allocatedBlocks(dir)).toBeLessThan(before / 4);
    // The trimmed pages read as zeros in the shared memory; the live handle kept its bytes.
    const contents = Buffer.from(memory.contents, memory.contentsOffset);
    expect(contents.subarray(100 * 4096, 101 * 4096).every((b) => b === 0)).toBe(true);
    expect(bytesOf(store.read(live, 0, 100))?.toString()).toBe('still open');
    // Given-back pages are usable again, and a second trim finds nothing new.
    expect(bytesOf(store.read(store.open(MEMINFO, Buffer.alloc(3000, 'g')), 0, 3))?.toString()).toBe('ggg');
    expect(store.trim(libc, 8)).toBe(0);
  });

  it('keeps the usual working set: free pages just above those in use are not given back', () => {
    const store = storeOf(arenaDir(), 4, { slots: 64, arenaBytes: 512 * 4096 });
    for (let i = 0; i < 20; i++) store.release(store.open(MEMINFO, Buffer.alloc(100)));
    expect(store.trim(libc)).toBe(0);
  });

  it('starts the shared contents on a page boundary when it can ask where memory is', () => {
    const memory = createHandleStore(arenaDir(), 4, { slots: 8, arenaBytes: 16 * 4096 }, libc);
    expect(libc.addressOf(new Uint8Array(memory.contents, memory.contentsOffset)) % 4096n).toBe(0n);
  });
});
