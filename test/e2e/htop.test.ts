// htop 3.2.2 (Debian 12) in a container under tmux (issue 21 item 4). htop sizes its CPU bars from the
// cpuN directories of /sys/devices/system/cpu: one bar per kernel id from 0 to the highest it finds
// (linux/LinuxProcessList.c LinuxProcessList_updateCPUcount), a missing cpuN drawn "offline", and it
// reads each bar's figures from /proc/stat's cpuN line of that id. So a view of CPUs 0..n-1 gets exactly
// n bars; a view that keeps a higher kernel id (cpuset 1) also gets an offline bar per lower id, which
// no served file can remove without renumbering the CPUs (README, "htop").
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { containerArgs } from './harness/container.js';
import { run, runOk } from './harness/exec.js';
import { describeE2E } from './harness/prerequisites.js';
import { useFixture } from './harness/suite.js';

const BINDS = ['proc/cpuinfo', 'proc/stat', 'proc/meminfo', 'proc/uptime', 'proc/loadavg', 'sys/devices/system/cpu'];
const onPath = (tool: string): boolean => (process.env.PATH ?? '').split(':').some((dir) => {
  try {
    accessSync(join(dir, tool), constants.X_OK);
    return true;
  } catch {
    return false;
  }
});
/** Not in every e2e run's prerequisites: only this file needs them; under CI=true their absence fails. */
const TOOLS_PRESENT = onPath('htop') && onPath('tmux');
/** htop draws its first screen, then refreshes every 1.5 s: the second screen has usage figures. */
const SETTLE_MS = 3_500;
const quote = (arg: string): string => `'${arg.replaceAll("'", "'\\''")}'`;

describeE2E('htop in a container', () => {
  const fx = useFixture();
  let work: string;
  /** tmux's server socket, in the test's own directory so nothing is left in /tmp/tmux-<uid>. */
  const socket = (): string => join(work, 'tmux.sock');

  beforeAll(() => {
    if (!TOOLS_PRESENT && process.env.CI === 'true') throw new Error('htop and tmux must be installed (.ci/run installs them)');
    work = mkdtempSync(join(tmpdir(), 'cgprocfs-htop-'));
    fx.cgroups.make('cpuset1');
    fx.cgroups.setCpus('cpuset1', '1');
    fx.cgroups.make('half');
    fx.cgroups.setCpuQuota('half', 50_000);
  });

  afterAll(async () => {
    if (work === undefined) return;
    await run('tmux', ['-S', socket(), 'kill-server'], { timeoutMs: 10_000 });
    rmSync(work, { recursive: true, force: true });
  });

  /** htop's header rows as tmux shows them, htop running as pid 1 of a container in cgroup `rel`. */
  async function htopHeader(rel: string): Promise<string[]> {
    const command = ['env', 'TERM=xterm', `HOME=${work}`, 'htop'];
    const script = join(work, `${rel}.sh`);
    writeFileSync(script, `${fx.cgroups.joinShell(rel)}\nexec unshare ${containerArgs(fx.daemon.mountpoint, command, BINDS).map(quote).join(' ')}\n`);
    await runOk('tmux', ['-S', socket(), 'new-session', '-d', '-s', rel, '-x', '120', '-y', '30', `sh ${script}`], { timeoutMs: 10_000 });
    try {
      await sleep(SETTLE_MS);
      const screen = await runOk('tmux', ['-S', socket(), 'capture-pane', '-p', '-t', rel], { timeoutMs: 10_000 });
      console.log(`[htop] ${rel}:\n${screen.split('\n').slice(0, 4).join('\n')}`);
      return screen.split('\n').filter((line) => line.includes('['));
    } finally {
      await run('tmux', ['-S', socket(), 'kill-session', '-t', rel], { timeoutMs: 10_000 });
    }
  }

  const cpuBars = (rows: string[]): string[] => rows.flatMap((row) => row.match(/CPU\[[^\]]*\]/g) ?? []);

  it.skipIf(!TOOLS_PRESENT)('shows exactly one CPU bar, with usage, under a quota of half a CPU (the view is CPU 0)', async () => {
    const bars = cpuBars(await htopHeader('half'));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatch(/\d+\.\d%\]$/);
  });

  it.skipIf(!TOOLS_PRESENT)('under cpuset 1 keeps kernel id 1: its bar shows usage, and htop adds one offline bar for id 0', async () => {
    const bars = cpuBars(await htopHeader('cpuset1'));
    expect(bars).toHaveLength(2);
    expect(bars[0]).toMatch(/offline\]$/);
    expect(bars[1]).toMatch(/\d+\.\d%\]$/);
  });
});
