// Reads a file in an open/read-to-EOF/close loop for a while and reports how long the
// longest single read took (the stall a reader sees while no server answers), the
// reads over 100 ms, and any errors.
// usage: node read-stalls.mjs PATH MILLISECONDS
//   -> {"reads":N,"errors":{"<code>":N},"longestMs":N,"over100ms":[ms,...]}
import { readFileSync } from 'node:fs';

const [path, ms] = process.argv.slice(2);
const errors = {};
const over100ms = [];
let reads = 0;
let longestMs = 0;
for (const end = Date.now() + Number(ms); Date.now() < end; ) {
  const started = performance.now();
  try {
    readFileSync(path);
    reads++;
  } catch (err) {
    errors[err.code ?? String(err)] = (errors[err.code ?? String(err)] ?? 0) + 1;
  }
  const took = performance.now() - started;
  longestMs = Math.max(longestMs, took);
  if (took > 100) over100ms.push(Math.round(took));
}
process.stdout.write(`${JSON.stringify({ reads, errors, longestMs: Math.round(longestMs), over100ms })}\n`);
