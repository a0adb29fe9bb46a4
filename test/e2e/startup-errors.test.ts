// What a host admin sees when serve cannot start: one clear line, a non-zero exit,
// and nothing left mounted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, makeMountpoint, removeMountpoint } from './harness/daemon.js';
import { run, runOk } from './harness/exec.js';
import { mountsAt } from './harness/mounts.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { teardown } from './harness/suite.js';

/** Runs the CLI, optionally under a wrapper command such as setpriv. */
function serve(args: string[], wrapper: string[] = []) {
  const argv = [...wrapper, process.execPath, DAEMON_BIN, ...args];
  return run(argv[0]!, argv.slice(1), { timeoutMs: 20_000 });
}

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describeE2E('serve refuses to start cleanly', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'cgprocfs-e2e-startup-'));
  const mountpoints: string[] = [];
  afterAll(() =>
    teardown(...mountpoints.map((m) => () => removeMountpoint(m)), () => {
      rmSync(scratch, { recursive: true, force: true });
      return undefined;
    }),
  );

  it.each([
    [['serve', '--resolve', 'nobody'], /^cgprocfs: .*resolve/],
    [['serve', '--no-such-flag'], /^cgprocfs: Unknown argument/],
    [['render', 'meminfo'], /^cgprocfs: give --pid or --cgroup/],
    [['render', 'meminfo', '--pid', 'abc'], /^cgprocfs: /],
    [['bogus-command'], /^cgprocfs: Unknown argument/],
    [['serve', '--workers', '0'], /^cgprocfs: --workers must be an integer from 1 to 64$/],
    [['serve', '--workers', '1.5'], /^cgprocfs: --workers must be an integer from 1 to 64$/],
    [['serve', '--workers', 'many'], /^cgprocfs: --workers must be an integer from 1 to 64$/],
    [['serve', '--max-open-per-container', '0'], /^cgprocfs: --max-open-per-container must be an integer from 1 to 7168$/],
    [['serve', '--max-open-per-container', '9000'], /^cgprocfs: --max-open-per-container must be an integer from 1 to 7168$/],
  ])('a bad argument (%j) is one line on stderr and exit 2', async (args, pattern) => {
    const result = await serve(args);
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, pattern);
  });

  it('a mountpoint that is a regular file: one line, exit 1, nothing mounted', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const result = await serve(['serve', '--mountpoint', file]);
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /not a directory/);
    expect(cgprocfsMountsAt(file)).toEqual([]);
  });

  it('a mountpoint where something else is mounted: one line, exit 1, nothing stacked on it', async () => {
    const busy = makeMountpoint();
    mountpoints.push(busy);
    await runOk('mount', ['-t', 'tmpfs', 'cgprocfs-test-busy', busy]);
    const result = await serve(['serve', '--mountpoint', busy]);
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /already mounted \(tmpfs\)/);
    expect(mountsAt(busy).map((m) => m.fsType)).toEqual(['tmpfs']);
  });

  it('a user other than root: one line, exit 1, nothing mounted', async () => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    const result = await serve(['serve', '--mountpoint', mountpoint], ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups']);
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /must run as root/);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });

  it('a cgroup root that is not a cgroup tree: one line, exit 1, nothing mounted', async () => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    const result = await serve(['serve', '--mountpoint', mountpoint, '--cgroup-root', scratch]);
    expect(result.code).toBe(1);
    expectOneLine(result.stderr, /cgroup/);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});
