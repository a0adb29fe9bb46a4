// Concurrent readers in different cgroups each see only their own limit: no cross-talk between open handles.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeRun, scaled } from './harness/exec.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E, SCRIPTS } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const READS = 2000;

describeE2E('concurrent readers in different cgroups', () => {
  const fx = useFixture();

  it(`two cgroups (300 and 400 MiB) reading ${READS} times each at once never see each other's MemTotal`, async () => {
    const cases = [['a300', 300], ['b400', 400]] as const;
    const results = await Promise.all(
      cases.map(async ([rel, mib]) => {
        fx.cgroups.make(rel, { memoryLimit: mib * MiB });
        const args = [join(SCRIPTS, 'read-loop.mjs'), fx.daemon.path('proc/meminfo'), String(READS)];
        const r = await fx.cgroups.run(rel, process.execPath, args, { timeoutMs: 110_000 });
        if (r.code !== 0) throw new Error(describeRun(args, r));
        return JSON.parse(r.stdout) as unknown;
      }),
    );
    expect(results).toEqual(cases.map(([, mib]) => ({ memTotals: { [mib * 1024]: READS }, errors: {} })));
  }, scaled(120_000));
});
