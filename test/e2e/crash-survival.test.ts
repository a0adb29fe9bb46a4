// The daemon never breaks a reader: its server process killed again and again, or
// replaced by a reload, under continuous load from readers in several cgroups and
// from a container whose /proc files are bound from the mount.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runInContainer } from './harness/container.js';
import { describeRun, isAlive, scaled, waitFor } from './harness/exec.js';
import { MiB } from './harness/meminfo.js';
import { describeE2E, SCRIPTS } from './harness/prerequisites.js';
import { useFixture, type Fixture } from './harness/suite.js';
import { serverPids } from './harness/daemon.js';

/** Long enough for readers to see five server restarts and go on reading after them. */
const LOAD_MS = scaled(8_000);


async function theServer(daemonPid: number, not?: number): Promise<number> {
  return waitFor('a serving server process', () => {
    const pids = serverPids(daemonPid).filter((pid) => pid !== not);
    return pids.length === 1 ? pids[0] : undefined;
  }, { timeoutMs: 15_000 });
}

interface LoadResult {
  ok: number;
  bad: Record<string, number>;
  errors: Record<string, number>;
}

/**
 * Readers in cgroups `a` (300 MiB) and `b` (400 MiB), two in `a`, for LOAD_MS; one
 * reads 100 bytes at a time, so a dying server leaves renderings half read.
 */
function startLoad(fx: Fixture): Promise<LoadResult[]> {
  const readers = [['a', 300, ''], ['b', 400, ''], ['a', 300, '100']] as const;
  return Promise.all(
    readers.map(async ([rel, mib, chunk]) => {
      const args = [join(SCRIPTS, 'read-for.mjs'), fx.daemon.path('proc/meminfo'), String(LOAD_MS), String(mib * 1024), chunk];
      const r = await fx.cgroups.run(rel, process.execPath, args, { timeoutMs: LOAD_MS + 60_000 });
      if (r.code !== 0) throw new Error(describeRun(args, r));
      return JSON.parse(r.stdout) as LoadResult;
    }),
  );
}

function expectFlawless(results: LoadResult[]): void {
  console.info(`[crash-survival] good reads per reader: ${results.map((r) => r.ok).join(' ')} (load ${readFileSync('/proc/loadavg', 'utf8').trim()})`);
  for (const result of results) {
    expect(result.errors).toEqual({});
    expect(result.bad).toEqual({});
    // A floor that says reading went on through the kills, not a speed figure: how many
    // reads fit in the window is the machine's load's to decide (46 with an emulator busy).
    expect(result.ok).toBeGreaterThan(10);
  }
}

describeE2E('crash survival and reload', () => {
  const fx = useFixture();

  it('SIGKILL of the server five times under load: zero failed or short reads, and serving goes on', async () => {
    fx.cgroups.make('a', { memoryLimit: 300 * MiB });
    fx.cgroups.make('b', { memoryLimit: 400 * MiB });
    const load = startLoad(fx);
    let server = await theServer(fx.daemon.pid);
    for (let kill = 0; kill < 5; kill++) {
      await new Promise((resolve) => setTimeout(resolve, scaled(700)));
      process.kill(server, 'SIGKILL');
      server = await theServer(fx.daemon.pid, server);
      // Serving again before the next kill: a server killed while it still starts up proves nothing,
      // and on a slow machine five such kills would leave the readers no server for the whole load.
      await fx.readIn('a', fx.daemon.path('proc/meminfo'));
    }
    expectFlawless(await load);
    expect(fx.daemon.running).toBe(true);
    expect(await fx.readIn('a', fx.daemon.path('proc/meminfo'))).toMatch(/^MemTotal: +307200 kB$/m);
  }, scaled(120_000));

  it('SIGHUP under load: zero failed reads, a new server takes over and the old one is gone', async () => {
    const load = startLoad(fx);
    const old = await theServer(fx.daemon.pid);
    await new Promise((resolve) => setTimeout(resolve, scaled(1_000)));
    process.kill(fx.daemon.pid, 'SIGHUP');
    const next = await theServer(fx.daemon.pid, old);
    await waitFor('the old server to exit', () => !isAlive(old), { timeoutMs: 10_000 });
    expectFlawless(await load);
    expect(next).not.toBe(old);
    expect(fx.daemon.logs()).toMatch(/"msg":"reloaded"/);
  }, scaled(120_000));

  it('a container reading its /proc keeps seeing its own values across a server kill and a reload', async () => {
    fx.cgroups.make('c', { memoryLimit: 256 * MiB });
    const loop = `n=0; end=$(( $(date +%s) + ${scaled(7_000) / 1000} )); while [ $(date +%s) -lt $end ]; do
      free -m | awk '/^Mem:/ { if ($2 != 256) { print "wrong total " $2; exit 1 } }' || exit 1
      n=$((n+1)); done; echo "reads=$n"`;
    const container = runInContainer(fx.cgroups, 'c', fx.daemon.mountpoint, ['sh', '-c', loop], { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, scaled(1_500)));
    process.kill(await theServer(fx.daemon.pid), 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, scaled(1_500)));
    process.kill(fx.daemon.pid, 'SIGHUP');
    const r = await container;
    expect(r.code, describeRun(['container loop'], r)).toBe(0);
    expect(Number(/reads=(\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(10);
  }, scaled(90_000));

  it('SIGTERM to the supervisor unmounts, exits 0 and leaves no server behind', async () => {
    const server = await theServer(fx.daemon.pid);
    expect(await fx.daemon.stop()).toEqual({ code: 0, signal: null });
    expect(isAlive(server)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${fx.daemon.mountpoint} `);
  });
});
