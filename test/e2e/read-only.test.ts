// Every write path fails, for root and for an unprivileged user, and nothing in the tree or on the host changes.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeRun, run, runOk } from './harness/exec.js';
import { describeE2E, SCRIPTS } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const AS_NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
const USERS = [
  ['root', []],
  ['nobody (uid 65534)', AS_NOBODY],
] as const;

describeE2E('the tree is read-only', () => {
  const fx = useFixture();
  const asUser = async (prefix: readonly string[], argv: string[]) => {
    const [cmd = '', ...args] = [...prefix, ...argv];
    const r = await run(cmd, args, { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(describeRun([cmd, ...args], r));
    return r.stdout;
  };
  /** Names, types, modes, sizes and owners of everything in the mount, plus the host files it mirrors. */
  const snapshot = async () => ({
    tree: await runOk('find', [fx.daemon.mountpoint, '-printf', '%P %y %m %s %u %g\n'], { timeoutMs: 10_000 }),
    host: ['/proc/meminfo', '/proc/swaps'].map((f) => statSync(f).mode),
  });

  it.each(USERS)('%s can read the files (so a refusal below is not just "no access at all")', async (_, prefix) => {
    expect(await asUser(prefix, ['cat', fx.daemon.path('proc/meminfo')])).toMatch(/^MemTotal:/);
  });

  it.each(USERS)('every write path fails for %s with EROFS, EACCES or EPERM and changes nothing', async (_, prefix) => {
    const before = await snapshot();
    const out = await asUser(prefix, [process.execPath, join(SCRIPTS, 'write-attempts.mjs'), fx.daemon.mountpoint]);
    const results = JSON.parse(out) as Array<{ op: string; result: string }>;
    expect(results.length).toBeGreaterThan(10);
    expect(results.filter((r) => !['EROFS', 'EACCES', 'EPERM'].includes(r.result))).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it('an open for write as root fails with EROFS (root bypasses mode bits, the server must refuse)', async () => {
    const out = await asUser([], [process.execPath, join(SCRIPTS, 'write-attempts.mjs'), fx.daemon.mountpoint]);
    const results = JSON.parse(out) as Array<{ op: string; result: string }>;
    expect(results.filter((r) => r.op.startsWith('open')).map((r) => r.result)).toEqual(['EROFS', 'EROFS', 'EROFS']);
  });
});
