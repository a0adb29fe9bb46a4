// `cgprocfs setup docker|podman|lxc` and how every setup changes a file: daemon.json merged
// key by key (numbers as written), drop-ins and the LXC hook written whole but never over
// a file of someone else's, a change printed without --write and made with it, the old
// file kept as a backup. The LXC hook's refusals run here; its binds run in test/e2e.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editDaemonJson } from '../../../../src/cli/setup/docker.js';
import { applyChange, changedHunks, describeChange, lineDiff } from '../../../../src/cli/setup/file-change.js';
import { lxcHook, lxcSnippet } from '../../../../src/cli/setup/lxc.js';
import { podmanDropIn } from '../../../../src/cli/setup/podman.js';
import { main } from '../../../../src/cli/main.js';
import { CgprocfsError } from '../../../../src/errors.js';
import { ALL_TARGETS } from '../../../../src/files/binds.js';

const WRAPPER = '/opt/cgprocfs/dist/bin/cgprocfs-runc.js';
const docker = (text: string | undefined, extra: Partial<Parameters<typeof editDaemonJson>[2]> = {}) =>
  editDaemonJson('/etc/docker/daemon.json', text, { runtimePath: WRAPPER, makeDefault: false, ...extra });

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cgprocfs-setup-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI with a stand-in runc (CGPROCFS_RUNC; null: none): the machine running unit tests may have no runc. */
async function cli(args: string[], runc: string | null = standInRunc()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const saved = process.env.CGPROCFS_RUNC;
  if (runc === null) delete process.env.CGPROCFS_RUNC;
  else process.env.CGPROCFS_RUNC = runc;
  try {
    const code = await main(args, { stdout: (t) => (stdout += t.toString()), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env.CGPROCFS_RUNC;
    else process.env.CGPROCFS_RUNC = saved;
  }
}

function standInRunc(): string {
  const path = join(dir, 'runc');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

function executable(): string {
  const path = join(dir, 'cgprocfs-runc.js');
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('setup docker: daemon.json', () => {
  it('creates the runtime in a new file', () => {
    expect(JSON.parse(docker(undefined))).toEqual({ runtimes: { cgprocfs: { path: WRAPPER } } });
  });

  it('keeps every other setting, other runtimes and numbers as written', () => {
    const before = '{"log-level":"warn","runtimes":{"nvidia":{"path":"nvidia-container-runtime"}},"default-ulimits":{"core":{"Name":"core","Hard":18446744073709551615,"Soft":0}}}';
    const after = docker(before, { makeDefault: true });
    expect(after).toContain('"Hard": 18446744073709551615');
    expect(JSON.parse(after)).toEqual({
      'log-level': 'warn',
      runtimes: { nvidia: { path: 'nvidia-container-runtime' }, cgprocfs: { path: WRAPPER } },
      'default-ulimits': { core: { Name: 'core', Hard: 18446744073709551615, Soft: 0 } },
      'default-runtime': 'cgprocfs',
    });
  });

  it('passes another mountpoint and the real runc as runtimeArgs, before runc\'s arguments', () => {
    expect(JSON.parse(docker('{}', { mountpoint: '/run/cg', runc: '/usr/bin/crun' })).runtimes.cgprocfs).toEqual({
      path: WRAPPER, runtimeArgs: ['--cgprocfs-mountpoint', '/run/cg', '--runc', '/usr/bin/crun'],
    });
  });

  it('leaves a file that already has it exactly as it is, its layout included', () => {
    const before = '{ "runtimes": { "cgprocfs": { "path": "/opt/cgprocfs/dist/bin/cgprocfs-runc.js" } }, "default-runtime": "cgprocfs" }';
    expect(docker(before, { makeDefault: true })).toBe(before);
    expect(docker(before)).toBe(before);
  });

  it('replaces its own runtime\'s old path', () => {
    expect(JSON.parse(docker('{"runtimes":{"cgprocfs":{"path":"/old","runtimeArgs":["x"]}}}')).runtimes.cgprocfs).toEqual({ path: WRAPPER });
  });

  it.each([
    ['not JSON', '{"log-level": "warn",}', /is not valid JSON/],
    ['not an object', '[]', /is not a JSON object/],
    ['runtimes that are not an object', '{"runtimes":[]}', /"runtimes" in .* is not an object/],
  ])('refuses a daemon.json that is %s, in one line, changing nothing', (_, text, message) => {
    const attempt = () => docker(text);
    expect(attempt).toThrow(CgprocfsError);
    expect(attempt).toThrow(message);
  });
});

describe('how a file is changed', () => {
  it('shows lines taken out and put in, with two lines of context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h'].join('\n');
    expect(changedHunks(lineDiff(before, after))).toEqual(['  ...', '  c', '  d', '- e', '+ E', '  f', '  g', '+ h']);
  });

  it('says when there is nothing to change', () => {
    expect(describeChange({ path: '/x', before: 'a\n', after: 'a\n' })).toBe('/x already has it: nothing to change\n');
  });

  it('writes by a rename, keeping the old file\'s mode and a dated backup', () => {
    const path = join(dir, 'daemon.json');
    writeFileSync(path, '{}\n', { mode: 0o600 });
    const { backup } = applyChange({ path, before: '{}\n', after: '{"a":1}\n' }, new Date('2026-01-02T03:04:05Z'));
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(backup).toBe(`${path}.cgprocfs-backup-20260102T030405Z`);
    expect(readFileSync(backup!, 'utf8')).toBe('{}\n');
    expect(readdirSync(dir).sort()).toEqual(['daemon.json', 'daemon.json.cgprocfs-backup-20260102T030405Z']);
  });

  it('creates a missing file and its directory with the mode asked for, and no backup', () => {
    const path = join(dir, 'a', 'b', 'hook');
    expect(applyChange({ path, before: undefined, after: '#!/bin/sh\n', mode: 0o755 })).toEqual({});
    expect(statSync(path).mode & 0o777).toBe(0o755);
  });
});

describe('setup podman and setup lxc: files of their own', () => {
  it('names the runtime in a drop-in, and makes it the default with --default', () => {
    expect(podmanDropIn(WRAPPER, false)).toMatch(/\n\[engine\.runtimes\]\ncgprocfs = \["\/opt\/cgprocfs\/dist\/bin\/cgprocfs-runc\.js"\]\n$/);
    expect(podmanDropIn(WRAPPER, false)).not.toContain('[engine]\n');
    expect(podmanDropIn(WRAPPER, true)).toContain('\n[engine]\nruntime = "cgprocfs"\n');
  });

  it('writes an LXC hook that binds every target, pressure/* included, and is valid sh', () => {
    const hook = lxcHook('/var/lib/cgprocfs', '0.1.0');
    expect(hook).toContain(`targets='${ALL_TARGETS.join(' ')}'`);
    expect(ALL_TARGETS).toContain('proc/pressure/memory');
    const path = join(dir, 'hook');
    writeFileSync(path, hook);
    expect(spawnSync('sh', ['-n', path]).status).toBe(0);
    expect(lxcSnippet('/usr/local/lib/cgprocfs/lxc-mount-hook')).toMatch(/\nlxc\.hook\.mount = \/usr\/local\/lib\/cgprocfs\/lxc-mount-hook\n$/);
  });

  it('refuses a mountpoint the hook could not find in mountinfo', () => {
    expect(() => lxcHook('/var/lib/cg procfs', '0.1.0')).toThrow(/characters/);
  });

  describe('the LXC hook when it cannot bind', () => {
    const run = (env: Record<string, string>) => {
      const hook = join(dir, 'hook');
      writeFileSync(hook, lxcHook(join(dir, 'not-mounted'), '0.1.0'));
      return spawnSync('sh', [hook, 't1', 'lxc', 'mount'], { encoding: 'utf8', env: { PATH: process.env.PATH, LXC_NAME: 't1', LXC_ROOTFS_MOUNT: dir, ...env } });
    };

    it('lets the container start (exit 0) with one line when nothing is mounted', () => {
      const r = run({});
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^cgprocfs lxc hook: t1: no fuse\.cgprocfs is mounted at .*not-mounted; the container starts with the host's \/proc files\n$/);
    });

    it('refuses the start (exit 1) under CGPROCFS_REQUIRE=1', () => {
      const r = run({ CGPROCFS_REQUIRE: '1' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/refusing to start \(CGPROCFS_REQUIRE=1\)\n$/);
    });

    it('leaves a container alone, silently, whose config sets lxc.environment = CGPROCFS_ENABLE=0', () => {
      const config = join(dir, 'config');
      writeFileSync(config, 'lxc.uts.name = t1\n  lxc.environment = CGPROCFS_ENABLE=0\n');
      const r = run({ LXC_CONFIG_FILE: config, CGPROCFS_REQUIRE: '1' });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    });
  });
});

describe('cgprocfs setup on the command line', () => {
  it('prints the change without --write and leaves the file alone', async () => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, '{"log-level":"warn"}\n');
    const r = await cli(['setup', 'docker', '--config-file', file, '--runtime-path', executable(), '--default']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${file} would change:\n- {"log-level":"warn"}\n+ {\n+   "log-level": "warn",`);
    expect(r.stdout).toContain('Run the command again with --write');
    expect(readFileSync(file, 'utf8')).toBe('{"log-level":"warn"}\n');
  });

  it('writes with --write, keeps a backup, and says to reload dockerd', async () => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, '{"log-level":"warn"}\n');
    const wrapper = executable();
    const r = await cli(['setup', 'docker', '--config-file', file, '--runtime-path', wrapper, '--default', '--write']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'log-level': 'warn', runtimes: { cgprocfs: { path: wrapper } }, 'default-runtime': 'cgprocfs' });
    expect(r.stdout).toMatch(/wrote .*daemon\.json \(the old one is kept as .*daemon\.json\.cgprocfs-backup-\d{8}T\d{6}Z\)\nNext: reload dockerd/);
    const again = await cli(['setup', 'docker', '--config-file', file, '--runtime-path', wrapper, '--default', '--write']);
    expect(again.stdout).toContain('already has it: nothing to change');
    expect(readdirSync(dir).filter((f) => f.includes('backup'))).toHaveLength(1);
  });

  it('exits 1 with one line for a daemon.json it cannot merge, writing nothing', async () => {
    const file = join(dir, 'daemon.json');
    writeFileSync(file, '{oops');
    const r = await cli(['setup', 'docker', '--config-file', file, '--runtime-path', executable(), '--write']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/is not valid JSON/)]);
    expect(readFileSync(file, 'utf8')).toBe('{oops');
  });

  it('exits 2 when the wrapper it would register is not an executable file', async () => {
    const r = await cli(['setup', 'podman', '--config-file', join(dir, 'x.conf'), '--runtime-path', join(dir, 'missing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not an executable file/);
  });

  it('refuses to register the wrapper where it would find no runc, which would stop every container', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'empty');
    try {
      const r = await cli(['setup', 'podman', '--config-file', join(dir, 'x.conf'), '--runtime-path', executable(), '--write'], null);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the wrapper would find no runc to run .*; install runc first/);
      expect(existsSync(join(dir, 'x.conf'))).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });

  it('never replaces a drop-in it did not write', async () => {
    const file = join(dir, 'other.conf');
    writeFileSync(file, '[engine]\nruntime = "crun"\n');
    const r = await cli(['setup', 'podman', '--config-file', file, '--runtime-path', executable(), '--write']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/was not written by cgprocfs setup; leaving it alone/);
    expect(readFileSync(file, 'utf8')).toBe('[engine]\nruntime = "crun"\n');
  });

  it('writes the LXC hook executable and the snippet that names it', async () => {
    const hook = join(dir, 'lib', 'lxc-mount-hook');
    const snippet = join(dir, 'common.conf.d', '50-cgprocfs.conf');
    const r = await cli(['setup', 'lxc', '--hook-file', hook, '--config-file', snippet, '--write']);
    expect(r.code).toBe(0);
    expect(statSync(hook).mode & 0o777).toBe(0o755);
    expect(readFileSync(snippet, 'utf8')).toContain(`lxc.hook.mount = ${hook}\n`);
    expect(existsSync(`${snippet}.cgprocfs-backup`)).toBe(false);
  });

  it('asks for a runtime', async () => {
    const r = await cli(['setup']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/name a runtime: docker, containerd, podman or lxc/);
  });
});
