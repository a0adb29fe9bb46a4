// The test images as `docker save` archives, for engines other than the shared one (a
// dockerd a test starts with its own configuration, a containerd of its own): saved once
// from the shared engine under the state directory, named by the image's tag (which
// carries its recipe's hash), and loaded from there.
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../e2e/harness/exec.js';
import { STATE_DIR } from './engine.js';

const ARCHIVES = join(STATE_DIR, 'archives');

/** The archive of `tag`, saved from the shared engine when missing. */
export async function imageArchive(tag: string): Promise<string> {
  const path = join(ARCHIVES, `${tag.replace(/[^A-Za-z0-9_.-]/g, '_')}.tar`);
  try {
    if (statSync(path).size > 0) return path;
  } catch {
    // not saved yet
  }
  mkdirSync(ARCHIVES, { recursive: true });
  // Saved beside it and renamed: a run that looks meanwhile never finds half an archive.
  const partial = `${path}.${process.pid}.partial`;
  try {
    await runOk('docker', ['save', '-o', partial, tag], { timeoutMs: 5 * 60_000 });
    renameSync(partial, path);
  } finally {
    rmSync(partial, { force: true });
  }
  return path;
}
