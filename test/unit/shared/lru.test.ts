import { describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/shared/lru.js';

describe('bounded LRU map', () => {
  it('never holds more than its capacity, evicting the least recently used', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    expect(lru.size).toBe(2);
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c')]).toEqual([1, 3]);
  });

  it('replaces a value without growing', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    expect([lru.size, lru.get('a')]).toEqual([1, 2]);
  });

  it('clears every entry through its eviction callback', () => {
    const evicted: string[] = [];
    const lru = new LruMap<string, number>(3, (key) => evicted.push(key));
    lru.set('a', 1);
    lru.set('b', 2);
    lru.clear();
    expect([lru.size, evicted]).toEqual([0, ['a', 'b']]);
  });

  it('rejects a capacity below one', () => {
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});
