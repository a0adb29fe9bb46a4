// The runtime wrapper as the runtime tests use it: the built bin, the built CLI's `setup`,
// a launcher script that gives the wrapper a mountpoint (as Docker's runtimeArgs do, for
// engines that pass none: ctr's --runc-binary, podman's --runtime), and the line the
// wrapper prints when a container starts without cgprocfs.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../e2e/harness/exec.js';
import { DAEMON_BIN, REPO_ROOT } from '../e2e/harness/prerequisites.js';

export const WRAPPER_BIN = join(REPO_ROOT, 'dist/bin/cgprocfs-runc.js');

/** `line` of the wrapper: `cgprocfs-runc: container ID starts without cgprocfs, with the host's /proc files: WHY`. */
export const FALLBACK_LINE = /^cgprocfs-runc: container \S+ starts without cgprocfs, with the host's \/proc files: (.+)$/m;

/** The built CLI's `cgprocfs setup ...`; its output, or an error with it. */
export function setupOk(args: readonly string[]): Promise<string> {
  return runOk(process.execPath, [DAEMON_BIN, 'setup', ...args], { timeoutMs: 60_000 });
}

/** A script in `dir` that runs the wrapper on `mountpoint`, as an engine that passes no arguments would register it. */
export function launcher(dir: string, mountpoint: string): string {
  const path = join(dir, 'cgprocfs-runc-launcher');
  writeFileSync(path, `#!/bin/sh\nexec ${WRAPPER_BIN} --cgprocfs-mountpoint ${mountpoint} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
