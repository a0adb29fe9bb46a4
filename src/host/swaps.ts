// Parser of the host's /proc/swaps: the kernel's header line (its tab layout
// changed over the years, so we copy it rather than spell it) and the device lines.
import { CgprocfsError } from '../errors.js';
import { lines } from './files.js';

export interface HostSwaps {
  /** `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority` on 6.x kernels. */
  readonly header: string;
  /** One line per active swap area, exactly as the kernel printed it. */
  readonly devices: readonly string[];
}

export function parseSwaps(text: string, source = 'swaps'): HostSwaps {
  const [header, ...devices] = lines(text);
  if (header === undefined || !header.startsWith('Filename')) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source} has no header line`);
  }
  return { header, devices };
}
