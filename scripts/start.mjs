#!/usr/bin/env node
// `npm start`: builds when the sources are newer than dist/ (saying so), then becomes
// `cgprocfs serve` with the arguments after `--` (execve: the same process, so the
// SIGTERM npm forwards to its script reaches the daemon itself; package.json runs this
// with `exec`, so no shell stands between npm and the daemon).
import { spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(ROOT, 'dist/bin/cgprocfs.js');
const INPUTS = ['src', 'preload', 'scripts/build-preload.mjs', 'scripts/build-runc-wrapper.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

const say = (line) => process.stderr.write(`npm start: ${line}\n`);

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

function builtAt() {
  try {
    return statSync(CLI).mtimeMs;
  } catch {
    return 0;
  }
}

/** `npm run build`, ended with us if a signal ends us meanwhile. */
function build() {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    const forward = (signal) => child.kill(signal);
    for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, forward);
    child.once('exit', (code, signal) => {
      for (const name of ['SIGINT', 'SIGTERM']) process.off(name, forward);
      resolve(signal ? 128 + 15 : (code ?? 1));
    });
  });
}

const stale = builtAt() < Math.max(...INPUTS.map((input) => newestMtime(join(ROOT, input))));
if (stale) {
  say('building (tsc and the preload library; about 10 s)...');
  const code = await build();
  if (code !== 0) {
    say(`the build failed (exit ${code}); nothing started`);
    process.exit(code);
  }
} else {
  say('dist/ is newer than the sources: not rebuilding');
}

/** Whether `cgprocfs` on PATH is this checkout's. */
function onPath() {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'cgprocfs'), constants.X_OK);
      return realpathSync(join(dir, 'cgprocfs')) === realpathSync(CLI);
    } catch {
      return false;
    }
  });
}

const args = process.argv.slice(2);
say(`starting ${['cgprocfs serve', ...args].join(' ')} in the foreground: Ctrl-C or SIGTERM stops it and unmounts; its logs are the JSON lines below`);
if (!onPath()) say(`the README's other commands are "cgprocfs ...": sudo ln -sf ${CLI} /usr/local/bin/cgprocfs puts this one on PATH`);
const { execve } = await import('../dist/native/libc.js');
execve(process.execPath, [process.execPath, CLI, 'serve', ...args], process.env);
