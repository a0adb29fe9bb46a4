// How `cgprocfs setup` changes a runtime's configuration file: it prints the change as
// lines taken out and put in, and only with --write writes it, keeping the old file as a
// dated backup beside it and replacing the file by a rename (nothing ever reads half of it).

import { chmodSync, copyFileSync, constants, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CgprocfsError, systemErrorCode } from '../../errors.js';

export interface FileChange {
  path: string;
  /** undefined: the file does not exist yet. */
  before: string | undefined;
  after: string;
  /** The mode of a new file (an existing one keeps its own). */
  mode?: number;
}

/** The file's text, or undefined when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return undefined;
    throw new CgprocfsError('RUNTIME_CONFIG', `cannot read ${path}: ${systemErrorCode(err) ?? err}`, { cause: err });
  }
}

/**
 * Files setup writes whole (a drop-in, a hook) start with `marker`; one that does not was
 * written by someone else and is never replaced.
 */
export function assertOwned(path: string, text: string | undefined, marker: string): void {
  if (text === undefined || text.startsWith(marker)) return;
  throw new CgprocfsError('RUNTIME_CONFIG', `${path} exists and was not written by cgprocfs setup; leaving it alone (choose another file, or remove it)`);
}

/** Lines of `before` and `after`, each marked ' ', '-' (taken out) or '+' (put in), by a longest common subsequence. */
export function lineDiff(before: string, after: string): string[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // common[i][j]: the longest common subsequence of a[i..] and b[j..] (files here are a few hundred lines).
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push(`  ${a[i++]}`);
      j++;
    } else if (i < a.length && (j === b.length || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      lines.push(`- ${a[i++]}`);
    } else {
      lines.push(`+ ${b[j++]}`);
    }
  }
  return lines;
}

/** The changed lines with `context` unchanged lines around each run of changes; '...' where lines are left out. */
export function changedHunks(diff: readonly string[], context = 2): string[] {
  const changed = diff.map((line) => !line.startsWith('  '));
  const keep = diff.map((_, i) => changed.slice(Math.max(0, i - context), i + context + 1).some(Boolean));
  const out: string[] = [];
  let skipped = false;
  diff.forEach((line, i) => {
    if (!keep[i]) {
      skipped = true;
      return;
    }
    if (skipped) out.push('  ...');
    skipped = false;
    out.push(line);
  });
  if (skipped) out.push('  ...');
  return out;
}

/** What `setup` prints about one file, without --write. */
export function describeChange(change: FileChange): string {
  if (change.before === change.after) return `${change.path} already has it: nothing to change\n`;
  const what = change.before === undefined ? `${change.path} would be created:` : `${change.path} would change:`;
  return `${what}\n${changedHunks(lineDiff(change.before ?? '', change.after)).join('\n')}\n`;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Writes the change; returns the backup of the old file, if there was one. */
export function applyChange(change: FileChange, now = new Date()): { backup?: string } {
  if (change.before === change.after) return {};
  const { path } = change;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    let backup: string | undefined;
    let mode = change.mode ?? 0o644;
    if (change.before !== undefined) {
      mode = statSync(path).mode & 0o7777;
      backup = `${path}.cgprocfs-backup-${timestamp(now)}`;
      copyFileSync(path, backup, constants.COPYFILE_EXCL);
    }
    const temporary = `${path}.cgprocfs-${process.pid}.tmp`;
    try {
      writeFileSync(temporary, change.after, { flag: 'wx', mode });
      chmodSync(temporary, mode);
      renameSync(temporary, path);
    } finally {
      rmSync(temporary, { force: true });
    }
    return backup ? { backup } : {};
  } catch (err) {
    if (err instanceof CgprocfsError) throw err;
    throw new CgprocfsError('RUNTIME_CONFIG', `cannot write ${path}: ${systemErrorCode(err) ?? err}`, { cause: err });
  }
}
