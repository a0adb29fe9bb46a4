// Renderings shared by the serving worker threads of one server. The kernel hands
// each request to whichever worker reads /dev/fuse first, so one reader's reads
// alternate between workers: a cache per worker could serve a reader a rendering
// older than the one another worker just showed it, and a counter would go back.
// Here every worker sees the same entry, and a missing or expired entry is rendered
// while its bucket's lock is held: renderings of one key are made one at a time,
// each later than the one before, and a reader can only ever be served the newest.
// Workers that want the same view meanwhile wait for that rendering and share it.
//
// Memory: one bucket per key hash (direct mapped), each [key bytes][rendering bytes]
// in a fixed extent; the pages of an extent are committed only once written.

import { copyOut } from './bytes.js';
import { monotonicMs } from './clock.js';
import { fnv1a32 } from './fnv.js';
import { withLock } from './mutex.js';

/** 2,048 buckets of 32 KiB: 64 MiB of address space, committed only as buckets fill. */
const DEFAULT_BUCKETS = 2048;
const DEFAULT_BUCKET_BYTES = 32 * 1024;

/** Int32 words per bucket: lock, key length, rendering length, and one spare. */
const WORDS = 4;
const LOCK = 0;
const KEY_LENGTH = 1;
const DATA_LENGTH = 2;

/** What a worker receives to attach to the cache (structured-clone safe). */
export interface RenderingCacheMemory {
  readonly words: SharedArrayBuffer;
  /** When each bucket's rendering began, ms of CLOCK_MONOTONIC (Float64). */
  readonly stamps: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
}

export function allocateRenderingCache(buckets = DEFAULT_BUCKETS, bucketBytes = DEFAULT_BUCKET_BYTES): RenderingCacheMemory {
  return {
    words: new SharedArrayBuffer(buckets * WORDS * Int32Array.BYTES_PER_ELEMENT),
    stamps: new SharedArrayBuffer(buckets * Float64Array.BYTES_PER_ELEMENT),
    bytes: new SharedArrayBuffer(buckets * bucketBytes),
  };
}

/** A key as the cache compares it: its bytes, and the hash that picks its bucket. */
export interface CacheKey {
  readonly bytes: Buffer;
  readonly hash: number;
}

/** Encodes and hashes a key once, for callers that look the same key up again and again. */
export function cacheKey(key: string): CacheKey {
  const bytes = Buffer.from(key, 'utf8');
  return { bytes, hash: fnv1a32(bytes) };
}

export class RenderingCache {
  private readonly words: Int32Array;
  private readonly stamps: Float64Array;
  private readonly bytes: Buffer;
  private readonly buckets: number;
  private readonly bucketBytes: number;

  constructor(memory: RenderingCacheMemory, private readonly clockMs: () => number = monotonicMs) {
    this.words = new Int32Array(memory.words);
    this.stamps = new Float64Array(memory.stamps);
    this.bytes = Buffer.from(memory.bytes);
    this.buckets = this.stamps.length;
    this.bucketBytes = this.bytes.length / this.buckets;
  }

  /**
   * The rendering of `key` begun less than `maxAgeMs` ago, or a new one from `render`
   * (stored unless key and rendering outgrow a bucket). A rendering whose age cannot
   * be trusted (a clock that went back) counts as expired.
   */
  through(key: string | CacheKey, maxAgeMs: number, render: () => Buffer): Buffer {
    if (maxAgeMs <= 0) return render();
    const { bytes: keyBytes, hash } = typeof key === 'string' ? cacheKey(key) : key;
    // The hash picks the bucket only: keys are compared in full, so no collision can
    // serve one view's rendering to another.
    const bucket = hash % this.buckets;
    const word = bucket * WORDS;
    return withLock(this.words, word + LOCK, () => {
      const start = bucket * this.bucketBytes;
      const keyLength = this.words[word + KEY_LENGTH]!;
      const now = this.clockMs();
      const age = now - this.stamps[bucket]!;
      const same = keyLength === keyBytes.length && keyBytes.compare(this.bytes, start, start + keyLength) === 0;
      if (same && age >= 0 && age < maxAgeMs) {
        const from = start + keyLength;
        // A copy: the bucket may be rewritten as soon as the lock is released.
        return copyOut(this.bytes, from, from + this.words[word + DATA_LENGTH]!);
      }
      const rendering = render();
      // Too large a rendering is not kept; the entry it would replace stays expired.
      if (keyBytes.length + rendering.length <= this.bucketBytes) {
        keyBytes.copy(this.bytes, start);
        rendering.copy(this.bytes, start + keyBytes.length);
        this.words[word + KEY_LENGTH] = keyBytes.length;
        this.words[word + DATA_LENGTH] = rendering.length;
        this.stamps[bucket] = now;
      }
      return rendering;
    });
  }
}
