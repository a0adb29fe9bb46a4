// Never break a container (issue 7 §3, issue 4): three Docker containers read every file
// docker-flags binds, in loops, while the daemon's server process is SIGKILLed twice and
// the supervisor reloads on SIGHUP. With lxcfs every read fails with ENOTCONN from the
// first kill until `docker restart`; here no read may fail or be wrong, and no container restarts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isAlive, run, scaled, waitFor } from '../harness/exec.js';
import { boundTargets, figure, NODE_BIND, NODE_IN_CONTAINER, SCRIPTS_BIND, SCRIPTS_IN_CONTAINER, sleep } from '../../runtime/checks.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { serverPids } from '../harness/daemon.js';

const prepared = await prepareRuntime({ images: ['procps'] });

const LOAD_MS = scaled(14_000);
const LIMITS_MIB = [200, 300, 400] as const;

interface LoadResult {
  rounds: number;
  ok: number;
  lastOkAt: number;
  bad: Record<string, number>;
  errors: Record<string, number>;
  first: Array<{ what: string; at: number }>;
}


function theServer(daemonPid: number, not?: number): Promise<number> {
  return waitFor('exactly one serving server process', () => {
    const pids = serverPids(daemonPid).filter((pid) => pid !== not);
    return pids.length === 1 ? pids[0] : undefined;
  }, { timeoutMs: 15_000 });
}

describeRuntime('never break a container', prepared, (fx) => {
  it('three containers read every bound file with zero failed or wrong reads across two server SIGKILLs and a SIGHUP reload, and none restarts', async () => {
    const flags = await fx.flags();
    const targets = boundTargets(flags);
    const meminfoLines = readFileSync('/proc/meminfo', 'utf8').split('\n').length - 1;
    const reader = join(SCRIPTS_IN_CONTAINER, 'read-all-for.mjs');
    const names = await Promise.all(
      LIMITS_MIB.map((mib) =>
        fx.docker.start(['-m', `${mib}m`, ...flags, ...NODE_BIND, ...SCRIPTS_BIND], [fx.image('procps')], [
          NODE_IN_CONTAINER, reader, String(LOAD_MS), String(mib * 1024), String(meminfoLines), ...targets,
        ]),
      ),
    );
    const identity = '{{.State.StartedAt}} restarts={{.RestartCount}}';
    const before = await Promise.all(names.map((n) => fx.docker.inspect(n, identity)));

    const daemonPid = fx.daemon.pid;
    const events: Array<{ what: string; at: number }> = [];
    let server = await theServer(daemonPid);
    for (let kill = 0; kill < 2; kill++) {
      await sleep(2_500);
      process.kill(server, 'SIGKILL');
      events.push({ what: `SIGKILL server ${server}`, at: Date.now() });
      server = await theServer(daemonPid, server);
      events.push({ what: `new server ${server}`, at: Date.now() });
    }
    await sleep(2_500);
    process.kill(daemonPid, 'SIGHUP');
    events.push({ what: 'SIGHUP supervisor', at: Date.now() });
    await theServer(daemonPid, server);
    await waitFor('the old server to exit after the reload', () => !isAlive(server), { timeoutMs: 15_000 });
    const reloadedAt = Date.now();

    const exits = await Promise.all(names.map((n) => run('docker', ['wait', n], { timeoutMs: LOAD_MS + 60_000 })));
    const results = await Promise.all(
      names.map(async (n) => JSON.parse((await run('docker', ['logs', n])).stdout.trim()) as LoadResult),
    );
    const after = await Promise.all(names.map((n) => fx.docker.inspect(n, identity)));
    figure('never break: reads per container (200/300/400 MiB)', results.map((r) => r.ok));
    figure('never break: failed / wrong reads', results.map((r) => ({ errors: r.errors, bad: r.bad })));
    figure('never break: exit codes, restarts', { exits: exits.map((e) => e.stdout.trim()), after });
    const failures = results.flatMap((r) => r.first);
    if (failures.length > 0) {
      figure('never break: first failures vs events (ms)', { failures, events });
      const said = fx.daemon.logs().split('\n').filter((line) => /"level":(40|50)|handle/.test(line));
      figure('never break: daemon warnings and errors', said.slice(0, 10).join('\n'));
    }

    expect(exits.map((e) => e.stdout.trim())).toEqual(['0', '0', '0']);
    expect(after).toEqual(before);
    for (const r of results) {
      expect(r.errors).toEqual({});
      expect(r.bad).toEqual({});
      // Reading went on through every event, and after the reload was complete.
      expect(r.rounds).toBeGreaterThan(20);
      expect(r.lastOkAt).toBeGreaterThan(reloadedAt);
    }
    expect(fx.daemon.logs()).toMatch(/"msg":"reloaded"/);
    expect(fx.daemon.running).toBe(true);
  }, scaled(120_000));
});
