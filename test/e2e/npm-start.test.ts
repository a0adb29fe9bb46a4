// `npm start`, the README's Setup (issue 16): it says what it does, runs the daemon in
// the foreground, and a SIGTERM to the npm process stops the daemon (npm forwards it to
// its script, which is the daemon itself: exec, then execve), leaving nothing behind.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, makeMountpoint, makeStateDir, removeMountpoint } from './harness/daemon.js';
import { isAlive, killTrees, processTree, waitForLine } from './harness/exec.js';
import { describeE2E, REPO_ROOT } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

describeE2E('npm start', () => {
  const mountpoint = makeMountpoint();
  const stateDir = makeStateDir();
  const started: number[] = [];
  afterAll(() =>
    teardown(
      async () => killTrees(started),
      () => removeMountpoint(mountpoint),
      async () => rmSync(stateDir, { recursive: true, force: true }),
    ),
  );

  it('says what it is doing, serves in the foreground, and stops the daemon (unmounting) on SIGTERM to the npm process', async () => {
    const npm = spawn('npm', ['start', '--', '--mountpoint', mountpoint, '--state-dir', stateDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(npm.pid!);
    let stderr = '';
    npm.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    await waitForLine(npm, /"msg":"serving"/, 60_000);
    expect(stderr).toMatch(/^npm start: (building|dist\/ is newer than the sources)/m);
    expect(stderr).toMatch(new RegExp(`^npm start: starting cgprocfs serve --mountpoint ${mountpoint} --state-dir ${stateDir} in the foreground`, 'm'));
    const daemon = processTree([npm.pid!]);
    expect(cgprocfsMountsAt(mountpoint)).toHaveLength(1);

    process.kill(npm.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    // Every process npm started is gone, the daemon first among them, and so is the mount.
    expect(daemon.filter(isAlive)).toEqual([]);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  }, 90_000);
});
