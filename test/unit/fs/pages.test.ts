// The page allocator of the handle store on its own: first fit from the lowest free
// page, freed pages reused first, a full area refused, dirty runs for trim.
import { describe, expect, it } from 'vitest';
import { bitmapWords, PAGE_COUNTER_WORDS, PageAllocator } from '../../../src/fs/pages.js';
import { StoreFullError } from '../../../src/fs/store-errors.js';

function allocator(pages: number): PageAllocator {
  return new PageAllocator(new Int32Array(PAGE_COUNTER_WORDS), new Int32Array(bitmapWords(pages)), new Int32Array(bitmapWords(pages)), pages);
}

describe('PageAllocator', () => {
  it('gives runs lowest first and reuses a freed run before pages never used', () => {
    const pages = allocator(64);
    expect([pages.allocate(5), pages.allocate(5), pages.allocate(5)]).toEqual([0, 5, 10]);
    pages.free(5, 5);
    expect(pages.used()).toBe(10);
    expect(pages.allocate(3)).toBe(5);
    // A gap too small for a request is where the next search starts.
    expect(pages.allocate(4)).toBe(15);
    expect(pages.allocate(2)).toBe(8);
  });

  it('refuses a run larger than any free one, and never lets a run wrap around the end', () => {
    const pages = allocator(40);
    expect(pages.allocate(30)).toBe(0);
    expect(pages.allocate(6)).toBe(30);
    pages.free(0, 4);
    // Pages 36-39 and 0-3 are free: eight, but not in one run.
    expect(() => pages.allocate(8)).toThrow(StoreFullError);
    expect(pages.allocate(4)).toBe(0);
    expect(pages.allocate(4)).toBe(36);
    expect(() => pages.allocate(1)).toThrow(StoreFullError);
  });

  it('reserves free, written pages above a floor for trim, and frees them clean afterwards', () => {
    const pages = allocator(64);
    const first = pages.allocate(10);
    pages.allocate(2);
    pages.free(first, 10);
    // Pages 0-9 were written and are free; pages 10-11 are in use.
    const runs = pages.reserveDirtyRuns(4);
    expect(runs).toEqual([[4, 6]]);
    expect(pages.allocate(6)).toBe(12); // the reserved run is not handed out meanwhile
    pages.returnCleanRuns(runs);
    expect(pages.reserveDirtyRuns(0)).toEqual([[0, 4]]);
  });
});
