// What the container tests read back from real tools, parsed, and the figures they print
// (so a run's log states each check's number, as issue 7's closing note asks).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Inside every container that needs it: the host's node (same Debian release, same glibc). */
export const NODE_IN_CONTAINER = '/usr/local/bin/node';
export const SCRIPTS_IN_CONTAINER = '/cgprocfs-test';
const SCRIPTS_ON_HOST = fileURLToPath(new URL('./scripts', import.meta.url));

export const NODE_BIND = ['--mount', `type=bind,src=${process.execPath},dst=${NODE_IN_CONTAINER},readonly`];
export const SCRIPTS_BIND = ['--mount', `type=bind,src=${SCRIPTS_ON_HOST},dst=${SCRIPTS_IN_CONTAINER},readonly`];

export function figure(check: string, value: unknown): void {
  console.info(`[figure] ${check}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

/** The "total" column of `free -m`'s Mem: line. */
export function freeTotalMiB(freeOutput: string): number {
  const total = /^Mem:\s+(\d+)\s/m.exec(freeOutput)?.[1];
  if (total === undefined) throw new Error(`no Mem: line in free's output:\n${freeOutput}`);
  return Number(total);
}

/** The `processor : N` ids of a cpuinfo. */
export function cpuinfoIds(cpuinfo: string): number[] {
  return [...cpuinfo.matchAll(/^processor\s*:\s*(\d+)$/gm)].map((m) => Number(m[1]));
}

/** The N of the `cpuN` lines of a /proc/stat. */
export function statCpuIds(stat: string): number[] {
  return [...stat.matchAll(/^cpu(\d+) /gm)].map((m) => Number(m[1]));
}

/** USER_HZ: /proc/<pid>/stat's start time counts in 1/100 s. */
const TICKS_PER_SECOND = 100;

/**
 * How long ago the kernel started process `pid` (a container's init: the age its uptime must
 * show), from the host's /proc/<pid>/stat start time and /proc/uptime, in seconds.
 */
export function processAgeSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis start at field 3 (state); start time is field 22.
  const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  return uptimeSeconds(readFileSync('/proc/uptime', 'utf8')) - startTicks / TICKS_PER_SECOND;
}

/** The first field of /proc/uptime, in seconds. */
export function uptimeSeconds(uptime: string): number {
  const value = /^(\d+\.\d+) \d+\.\d+$/m.exec(uptime)?.[1];
  if (value === undefined) throw new Error(`not an uptime file: ${JSON.stringify(uptime)}`);
  return Number(value);
}

export interface Loadavg {
  averages: [string, string, string];
  running: number;
  total: number;
  lastPid: number;
}

export function parseLoadavg(text: string): Loadavg {
  const m = /^(\d+\.\d\d) (\d+\.\d\d) (\d+\.\d\d) (\d+)\/(\d+) (\d+)$/m.exec(text);
  if (!m) throw new Error(`not a loadavg file: ${JSON.stringify(text)}`);
  return { averages: [m[1]!, m[2]!, m[3]!], running: Number(m[4]), total: Number(m[5]), lastPid: Number(m[6]) };
}

/** `load average: 0.00, 0.01, 0.05` of uptime(1) or top's first line. */
export function shownLoad(line: string): string[] {
  const m = /load average: (\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d)/.exec(line);
  if (!m) throw new Error(`no load average in ${JSON.stringify(line)}`);
  return [m[1]!, m[2]!, m[3]!];
}

export interface CpuShares {
  us: number;
  sy: number;
  id: number;
}

/** The last `%Cpu(s):` line of `top -b` output: the second frame's, measured over the delay. */
export function lastTopCpuLine(topOutput: string): CpuShares {
  const lines = topOutput.split('\n').filter((l) => l.startsWith('%Cpu(s):'));
  const last = lines.at(-1);
  const field = (name: string) => {
    const value = last && new RegExp(`(\\d+(?:\\.\\d+)?)\\s*${name}`).exec(last)?.[1];
    if (!value) throw new Error(`no "${name}" in top's last %Cpu(s) line:\n${topOutput}`);
    return Number(value);
  };
  if (lines.length < 2) throw new Error(`top printed ${lines.length} %Cpu(s) lines, want 2 frames:\n${topOutput}`);
  return { us: field('us'), sy: field('sy'), id: field('id') };
}

/** The bound directories, and the files of each a container reads: the CPU lists, the node lists (issue 21). */
const DIRECTORY_FILES: Readonly<Record<string, readonly string[]>> = {
  '/sys/devices/system/cpu': ['online', 'possible', 'present', 'offline'],
  '/sys/devices/system/node': ['online', 'possible', 'has_cpu'],
};

/**
 * The files a container reads through the `docker-flags` binds: each bound file, and
 * for a bound directory its lists.
 */
export function boundTargets(flags: readonly string[]): string[] {
  return flags.flatMap((word) => {
    const dst = /(?:^|,)dst=([^,]+)/.exec(word)?.[1];
    if (dst === undefined) return [];
    return DIRECTORY_FILES[dst]?.map((file) => `${dst}/${file}`) ?? [dst];
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
