// `serve --workers N`: the number of threads serving the mount. With one thread or
// several, many readers at once each get their own cgroup's view.
import { expect, it } from 'vitest';
import { field, MiB } from './harness/meminfo.js';
import { waitFor } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

/** The `server ready` log line of the daemon's server process. */
function readyWorkers(logs: string): unknown {
  for (const line of logs.split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: string; workers?: unknown };
      if (entry.msg === 'server ready') return entry.workers;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

for (const workers of [1, 3]) {
  describeE2E(`a daemon serving with --workers ${workers}`, () => {
    const fx = useFixture({ args: ['--workers', String(workers), '--log-level', 'debug'] });

    it('starts that many serving threads', async () => {
      // The server process logs this line when its threads run, which may come just
      // after the supervisor's "serving".
      expect(await waitFor('the server\'s "server ready" line', () => readyWorkers(fx.daemon.logs()))).toBe(workers);
    });

    it('gives twelve readers at once each its own cgroup\'s MemTotal', async () => {
      const limits = Array.from({ length: 12 }, (_, i) => (200 + 10 * i) * MiB);
      limits.forEach((limit, i) => fx.cgroups.make(`w${i}`, { memoryLimit: limit }));
      const texts = await Promise.all(limits.map((_, i) => fx.readIn(`w${i}`, fx.daemon.path('proc/meminfo'))));
      expect(texts.map((text) => field(text, 'MemTotal'))).toEqual(limits.map((limit) => limit / 1024));
    });
  });
}
