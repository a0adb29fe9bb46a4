// An idle container's first /proc/loadavg reading is 0.00 (issue 21 item 6): the warm start of a
// cgroup's averages never counts the reader itself, which a CPU quota can leave runnable (R) while
// it waits for our reply, nor a task that only waits on a FUSE request.
import { expect, it } from 'vitest';
import { CPU_VIEW_BINDS, runInContainer } from './harness/container.js';
import { parseLoadavg } from './harness/cpu-files.js';
import { describeRun } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const TOOL_ENV = { ...process.env, LC_ALL: 'C' };
/**
 * Fresh containers, each of whose first reading is checked. The issue saw 1.00 in 1 of 3 Docker
 * runs; here, before the fix, 8 of 8 read 0.00 (the race did not show on this machine): this
 * guards the behaviour end to end, and test/unit/render/loadavg.test.ts pins the rule.
 */
const CONTAINERS = 8;
/**
 * `--cpus 0.1`-like quota: Python spends the quota before it reads, so the throttle may land while
 * the reader is still R around its read; a few commands first, as an agent's would.
 */
const QUOTA_US = 10_000;
const FIRST_READ = `ls / >/dev/null; uname -a >/dev/null; exec python3 -c 'sum(range(2_000_000)); print(open("/proc/loadavg").read(), end="")'`;

describeE2E('an idle container\'s first loadavg reading', () => {
  const fx = useFixture();

  it(`is 0.00 in each of ${CONTAINERS} fresh containers under a CPU quota`, async () => {
    const firsts: string[] = [];
    for (let i = 0; i < CONTAINERS; i++) {
      const rel = `idle${i}`;
      fx.cgroups.make(rel);
      fx.cgroups.setCpuQuota(rel, QUOTA_US);
      const argv = ['sh', '-c', FIRST_READ];
      const r = await runInContainer(fx.cgroups, rel, fx.daemon.mountpoint, argv, { timeoutMs: 30_000, env: TOOL_ENV }, CPU_VIEW_BINDS);
      if (r.code !== 0) throw new Error(describeRun(argv, r));
      firsts.push(r.stdout);
    }
    console.log(`[loadavg-warm-start] first readings: ${firsts.map((out) => out.trim()).join('; ')}`);
    for (const out of firsts) expect(parseLoadavg(out).averages).toEqual([0, 0, 0]);
  });
});
