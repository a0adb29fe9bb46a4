// What the bench needs from the system: Debian's lxcfs and libfuse3-dev/pkg-config/cc
// (installed with apt-get when missing), and its two C programs, compiled with cc
// into dist-bench/bin when their source is newer than the binary.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './exec.js';

function has(cmd: string, args: string[] = ['--version']): boolean {
  return runCommand(cmd, args, 10_000).code === 0;
}

/** apt-get install, with one `apt-get update` when the first try fails; the error text or undefined. */
function aptInstall(packages: string[], log: (line: string) => void): string | undefined {
  log(`installing ${packages.join(' ')} with apt-get...`);
  const env = ['-y', '-qq', '--no-install-recommends', 'install', ...packages];
  process.env.DEBIAN_FRONTEND = 'noninteractive';
  if (runCommand('apt-get', env, 600_000).code === 0) return undefined;
  runCommand('apt-get', ['update', '-qq'], 600_000);
  const second = runCommand('apt-get', env, 600_000);
  return second.code === 0 ? undefined : second.stderr.trim().split('\n').slice(-2).join(' ');
}

export interface Toolchain {
  /** Why lxcfs cannot be compared, when it cannot. */
  lxcfsMissing?: string;
  lxcfsVersion?: string;
  /** Why the floor cannot be built, when it cannot. */
  fuseDevMissing?: string;
}

export function ensurePackages(wantLxcfs: boolean, wantFloor: boolean, log: (line: string) => void): Toolchain {
  const result: Toolchain = {};
  const missing: string[] = [];
  if (wantLxcfs && !has('lxcfs')) missing.push('lxcfs');
  if (!has('cc')) missing.push('gcc', 'libc6-dev');
  if (wantFloor && !has('pkg-config', ['--exists', 'fuse3'])) missing.push('libfuse3-dev', 'pkg-config');
  const failure = missing.length > 0 ? aptInstall(missing, log) : undefined;
  if (wantLxcfs && !has('lxcfs')) result.lxcfsMissing = `lxcfs is not installed (${failure ?? 'apt-get did not provide it'})`;
  if (wantFloor && !has('pkg-config', ['--exists', 'fuse3'])) result.fuseDevMissing = `libfuse3-dev is missing (${failure ?? 'unknown'})`;
  if (!has('cc')) throw new Error(`no C compiler (${failure ?? 'unknown'})`);
  if (wantLxcfs && !result.lxcfsMissing) {
    const v = runCommand('lxcfs', ['--version']);
    result.lxcfsVersion = (v.stdout || v.stderr).trim().replace(/"/g, '');
  }
  return result;
}

function stale(binary: string, source: string): boolean {
  return !existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs;
}

/** Compiles bench/c/<name>.c to <binDir>/cgbench-<name>; returns the binary. */
export function buildC(repo: string, binDir: string, name: 'reader' | 'floor'): string {
  const source = join(repo, 'bench', 'c', `${name}.c`);
  const binary = join(binDir, `cgbench-${name}`);
  mkdirSync(binDir, { recursive: true });
  if (!stale(binary, source)) return binary;
  const fuse = name === 'floor' ? runCommand('pkg-config', ['--cflags', '--libs', 'fuse3']).stdout.trim().split(/\s+/) : [];
  const r = runCommand('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, source, ...fuse]);
  if (r.code !== 0) throw new Error(`cc ${source} failed:\n${r.stderr}`);
  return binary;
}
