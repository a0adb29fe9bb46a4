// Reads files in turn (open, read to EOF, close) for a while and times each read: how a
// quiet container or a flooding one reads, for the isolation tests (issue 17).
// usage: node timed-reads.mjs MILLISECONDS PATH [PATH...]   (MILLISECONDS 0: one pass)
//   -> {"reads":N,"errors":{"<code>":N},"firstMs":F,"p50Ms":F,"p99Ms":F,"maxMs":F,"last":{"<path>":"<text>"}}
import { readFileSync } from 'node:fs';

const [ms, ...paths] = process.argv.slice(2);
const latencies = [];
const errors = {};
const last = {};
const end = performance.now() + Number(ms);
do {
  for (const path of paths) {
    const started = performance.now();
    try {
      last[path] = readFileSync(path, 'latin1');
      latencies.push(performance.now() - started);
    } catch (err) {
      errors[err.code ?? String(err)] = (errors[err.code ?? String(err)] ?? 0) + 1;
    }
  }
} while (performance.now() < end);
const firstMs = latencies[0];
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const round = (v) => (v === undefined ? null : Math.round(v * 1000) / 1000);
process.stdout.write(`${JSON.stringify({
  reads: latencies.length,
  errors,
  firstMs: round(firstMs),
  p50Ms: round(quantile(0.5)),
  p99Ms: round(quantile(0.99)),
  maxMs: round(latencies.at(-1)),
  last,
})}\n`);
