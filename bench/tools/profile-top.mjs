// Top self-time functions of .cpuprofile files (as written by cpu-profile.cjs), summed
// over all the files given: node bench/tools/profile-top.mjs /tmp/cgprocfs-prof/*.cpuprofile
import { readFileSync } from 'node:fs';

const LIMIT = Number(process.env.TOP ?? 25);
const self = new Map();
let total = 0;
for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Sample i lasted timeDeltas[i + 1]; the last one is unknown and left out.
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const where = url ? `${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
}
const busy = [...self].filter(([k]) => k !== '(idle)' && k !== '(program)').reduce((a, [, v]) => a + v, 0);
console.log(`total ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s outside (idle)/(program)`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, LIMIT)) {
  console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}
