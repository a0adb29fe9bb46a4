// The page allocator of the handle store: which 4 KiB pages of rendered contents are
// in use (a bitmap in shared memory, first fit from the lowest page that may be free),
// which were written since trim last gave them back (dirty), and the system calls that
// give them back. Used only under the store's lock; it never makes a system call itself.

import { PAGE } from './arena-format.js';
import { StoreFullError } from './store-errors.js';

/**
 * The system calls that give pages back (native/libc.ts), passed in by the server's
 * main thread: the serving workers never load the native module.
 */
export interface PageReleaser {
  /** Where a buffer's bytes are in memory (the same in every thread of the process). */
  addressOf(buffer: Uint8Array): bigint;
  /** madvise(MADV_DONTNEED) of whole pages. */
  discardPages(buffer: Uint8Array): void;
  /** fallocate(PUNCH_HOLE) of a file's range. */
  punchHole(fd: number, offset: number, length: number): void;
  /** fallocate(0) of a file's range: its blocks are taken now, so writing there never meets ENOSPC. */
  reserve(fd: number, offset: number, length: number): void;
}

/** Free pages trim leaves committed above those in use: the usual working set reuses them at no cost. */
export const TRIM_KEEP_PAGES = 1024;

/** Words of shared memory the allocator keeps besides its bitmaps: the search hint and the pages in use. */
export const PAGE_COUNTER_WORDS = 2;
const HINT = 0;
const USED = 1;

/** Int32 words of a bitmap of `pages` pages. */
export function bitmapWords(pages: number): number {
  return Math.ceil(pages / 32);
}

/** How far into `memory` its first page-aligned byte is; 0 without a way to tell. */
export function pageAlignedOffset(memory: SharedArrayBuffer, native?: Pick<PageReleaser, 'addressOf'>): number {
  if (native === undefined) return 0;
  return Number((BigInt(PAGE) - (native.addressOf(new Uint8Array(memory)) % BigInt(PAGE))) % BigInt(PAGE));
}

/** Discards the whole pages inside `view` (its ends need not be page aligned). */
export function discardAligned(native: Pick<PageReleaser, 'addressOf' | 'discardPages'>, view: Uint8Array): void {
  const address = native.addressOf(view);
  const page = BigInt(PAGE);
  const start = Number(((address + page - 1n) / page) * page - address);
  const end = Number(((address + BigInt(view.byteLength)) / page) * page - address);
  if (end > start) native.discardPages(view.subarray(start, end));
}

export class PageAllocator {
  /**
   * `counters` holds PAGE_COUNTER_WORDS words; `bitmap` says which pages are in use,
   * `dirty` which were written since trim last gave them back.
   */
  constructor(private readonly counters: Int32Array, private readonly bitmap: Int32Array, private readonly dirty: Int32Array, readonly count: number) {}

  /** Pages allocated: what the shares are measured against. */
  used(): number {
    return this.counters[USED]!;
  }

  /** First fit over the page bitmap from the lowest page that may be free. */
  allocate(count: number): number {
    const start = this.counters[HINT]!;
    let run = 0;
    // A free gap too small for this request stays the place the next search starts.
    let gap: number | undefined;
    for (let i = 0; i < this.count + count; i++) {
      const page = (start + i) % this.count;
      if (page === 0) run = 0; // runs do not wrap around the end
      run = this.pageUsed(page) ? 0 : run + 1;
      if (run === count) {
        const first = page - count + 1;
        this.setPages(first, count, true);
        this.counters[USED]! += count;
        for (let p = first; p < first + count; p++) this.dirty[p >> 5]! |= 1 << (p & 31);
        this.counters[HINT] = gap !== undefined && gap < first ? gap : (page + 1) % this.count;
        return first;
      }
      if (run === 1) gap ??= page;
    }
    throw new StoreFullError(`no room for ${count * PAGE} bytes of rendered content`);
  }

  /**
   * Freed pages are reused first (the next search starts at the lowest free page), so
   * the arena's working set stays as small as the renderings open at once instead of
   * sweeping through the whole sparse file.
   */
  free(first: number, count: number): void {
    if (count === 0) return;
    this.setPages(first, count, false);
    this.counters[USED]! -= count;
    this.lowerHint(first);
  }

  /** Runs of free, dirty pages from `from` on, marked used so nobody takes them meanwhile. */
  reserveDirtyRuns(from: number): [number, number][] {
    const runs: [number, number][] = [];
    for (let word = from >> 5; word < this.dirty.length; word++) {
      const candidates = this.dirty[word]! & ~this.bitmap[word]!;
      if (candidates === 0) continue;
      for (let bit = 0; bit < 32; bit++) {
        const page = word * 32 + bit;
        if ((candidates & (1 << bit)) === 0 || page < from || page >= this.count) continue;
        const last = runs.at(-1);
        if (last !== undefined && last[0] + last[1] === page) last[1]++;
        else runs.push([page, 1]);
      }
    }
    for (const [first, count] of runs) this.setPages(first, count, true);
    return runs;
  }

  /** Frees runs reserveDirtyRuns took, now clean: their pages were given back. */
  returnCleanRuns(runs: readonly [number, number][]): void {
    for (const [first, count] of runs) {
      this.setPages(first, count, false);
      for (let p = first; p < first + count; p++) this.dirty[p >> 5]! &= ~(1 << (p & 31));
      this.lowerHint(first);
    }
  }

  private lowerHint(first: number): void {
    if (first < this.counters[HINT]!) this.counters[HINT] = first;
  }

  private pageUsed(page: number): boolean {
    return (this.bitmap[page >> 5]! & (1 << (page & 31))) !== 0;
  }

  private setPages(first: number, count: number, used: boolean): void {
    for (let p = first; p < first + count; p++) {
      if (used) this.bitmap[p >> 5]! |= 1 << (p & 31);
      else this.bitmap[p >> 5]! &= ~(1 << (p & 31));
    }
  }
}
