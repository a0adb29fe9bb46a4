// The README's Performance table from a `--repeat` result (issue 22 item 3): every figure
// as min-max over the runs, a ratio taken within each run.
//   node bench/tools/readme-table.mjs bench/results/repeat-3.json
import { readFileSync } from 'node:fs';

/** The rows the README shows: file, reader counts. */
const ROWS = [
  ['meminfo', [1, 2, 8, 32]],
  ['stat', [2, 8, 32]],
  ['cpuinfo', [2, 8]],
  ['uptime', [2, 8]],
  ['loadavg', [2]],
  ['swaps', [2]],
  ['diskstats', [2]],
  ['online', [2]],
];

const result = JSON.parse(readFileSync(process.argv[2] ?? 'bench/results/repeat-3.json', 'utf8'));
if (!result.summary) throw new Error('not a --repeat result (no summary)');
const span = (s, f) => {
  if (!s) return '-';
  const [lo, hi] = [f(s.min), f(s.max)];
  return lo === hi ? lo : `${lo}-${hi}`;
};
const k = (n) => `${(n / 1000).toFixed(1)}k`;
const x = (n) => n.toFixed(2);
const ms = (us) => (us / 1000).toFixed(1);
const whole = (n) => String(Math.round(n));
const fileOf = (short) => (short === 'online' ? 'sys/devices/system/cpu/online' : `proc/${short}`);

const lines = [
  '| file | readers | cgprocfs reads/s | lxcfs | floor | vs lxcfs | vs floor | p99 ms cgprocfs / lxcfs | CPU ms per 1k reads cgprocfs / lxcfs |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const [short, counts] of ROWS) {
  for (const readers of counts) {
    const row = result.summary.matrix.find((r) => r.file === fileOf(short) && r.readers === readers && r.pidns === 'own');
    if (!row) continue;
    const cg = row.cells.cgprocfs ?? {};
    const lx = row.cells.lxcfs ?? {};
    lines.push(
      `| ${short} | ${readers} | ${span(cg.readsPerSec, k)} | ${span(lx.readsPerSec, k)} | ${span(row.floor, k)} | ${span(row.vsLxcfs, x)}x | ${span(row.vsFloor, x)}x | ` +
        `${span(cg.p99Us, ms)} / ${span(lx.p99Us, ms)} | ${span(cg.cpuMsPer1000Reads, whole)} / ${span(lx.cpuMsPer1000Reads, whole)} |`,
    );
  }
}
const runs = result.runs;
const load = runs.map((r) => `${r.machine.loadavgBefore} -> ${r.machine.loadavgAfter}`).join('; ');
process.stdout.write(`${runs.length} runs, ${runs[0].startedAt} -> ${runs.at(-1).finishedAt}; load averages ${load}\n\n${lines.join('\n')}\n`);
