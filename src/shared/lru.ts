// A bounded map that forgets its least recently used entry first, so caches keyed
// by things the host creates without limit (pid namespaces) stay small.
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  /** `onEvict` sees every entry that leaves: evicted, deleted or replaced. */
  constructor(readonly capacity: number, private readonly onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad LRU capacity ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    const previous = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    if (previous !== undefined && previous !== value) this.onEvict?.(key, previous);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
  }

  /** The least recently used entry, left where it is. */
  oldest(): [K, V] | undefined {
    const first = this.entries.entries().next();
    return first.done === true ? undefined : first.value;
  }

  /** Evicts every entry. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }

  delete(key: K): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.onEvict?.(key, value);
  }
}
