// The two clocks of a container's age: the host's /proc/uptime (fs/proc/uptime.c,
// `%lu.%02lu %lu.%02lu`) and a process's start time, field 22 of /proc/<pid>/stat
// (fs/proc/array.c, USER_HZ ticks since boot). Times here are centiseconds, which
// is also USER_HZ (100) ticks.
import { join } from 'node:path';
import { readOptionalText, readText, unparsable } from './files.js';
import { pidStatField } from './pid-files.js';

export interface HostUptime {
  /** Time since boot, cs. */
  readonly uptime: number;
  /** Idle time summed over the CPUs, cs. */
  readonly idle: number;
}

const UPTIME = /^(\d+)\.(\d{2}) (\d+)\.(\d{2})$/;
/** starttime, in proc(5)'s numbering of /proc/<pid>/stat. */
const STARTTIME_FIELD = 22;

export function parseUptime(text: string, source: string): HostUptime {
  const match = UPTIME.exec(text.trim());
  if (match === null) throw unparsable(source, text);
  const [, upSeconds, upHundredths, idleSeconds, idleHundredths] = match.map(Number) as number[];
  return { uptime: upSeconds! * 100 + upHundredths!, idle: idleSeconds! * 100 + idleHundredths! };
}

/** A process's start time since boot, USER_HZ ticks, from its /proc/<pid>/stat text. */
export function parseStartTime(text: string, source: string): number {
  const field = pidStatField(text, STARTTIME_FIELD);
  if (field === undefined || !/^\d+$/.test(field)) throw unparsable(source, text);
  return Number(field);
}

export function readHostUptime(procRoot: string): HostUptime {
  const path = join(procRoot, 'uptime');
  return parseUptime(readText(path), path);
}

/** Start time of `pid` in ticks since boot; undefined when it is gone. */
export function readStartTime(procRoot: string, pid: number): number | undefined {
  const path = join(procRoot, String(pid), 'stat');
  const text = readOptionalText(path);
  return text === undefined ? undefined : parseStartTime(text, path);
}

/** This boot's id (/proc/sys/kernel/random/boot_id); '' when the proc root has none. */
export function readBootId(procRoot: string): string {
  return readOptionalText(join(procRoot, 'sys', 'kernel', 'random', 'boot_id'))?.trim() ?? '';
}
