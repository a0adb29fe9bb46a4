// cgprocfs-runc as a runtime runs it: a process given runc's arguments, with a stand-in
// runc on PATH that reports what it was given. Every way of failing (no live mount, no
// or a broken config.json, a spec of the wrong shape, an unwritable bundle) must hand
// runc the bundle as it was, with one line saying why on stderr and in runc's --log;
// CGPROCFS_REQUIRE=1 refuses instead. Binding from a live mount is tested in test/e2e.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBundle } from '../../../src/oci/wrapper.js';
import { childModule } from '../../support/child-module.js';

const WRAPPER = fileURLToPath(childModule('src/bin/cgprocfs-runc.ts'));
const SPEC = JSON.stringify({ ociVersion: '1.0.2-dev', process: { args: ['true'], env: ['PATH=/bin'] }, mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }] });

let dir = '';
let noMount = '';
const at = (...parts: string[]) => join(dir, ...parts);

// The stand-in runc: its pid (the wrapper's, if exec'd), its arguments, and the config.json it would read.
const FAKE_RUNC = `#!/bin/sh
echo "pid=$$"
for a in "$@"; do echo "arg=$a"; done
prev=; for a in "$@"; do [ "$prev" = --bundle ] && echo "config=$(cat "$a/config.json" 2>/dev/null)"; prev=$a; done
exit "\${FAKE_RUNC_EXIT:-0}"
`;

interface Result {
  code: number | null;
  stderr: string;
  runcPid?: number;
  runcArgs?: string[];
  config?: string;
  wrapperPid: number;
}

function wrapper(args: readonly string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [WRAPPER, ...args], {
    encoding: 'utf8',
    env: { PATH: `${at('bin')}:/usr/bin:/bin`, ...env },
    timeout: 30_000,
  });
  const lines = r.stdout.split('\n');
  const pid = lines.find((l) => l.startsWith('pid='));
  return {
    code: r.status,
    stderr: r.stderr,
    wrapperPid: r.pid ?? -1,
    runcPid: pid ? Number(pid.slice(4)) : undefined,
    runcArgs: pid ? lines.filter((l) => l.startsWith('arg=')).map((l) => l.slice(4)) : undefined,
    config: lines.find((l) => l.startsWith('config='))?.slice(7),
  };
}

/** A fresh bundle with `config` as its config.json (null: none). */
function bundle(name: string, config: string | null = SPEC): string {
  const path = at('bundles', name);
  mkdirSync(path, { recursive: true });
  if (config !== null) writeFileSync(join(path, 'config.json'), config);
  return path;
}

const create = (bundlePath: string, extra: readonly string[] = []) => [
  ...extra, '--root', at('state'), '--log', join(bundlePath, 'log.json'), '--log-format', 'json', 'create', '--bundle', bundlePath, '--pid-file', join(bundlePath, 'pid'), 'ctr-1',
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cgprocfs-wrapper-'));
  mkdirSync(at('bin'));
  writeFileSync(at('bin', 'runc'), FAKE_RUNC);
  chmodSync(at('bin', 'runc'), 0o755);
  noMount = at('not-mounted');
  mkdirSync(noMount);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cgprocfs-runc hands every call to runc', () => {
  it('execs runc (same pid) with a start call\'s arguments unchanged and its own options removed', () => {
    const r = wrapper(['--cgprocfs-mountpoint', noMount, '--root', '/r', 'start', 'ctr-1']);
    expect(r.code).toBe(0);
    expect(r.runcPid).toBe(r.wrapperPid);
    expect(r.runcArgs).toEqual(['--root', '/r', 'start', 'ctr-1']);
    expect(r.stderr).toBe('');
  });

  it('passes runc\'s exit status on', () => {
    expect(wrapper(['delete', 'x'], { FAKE_RUNC_EXIT: '3' }).code).toBe(3);
  });

  it('runs the runc given with --runc, and with CGPROCFS_RUNC, over the one on PATH', () => {
    mkdirSync(at('other'), { recursive: true });
    writeFileSync(at('other', 'runc2'), `${FAKE_RUNC.replace('echo "pid=$$"', 'echo "pid=$$"; echo arg=runc2')}`);
    chmodSync(at('other', 'runc2'), 0o755);
    expect(wrapper(['--runc', at('other', 'runc2'), 'state', 'x']).runcArgs).toEqual(['runc2', 'state', 'x']);
    expect(wrapper(['state', 'x'], { CGPROCFS_RUNC: at('other', 'runc2') }).runcArgs).toEqual(['runc2', 'state', 'x']);
  });

  it('never execs itself: a runc on PATH that links to the wrapper is skipped', () => {
    mkdirSync(at('loop'), { recursive: true });
    symlinkSync(WRAPPER, at('loop', 'runc'));
    const r = spawnSync(process.execPath, [WRAPPER, 'state', 'x'], { encoding: 'utf8', env: { PATH: `${at('loop')}:${at('bin')}` }, timeout: 30_000 });
    expect(r.stdout).toContain('arg=state');
  });

  it('exits 127 with one line when there is no runc', () => {
    const r = spawnSync(process.execPath, [WRAPPER, 'state', 'x'], { encoding: 'utf8', env: { PATH: at('empty') }, timeout: 30_000 });
    expect(r.status).toBe(127);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cgprocfs-runc: no runc on PATH/)]);
  });

  it('says so, and still runs runc, when an option of its own has no value', () => {
    const r = wrapper(['--cgprocfs-mountpoint=', 'state', 'x']);
    expect(r.runcArgs).toEqual(['state', 'x']);
    expect(r.stderr).toMatch(/^cgprocfs-runc: --cgprocfs-mountpoint needs a value\n$/);
  });
});

