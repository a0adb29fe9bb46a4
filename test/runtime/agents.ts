// Issue 9's monitoring agents, measured: what scripts/agents-collect.sh prints in a
// container, parsed; each metric of the table with where its value comes from
// (which decides what cgprocfs can promise for it), the container's truth, the host's
// value, and the table the closing note quotes.
import { readFileSync } from 'node:fs';

export const MiB = 1024 * 1024;

/** How a container is run, and which script part it runs. */
export interface Mode {
  readonly id: 'plain' | 'cgprocfs' | 'preload' | 'btime' | 'btime-preload';
  readonly title: string;
  /** false: no cgprocfs flags at all (the control: what the agents see today). */
  readonly cgprocfs: boolean;
  readonly preload: boolean;
  /** The daemon's --btime. */
  readonly btime: 'host' | 'container';
  readonly script: 'all' | 'boot';
}

export const MODES: readonly Mode[] = [
  { id: 'plain', title: 'without cgprocfs', cgprocfs: false, preload: false, btime: 'host', script: 'all' },
  { id: 'cgprocfs', title: 'cgprocfs without the preload library', cgprocfs: true, preload: false, btime: 'host', script: 'all' },
  { id: 'preload', title: 'cgprocfs with the preload library', cgprocfs: true, preload: true, btime: 'host', script: 'all' },
  { id: 'btime', title: 'cgprocfs --btime container, without the preload library', cgprocfs: true, preload: false, btime: 'container', script: 'boot' },
  { id: 'btime-preload', title: 'cgprocfs --btime container, with the preload library', cgprocfs: true, preload: true, btime: 'container', script: 'boot' },
];

export function mode(id: Mode['id']): Mode {
  const found = MODES.find((m) => m.id === id);
  if (!found) throw new Error(`no mode ${id}`);
  return found;
}

// ---------------------------------------------------------------- the collector's output

export interface Section {
  /** When it was measured, epoch seconds. */
  at: number;
  text: string;
}

/** "@@ NAME EPOCH" headers, each followed by its tool's raw output. */
export function parseSections(output: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  for (const line of output.split('\n')) {
    const header = /^@@ (.+) (\d+\.\d+)$/.exec(line);
    if (header) {
      current = { at: Number(header[2]), text: '' };
      sections.set(header[1]!, current);
    } else if (current) {
      current.text += `${line}\n`;
    }
  }
  return sections;
}

/** The container's own figures, from its cgroup and its (overlaid) /proc files. */
export interface ContainerTruth {
  at: number;
  /** Bytes; Infinity when unlimited. */
  limit: number;
  usage: number;
  /** Swap the cgroup may use on top of memory (v1: memsw less memory), bytes; undefined without swap accounting. */
  swapLimit: number | undefined;
  swapUsage: number;
  reclaimable: number;
  /** ceil(quota/period) cut to the cpuset's size. */
  cpus: number;
  /** The container's /proc/loadavg, /proc/uptime, /proc/stat btime, /proc/meminfo (bytes) as it reads them. */
  load1: number;
  uptime: number;
  btime: number;
  meminfo: Record<string, number>;
}

/** "0-3,8" -> 5 */
export function cpuListCount(list: string): number {
  return list.trim() === ''
    ? 0
    : list.trim().split(',').reduce((n, part) => {
        const [lo, hi = lo] = part.split('-').map(Number);
        return n + (hi! - lo! + 1);
      }, 0);
}

const V1_UNLIMITED = 2 ** 62;
const bytes = (text: string | undefined) => (text === undefined ? undefined : text === 'max' || Number(text) >= V1_UNLIMITED ? Infinity : Number(text));

