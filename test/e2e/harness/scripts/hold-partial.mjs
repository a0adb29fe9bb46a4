// Opens a file N times and reads the first BYTES bytes of each (so the daemon keeps, and
// saves, each rendering half read), prints "ready", and on a line on stdin reads the rest
// of each, then rewinds each and reads it again (what top does), and reports.
// usage: node hold-partial.mjs PATH N BYTES
//   -> {"whole":N,"bad":["<why>",...],"errors":{"<code>":N}}
import { closeSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [path, count, bytes] = process.argv.slice(2);
const errors = {};
const bad = [];
let whole = 0;

function readFrom(fd, position) {
  const parts = [];
  const buffer = Buffer.alloc(4096);
  for (let n; (n = readSync(fd, buffer, 0, buffer.length, position)) > 0; position += n) parts.push(Buffer.from(buffer.subarray(0, n)));
  return Buffer.concat(parts).toString('latin1');
}

function judge(text) {
  if (!text.endsWith('\n') || !/^MemTotal:\s+\d+ kB$/m.test(text)) bad.push(`short:${text.length}`);
  else whole++;
}

const held = [];
for (let i = 0; i < Number(count); i++) {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(Number(bytes));
  readSync(fd, head, 0, head.length, 0);
  held.push({ fd, head: head.toString('latin1') });
}
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  for (const { fd, head } of held) {
    try {
      judge(head + readFrom(fd, head.length));
      judge(readFrom(fd, 0));
    } catch (err) {
      errors[err.code ?? String(err)] = (errors[err.code ?? String(err)] ?? 0) + 1;
    }
    closeSync(fd);
  }
  process.stdout.write(`${JSON.stringify({ whole, bad, errors })}\n`);
  process.exit(0);
});
