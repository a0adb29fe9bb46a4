// FNV-1a hashes, the one implementation for node ids (which must stay the same across
// versions: a reloaded server resolves the ids its predecessor gave the kernel), the
// loadavg table's keys, the arena directory names and the rendering cache's buckets.

/** FNV-1a, 64 bits as two uint32 halves: h * 0x100000001b3 = h * 0x1b3 + (h << 40). No BigInt: hot paths use it. */
export function fnv1a64(bytes: Uint8Array): { lo: number; hi: number } {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    const low = lo * 0x1b3;
    hi = (hi * 0x1b3 + Math.floor(low / 2 ** 32) + ((lo << 8) >>> 0)) >>> 0;
    lo = low >>> 0;
  }
  return { lo, hi };
}

/** The same 64-bit hash as one bigint. */
export function fnv1a64BigInt(bytes: Uint8Array): bigint {
  const { lo, hi } = fnv1a64(bytes);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** FNV-1a, 32 bits. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** FNV-1a, 32 bits, as 8 hex digits. */
export function fnv1a32Hex(text: string): string {
  return fnv1a32(Buffer.from(text)).toString(16).padStart(8, '0');
}
