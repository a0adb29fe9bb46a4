// What the daemon costs a host (issue 22): the supervisor that holds the mount replaces
// the CLI with its slim entry (same pid), it and its server run with the daemon's V8
// flags, and both give back the pages of the node executable that starting took.
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { parseSmaps } from '../../src/daemon/executable-pages.js';
import { Daemon, serverPids } from './harness/daemon.js';
import { runOk, waitFor } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const anonymousKb = (pid: number): number => Number(/^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]);

/** Resident kB of the mappings of the process's executable (the node binary). */
function executableRssKb(pid: number): number {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8')).filter((m) => m.path === exe).reduce((kb, m) => kb + m.rssKb, 0);
}

/** 13 MiB (supervisor) and 20 MiB (server) measured after the drop; about 40 MiB each before it. */
const EXECUTABLE_RSS_BOUND_KB = 30 * 1024;
/** 12 MiB measured (2 CPUs, Node 20); 27 MiB while the CLI, yargs and the views stayed loaded. */
const SUPERVISOR_ANONYMOUS_BOUND_KB = 20 * 1024;

describeE2E('a lean daemon', () => {
  let daemon: Daemon;
  afterAll(() => teardown(() => daemon?.destroy()));

  it('the supervisor keeps the pid it was started with and runs the slim entry with the daemon\'s flags; its server inherits them', async () => {
    daemon = await Daemon.start();
    const supervisor = cmdline(daemon.pid);
    expect(supervisor.some((arg) => arg.endsWith('daemon/supervisor-entry.js'))).toBe(true);
    expect(supervisor).toContain('--max-semi-space-size=1');
    const [server] = serverPids(daemon.pid);
    expect(server).toBeDefined();
    expect(cmdline(server!)).toContain('--max-semi-space-size=1');
    expect(await runOk('cat', [daemon.path('proc/meminfo')], { timeoutMs: 10_000 })).toMatch(/^MemTotal:/);
  });

  it('the supervisor holds far less memory than a process carrying the whole CLI', () => {
    expect(anonymousKb(daemon.pid)).toBeLessThan(SUPERVISOR_ANONYMOUS_BOUND_KB);
  });

  it('the supervisor and its server give back the node executable\'s start-up pages, and serve on', async () => {
    const [server] = serverPids(daemon.pid);
    const resident = () => [daemon.pid, server!].map(executableRssKb);
    await waitFor('the executable\'s pages dropped in both processes', () => resident().every((kb) => kb < EXECUTABLE_RSS_BOUND_KB), { timeoutMs: 20_000 });
    expect(await runOk('cat', [daemon.path('proc/stat')], { timeoutMs: 10_000 })).toMatch(/^cpu /);
    expect(serverPids(daemon.pid)).toEqual([server]);
  });
});
