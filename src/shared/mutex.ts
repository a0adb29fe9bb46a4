// A mutex in one Int32 of shared memory, for state several worker threads update
// (handle store, loadavg table). Critical sections are short, so a contended lock
// waits in 1 ms slices rather than spinning.

const UNLOCKED = 0;
const LOCKED = 1;
const WAIT_SLICE_MS = 1;

/** Runs `fn` holding the lock word `words[index]`. */
export function withLock<T>(words: Int32Array, index: number, fn: () => T): T {
  while (Atomics.compareExchange(words, index, UNLOCKED, LOCKED) !== UNLOCKED) {
    Atomics.wait(words, index, LOCKED, WAIT_SLICE_MS);
  }
  try {
    return fn();
  } finally {
    Atomics.store(words, index, UNLOCKED);
    Atomics.notify(words, index, 1);
  }
}
