// The cgroup v2 io driver: io.stat is already the reader's vocabulary and already
// recursive (rstat folds descendants in). Kernel layout (block/blk-cgroup.c
// blkcg_print_one_stat): `MAJ:MIN ` then, when the device saw any I/O,
// `rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=..`, then optional policy
// keys (iolatency `depth=`, debug `use_delay=`...) that we ignore.
import { lines, unparsable } from '../host/files.js';
import type { DeviceIo, IoDriver, IoReading } from './io.js';
import { CgroupDir } from './memory.js';

const STAT_FILE = 'io.stat';
const DEVICE = /^\d+:\d+$/;
const INTEGER = /^\d+$/;
/** dbytes/dios appeared in 5.x; older kernels print the first four only. */
const KEYS = ['rbytes', 'wbytes', 'rios', 'wios', 'dbytes', 'dios'] as const;

function parseLine(line: string, source: string): [string, DeviceIo] {
  const [device = '', ...pairs] = line.trim().split(/\s+/);
  if (!DEVICE.test(device)) throw unparsable(source, line);
  const found = new Map(pairs.map((pair) => pair.split('=', 2) as [string, string | undefined]));
  const value = (key: (typeof KEYS)[number]): bigint => {
    const text = found.get(key);
    if (text === undefined) return 0n;
    if (!INTEGER.test(text)) throw unparsable(source, line);
    return BigInt(text);
  };
  const io: DeviceIo = {
    rbytes: value('rbytes'),
    wbytes: value('wbytes'),
    rios: value('rios'),
    wios: value('wios'),
    dbytes: value('dbytes'),
    dios: value('dios'),
  };
  return [device, io];
}

export function parseIoStat(text: string, source: string): IoReading {
  return new Map(lines(text).map((line) => parseLine(line, source)));
}

/**
 * A cgroup whose parent does not enable the io controller has no io.stat: its I/O
 * is charged to an ancestor shared with other cgroups, so it has nothing of its own.
 */
export const readIoV2: IoDriver = (mount, path) => {
  const dir = new CgroupDir(mount, path);
  const text = dir.optional(STAT_FILE);
  if (text === undefined) {
    dir.mustExist();
    return new Map();
  }
  return parseIoStat(text, dir.file(STAT_FILE));
};
