// Which runc cgprocfs-runc execs: --runc among the runtime's options, else CGPROCFS_RUNC,
// else `runc` on PATH, and never cgprocfs-runc itself (a PATH entry or symlink named runc
// that leads back here would exec us forever). A bare name is looked up on PATH.

import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export class RuncNotFoundError extends Error {
  override name = 'RuncNotFoundError';
}

export interface RuncLookup {
  /** --runc, then CGPROCFS_RUNC. */
  requested: string | undefined;
  path: string | undefined;
  /** The wrapper's own file, resolved. */
  self: string;
  /** Resolves symlinks; undefined when the file is missing or not executable. */
  executable?: (file: string) => string | undefined;
}

function realExecutable(file: string): string | undefined {
  try {
    accessSync(file, constants.X_OK);
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

/** The absolute path of the runc to exec. Throws RuncNotFoundError with a sentence saying why. */
export function resolveRunc({ requested, path, self, executable = realExecutable }: RuncLookup): string {
  const name = requested ?? 'runc';
  const isSelf = (file: string) => executable(file) === self;
  if (name.includes('/')) {
    const file = isAbsolute(name) ? name : resolve(name);
    if (executable(file) === undefined) throw new RuncNotFoundError(`${name} is not an executable file`);
    if (isSelf(file)) throw new RuncNotFoundError(`${name} is cgprocfs-runc itself; give the real runc with --runc or CGPROCFS_RUNC`);
    return file;
  }
  const candidates = (path ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, name));
  const found = candidates.find((file) => executable(file) !== undefined && !isSelf(file));
  if (found === undefined) {
    throw new RuncNotFoundError(`no ${name} on PATH other than cgprocfs-runc itself (PATH=${path ?? ''}); give it with --runc or CGPROCFS_RUNC`);
  }
  return isAbsolute(found) ? found : resolve(found);
}
