// The shell pass-through at the head of cgprocfs-runc (src/oci/pass-through.sh) against the
// Node wrapper, on one table: whenever the shell execs runc itself, Node would have exec'd
// the same runc with the same arguments; create and run, and whatever is not plain, go to
// Node; without node on PATH nothing stops a container.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childModule } from '../../support/child-module.js';

const SHELL = resolve(import.meta.dirname, '..', '..', '..', 'src', 'oci', 'pass-through.sh');
const WRAPPER = fileURLToPath(childModule('src/bin/cgprocfs-runc.ts'));

let dir = '';
const at = (...parts: string[]) => join(dir, ...parts);

function script(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cgprocfs-pass-through-'));
  for (const name of ['runc', 'runc2']) script(at('bin', name), `#!/bin/sh\necho "${name} $*"\n`);
  script(at('node-bin', 'node'), '#!/bin/sh\necho "node $*"\n');
  // The shell part as an executable file of its own, so that a runc on PATH can lead back to it.
  script(at('wrapper', 'cgprocfs-runc'), readFileSync(SHELL, 'utf8'));
  mkdirSync(at('self'));
  symlinkSync(at('wrapper', 'cgprocfs-runc'), at('self', 'runc'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The shell part alone, as `sh` runs it at the head of the bin ($0 is the file). */
function viaShell(args: readonly string[], path: string, env: Record<string, string> = {}): Outcome {
  const r = spawnSync('/bin/sh', [at('wrapper', 'cgprocfs-runc'), ...args], { encoding: 'utf8', env: { PATH: path, ...env }, timeout: 10_000 });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** The Node wrapper alone. */
function viaNode(args: readonly string[], path: string, env: Record<string, string> = {}): Outcome {
  const r = spawnSync(process.execPath, [WRAPPER, ...args], { encoding: 'utf8', env: { PATH: path, ...env }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

const DOCKER = ['--root', '/run/docker/runtime-runc/moby', '--log', '/x/log.json', '--log-format', 'json'];

describe('the shell pass-through and the Node wrapper agree', () => {
  // [case, argv, env, what runc gets from the shell]
  it.each<[string, string[], Record<string, string>, string]>([
    ['start', ['start', 'c1'], {}, 'runc start c1'],
    ['Docker\'s delete --force', [...DOCKER, 'delete', '--force', 'c1'], {}, `runc ${DOCKER.join(' ')} delete --force c1`],
    ['runtimeArgs --cgprocfs-mountpoint DIR', ['--cgprocfs-mountpoint', '/m', ...DOCKER, 'state', 'c1'], {}, `runc ${DOCKER.join(' ')} state c1`],
    ['--runc NAME', ['--runc', 'runc2', 'kill', 'c1', 'KILL'], {}, 'runc2 kill c1 KILL'],
    ['--runc=PATH then --cgprocfs-mountpoint=DIR', ['--runc=RUNC2', '--cgprocfs-mountpoint=/m', 'start', 'c1'], {}, 'runc2 start c1'],
    ['CGPROCFS_RUNC', ['delete', 'c1'], { CGPROCFS_RUNC: 'runc2' }, 'runc2 delete c1'],
    ['--runc over CGPROCFS_RUNC', ['--runc', 'runc', 'delete', 'c1'], { CGPROCFS_RUNC: 'runc2' }, 'runc delete c1'],
    ['--version', ['--version'], {}, 'runc --version'],
    ['an option of ours after runc\'s', ['start', '--runc', 'x'], {}, 'runc start --runc x'],
  ])('%s: the shell execs runc as Node would', (_, argv, env, expected) => {
    const args = argv.map((a) => a.replace('RUNC2', at('bin', 'runc2')));
    const path = `${at('bin')}:${at('node-bin')}`;
    const shell = viaShell(args, path, env);
    expect(shell).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(viaNode(args, at('bin'), env)).toEqual(shell);
  });

  // PATH as directories of the test's own, which exists only once the tests run.
  it.each<[string, string[], string[]]>([
    ['create', [...DOCKER, 'create', '--bundle', '/b', 'c1'], ['bin', 'node-bin']],
    ['run', ['run', '-b', '/b', 'c1'], ['bin', 'node-bin']],
    ['a container named "create" (Node tells it from the subcommand)', ['delete', 'create'], ['bin', 'node-bin']],
    ['an option of ours without a value', ['--cgprocfs-mountpoint'], ['bin', 'node-bin']],
    ['an empty --runc=', ['--runc=', 'start', 'c1'], ['bin', 'node-bin']],
    ['no runc on PATH', ['start', 'c1'], ['node-bin']],
    ['a runc on PATH that is this very file', ['start', 'c1'], ['self', 'bin', 'node-bin']],
  ])('%s: the shell hands the unchanged arguments to Node', (_, argv, dirs) => {
    const path = dirs.map((d) => at(d)).join(':');
    expect(viaShell(argv, path)).toEqual({ code: 0, stdout: `node ${at('wrapper', 'cgprocfs-runc')} ${argv.join(' ')}`, stderr: '' });
  });
});

describe('the shell pass-through without node on PATH', () => {
  it('hands create to runc unchanged, with one line saying the container gets the host\'s /proc', () => {
    const r = viaShell(['--cgprocfs-mountpoint', '/m', 'create', '--bundle', '/b', 'c1'], at('bin'));
    expect(r).toEqual({ code: 0, stdout: 'runc create --bundle /b c1', stderr: expect.stringMatching(/^cgprocfs-runc: no node on PATH: the container starts without cgprocfs/) });
  });

  it('exits 127 with one line when there is no runc either', () => {
    const r = viaShell(['start', 'c1'], at('empty'));
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^cgprocfs-runc: found no runc to run/);
  });
});
