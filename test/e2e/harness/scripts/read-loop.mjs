// Reads a meminfo file N times (open, read, close each time) and counts the MemTotal values seen.
// usage: node read-loop.mjs PATH N  -> {"memTotals":{"307200":N},"errors":{}}
import { readFileSync } from 'node:fs';

const [path, count] = process.argv.slice(2);
const memTotals = {};
const errors = {};
for (let i = 0; i < Number(count); i++) {
  try {
    const value = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync(path, 'latin1'))?.[1] ?? 'malformed';
    memTotals[value] = (memTotals[value] ?? 0) + 1;
  } catch (err) {
    errors[err.code] = (errors[err.code] ?? 0) + 1;
  }
}
process.stdout.write(`${JSON.stringify({ memTotals, errors })}\n`);
