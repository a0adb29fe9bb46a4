// Reads a meminfo file in an open/read/close loop for a while and judges every read:
// complete (as many lines as the host's meminfo, ending in a newline) and with the
// expected MemTotal. usage: node read-for.mjs PATH MILLISECONDS EXPECTED_MEMTOTAL_KB
//   -> {"ok":N,"bad":{"<why>":N},"errors":{"<code>":N}}
import { readFileSync } from 'node:fs';

const [path, ms, expected] = process.argv.slice(2);
const hostLines = readFileSync('/proc/meminfo', 'latin1').split('\n').length;
const bad = {};
const errors = {};
let ok = 0;
const count = (table, key) => (table[key] = (table[key] ?? 0) + 1);
for (const end = Date.now() + Number(ms); Date.now() < end; ) {
  let text;
  try {
    text = readFileSync(path, 'latin1');
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
