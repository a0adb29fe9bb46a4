// Every handle epoch taken by an arena file (issue 18): before, freshEpoch() looped for
// good and the supervisor, at 100% CPU, never handled SIGHUP or SIGTERM again. Now the
// start fails with NAMES_EXHAUSTED, is retried with a back-off, and signals work.
import { linkSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { arenaDirOf } from '../../src/daemon/config.js';
import { EPOCH_LIMIT } from '../../src/fs/arena-format.js';
import { serverPids } from './harness/daemon.js';
import { waitFor } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const logLines = (logs: string, msg: RegExp) =>
  logs.split('\n').filter((line) => msg.test(line)).map((line) => JSON.parse(line) as Record<string, unknown>);

const LINKS_PER_FILE = 60_000;

/** An arena file of one slot whose record is live and saved: the collector must keep it. */
function liveArena(): Buffer {
  const file = Buffer.alloc(4096 + 24);
  file.writeUInt32LE(0x43475046, 0); // magic
  file.writeUInt32LE(1, 4); // slots
  file.writeUInt32LE(1, 4096); // generation 1, contents saved
  file.writeUInt32LE(1, 4096 + 8); // one page
  file.writeUInt32LE(1, 4096 + 12); // one byte
  return file;
}

describeE2E('an exhausted epoch name space', () => {
  const fx = useFixture();

  it('every epoch taken by a live arena: the restart fails with NAMES_EXHAUSTED and backs off, and SIGHUP and SIGTERM are still handled', async () => {
    const arenas = arenaDirOf({ stateDir: fx.daemon.stateDir!, mountpoint: fx.daemon.mountpoint });
    const [serving] = readdirSync(arenas);
    // Hard links: 65,535 names cost two files' pages (a file has at most 65,000 links).
    // The serving server's arena is replaced too (it keeps its open file): once it is
    // killed, no arena is idle, so collecting frees no name.
    for (let epoch = 1; epoch < EPOCH_LIMIT; epoch++) {
      const planted = join(arenas, `planted-${Math.floor(epoch / LINKS_PER_FILE)}`);
      if (epoch % LINKS_PER_FILE === 0 || epoch === 1) writeFileSync(planted, liveArena(), { mode: 0o600 });
      const name = `handles-${epoch}.arena`;
      if (name !== serving) linkSync(planted, join(arenas, name));
    }
    linkSync(join(arenas, 'planted-0'), join(arenas, 'replacement'));
    renameSync(join(arenas, 'replacement'), join(arenas, serving!));
    const [server] = serverPids(fx.daemon.pid);
    process.kill(server!, 'SIGKILL');
    await waitFor('the start-up loop to be logged', () => /keeps dying at start-up/.test(fx.daemon.logs()), { timeoutMs: 30_000 }).catch((err: Error) => {
      throw new Error(`${err.message}\n--- daemon output\n${fx.daemon.logs().slice(-3000)}`);
    });
    const failures = logLines(fx.daemon.logs(), /"msg":"(could not start a server|the server keeps dying)/);
    expect(failures.map((line) => (line.err as { code?: string } | undefined)?.code)).toEqual(new Array(failures.length).fill('NAMES_EXHAUSTED'));
    expect(failures.map((line) => line.retryInMs).slice(0, 3)).toEqual([0, 0, 500]);

    process.kill(fx.daemon.pid, 'SIGHUP');
    await waitFor('the reload to be declined', () => /"msg":"reload skipped/.test(fx.daemon.logs()), { timeoutMs: 10_000 });
    const started = Date.now();
    expect(await fx.daemon.stop('SIGTERM', 15_000)).toEqual({ code: 0, signal: null });
    console.info(`[names-exhausted] SIGTERM to exit: ${Date.now() - started} ms`);
    expect(serverPids(fx.daemon.pid)).toEqual([]);
  }, 90_000);
});
