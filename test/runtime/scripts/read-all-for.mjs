// Runs inside a container (the host's node bound in): reads every file given, open/read/close,
// round after round for a while, and judges each read. meminfo must be complete (as many
// lines as the host's, ending in a newline) with the expected MemTotal; every other file
// must end in a newline or be empty (diskstats lists no device before the container's I/O).
// usage: node read-all-for.mjs MILLISECONDS MEMTOTAL_KB MEMINFO_LINES FILE...
//   -> {"rounds":N,"ok":N,"lastOkAt":MS,"bad":{"<file>:<why>":N},"errors":{"<file>:<code>":N},"first":[...]}
// `first` lists the first failures with their wall-clock time, to match them with the
// moments the test killed or reloaded the server.
import { readFileSync } from 'node:fs';

const [ms, memTotal, meminfoLines, ...files] = process.argv.slice(2);
const bad = {};
const errors = {};
let ok = 0;
let lastOkAt = 0;
let rounds = 0;
const first = [];
const count = (table, key) => {
  table[key] = (table[key] ?? 0) + 1;
  if (first.length < 10) first.push({ what: key, at: Date.now() });
};

function judge(file, text) {
  if (text !== '' && !text.endsWith('\n')) return `unterminated:${text.length}`;
  if (file !== '/proc/meminfo') return undefined;
  if (text === '') return 'empty';
  if (text.split('\n').length - 1 !== Number(meminfoLines)) return `lines:${text.split('\n').length - 1}`;
  const total = /^MemTotal:\s+(\d+) kB$/m.exec(text)?.[1];
  return total === memTotal ? undefined : `MemTotal:${total}`;
}

for (const end = Date.now() + Number(ms); Date.now() < end; rounds++) {
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'latin1');
    } catch (err) {
      count(errors, `${file}:${err.code ?? String(err)}`);
      continue;
    }
    const why = judge(file, text);
    if (why) count(bad, `${file}:${why}`);
    else {
      ok++;
      lastOkAt = Date.now();
    }
  }
}
process.stdout.write(`${JSON.stringify({ rounds, ok, lastOkAt, bad, errors, first })}\n`);
