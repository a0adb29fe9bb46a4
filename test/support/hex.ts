// Readable byte fixtures: a template literal of hex bytes, one struct row per line,
// with `#` comments naming the fields (the style of fuser's codec tests).

export function hex(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex fixture: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** Little-endian u64 as 8 hex bytes, for splicing computed values into fixtures. */
export function le64(value: bigint): string {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b.toString('hex');
}

export function le32(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b.toString('hex');
}
