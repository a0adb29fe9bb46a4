// A full state directory (issue 18): on a 1 MiB tmpfs, before, 28.6% of reads failed
// with EIO once arena writes met ENOSPC, new servers died making their arena, and with
// one handle held across a crash every read on the host hung. Now what cannot be
// written is served from memory, a server without an arena still serves, and readers
// see no error.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeStateDir, serverPids } from './harness/daemon.js';
import { describeRun, runOk, scaled, waitFor, waitForLine } from './harness/exec.js';
import { MiB } from './harness/meminfo.js';
import { unmountAll } from './harness/mounts.js';
import { describeE2E, SCRIPTS } from './harness/prerequisites.js';
import { useFixture, type Fixture } from './harness/suite.js';

const LOAD_MS = scaled(8_000);
const HELD = 30;

interface LoadResult {
  ok: number;
  bad: Record<string, number>;
  errors: Record<string, number>;
}

/** Writes a file until the state directory has no byte left. */
function fill(dir: string): number {
  const fd = openSync(join(dir, 'filler'), 'w');
  const block = Buffer.alloc(4096, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Two readers in `a` (300 MiB) for LOAD_MS, one reading 100 bytes at a time (every rendering half read, then saved). */
function startLoad(fx: Fixture): Promise<LoadResult[]> {
  return Promise.all(['', '100'].map(async (chunk) => {
    const args = [join(SCRIPTS, 'read-for.mjs'), fx.daemon.path('proc/meminfo'), String(LOAD_MS), String(300 * 1024), chunk];
    const r = await fx.cgroups.run('a', process.execPath, args, { timeoutMs: LOAD_MS + 60_000 });
    if (r.code !== 0) throw new Error(describeRun(args, r));
    return JSON.parse(r.stdout) as LoadResult;
  }));
}

async function killServer(fx: Fixture): Promise<void> {
  const [server] = serverPids(fx.daemon.pid);
  process.kill(server!, 'SIGKILL');
  await waitFor('a new server', () => serverPids(fx.daemon.pid).some((pid) => pid !== server) || undefined, { timeoutMs: 15_000 });
  await fx.readIn('a', fx.daemon.path('proc/meminfo'));
}

function expectNoFailure(results: LoadResult[], what: string): void {
  console.info(`[full-state-dir] ${what}: good reads per reader ${results.map((r) => r.ok).join(' ')}, errors ${JSON.stringify(results.map((r) => r.errors))}`);
  for (const result of results) {
    expect(result.errors).toEqual({});
    expect(result.bad).toEqual({});
    expect(result.ok).toBeGreaterThan(10);
  }
}

describeE2E('a full state directory (a 1 MiB tmpfs)', () => {
  const stateDir = makeStateDir();
  beforeAll(() => runOk('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'cgprocfs-e2e-state', stateDir]));
  // Registered before the fixture: runs after its teardown.
  afterAll(async () => {
    await unmountAll(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });
  const fx = useFixture({ args: ['--state-dir', stateDir] });

  it('a handle held half-read across a SIGKILL, readers under load: no read fails, a server without an arena serves, and the log says why', async () => {
    fx.cgroups.make('a', { memoryLimit: 300 * MiB });
    console.info(`[full-state-dir] filled the state directory with ${fill(stateDir)} bytes`);
    const holder = fx.cgroups.spawn('a', process.execPath, [join(SCRIPTS, 'hold-partial.mjs'), fx.daemon.path('proc/meminfo'), String(HELD), '100']);
    await waitForLine(holder, /^ready$/);
    const load = startLoad(fx);
    await new Promise((resolve) => setTimeout(resolve, scaled(1_500)));
    await killServer(fx);
    await new Promise((resolve) => setTimeout(resolve, scaled(1_500)));
    await killServer(fx);
    holder.stdin?.write('rest\n');
    const held = JSON.parse(await waitForLine(holder, /^\{/)) as { whole: number; bad: string[]; errors: Record<string, number> };
    console.info(`[full-state-dir] ${HELD} handles held across 2 kills: ${JSON.stringify(held)}`);
    expect(held).toEqual({ whole: 2 * HELD, bad: [], errors: {} });
    expectNoFailure(await load, 'held handle, 2 kills');
    const logs = fx.daemon.logs();
    expect(logs).toMatch(/"msg":"the state directory is full or failing: open files are served from memory/);
    expect(logs).toMatch(/"msg":"could not make this server's handle arena/);
  }, scaled(120_000));

  it('under load, the server SIGKILLed three times with no handle held: no read fails, and the server starts again each time', async () => {
    const load = startLoad(fx);
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((resolve) => setTimeout(resolve, scaled(1_500)));
      await killServer(fx);
    }
    expectNoFailure(await load, 'no handle held, 3 kills');
    expect(fx.daemon.running).toBe(true);
  }, scaled(120_000));
});
