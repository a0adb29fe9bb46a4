// CPU and time files as text, parsed for the e2e suites: /proc/stat cpu lines, /proc/loadavg, /proc/uptime, top's %Cpu(s).

/** USER_HZ: /proc/stat counts in 1/100 s on every architecture Linux exports it for. */
export const TICKS_PER_SECOND = 100;

/** The `cpu`/`cpuN` lines of /proc/stat: label -> the ten counters (user nice system idle iowait ...). */
export function statCpuLines(text: string): Map<string, number[]> {
  const lines = new Map<string, number[]>();
  for (const line of text.split('\n').filter((l) => /^cpu\d*\s/.test(l))) {
    const [label = '', ...fields] = line.split(/\s+/);
    if (fields.length !== 10 || fields.some((f) => !/^\d+$/.test(f))) throw new Error(`malformed /proc/stat line: ${line}`);
    lines.set(label, fields.map(Number));
  }
  return lines;
}

/** user + system of the aggregate `cpu` line, in ticks. */
export function busyTicks(statText: string): number {
  const cpu = statCpuLines(statText).get('cpu');
  if (!cpu) throw new Error(`/proc/stat has no cpu line:\n${statText}`);
  return (cpu[0] ?? 0) + (cpu[2] ?? 0);
}

export interface Loadavg {
  readonly averages: readonly [number, number, number];
  readonly running: number;
  readonly total: number;
  readonly lastPid: number;
}

/** The kernel's `%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n`; throws on anything else. */
export function parseLoadavg(text: string): Loadavg {
  const m = /^(\d+\.\d\d) (\d+\.\d\d) (\d+\.\d\d) (\d+)\/(\d+) (\d+)\n$/.exec(text);
  if (!m) throw new Error(`malformed loadavg: ${JSON.stringify(text)}`);
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { averages: [n[0], n[1], n[2]], running: n[3], total: n[4], lastPid: n[5] };
}

/** /proc/uptime's two fields, `%lu.%02lu %lu.%02lu\n`: seconds up and idle seconds. */
export function parseUptime(text: string): { up: number; idle: number } {
  const m = /^(\d+\.\d\d) (\d+\.\d\d)\n$/.exec(text);
  if (!m) throw new Error(`malformed uptime: ${JSON.stringify(text)}`);
  return { up: Number(m[1]), idle: Number(m[2]) };
}

/**
 * The percentages of each `%Cpu(s):` line of `top -b` output, frame by frame, e.g.
 * `%Cpu(s):100.0 us,  0.0 sy,  0.0 ni,  0.0 id, ...` -> { us: 100, sy: 0, ni: 0, id: 0, ... }.
 */
export function topCpuFrames(output: string): Array<Record<string, number>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('%Cpu(s):'))
    .map((line) => {
      const frame: Record<string, number> = {};
      for (const [, value, key] of line.slice('%Cpu(s):'.length).matchAll(/(\d+(?:\.\d+)?)\s*([a-z]{2})\b/g)) {
        frame[key!] = Number(value);
      }
      if (frame['us'] === undefined || frame['sy'] === undefined || frame['id'] === undefined) {
        throw new Error(`unparsable top line: ${line}`);
      }
      return frame;
    });
}
