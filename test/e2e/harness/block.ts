// The whole disk a path lives on, as the I/O controller counts I/O (per disk, never per partition),
// and I/O on it that a test cgroup's controller counts.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TestCgroups } from './cgroups.js';
import { describeRun } from './exec.js';

export interface Disk {
  /** `MAJ:MIN`, as io.stat, blkio.* and /proc/diskstats name it. */
  readonly number: string;
  /** The device node, e.g. /dev/vda. */
  readonly node: string;
}

/** glibc's major()/minor() of a dev_t. */
function split(dev: number): [number, number] {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return [major, minor];
}

/** The disk under `path`, or undefined when its filesystem has no block device (tmpfs, overlay). */
export function diskUnder(path: string): Disk | undefined {
  const [major, minor] = split(statSync(path).dev);
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (major === 0 || !existsSync(sys)) return undefined;
  // A partition's sysfs directory sits inside its disk's.
  const diskDir = existsSync(join(sys, 'partition')) ? dirname(realpathSync(sys)) : realpathSync(sys);
  const number = readFileSync(join(diskDir, 'dev'), 'utf8').trim();
  const name = /^DEVNAME=(.*)$/m.exec(readFileSync(join(diskDir, 'uevent'), 'utf8'))?.[1] ?? basename(diskDir);
  return { number, node: join('/dev', name) };
}

/**
 * From cgroup `rel`, writes `mib` MiB to a file in `dir` and reads it back, both past the page cache,
 * so that each byte is I/O the cgroup's controller counts on the disk under `dir`, which it returns.
 * A throttle rule that never throttles is set first: cgroup v1 on kernels >= 6.10 counts only under one.
 */
export async function directIo(cgroups: TestCgroups, rel: string, dir: string, mib = 16): Promise<Disk> {
  const disk = diskUnder(dir);
  if (disk === undefined) throw new Error(`${dir} is on no block device: the I/O tests need one`);
  cgroups.setIoLimits(rel, disk.number, { rbps: 2 ** 40, wbps: 2 ** 40 });
  const file = join(dir, `direct-io-${process.pid}`);
  const count = mib * 16;
  const script = `dd if=/dev/zero of=${file} bs=64k count=${count} oflag=direct conv=fsync && dd if=${file} of=/dev/null bs=64k iflag=direct; s=$?; rm -f ${file}; exit $s`;
  const r = await cgroups.run(rel, 'sh', ['-c', script], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(describeRun([script], r));
  return disk;
}
