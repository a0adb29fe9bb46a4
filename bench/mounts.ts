// The mount table as the bench needs it: what is mounted at a path, and the last
// resorts for a FUSE mount whose server is stuck or gone (fusectl abort, lazy umount).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { runCommand } from './exec.js';

export interface Mount {
  mountPoint: string;
  /** major:minor; for FUSE the minor names the fusectl connection. */
  device: string;
  fsType: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function mountsAt(path: string): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pre = '', post = ''] = line.split(' - ');
      const fields = pre.split(' ');
      return { mountPoint: unescape(fields[4] ?? ''), device: fields[2] ?? '', fsType: post.split(' ')[0] ?? '' };
    })
    .filter((m) => m.mountPoint === path);
}

const FUSECTL = '/sys/fs/fuse/connections';

/** Aborts the FUSE connections at `path`: every request blocked on them fails at once. */
export function abortFuse(path: string): void {
  const fuse = mountsAt(path).filter((m) => m.fsType.startsWith('fuse'));
  if (fuse.length === 0) return;
  // An unmounted fusectl is a plain directory on sysfs: same device as its parent.
  const mountHere = existsSync(FUSECTL) && statSync(FUSECTL).dev === statSync('/sys/fs/fuse').dev;
  if (mountHere) runCommand('mount', ['-t', 'fusectl', 'none', FUSECTL]);
  try {
    for (const m of fuse) {
      const abort = `${FUSECTL}/${m.device.split(':')[1]}/abort`;
      if (existsSync(abort)) writeFileSync(abort, '1');
    }
  } finally {
    if (mountHere) runCommand('umount', [FUSECTL]);
  }
}

/** Detaches everything mounted at `path`; throws if something stays. */
export function detachAll(path: string): void {
  for (let i = 0; i < 8 && mountsAt(path).length > 0; i++) runCommand('umount', ['-l', path], 10_000);
  if (mountsAt(path).length > 0) throw new Error(`${path} is still mounted`);
}
