// The state directory is verified before use (issue 18): a symlink, a directory others
// can write or one root does not own is refused with one line; and nothing planted in
// a verified one (symlinks at record or temporary names) is ever followed.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cgprocfsMountsAt, makeMountpoint, makeStateDir, removeMountpoint, serverPids } from './harness/daemon.js';
import { run, waitFor } from './harness/exec.js';
import { DAEMON_BIN, describeE2E } from './harness/prerequisites.js';
import { teardown, useFixture } from './harness/suite.js';

const NOBODY = 65534;

describeE2E('a state directory that is not safe to use is refused', () => {
  const scratch = makeStateDir();
  const mountpoints: string[] = [];
  afterAll(() =>
    teardown(...mountpoints.map((m) => () => removeMountpoint(m)), () => {
      rmSync(scratch, { recursive: true, force: true });
      return undefined;
    }),
  );

  const cases: [string, () => string, RegExp][] = [
    ['a symlink to a directory', () => {
      mkdirSync(join(scratch, 'real'), { mode: 0o700 });
      symlinkSync(join(scratch, 'real'), join(scratch, 'link'));
      return join(scratch, 'link');
    }, /link is a symlink: give a directory that only root can write/],
    ['a world-writable directory', () => {
      const dir = mkdtempSync(join(scratch, 'open-'));
      chmodSync(dir, 0o777);
      return dir;
    }, /is writable by others \(mode 777\)/],
    ['a directory owned by nobody', () => {
      const dir = mkdtempSync(join(scratch, 'nobody-'));
      chownSync(dir, NOBODY, NOBODY);
      return dir;
    }, /is owned by uid 65534, not by the daemon's uid 0/],
    ['a directory inside one owned by nobody', () => {
      const parent = mkdtempSync(join(scratch, 'parent-'));
      chownSync(parent, NOBODY, NOBODY);
      return join(parent, 'state');
    }, /is inside .*parent-\w+, which is owned by uid 65534/],
  ];

  it.each(cases)('%s: one line, exit 1, nothing mounted', async (_, make, pattern) => {
    const mountpoint = makeMountpoint();
    mountpoints.push(mountpoint);
    const result = await run(process.execPath, [DAEMON_BIN, 'serve', '--mountpoint', mountpoint, '--state-dir', make()], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^cgprocfs: --state-dir /);
    expect(lines[0]).toMatch(pattern);
    expect(cgprocfsMountsAt(mountpoint)).toEqual([]);
  });
});

describeE2E('symlinks planted in the state directory', () => {
  const fx = useFixture();
  const secrets = makeStateDir();
  afterAll(() => rmSync(secrets, { recursive: true, force: true }));

  it('are never followed: a root-only file they name stays as it was, and reads go on', async () => {
    fx.cgroups.make('a');
    await fx.readIn('a', fx.daemon.path('proc/stat'));
    const secret = join(secrets, 'secret');
    writeFileSync(secret, 'root only\n', { mode: 0o600 });
    const counters = join(fx.daemon.stateDir!, 'cpu');
    const files = readdirSync(counters).filter((name) => name.endsWith('.json') || name.endsWith('.shown'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      rmSync(join(counters, name));
      symlinkSync(secret, join(counters, name));
    }
    // The temporary names the daemon used to write under: <file>.<pid>.<thread>.<n>.tmp.
    for (const pid of serverPids(fx.daemon.pid)) {
      for (const name of files) {
        for (let thread = 1; thread <= 4; thread++) {
          for (let n = 0; n < 20; n++) symlinkSync(secret, join(counters, `${name}.${pid}.${thread}.${n}.tmp`));
        }
      }
    }
    for (let read = 0; read < 20; read++) {
      expect(await fx.readIn('a', fx.daemon.path('proc/stat'))).toMatch(/^cpu {2}\d+/);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expect(readFileSync(secret, 'utf8')).toBe('root only\n');
  }, 60_000);

  it('a forged counter record is ignored and logged, and the idle it claims never shows (regression: it doubled a container\'s idle)', async () => {
    fx.cgroups.make('b');
    const idleOf = (stat: string): number => Number(stat.split('\n')[0]!.split(/\s+/)[4]);
    const before = idleOf(await fx.readIn('b', fx.daemon.path('proc/stat')));
    const counters = join(fx.daemon.stateDir!, 'cpu');
    const path = readdirSync(counters).filter((name) => name.endsWith('.json')).map((name) => join(counters, name))
      .find((file) => (JSON.parse(readFileSync(file, 'utf8')) as { cpuDir: string }).cpuDir.endsWith('/b'));
    const record = JSON.parse(readFileSync(path!, 'utf8')) as { perCpu: { idle: number }[]; aggregate: { idle: number } };
    const forged = { ...record, perCpu: record.perCpu.map((times) => ({ ...times, idle: times.idle * 2 })), aggregate: { ...record.aggregate, idle: record.aggregate.idle * 2 } };
    writeFileSync(`${path}.forged`, JSON.stringify(forged));
    renameSync(`${path}.forged`, path!);
    // Read until the warning is in the log: a rendering of the last 10 ms may be served
    // again, and a serving thread's log line reaches the daemon's output a moment later.
    const ignored = /"why":"a CPU idles longer than the time since boot".*"msg":"ignored a CPU counter record/;
    const afters: number[] = [];
    await waitFor('the forged record to be logged as ignored', async () => {
      afters.push(idleOf(await fx.readIn('b', fx.daemon.path('proc/stat'))));
      return ignored.test(fx.daemon.logs());
    }, { timeoutMs: 10_000, intervalMs: 100 });
    console.info(`[state-dir-checks] idle ticks before / after the forgery: ${before} / ${afters.join(', ')}`);
    for (const after of afters) expect(after).toBeLessThan(before * 1.5);
  }, 60_000);
});