describe('cgprocfs-runc create when cgprocfs cannot serve the container', () => {
  it.each([
    ['no live mount', SPEC, /not-mounted is not a live cgprocfs mount: no fuse\.cgprocfs is mounted there/],
    ['no config.json', null, /ENOENT/],
    ['a config.json that is not JSON', '{"ociVersion":', /expected/],
    ['a config.json with data after the object (runc reads only the object)', `${SPEC}\n#`, /unexpected data after the value/],
    ['a spec of the wrong shape', '{"mounts":{}}', /mounts is not a list of objects/],
  ])('%s: runc gets the bundle as it was, and one line says why on stderr and in runc\'s log', (name, config, why) => {
    const path = bundle(name.replace(/\W+/g, '-'), config);
    const r = wrapper(create(path, ['--cgprocfs-mountpoint', noMount]));
    expect(r.code).toBe(0);
    expect(r.runcPid).toBe(r.wrapperPid);
    expect(r.runcArgs).toEqual(create(path));
    if (config !== null) expect(r.config).toBe(config.split('\n')[0]);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^cgprocfs-runc: container ctr-1 starts without cgprocfs, with the host's \/proc files: /)]);
    expect(lines[0]).toMatch(why);
    const log = readFileSync(join(path, 'log.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toEqual([{ level: 'warning', msg: lines[0], time: expect.any(String) }]);
  });

  it('refuses with exit 1, never running runc, under CGPROCFS_REQUIRE=1', () => {
    const path = bundle('required');
    const r = wrapper(create(path, ['--cgprocfs-mountpoint', noMount]), { CGPROCFS_REQUIRE: '1' });
    expect(r.code).toBe(1);
    expect(r.runcPid).toBeUndefined();
    expect(r.stderr).toMatch(/^cgprocfs-runc: container ctr-1 refused \(CGPROCFS_REQUIRE=1\): .* is not a live cgprocfs mount/);
  });

  it('reads the mountpoint from CGPROCFS_MOUNTPOINT when no option gives it', () => {
    const r = wrapper(create(bundle('env-mountpoint')), { CGPROCFS_MOUNTPOINT: noMount });
    expect(r.stderr).toContain(`${noMount} is not a live cgprocfs mount`);
  });

  it('writes a text line to a --log without --log-format json', () => {
    const path = bundle('text-log');
    wrapper(['--cgprocfs-mountpoint', noMount, '--log', join(path, 'log'), 'run', '-b', path, 'x']);
    expect(readFileSync(join(path, 'log'), 'utf8')).toMatch(/^time="[^"]+" level=warning msg="cgprocfs-runc: container x starts without cgprocfs/);
  });
});

describe('which bundles are left alone before the mount is even looked at', () => {
  it.each([
    ['annotation io.cgprocfs.enable=false', { annotations: { 'io.cgprocfs.enable': 'false' } }, 'annotation io.cgprocfs.enable=false'],
    ['environment CGPROCFS_ENABLE=0', { process: { env: ['CGPROCFS_ENABLE=0'] } }, 'environment CGPROCFS_ENABLE=0'],
    ['an explicit bind over /proc/meminfo', { mounts: [{ destination: '/proc/meminfo', type: 'bind', source: '/x' }] }, 'it binds /proc/meminfo itself'],
  ])('%s: skipped, config.json untouched, no line', (name, spec, why) => {
    const text = JSON.stringify(spec);
    const path = bundle(`skip-${name.replace(/\W+/g, '-')}`, text);
    expect(prepareBundle({ bundle: path, mountpoint: noMount })).toEqual({ kind: 'skipped', why });
    const r = wrapper(create(path, ['--cgprocfs-mountpoint', noMount]), { CGPROCFS_REQUIRE: '1' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.config).toBe(text);
  });
});