export function parseTruth(section: Section | undefined): ContainerTruth {
  if (!section) throw new Error('the collector printed no truth section');
  const kv = new Map<string, string>();
  const meminfo: Record<string, number> = {};
  for (const line of section.text.split('\n')) {
    const mem = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (mem) meminfo[mem[1]!] = Number(mem[2]) * 1024;
    const m = /^(\w+) (.*)$/.exec(line);
    if (m) kv.set(m[1]!, m[2]!);
  }
  const need = (key: string): string => {
    const value = kv.get(key);
    if (value === undefined) throw new Error(`no "${key}" in the truth section:\n${section.text}`);
    return value;
  };
  const limit = bytes(need('limit'))!;
  const usage = Number(need('usage'));
  const memswLimit = bytes(kv.get('memsw_limit'));
  const swapLimit = memswLimit !== undefined ? memswLimit - limit : bytes(kv.get('swap_limit'));
  const memswUsage = kv.get('memsw_usage');
  const swapUsage = memswUsage !== undefined ? Math.max(0, Number(memswUsage) - usage) : Number(kv.get('swap_usage') ?? 0);
  const quota = need('cpu_quota');
  const quotaCpus = quota === 'max' || Number(quota) < 0 ? Infinity : Math.ceil(Number(quota) / Number(need('cpu_period')));
  return {
    at: section.at,
    limit,
    usage,
    swapLimit,
    swapUsage,
    reclaimable: Number(kv.get('active_file') ?? 0) + Number(kv.get('inactive_file') ?? 0),
    cpus: Math.min(quotaCpus, cpuListCount(need('cpuset'))),
    load1: Number(need('loadavg').split(' ')[0]),
    uptime: Number(need('uptime').split(' ')[0]),
    btime: Number(need('btime')),
    meminfo,
  };
}

/** One container's run of the collector. */
export interface Collected {
  mode: Mode;
  /** When the container's init started, epoch seconds (see initStartedAt): its boot, as the kernel dates it. */
  startedAt: number;
  sections: Map<string, Section>;
  start: ContainerTruth;
  end: ContainerTruth;
  /** Every sample of the container's 1-minute load the collector took, around each tool. */
  loads: number[];
}

export function collected(mode: Mode, startedAt: number, output: string): Collected {
  const sections = parseSections(output);
  const start = parseTruth(sections.get('truth-start'));
  const end = parseTruth(sections.get('truth-end'));
  const samples = [...sections].filter(([name]) => name.startsWith('loadavg-')).map(([, s]) => Number(s.text.split(' ')[0]));
  return { mode, startedAt, sections, start, end, loads: [start.load1, ...samples, end.load1] };
}

// ---------------------------------------------------------------- the host

export interface HostFacts {
  at: number;
  memTotal: number;
  memFree: number;
  swapTotal: number;
  swapFree: number;
  load1: number;
  /** Epoch seconds of the boot, to the fraction: now − /proc/uptime. */
  bootedAt: number;
  btime: number;
  online: number;
  possible: number;
}

export function hostFacts(): HostFacts {
  const at = Date.now() / 1000;
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1]) * 1024;
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return {
    at,
    memTotal: kb('MemTotal'),
    memFree: kb('MemFree'),
    swapTotal: kb('SwapTotal'),
    swapFree: kb('SwapFree'),
    load1: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    bootedAt: at - uptime,
    btime: Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]),
    online: cpuListCount(readFileSync('/sys/devices/system/cpu/online', 'utf8')),
    possible: cpuListCount(readFileSync('/sys/devices/system/cpu/possible', 'utf8')),
  };
}

/**
 * When host process `pid` started, epoch seconds to the clock tick: the host's boot (now
 * less /proc/uptime) plus its /proc/PID/stat starttime. Docker's State.StartedAt comes
 * later, by as much as a second on a loaded host.
 */
export function initStartedAt(pid: number, clockTicks: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const starttime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const bootedAt = Date.now() / 1000 - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  if (!Number.isFinite(starttime)) throw new Error(`no starttime in /proc/${pid}/stat: ${stat}`);
  return bootedAt + starttime / clockTicks;
}

// ---------------------------------------------------------------- the metrics

export type Kind = 'memTotal' | 'memFree' | 'memAvailPct' | 'uptime' | 'load1' | 'swapTotal' | 'swapFree' | 'cpus' | 'cpusConf' | 'bootTime';

/**
 * What decides the value, and so what cgprocfs promises:
 * file: a bound /proc or /sys file: the container's, with or without the library;
 * libc: a glibc call (sysinfo(), sysconf(), getloadavg()): the container's only with the library;
 * syscall: Go's own sysinfo system call: the host's, whatever is preloaded (docs/preload.md);
 * btime: /proc/stat's btime: the host's boot under --btime host, the container's start under --btime container.
 */
export type Source = 'file' | 'libc' | 'syscall' | 'btime';

