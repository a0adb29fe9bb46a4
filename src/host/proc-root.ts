// Paths of the host-wide files under an injectable proc root ('/proc' in
// production, a fixture tree in tests): the one place their names are spelled.
import { join } from 'node:path';
import { parseDiskstats, type HostDiskstats } from './diskstats.js';
import { readText } from './files.js';
import { parseMeminfo, type MeminfoLine } from './meminfo.js';
import { parseSwaps, type HostSwaps } from './swaps.js';

export function readHostMeminfo(procRoot: string): MeminfoLine[] {
  const path = join(procRoot, 'meminfo');
  return parseMeminfo(readText(path), path);
}

export function readHostSwaps(procRoot: string): HostSwaps {
  const path = join(procRoot, 'swaps');
  return parseSwaps(readText(path), path);
}

/** /proc/diskstats parsed, and its text as the kernel wrote it (the root cgroup's view). */
export function readHostDiskstats(procRoot: string): HostDiskstats {
  const path = join(procRoot, 'diskstats');
  const text = readText(path);
  return { text, lines: parseDiskstats(text, path) };
}

/** /proc/pressure/<resource>; absent (SOURCE_UNREADABLE) when the kernel has no PSI. */
export function readHostPressure(procRoot: string, resource: string): string {
  return readText(join(procRoot, 'pressure', resource));
}
