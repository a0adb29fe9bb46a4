// Paths of the host-wide files under an injectable proc root ('/proc' in
// production, a fixture tree in tests): the one place their names are spelled.
import { join } from 'node:path';
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
