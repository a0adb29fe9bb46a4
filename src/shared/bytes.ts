// Copying bytes out of shared memory that another thread may rewrite once a lock is
// released.

/** A private copy of `source[start, end)`: one new Buffer, no intermediate view. */
export function copyOut(source: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  source.copy(out, 0, start, end);
  return out;
}
