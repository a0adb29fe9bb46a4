// The cgroup v1 blkio driver: answers in io.stat's vocabulary from blk-throttle's
// counters (the CFQ-era blkio.io_* files lxcfs reads are gone since 5.0). On v1
// they count every bio whatever the limits, but since 6.10 only on disks where
// throttling was ever configured (blk_should_throtl returns before counting until
// blk_throtl_activated). Kernel layout (block/blk-cgroup-rwstat.c
// __blkg_prfill_rwstat): per device `MAJ:MIN Read N`, `Write`, `Sync`, `Async`,
// `Discard` (newer kernels), `MAJ:MIN Total N`; the file ends with a device-less
// `Total N`. Kernels without the *_recursive files get the subtree summed by hand.
import { join } from 'node:path';
import { CgprocfsError } from '../errors.js';
import { lines, subdirectoryNames } from '../host/files.js';
import type { DeviceIo, IoDriver, IoReading } from './io.js';
import { CgroupDir } from './memory.js';

const SERVICED = 'blkio.throttle.io_serviced';
const SERVICE_BYTES = 'blkio.throttle.io_service_bytes';
const RECURSIVE = '_recursive';

/** The operations we keep; Sync/Async split the same I/O again and Total sums it. */
type Operation = 'Read' | 'Write' | 'Discard';
const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['Read', 'Write', 'Discard']);
export type RwStat = Map<string, Partial<Record<Operation, bigint>>>;

const DEVICE = /^\d+:\d+$/;
const INTEGER = /^\d+$/;
const FILE_TOTAL = 'Total';

/** A blkg_rwstat file as device -> operation -> count. */
export function parseRwStat(text: string, source: string): RwStat {
  const stat: RwStat = new Map();
  for (const line of lines(text)) {
    const [device = '', operation = '', value = '', extra] = line.split(' ');
    if (device === FILE_TOTAL && INTEGER.test(operation) && value === '') continue;
    if (!DEVICE.test(device) || !INTEGER.test(value) || extra !== undefined) {
      throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: cannot parse ${JSON.stringify(line)}`);
    }
    const counts = stat.get(device) ?? {};
    if (OPERATIONS.has(operation)) counts[operation as Operation] = BigInt(value);
    stat.set(device, counts);
  }
  return stat;
}

function toDeviceIo(ios: RwStat, bytes: RwStat): Map<string, DeviceIo> {
  const reading = new Map<string, DeviceIo>();
  for (const device of new Set([...ios.keys(), ...bytes.keys()])) {
    const op = ios.get(device) ?? {};
    const size = bytes.get(device) ?? {};
    reading.set(device, {
      rbytes: size.Read ?? 0n,
      wbytes: size.Write ?? 0n,
      rios: op.Read ?? 0n,
      wios: op.Write ?? 0n,
      dbytes: size.Discard ?? 0n,
      dios: op.Discard ?? 0n,
    });
  }
  return reading;
}

function sum(a: DeviceIo, b: DeviceIo): DeviceIo {
  return {
    rbytes: a.rbytes + b.rbytes,
    wbytes: a.wbytes + b.wbytes,
    rios: a.rios + b.rios,
    wios: a.wios + b.wios,
    dbytes: a.dbytes + b.dbytes,
    dios: a.dios + b.dios,
  };
}

function addInto(total: Map<string, DeviceIo>, part: IoReading): void {
  for (const [device, io] of part) {
    const sofar = total.get(device);
    total.set(device, sofar === undefined ? io : sum(sofar, io));
  }
}

/** Both counter files of one cgroup, or undefined when either is missing (or the cgroup went away). */
function readPair(dir: CgroupDir, suffix: string): IoReading | undefined {
  const ios = dir.optional(SERVICED + suffix);
  const bytes = dir.optional(SERVICE_BYTES + suffix);
  if (ios === undefined || bytes === undefined) return undefined;
  return toDeviceIo(parseRwStat(ios, dir.file(SERVICED + suffix)), parseRwStat(bytes, dir.file(SERVICE_BYTES + suffix)));
}

/** The cgroup and its descendants, as paths relative to the mount. */
function subtree(mount: string, path: string): string[] {
  const found: string[] = [];
  const pending = [path];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    found.push(current);
    for (const name of subdirectoryNames(join(mount, current))) pending.push(join(current, name));
  }
  return found;
}

/** Older kernels (no *_recursive files): the per-cgroup files summed over the subtree. */
function readSubtreeSum(mount: string, path: string): IoReading {
  const total = new Map<string, DeviceIo>();
  for (const level of subtree(mount, path)) {
    const part = readPair(new CgroupDir(mount, level), '');
    if (part !== undefined) addInto(total, part);
  }
  return total;
}

export const readIoV1: IoDriver = (mount, path) => {
  const dir = new CgroupDir(mount, path);
  const recursive = readPair(dir, RECURSIVE);
  if (recursive !== undefined) return recursive;
  dir.mustExist();
  // No throttle files at all (CONFIG_BLK_DEV_THROTTLING off): no I/O accounting to show.
  if (dir.optional(SERVICED) === undefined) return new Map();
  return readSubtreeSum(mount, path);
};