export interface Reading {
  value: number;
  at: number;
  /** How coarse the tool prints it, in the kind's unit (busybox uptime: minutes). */
  granularity?: number;
}

export interface Metric {
  tool: string;
  name: string;
  kind: Kind;
  source: Source;
  /** Where the tool takes it from, for test names. */
  why: string;
  /** Also read by the collector's boot-only part. */
  boot?: boolean;
  read(c: Collected): Reading;
}

function sectionOf(c: Collected, name: string): Section {
  const section = c.sections.get(name);
  if (!section) throw new Error(`the collector printed no "${name}" section (mode ${c.mode.id})`);
  return section;
}

function numberIn(section: Section, pattern: RegExp, what: string): number {
  const m = pattern.exec(section.text);
  const value = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(value)) throw new Error(`no ${what} in:\n${section.text}`);
  return value;
}

function zabbix(tool: 'zabbix_agentd' | 'zabbix_agent2', key: string, kind: Kind, source: Source, why: string, boot = false): Metric {
  return {
    tool,
    name: key,
    kind,
    source,
    why,
    boot,
    read(c) {
      const section = sectionOf(c, `${tool} ${key}`);
      // "KEY    [u|268435456]"; an unsupported key prints [m|ZBX_NOTSUPPORTED] [why].
      return { value: numberIn(section, /\[[a-z]\|([-\d.e+]+)\]/, `a value of ${key}`), at: section.at, granularity: kind === 'uptime' || kind === 'bootTime' ? 1 : 0 };
    },
  };
}

function json(sectionName: string, key: string, tool: string, kind: Kind, source: Source, why: string, boot = false): Metric {
  return {
    tool,
    name: key,
    kind,
    source,
    why,
    boot,
    read(c) {
      const section = sectionOf(c, sectionName);
      const value = (JSON.parse(section.text) as Record<string, unknown>)[key];
      if (typeof value !== 'number') throw new Error(`no number ${key} in ${section.text}`);
      return { value, at: section.at };
    },
  };
}

