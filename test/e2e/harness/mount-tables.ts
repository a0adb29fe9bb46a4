// A container's mount table before and after a heal (issue 16): the binds of the
// healed mountpoint must all be live afterwards, at the same paths with the same tree
// paths, and nothing else in the table may have changed (ids, devices, options).
import { readFileSync } from 'node:fs';
import { FSTYPE, mountSource, parseMountinfo, type MountEntry } from '../../../src/fuse/mount.js';

/**
 * The mounts of the namespace `pid` is in, as it sees them, with each mount's own options
 * only: a superblock's options are shared by every mount of it in every namespace and
 * change under anyone's remount (systemd in a VM-like container remounts the host's
 * cgroup2 with or without nsdelegate), which no heal can cause.
 */
export function mountTableOf(pid: number): MountEntry[] {
  const text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  const ownOptions = new Map(text.split('\n').map((line) => line.split(' ')).map((f) => [Number(f[0]), f[5] ?? '']));
  return parseMountinfo(text).map((m) => ({ ...m, options: ownOptions.get(m.id) ?? m.options }));
}

const bindOf = (mountpoint: string) => (m: MountEntry) => m.fstype === FSTYPE && m.source === mountSource(mountpoint);
const sorted = (lines: string[]) => [...lines].sort();

/**
 * What differs from a heal that replaced exactly the binds of `mountpoint` by binds of
 * the connection `liveDevice`; empty when that is all that happened. `compared` limits
 * both tables to the mounts a test can vouch for (see underPaths).
 */
export function healDifferences(
  before: readonly MountEntry[],
  after: readonly MountEntry[],
  mountpoint: string,
  liveDevice: string,
  compared: (m: MountEntry) => boolean = () => true,
): string[] {
  [before, after] = [before.filter(compared), after.filter(compared)];
  const ours = bindOf(mountpoint);
  const problems: string[] = [];
  const others = (table: readonly MountEntry[]) => sorted(table.filter((m) => !ours(m)).map((m) => JSON.stringify(m)));
  const [othersBefore, othersAfter] = [others(before), others(after)];
  for (const line of othersBefore.filter((l) => !othersAfter.includes(l))) problems.push(`gone or changed: ${line}`);
  for (const line of othersAfter.filter((l) => !othersBefore.includes(l))) problems.push(`new: ${line}`);
  const places = (table: readonly MountEntry[]) => sorted(table.filter(ours).map((m) => `${m.mountpoint} <- ${m.root}`));
  if (JSON.stringify(places(before)) !== JSON.stringify(places(after))) {
    problems.push(`binds moved: before ${JSON.stringify(places(before))}, after ${JSON.stringify(places(after))}`);
  }
  for (const m of after.filter(ours)) if (m.device !== liveDevice) problems.push(`not live: ${m.mountpoint} (${m.device}, live ${liveDevice})`);
  return problems;
}

/**
 * Mounts at or below `paths`. An `unshare` container holds a copy of the host's whole
 * table, and the kernel detaches a copy whose mountpoint the host removes (rmdir of
 * another test's mountpoint, a Docker container's overlay): on a shared machine only the
 * part a test owns stays put.
 */
export function underPaths(...paths: string[]): (m: MountEntry) => boolean {
  return (m) => paths.some((path) => m.mountpoint === path || m.mountpoint.startsWith(`${path}/`));
}
