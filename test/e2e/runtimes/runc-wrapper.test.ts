// cgprocfs-runc as built, under runc itself (no engine): dist/bin/cgprocfs-runc.js is run
// by /bin/sh first (calls other than create and run never start Node, and without node on
// PATH a create still reaches runc); `runc run` through it binds the live mount's files;
// and what an engine cannot make (a config.json runc reads but we cannot, a read-only
// bundle, CGPROCFS_REQUIRE=1 against a dead mount) fails safe as the issue asks.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../harness/daemon.js';
import { run, runOk, type RunResult } from '../harness/exec.js';
import { teardown } from '../harness/suite.js';
import { figure, freeTotalMiB } from '../../runtime/checks.js';
import { STATE_DIR } from '../../runtime/engine.js';
import { describeRuntime, prepareRuntime } from '../../runtime/runtime.js';
import { FALLBACK_LINE, WRAPPER_BIN } from '../../runtime/wrapper.js';

const prepared = await prepareRuntime({ images: ['procps'] });
const MiB = 1024 * 1024;

describeRuntime('cgprocfs-runc as built, under runc', prepared, (fx) => {
  let dir = '';
  let rootfs = '';
  let killed: Daemon | undefined;
  let count = 0;
  const ids: string[] = [];
  const runcRoot = () => join(dir, 'runc-state');

  /** A bundle of `runc spec` for the procps tree: 256 MiB, in the test's cgroups, running `command`. */
  async function bundle(command: string): Promise<{ path: string; id: string }> {
    const id = `cgprocfs-test-${process.pid}-${++count}`;
    const path = join(dir, id);
    mkdirSync(path);
    await runOk('runc', ['spec', '--bundle', path]);
    const spec = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    spec.root = { path: rootfs, readonly: true };
    spec.process.terminal = false;
    spec.process.args = ['sh', '-c', command];
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 256 * MiB } };
    spec.linux.cgroupsPath = fx.cgroups.cgroupPath(id);
    writeFileSync(join(path, 'config.json'), JSON.stringify(spec, null, 2));
    return { path, id };
  }

  /** `runc run` through the built wrapper, as an engine would call it. */
  async function runThrough(wrapperArgs: readonly string[], path: string, id: string, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
    ids.push(id);
    return run(WRAPPER_BIN, [...wrapperArgs, '--root', runcRoot(), 'run', '--bundle', path, id], { timeoutMs: 60_000, env });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(STATE_DIR, 'runc-wrapper-'));
    rootfs = await fx.rootfs();
    killed = await Daemon.start();
    await killed.kill();
  }, 120_000);

  afterAll(() =>
    teardown(
      async () => {
        for (const id of ids) await run('runc', ['--root', runcRoot(), 'delete', '--force', id], { timeoutMs: 30_000 });
      },
      () => killed?.destroy(),
      async () => dir && rmSync(dir, { recursive: true, force: true }),
    ),
  );

  describe('the built file, which /bin/sh runs first', () => {
    let bin = '';
    beforeAll(() => {
      bin = join(dir, 'fake-bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'runc'), '#!/bin/sh\necho "runc $*"\n');
      chmodSync(join(bin, 'runc'), 0o755);
    });
    // PATH is the stand-in runc alone (/bin is /usr/bin here, where node is): only /bin/sh can have run it.
    const withoutNode = (args: string[]) => spawnSync(WRAPPER_BIN, args, { encoding: 'utf8', env: { PATH: bin } });

    it('hands a start to runc without Node', () => {
      const r = withoutNode(['--cgprocfs-mountpoint', '/x', 'start', 'c1']);
      expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'runc start c1\n', stderr: '' });
    });

    it('hands a create to runc unchanged when there is no node, saying so in one line', () => {
      const r = withoutNode(['create', '--bundle', '/b', 'c1']);
      expect(r.stdout).toBe('runc create --bundle /b c1\n');
      expect(r.stderr).toMatch(/^cgprocfs-runc: no node on PATH: the container starts without cgprocfs/);
    });
  });

  it('runc run through the wrapper binds the live mount\'s files: free -m shows 256', async () => {
    const { path, id } = await bundle('free -m');
    const r = await runThrough(['--cgprocfs-mountpoint', fx.daemon.mountpoint], path, id);
    figure('runc run through cgprocfs-runc, 256 MiB: exit / free', `${r.code} / ${freeTotalMiB(r.stdout)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(freeTotalMiB(r.stdout)).toBe(256);
    expect(readFileSync(join(path, 'config.json'), 'utf8')).toContain(`"source":"${fx.daemon.mountpoint}/proc/meminfo"`);
  });

  it('a config.json with data after the object, which runc reads and we cannot: the container runs as plain runc would', async () => {
    const { path, id } = await bundle('free -m');
    const text = `${readFileSync(join(path, 'config.json'), 'utf8')}\n# a note after the spec\n`;
    writeFileSync(join(path, 'config.json'), text);
    const r = await runThrough(['--cgprocfs-mountpoint', fx.daemon.mountpoint], path, id);
    figure('runc run, config.json with data after the object: exit / free / stderr', `${r.code} / ${freeTotalMiB(r.stdout)} / ${r.stderr.trim()}`);
    expect(r.code).toBe(0);
    expect(freeTotalMiB(r.stdout)).toBe(freeTotalMiB(await runOk('free', ['-m'])));
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(FALLBACK_LINE)]);
    expect(readFileSync(join(path, 'config.json'), 'utf8')).toBe(text);
  });

  it('a read-only bundle: the container runs with the host\'s files and one line says why', async () => {
    const { path, id } = await bundle('free -m');
    await runOk('mount', ['--bind', '-o', 'ro', path, path]);
    try {
      const r = await runThrough(['--cgprocfs-mountpoint', fx.daemon.mountpoint], path, id);
      figure('runc run, read-only bundle: exit / stderr', `${r.code} / ${r.stderr.trim()}`);
      expect(r.code).toBe(0);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(FALLBACK_LINE)]);
      expect(r.stderr).toMatch(/EROFS/);
    } finally {
      await runOk('umount', [path]);
    }
  });

  it('CGPROCFS_REQUIRE=1 and a dead mount: refused with exit 1 and one line, runc never run', async () => {
    const { path, id } = await bundle('true');
    const r = await runThrough(['--cgprocfs-mountpoint', killed!.mountpoint], path, id, { ...process.env, CGPROCFS_REQUIRE: '1' });
    figure('runc run with CGPROCFS_REQUIRE=1, dead mount: exit / stderr', `${r.code} / ${r.stderr.trim()}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cgprocfs-runc: container \S+ refused \(CGPROCFS_REQUIRE=1\): .*Transport endpoint is not connected/);
    expect((await runOk('runc', ['--root', runcRoot(), 'list', '-q'])).trim()).toBe('');
  });
});