function nodeExporter(name: string, kind: Kind, why: string, boot = false): Metric {
  return {
    tool: 'node_exporter',
    name,
    kind,
    source: kind === 'bootTime' ? 'btime' : 'file',
    why,
    boot,
    read(c) {
      const section = sectionOf(c, 'node_exporter');
      if (name === 'node_cpu_seconds_total') {
        const cpus = new Set([...section.text.matchAll(/^node_cpu_seconds_total\{cpu="(\d+)"/gm)].map((m) => m[1]));
        if (cpus.size === 0) throw new Error(`no node_cpu_seconds_total in:\n${section.text}`);
        return { value: cpus.size, at: section.at };
      }
      return { value: numberIn(section, new RegExp(`^${name} (\\S+)$`, 'm'), name), at: section.at };
    },
  };
}

/** sar -r's "Average:" row, by column name. */
function sarColumn(section: Section, column: string): number {
  const lines = section.text.split('\n');
  const header = lines.find((l) => l.includes('kbmemfree'))?.trim().split(/\s+/);
  const average = lines.find((l) => l.startsWith('Average:'))?.trim().split(/\s+/);
  const index = header?.indexOf(column) ?? -1;
  const value = index >= 0 ? Number(average?.[index]) : NaN;
  if (!Number.isFinite(value)) throw new Error(`no ${column} in sar -r's Average row:\n${section.text}`);
  return value;
}

const ZABBIX_KEYS: ReadonlyArray<[string, Kind, Source, string, Source, string, boolean?]> = [
  // key, kind, zabbix_agentd's source, why; zabbix_agent2's source, why; in the boot part
  ['vm.memory.size[total]', 'memTotal', 'libc', 'sysinfo()', 'file', '/proc/meminfo'],
  ['vm.memory.size[free]', 'memFree', 'libc', 'sysinfo()', 'file', '/proc/meminfo'],
  ['vm.memory.size[pavailable]', 'memAvailPct', 'libc', '/proc/meminfo MemAvailable over sysinfo() total', 'file', '/proc/meminfo'],
  ['system.uptime', 'uptime', 'libc', 'sysinfo()', 'btime', 'now − /proc/stat btime', true],
  ['system.cpu.load[all,avg1]', 'load1', 'libc', 'getloadavg()', 'libc', 'getloadavg() through cgo'],
  ['system.swap.size[,total]', 'swapTotal', 'libc', 'sysinfo()', 'syscall', "Go's own sysinfo syscall"],
  ['system.swap.size', 'swapFree', 'libc', 'sysinfo()', 'syscall', "Go's own sysinfo syscall"],
  ['system.cpu.num', 'cpus', 'file', 'sysconf(_SC_NPROCESSORS_ONLN): /sys/devices/system/cpu/online', 'file', 'sysconf() through cgo: /sys/devices/system/cpu/online'],
  ['system.cpu.num[max]', 'cpusConf', 'file', 'sysconf(_SC_NPROCESSORS_CONF): /sys/devices/system/cpu/possible', 'file', 'sysconf() through cgo: /sys/devices/system/cpu/possible'],
  ['system.boottime', 'bootTime', 'btime', '/proc/stat btime', 'btime', '/proc/stat btime', true],
];

function busyboxFree(column: 'total' | 'free', kind: Kind): Metric {
  return {
    tool: 'busybox',
    name: `free (${column})`,
    kind,
    source: 'libc',
    why: 'sysinfo()',
    read(c) {
      const section = sectionOf(c, 'busybox free');
      const header = section.text.split('\n')[0]?.trim().split(/\s+/) ?? [];
      const row = /^Mem:\s+(.*)$/m.exec(section.text)?.[1]?.trim().split(/\s+/) ?? [];
      const value = Number(row[header.indexOf(column)]) * 1024;
      if (!Number.isFinite(value)) throw new Error(`no ${column} in busybox free:\n${section.text}`);
      return { value, at: section.at };
    },
  };
}

export const METRICS: readonly Metric[] = [
  ...ZABBIX_KEYS.map(([key, kind, source, why, , , boot]) => zabbix('zabbix_agentd', key, kind, source, why, boot)),
  ...ZABBIX_KEYS.map(([key, kind, , , source, why, boot]) => zabbix('zabbix_agent2', key, kind, source, why, boot)),
  nodeExporter('node_memory_MemTotal_bytes', 'memTotal', '/proc/meminfo'),
  nodeExporter('node_load1', 'load1', '/proc/loadavg'),
  nodeExporter('node_boot_time_seconds', 'bootTime', '/proc/stat btime', true),
  nodeExporter('node_cpu_seconds_total', 'cpus', 'the cpuN lines of /proc/stat'),
  {
    tool: 'getconf',
    name: '_PHYS_PAGES × PAGESIZE',
    kind: 'memTotal',
    source: 'libc',
    why: 'sysconf(_SC_PHYS_PAGES): sysinfo() in glibc',
    read(c) {
      const section = sectionOf(c, 'getconf');
      const pages = numberIn(section, /^_PHYS_PAGES (\d+)$/m, '_PHYS_PAGES');
      const size = numberIn(section, /^PAGESIZE (\d+)$/m, 'PAGESIZE');
      return { value: pages * size, at: section.at, granularity: size };
    },
  },
  {
    tool: 'getconf',
    name: '_NPROCESSORS_ONLN',
    kind: 'cpus',
    source: 'file',
    why: '/sys/devices/system/cpu/online',
    read: (c) => ({ value: numberIn(sectionOf(c, 'getconf'), /^_NPROCESSORS_ONLN (\d+)$/m, '_NPROCESSORS_ONLN'), at: sectionOf(c, 'getconf').at }),
  },
  {
    tool: 'getconf',
    name: '_NPROCESSORS_CONF',
    kind: 'cpusConf',
    source: 'file',
    why: '/sys/devices/system/cpu/possible',
    read: (c) => ({ value: numberIn(sectionOf(c, 'getconf'), /^_NPROCESSORS_CONF (\d+)$/m, '_NPROCESSORS_CONF'), at: sectionOf(c, 'getconf').at }),
  },
  busyboxFree('total', 'memTotal'),
  busyboxFree('free', 'memFree'),
  {
    tool: 'busybox',
    name: 'uptime (up)',
    kind: 'uptime',
    source: 'libc',
    why: 'sysinfo()',
    read(c) {
      const section = sectionOf(c, 'busybox uptime');
      // "up 3 min", "up 1:09", "up 2 days, 1:09", "up 1 day,  3 min"
      const m = /up\s+(?:(\d+) days?,\s+)?(?:(\d+):(\d+)|(\d+) min)/.exec(section.text);
      if (!m) throw new Error(`no "up" in busybox uptime: ${section.text}`);
      const minutes = Number(m[1] ?? 0) * 1440 + (m[4] !== undefined ? Number(m[4]) : Number(m[2]) * 60 + Number(m[3]));
      return { value: minutes * 60, at: section.at, granularity: 60 };
    },
  },
  {
    tool: 'busybox',
    name: 'uptime (load average)',
    kind: 'load1',
    source: 'libc',
    why: 'sysinfo()',
    read: (c) => ({ value: numberIn(sectionOf(c, 'busybox uptime'), /load average: ([\d.]+)/, 'a load average'), at: sectionOf(c, 'busybox uptime').at }),
  },
  json('python', 'psutil.virtual_memory().total', 'python3-psutil', 'memTotal', 'file', '/proc/meminfo'),
  json('python', 'psutil.cpu_count()', 'python3-psutil', 'cpus', 'file', 'sysconf(_SC_NPROCESSORS_ONLN): /sys/devices/system/cpu/online'),
  json('python', 'psutil.cpu_count(logical=False)', 'python3-psutil', 'cpus', 'file', 'the cpuN/topology entries of /sys/devices/system/cpu'),
  json('python', 'psutil.boot_time()', 'python3-psutil', 'bootTime', 'btime', '/proc/stat btime', true),
  json('python', 'psutil.getloadavg()', 'python3-psutil', 'load1', 'libc', 'getloadavg(): sysinfo() in glibc 2.36'),
  json('python', 'os.cpu_count()', 'python3', 'cpus', 'file', 'sysconf(_SC_NPROCESSORS_ONLN): /sys/devices/system/cpu/online'),
  json('python', 'os.getloadavg()', 'python3', 'load1', 'libc', 'getloadavg(): sysinfo() in glibc 2.36'),
  {
    tool: 'sysstat',
    name: 'mpstat (N CPU)',
    kind: 'cpus',
    source: 'file',
    why: 'the cpuN entries of /sys/devices/system/cpu',
    read: (c) => ({ value: numberIn(sectionOf(c, 'mpstat'), /\((\d+) CPU\)/, '"(N CPU)"'), at: sectionOf(c, 'mpstat').at }),
  },
  {
    tool: 'sysstat',
    name: 'sar -r kbmemfree',
    kind: 'memFree',
    source: 'file',
    why: '/proc/meminfo',
    read: (c) => ({ value: sarColumn(sectionOf(c, 'sar -r'), 'kbmemfree') * 1024, at: sectionOf(c, 'sar -r').at }),
  },
  {
    tool: 'sysstat',
    name: 'sar -r total (kbmemused / %memused)',
    kind: 'memTotal',
    source: 'file',
    why: '/proc/meminfo',
    read(c) {
      const section = sectionOf(c, 'sar -r');
      const used = sarColumn(section, 'kbmemused') * 1024;
      const percent = sarColumn(section, '%memused');
      const total = (used * 100) / percent;
      // %memused has two decimals: the total it implies is good to 0.005 points of it.
      return { value: total, at: section.at, granularity: Math.ceil((total * 0.0051) / percent) };
    },
  },
  json('node', 'os.totalmem()', 'node (the host\'s, bound in)', 'memTotal', 'file', '/proc/meminfo'),
  json('node', 'os.cpus().length', 'node (the host\'s, bound in)', 'cpus', 'file', '/proc/stat and /proc/cpuinfo'),
  json('node', 'os.loadavg()', 'node (the host\'s, bound in)', 'load1', 'file', '/proc/loadavg'),
  json('node', 'os.uptime()', 'node (the host\'s, bound in)', 'uptime', 'file', '/proc/uptime'),
];

export const metricLabel = (m: Metric) => `${m.tool} ${m.name}`;

// ---------------------------------------------------------------- expectations

export interface Expected {
  lo: number;
  hi: number;
  /** The value to show in the table. */
  show: number;
}

/** What cgprocfs promises for `metric` in `mode`: the container's truth or the host's value. */
export function promised(metric: Metric, m: Mode): 'truth' | 'host' {
  switch (metric.source) {
    case 'file':
      return m.cgprocfs ? 'truth' : 'host';
    case 'libc':
      return m.cgprocfs && m.preload ? 'truth' : 'host';
    case 'syscall':
      return 'host';
    case 'btime':
      return m.cgprocfs && m.btime === 'container' ? 'truth' : 'host';
  }
}

const TIME_TOLERANCE_S = 3;
const range = (values: number[], slack: number, show = (Math.min(...values) + Math.max(...values)) / 2): Expected => ({
  lo: Math.min(...values) - slack,
  hi: Math.max(...values) + slack,
  show,
});

/** The container's real value of `kind` when `reading` was taken. */
export function truthOf(kind: Kind, c: Collected, host: readonly HostFacts[], reading?: Reading): Expected {
  const at = reading?.at ?? c.end.at;
  const limit = (t: ContainerTruth) => Math.min(t.limit, host[0]!.memTotal);
  const swapTotal = (t: ContainerTruth) => (t.swapLimit === undefined ? 0 : Math.max(0, Math.min(t.swapLimit, host[0]!.swapTotal)));
  const both = [c.start, c.end];
  switch (kind) {
    case 'memTotal':
      return range([limit(c.start)], 4096);
    case 'memFree':
      return range(both.map((t) => limit(t) - t.usage), 16 * MiB);
    case 'memAvailPct': {
      const r = range(both.map((t) => (100 * Math.min(limit(t), limit(t) - t.usage + t.reclaimable)) / limit(t)), 2);
      return { ...r, hi: Math.min(100, r.hi) };
    }
    case 'uptime':
      return range([at - c.startedAt], TIME_TOLERANCE_S);
    case 'load1':
      return range(c.loads, 0.02);
    case 'swapTotal':
      return range([swapTotal(c.start)], MiB);
    case 'swapFree':
      return range(both.map((t) => Math.max(0, swapTotal(t) - t.swapUsage)), 16 * MiB);
    case 'cpus':
    case 'cpusConf':
      return range([c.start.cpus], 0);
    case 'bootTime':
      return range([c.startedAt], TIME_TOLERANCE_S, Math.floor(c.startedAt));
  }
}

/** The host's value of `kind` (what an agent reading the host's kernel shows), from facts sampled all through the collection. */
export function hostOf(kind: Kind, c: Collected, host: readonly HostFacts[], reading?: Reading): Expected {
  const at = reading?.at ?? c.end.at;
  switch (kind) {
    case 'memTotal':
      return range([host[0]!.memTotal], 4096);
    case 'memFree':
      return range(host.map((h) => h.memFree), 256 * MiB);
    case 'memAvailPct':
      // The container's MemAvailable (the overlay's meminfo) over the host's total: issue 9's 1.05%.
      return range([c.start, c.end].map((t) => (100 * (t.meminfo.MemAvailable ?? NaN)) / host[0]!.memTotal), 0.3);
    case 'uptime':
      return range(host.map((h) => at - h.bootedAt), TIME_TOLERANCE_S);
    case 'load1':
      return range(host.map((h) => h.load1), 0.02);
    case 'swapTotal':
      return range([host[0]!.swapTotal], MiB);
    case 'swapFree':
      return range(host.map((h) => h.swapFree), 64 * MiB);
    case 'cpus':
      return range([host[0]!.online], 0);
    case 'cpusConf':
      return range([host[0]!.possible], 0);
    case 'bootTime':
      return range([host[0]!.btime], 1);
  }
}

// ---------------------------------------------------------------- the table

export function formatValue(kind: Kind, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  switch (kind) {
    case 'memTotal':
    case 'memFree':
    case 'swapTotal':
    case 'swapFree':
      return `${(value / MiB).toFixed(1)} MiB`;
    case 'memAvailPct':
      return `${value.toFixed(2)}%`;
    case 'uptime':
      return `${Math.round(value)} s`;
    case 'load1':
      return value.toFixed(2);
    case 'cpus':
    case 'cpusConf':
    case 'bootTime':
      return String(Math.round(value));
  }
}

/** A metric's reading in a collection, as the table shows it ("error: ..." when the tool gave none). */
export function shown(metric: Metric, c: Collected | undefined): string {
  if (!c) return 'n/a';
  try {
    return formatValue(metric.kind, metric.read(c).value);
  } catch (err) {
    return `error: ${(err as Error).message.split('\n')[0]}`;
  }
}
