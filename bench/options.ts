// Command-line options of `npm run bench`, with the full and --quick presets.
import { parseArgs } from 'node:util';

export const CANDIDATE_FILES = [
  'proc/meminfo',
  'proc/stat',
  'proc/cpuinfo',
  'proc/uptime',
  'proc/loadavg',
  'proc/swaps',
  'proc/diskstats',
  'sys/devices/system/cpu/online',
] as const;

export interface Options {
  quick: boolean;
  readerCounts: number[];
  /** Reader counts of the row with readers in the host's pid namespace. */
  hostPidnsCounts: number[];
  durationMs: number;
  rounds: number;
  /** Whole runs, each with fresh daemons; the tables then show min-max per cell and ratio. */
  repeat: number;
  files: string[];
  containers: number;
  lanes: number;
  containerDurationMs: number;
  /** Idle window for the loadavg sampling cost; 0 skips it. */
  idleMs: number;
  tasksPerCgroup: number;
  /** Readers of the flooding container in the noisy-neighbour phase; 0 skips it. */
  noisyFlooders: number;
  soakMinutes: number | undefined;
  out: string;
  daemons: Set<'cgprocfs' | 'lxcfs' | 'floor'>;
  cgprocfsNodeOptions: string | undefined;
  /** Extra `cgprocfs serve` flags, e.g. --workers 1. */
  cgprocfsArgs: string[];
  strict: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --quick                  CI preset: 2 and 8 readers, 0.5 s rounds, 20 containers (under a minute)
  --readers 1,2,8,32       concurrent reader processes per row
  --duration SECONDS       length of one round (default 3)
  --rounds N               rounds per cell, alternating targets (default 2)
  --repeat N               whole runs with fresh daemons; tables show min-max over them (default 1)
  --files a,b              files to bench (default: ${CANDIDATE_FILES.join(',')})
  --containers N           cgroups of the many-containers phase (default 500, 0 skips it)
  --idle SECONDS           idle window of the loadavg sampling cost (default 20, 0 skips it)
  --noisy N                readers of the flooding container beside a quiet one (default 32, 0 skips it)
  --soak MINUTES           run only the soak: 8 readers over 50 cgroups, RSS/fds every 10 s
  --only cgprocfs,lxcfs,floor   targets to start
  --cgprocfs-node-options=S     Node flags for the cgprocfs daemon and its server (e.g. ="--cpu-prof")
  --cgprocfs-args=S        extra flags for cgprocfs serve (e.g. ="--workers 1")
  --strict                 exit 3 when a cgprocfs reading was wrong
  --out FILE               JSON result (default bench/results/latest.json)`;

export function parseOptions(argv: string[], defaultOut: string): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      readers: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      repeat: { type: 'string' },
      files: { type: 'string' },
      containers: { type: 'string' },
      idle: { type: 'string' },
      noisy: { type: 'string' },
      soak: { type: 'string' },
      only: { type: 'string' },
      'cgprocfs-node-options': { type: 'string' },
      'cgprocfs-args': { type: 'string' },
      strict: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
  const numbers = (s: string | undefined, name: string) =>
    list(s)?.map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: ${x} is not a positive integer`);
      return n;
    });
  const number = (s: string | undefined, name: string, min = 0) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: ${s} is not a number >= ${min}`);
    return n;
  };
  const daemons = new Set((list(values.only) ?? ['cgprocfs', 'lxcfs', 'floor']) as ('cgprocfs' | 'lxcfs' | 'floor')[]);
  for (const d of daemons) if (!['cgprocfs', 'lxcfs', 'floor'].includes(d)) throw new Error(`--only: unknown target ${d}`);
  daemons.add('cgprocfs');
  const files = list(values.files)?.map((f) => (f.includes('/') ? f : `proc/${f}`)) ?? [...CANDIDATE_FILES];
  const readerCounts = numbers(values.readers, 'readers') ?? (quick ? [2, 8] : [1, 2, 8, 32]);
  return {
    quick,
    readerCounts,
    hostPidnsCounts: readerCounts.filter((n) => (quick ? [2] : [2, 8]).includes(n)),
    durationMs: (number(values.duration, 'duration', 0.1) ?? (quick ? 0.5 : 3)) * 1000,
    rounds: number(values.rounds, 'rounds', 1) ?? (quick ? 1 : 2),
    repeat: numbers(values.repeat, 'repeat')?.[0] ?? 1,
    files,
    containers: number(values.containers, 'containers') ?? (quick ? 20 : 500),
    lanes: 8,
    containerDurationMs: quick ? 1000 : 5000,
    idleMs: (number(values.idle, 'idle') ?? (quick ? 0 : 20)) * 1000,
    tasksPerCgroup: 6,
    noisyFlooders: number(values.noisy, 'noisy') ?? 32,
    soakMinutes: number(values.soak, 'soak', 0.1),
    out: values.out ?? defaultOut,
    daemons,
    cgprocfsNodeOptions: values['cgprocfs-node-options'],
    cgprocfsArgs: values['cgprocfs-args']?.split(' ').filter(Boolean) ?? [],
    strict: values.strict ?? false,
  };
}
