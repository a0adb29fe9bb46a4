// A mutex in one Int32 of shared memory, for state several worker threads update
// (handle store, rendering cache, loadavg table). The word says whether anyone may be
// waiting (Drepper's "futexes are tricky", mutex 2), so an unlock with nobody waiting
// costs one atomic exchange and no notify: V8's notify takes a process-wide lock even
// when no thread waits. Critical sections are short, so a contended lock waits in
// 1 ms slices rather than spinning.

const UNLOCKED = 0;
const LOCKED = 1;
/** Locked, and another thread may be waiting for it. */
const CONTENDED = 2;
const WAIT_SLICE_MS = 1;

/** Runs `fn` holding the lock word `words[index]`. */
export function withLock<T>(words: Int32Array, index: number, fn: () => T): T {
  let state = Atomics.compareExchange(words, index, UNLOCKED, LOCKED);
  if (state !== UNLOCKED) {
    // From here on the word says CONTENDED whenever we hold or want it: a waiter
    // cannot tell whether others wait too, so its unlock must notify.
    if (state !== CONTENDED) state = Atomics.exchange(words, index, CONTENDED);
    while (state !== UNLOCKED) {
      Atomics.wait(words, index, CONTENDED, WAIT_SLICE_MS);
      state = Atomics.exchange(words, index, CONTENDED);
    }
  }
  try {
    return fn();
  } finally {
    if (Atomics.exchange(words, index, UNLOCKED) === CONTENDED) Atomics.notify(words, index, 1);
  }
}
