// One container opening files until refused cannot make another container's reads
// fail (issue 17): it gets EMFILE at its share of the handle store, the log names it
// and the option that raises the share, a quiet container reads throughout, and the
// share comes back when its files close.
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { waitForLine } from './harness/exec.js';
import { figures, load, readsInContainer } from './harness/floods.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E, SCRIPTS } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

/** The default share (serve --max-open-per-container). */
const SHARE = 1024;
const QUIET_MS = 6_000;

interface Held {
  held: number;
  error: string | null;
}

describeE2E('a container flooding the mount with open files beside a quiet one', () => {
  const fx = useFixture();
  const holders: ChildProcess[] = [];
  afterEach(() => {
    for (const holder of holders.splice(0)) holder.stdin?.end();
  });

  /** Starts `count` holders in cgroup `rel`, each pid 1 of its own namespace, with `limit` open files each. */
  async function flood(rel: string, count: number, limit: number): Promise<Held[]> {
    const started = Array.from({ length: count }, () => {
      const script = `ulimit -n ${limit} && exec unshare --pid --fork --kill-child "$0" "$1" "$2"`;
      const child = fx.cgroups.spawn(rel, 'sh', ['-c', script, process.execPath, join(SCRIPTS, 'hold-open.mjs'), fx.daemon.path('proc/meminfo')]);
      holders.push(child);
      return waitForLine(child, /^\{/, 60_000);
    });
    return (await Promise.all(started)).map((line) => JSON.parse(line) as Held);
  }

  const paths = () => [fx.daemon.path('proc/meminfo'), fx.daemon.path('proc/stat')];

  it.each([
    ['one process opening until refused', 1, 20_000],
    ['14 processes at the default limit of 1,024 files', 14, 1024],
  ] as const)('%s: EMFILE at the share for the flooder only, zero failures for a quiet container', async (_name, count, limit) => {
    const rel = `flood${count}`;
    fx.cgroups.make(rel);
    fx.cgroups.make(`quiet${count}`, { memoryLimit: 300 * MiB });
    const quiet = readsInContainer(fx.cgroups, `quiet${count}`, QUIET_MS, paths());
    const held = await flood(rel, count, Math.min(limit, hardOpenFiles()));
    // A container started while the flood holds its files reads at once.
    const late = await readsInContainer(fx.cgroups, `quiet${count}`, 0, paths());
    const calm = await quiet;
    console.log(`[open-file flood] ${count} holder(s) hold ${held.reduce((n, h) => n + h.held, 0)} files, refused with ${[...new Set(held.map((h) => h.error))].join(', ')} (load ${load()})`);
    console.log(`[open-file flood] quiet container reading meminfo and stat throughout: ${figures(calm)}`);
    expect(held.reduce((n, h) => n + h.held, 0)).toBe(SHARE);
    expect(held.some((h) => h.error === 'EMFILE')).toBe(true);
    expect(calm.errors).toEqual({});
    expect(calm.reads).toBeGreaterThan(0);
    expect(late.errors).toEqual({});

    const warnings = fx.daemon.logs().split('\n').filter((line) => line.includes('--max-open-per-container'));
    expect(warnings.some((line) => line.includes(fx.cgroups.cgroupPath(rel)))).toBe(true);

    // Closed files give the share back: the flooding container reads again.
    for (const holder of holders.splice(0)) holder.stdin?.end();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await readsInContainer(fx.cgroups, rel, 0, paths());
    expect(after.errors).toEqual({});
  }, 120_000);
});

/** The hard limit on open files this test may give a holder. */
function hardOpenFiles(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const hard = Number(line?.split(/\s+/)[4]);
  return Number.isFinite(hard) ? hard : 1_048_576;
}
