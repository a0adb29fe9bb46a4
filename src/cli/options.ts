// Options several commands share.

import type { Argv } from 'yargs';
import { DEFAULT_MOUNTPOINT } from '../daemon/config.js';
import { canonicalMountpoint } from '../fuse/mount.js';

export function mountpointOption<T>(y: Argv<T>) {
  // mountinfo names mounts by absolute, resolved paths: /x/ or a relative path must match.
  return y.option('mountpoint', {
    type: 'string',
    default: DEFAULT_MOUNTPOINT,
    describe: 'where the tree is mounted',
    coerce: (path: string) => canonicalMountpoint(path),
  });
}
