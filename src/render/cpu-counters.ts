// The counter state store: one small record per (cpu cgroup, accounting cgroup) in a
// state directory (tmpfs, /run/cgprocfs/cpu: gone at reboot, like the counters), so
// every worker thread, and the next daemon after a restart, continues the same
// counters. A record belongs to one life of those cgroups (their directories' inodes):
// a container restarted under the same cgroup path starts its counters anew (issue 21). Records are created with link(2) (the first writer wins, readers never see
// a partial file) and replaced by rename(2) under an O_EXCL lock; a record that
// cannot be read or written is recomputed, never fatal.
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { CgroupLayout } from '../cgroup/layout.js';
import { systemErrorCode } from '../errors.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';
import { ReplacedWholeFiles } from '../shared/replaced-whole-files.js';
import {
  baselineServes, countersAt, firstBaseline, firstEvents, NO_GROWTH, rebaseline, type CounterBaseline, type CounterGrowth,
  type CpuCounters, type CpuSample,
} from './cpu-counter-rule.js';

/** The cgroup directories whose counters a record holds; pruned once either is gone. */
export interface CounterKey {
  readonly cpuDir: string;
  readonly usageDir: string;
}

interface CounterRecord extends CounterBaseline, CounterKey {
  /** /proc/sys/kernel/random/boot_id: a record of another boot is void. */
  readonly boot: string;
  /** The directories' identity (cgroupLife): a record of a removed and remade cgroup is void. */
  readonly life: string;
}

/** The subdirectory of the state directory these records live in. */
const COUNTERS_DIR = 'cpu';
const RECORD = '.json';
/** `<record at> <user> <system> <idle> <ctxt> <intr>`: the growth reads have shown over that baseline. */
const SHOWN = '.shown';
const LOCK = '.lock';
/** A lock older than this was left by a writer that died (a holder needs microseconds). */
const STALE_LOCK_MS = 2000;
/** Temporary and lock files older than this are removed by pruning. */
const STALE_LEFTOVER_MS = 60_000;
const KEY_HEX_CHARS = 32;
let temporaries = 0;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Optional event counts and their base (cpu-counter-rule.ts EventBaseline). */
function isEvents(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null) return false;
  const { counts, base } = value as Record<string, Record<string, unknown> | undefined>;
  const countsOk = counts !== undefined && isCount(counts['ctxt']) && isCount(counts['intr']);
  const baseOk = base === undefined || (isCount(base['switches']) && isCount(base['hostInterrupts']) && isCount(base['share']));
  return countsOk && baseOk;
}

function isTimes(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const times = value as Record<string, unknown>;
  return isCount(times['user']) && isCount(times['system']) && isCount(times['idle']);
}

/** The record if `text` is a whole, well-formed one. */
function parseRecord(text: string | undefined): CounterRecord | undefined {
  let value: Partial<Record<keyof CounterRecord, unknown>>;
  try {
    value = JSON.parse(text ?? '') as typeof value;
  } catch {
    return undefined;
  }
  const { cpus, perCpu } = value;
  const wellFormed =
    typeof value.boot === 'string' && typeof value.life === 'string' &&
    typeof value.cpuDir === 'string' && typeof value.usageDir === 'string' &&
    isCount(value.at) && isCount(value.usageUser) && isCount(value.usageSystem) && isTimes(value.aggregate) &&
    Array.isArray(cpus) && cpus.length > 0 && cpus.every((id) => Number.isSafeInteger(id) && id >= 0) &&
    Array.isArray(perCpu) && perCpu.length === cpus.length && perCpu.every(isTimes) && isEvents(value.events);
  return wellFormed ? (value as CounterRecord) : undefined;
}

