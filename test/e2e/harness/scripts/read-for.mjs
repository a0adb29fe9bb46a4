// Reads a meminfo file in an open/read/close loop for a while and judges every read:
// complete (as many lines as the host's meminfo, ending in a newline) and with the
// expected MemTotal. With CHUNK, each pass reads CHUNK bytes at a time, so a server
// that dies mid-file leaves a reader holding part of a rendering.
// usage: node read-for.mjs PATH MILLISECONDS EXPECTED_MEMTOTAL_KB [CHUNK]
//   -> {"ok":N,"bad":{"<why>":N},"errors":{"<code>":N}}
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const [path, ms, expected, chunk] = process.argv.slice(2);

function readInChunks(file, size) {
  const fd = openSync(file, 'r');
  try {
    const parts = [];
    const buffer = Buffer.alloc(size);
    for (let n; (n = readSync(fd, buffer, 0, size, null)) > 0; ) parts.push(Buffer.from(buffer.subarray(0, n)));
    return Buffer.concat(parts).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

const hostLines = readFileSync('/proc/meminfo', 'latin1').split('\n').length;
const bad = {};
const errors = {};
let ok = 0;
const count = (table, key) => (table[key] = (table[key] ?? 0) + 1);
for (const end = Date.now() + Number(ms); Date.now() < end; ) {
  let text;
  try {
    text = chunk ? readInChunks(path, Number(chunk)) : readFileSync(path, 'latin1');
  } catch (err) {
    count(errors, err.code ?? String(err));
    continue;
  }
  const total = /^MemTotal:\s+(\d+) kB$/m.exec(text)?.[1];
  if (text.split('\n').length !== hostLines || !text.endsWith('\n')) count(bad, `short:${text.length}`);
  else if (total !== expected) count(bad, `MemTotal:${total}`);
  else ok++;
}
process.stdout.write(`${JSON.stringify({ ok, bad, errors })}\n`);