function readQuietly(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Which life of the key's cgroup directories this is: their inode numbers. A cgroup
 * removed and made again under the same path (`docker restart`: runc removes the
 * container's cgroups and makes them anew) gets new ones (kernfs allocates them
 * cyclically); '-' stands for a directory that is gone.
 */
export function cgroupLife(key: CounterKey): string {
  const inode = (dir: string): string => statSync(dir, { bigint: true, throwIfNoEntry: false })?.ino.toString() ?? '-';
  return `${inode(key.cpuDir)} ${inode(key.usageDir)}`;
}

/** The records' common file name stem: a hash of the cgroup directories. */
function recordName(key: CounterKey): string {
  return createHash('sha256').update(`${key.cpuDir}\n${key.usageDir}`).digest('hex').slice(0, KEY_HEX_CHARS);
}

/** Keys whose record path a store remembers. */
const REMEMBERED_KEYS = 4096;

/**
 * How often one worker persists what it showed. Between writes it keeps the maximum in
 * memory, so its own readers never see a counter go back; what it showed reaches the
 * other workers and the next daemon at most this late. That only matters while a cgroup
 * uses more than its visible CPUs for a moment (the only time the clamp engages), and it
 * spares a file write (temp, rename) per read of /proc/stat or /proc/uptime.
 */
const SHOWN_WRITE_INTERVAL_MS = 100;
/** Cgroups whose shown counters a worker keeps in memory, most recently read first. */
const SHOWN_IN_MEMORY_RECORDS = 4096;

interface ShownInMemory {
  at: number;
  growth: CounterGrowth;
  writtenAtMs: number;
}

export class CpuCounterStore {
  private readonly dir: string;
  private readonly shownHere = new LruMap<string, ShownInMemory>(SHOWN_IN_MEMORY_RECORDS);
  private readonly names = new LruMap<string, string>(REMEMBERED_KEYS);
  private readonly records = new ReplacedWholeFiles(parseRecord);
  private readonly shownFiles = new ReplacedWholeFiles((text) => text ?? '');

  constructor(stateDir: string, private readonly clockMs: () => number = monotonicMs) {
    this.dir = join(stateDir, COUNTERS_DIR);
  }

  /**
   * The counters of `key` at the sample. `ageUs` is read only for a cgroup seen the
   * first time: how long its usage has been accruing (the container's age).
   */
  counters(key: CounterKey, boot: string, sample: CpuSample, ageUs: () => number): CpuCounters {
    const base = this.basePath(key);
    const life = cgroupLife(key);
    const ours = (record: CounterRecord | undefined): record is CounterRecord =>
      record !== undefined && record.boot === boot && record.life === life &&
      record.cpuDir === key.cpuDir && record.usageDir === key.usageDir;
    let fresh: CounterRecord | undefined;
    const first = (): CounterRecord => (fresh ??= { ...key, boot, life, ...firstBaseline(sample, ageUs()) });

    let record = this.load(base);
    if (!ours(record)) record = this.create(base, first());
    if (!ours(record) || !baselineServes(record, sample, this.shown(base, record))) {
      const stale = ours(record) ? record : undefined;
      // Losing the race for the lock: count from the record as it was, this time.
      record = this.replace(base, (current) => {
        if (ours(current) && baselineServes(current, sample, this.shown(base, current))) return current;
        if (!ours(current)) return first();
        const startEvents = (events: NonNullable<CpuSample['events']>) => firstEvents(events, ageUs(), sample.now);
        return { ...key, boot, life, ...rebaseline(current, sample, this.shown(base, current), startEvents) };
      }) ?? stale ?? first();
    }
    const shown = this.shown(base, record);
    const counters = countersAt(record, sample, shown);
    this.remember(base, record, shown, counters.growth);
    return counters;
  }

  /** Keeps what was shown in memory, and on disk at most every SHOWN_WRITE_INTERVAL_MS. */
  private remember(base: string, record: CounterBaseline, shown: CounterGrowth, growth: CounterGrowth): void {
    const { user, system, idle, ctxt, intr } = growth;
    const grew = user > shown.user || system > shown.system || idle > shown.idle || ctxt > shown.ctxt || intr > shown.intr;
    if (!grew) return;
    const now = this.clockMs();
    const previous = this.shownHere.get(base);
    const due = previous === undefined || previous.at !== record.at || now - previous.writtenAtMs >= SHOWN_WRITE_INTERVAL_MS;
    if (due) this.write(base + SHOWN, `${record.at} ${user} ${system} ${idle} ${ctxt} ${intr}\n`, renameSync);
    this.shownHere.set(base, { at: record.at, growth, writtenAtMs: due ? now : (previous?.writtenAtMs ?? now) });
  }

  /** The path of the key's files without their suffix; the hash is worked out once per key. */
  private basePath(key: CounterKey): string {
    const id = `${key.cpuDir}\n${key.usageDir}`;
    let base = this.names.get(id);
    if (base === undefined) {
      base = join(this.dir, recordName(key));
      this.names.set(id, base);
    }
    return base;
  }

  private load(base: string): CounterRecord | undefined {
    return this.records.read(base + RECORD);
  }

  /**
   * What reads showed over `record`: the larger of what any worker persisted and what
   * this one showed; nothing when the file is of another baseline or garbled.
   */
  private shown(base: string, record: CounterBaseline): CounterGrowth {
    const [at, user, system, idle, ctxt = 0, intr = 0] = this.shownFiles.read(base + SHOWN).trim().split(' ').map(Number);
    const valid = at === record.at && [user, system, idle, ctxt, intr].every(isCount);
    const persisted: CounterGrowth = valid ? { user: user!, system: system!, idle: idle!, ctxt, intr } : NO_GROWTH;
    const here = this.shownHere.get(base);
    if (here === undefined || here.at !== record.at) return persisted;
    const larger = (name: keyof CounterGrowth): number => Math.max(persisted[name], here.growth[name]);
    return { user: larger('user'), system: larger('system'), idle: larger('idle'), ctxt: larger('ctxt'), intr: larger('intr') };
  }

  /** Creates the record unless one exists; then the existing one (undefined if unreadable). */
  private create(base: string, record: CounterRecord): CounterRecord | undefined {
    return this.write(base + RECORD, JSON.stringify(record), linkSync) === 'exists' ? this.load(base) : record;
  }

  /**
   * Under the record's lock, stores what `next` makes of the current record (unless
   * it returns that record). Undefined when another writer holds the lock.
   */
  private replace(
    base: string,
    next: (current: CounterRecord | undefined) => CounterRecord,
  ): CounterRecord | undefined {
    const lock = base + LOCK;
    let fd: number | undefined;
    for (let attempt = 0; fd === undefined && attempt < 2; attempt++) {
      try {
        fd = openSync(lock, 'wx', 0o600);
      } catch (error) {
        const stale = systemErrorCode(error) === 'EEXIST' && ageMs(lock) >= STALE_LOCK_MS;
        if (!stale || !removeQuietly(lock)) return undefined;
      }
    }
    if (fd === undefined) return undefined;
    try {
      const current = this.load(base);
      const record = next(current);
      if (record !== current) this.write(base + RECORD, JSON.stringify(record), renameSync);
      return record;
    } finally {
      closeSync(fd);
      removeQuietly(lock);
    }
  }

  /**
   * Writes `text` to a temporary file and commits it to `path`: rename replaces, link
   * creates only if absent ('exists' otherwise). A failure (no directory and no right
   * to make it, read-only, full) leaves the state as it was.
   */
  private write(path: string, text: string, commit: (from: string, to: string) => void): 'done' | 'exists' | 'failed' {
    const temporary = `${path}.${process.pid}.${threadId}.${temporaries++}.tmp`;
    try {
      this.writeNew(temporary, text);
      commit(temporary, path);
      return 'done';
    } catch (error) {
      return systemErrorCode(error) === 'EEXIST' ? 'exists' : 'failed';
    } finally {
      removeQuietly(temporary);
    }
  }

  private writeNew(path: string, text: string): void {
    try {
      writeFileSync(path, text, { mode: 0o600 });
    } catch (error) {
      if (systemErrorCode(error) !== 'ENOENT') throw error;
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(path, text, { mode: 0o600 });
    }
  }
}

/**
 * True for a record to delete: unreadable, or of a cgroup below `root` that is gone or
 * was made again since (a restarted container: its new life has a record of its own).
 */
function isDeadRecord(text: string | undefined, root: string): boolean {
  const record = parseRecord(text);
  if (record === undefined) return true;
  const dirs = [record.cpuDir, record.usageDir];
  return dirs.every((dir) => dir === root || dir.startsWith(`${root}/`)) && cgroupLife(record) !== record.life;
}

/**
 * Deletes the counter records (under `stateDir`) of cgroups below `layout.root` that
 * no longer exist, unreadable records and leftovers; returns how many records went.
 */
export function pruneCpuCounters(stateDir: string, layout: CgroupLayout): number {
  const dir = join(stateDir, COUNTERS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    if (name.endsWith(RECORD)) {
      if (!isDeadRecord(readQuietly(path), layout.root) || !removeQuietly(path)) continue;
      removeQuietly(path.slice(0, -RECORD.length) + SHOWN);
      removed++;
    } else if (name.endsWith(SHOWN)) {
      if (!existsSync(path.slice(0, -SHOWN.length) + RECORD)) removeQuietly(path);
    } else if (ageMs(path) > STALE_LEFTOVER_MS) {
      removeQuietly(path);
    }
  }
  return removed;
}
