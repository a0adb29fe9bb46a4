// The counter state store: one small record per (cpu cgroup, accounting cgroup) in a
// state directory (tmpfs, /run/cgprocfs/cpu: gone at reboot, like the counters), so
// every worker thread, and the next daemon after a restart, continues the same
// counters. A record belongs to one life of those cgroups (their directories' inodes):
// a container restarted under the same cgroup path starts its counters anew (issue 21). Records are created with link(2) (the first writer wins, readers never see
// a partial file) and replaced by rename(2) under an O_EXCL lock; a record that
// cannot be read or written is recomputed, never fatal.
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { closeSync, existsSync, linkSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../cgroup/layout.js';
import { systemErrorCode } from '../errors.js';
import { LruMap } from '../shared/lru.js';
import { monotonicMs } from '../shared/clock.js';
import { CREATE_NEW, ensurePrivateDir, readFileNoFollow, temporaryName, writeNewFile } from '../shared/private-files.js';
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

/** Clocks of two workers or processes read a moment apart, µs. */
const CLOCK_SLACK_US = 1_000_000;

/**
 * Why a well-formed record's figures could not have come from the kernel (issue 18: a
 * forged record doubled a container's idle); undefined when they could. `at` is
 * CLOCK_MONOTONIC, the time since boot: no CPU idles longer than that, and the cgroup
 * cannot have used more than that on every CPU of the host. `now` is the reader's clock.
 */
export function recordImplausibility(record: CounterBaseline, now: number, hostCpus: number): string | undefined {
  const since = record.at + CLOCK_SLACK_US;
  const { aggregate: all } = record;
  if (record.at > now + CLOCK_SLACK_US) return 'it was written after now';
  if (record.perCpu.some((times) => times.idle > since)) return 'a CPU idles longer than the time since boot';
  if (all.idle > since * hostCpus || record.perCpu.some((times) => times.user + times.system > since * hostCpus)) {
    return 'its counters exceed the time since boot on every CPU of the host';
  }
  if (all.user + all.system > since * hostCpus) return 'its CPU time exceeds the time since boot on every CPU of the host';
  return undefined;
}

/**
 * Why `next`, a later record of the same cgroups' life than `previous`, could not follow
 * it: its clock or its aggregate counters went back, or a CPU idled longer than the time
 * between the two (CPUs are matched by id: one hidden and shown again restarts at 0).
 */
export function successionImplausibility(previous: CounterBaseline, next: CounterBaseline): string | undefined {
  const was = previous.aggregate;
  const is = next.aggregate;
  if (next.at < previous.at || is.idle < was.idle || is.user < was.user || is.system < was.system) return 'its counters went back';
  const room = next.at - previous.at + CLOCK_SLACK_US;
  const idledTooLong = next.cpus.some((id, index) => {
    const before = previous.perCpu[previous.cpus.indexOf(id)];
    return before !== undefined && next.perCpu[index]!.idle - before.idle > room;
  });
  return idledTooLong ? 'a CPU idled longer than the time between two records' : undefined;
}

/** Whether what reads showed over a baseline taken at `at` fits the time since: idle grows with time, usage by at most every host CPU. */
export function shownPlausible(shown: CounterGrowth, at: number, now: number, hostCpus: number): boolean {
  const elapsed = Math.max(0, now - at) + CLOCK_SLACK_US;
  return shown.idle <= elapsed && shown.user + shown.system <= elapsed * hostCpus;
}

function readQuietly(path: string): string | undefined {
  try {
    return readFileNoFollow(path);
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
  /** Records read from disk that passed the checks, or failed them: the same parsed object is not checked again. */
  private readonly checked = new WeakSet<CounterRecord>();
  private readonly rejected = new WeakSet<CounterRecord>();
  /** Per key, the last record read from disk and trusted: a later one must follow it. */
  private readonly trustedLast = new LruMap<string, CounterRecord>(REMEMBERED_KEYS);
  /** Keys whose ignored record was logged: once per key and worker. */
  private readonly reported = new LruMap<string, true>(REMEMBERED_KEYS);
  private hostCpus = 0;

  /** `onIgnored` hears of each record ignored for figures the kernel could not have given, once per record file. */
  constructor(
    stateDir: string,
    private readonly clockMs: () => number = monotonicMs,
    private readonly onIgnored: (file: string, why: string) => void = () => undefined,
  ) {
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
      record.cpuDir === key.cpuDir && record.usageDir === key.usageDir && this.plausible(base, record, sample);
    let fresh: CounterRecord | undefined;
    const first = (): CounterRecord => (fresh ??= { ...key, boot, life, ...firstBaseline(sample, ageUs()) });

    // What was shown over a record, read once per record (a stat(2) of its file, and a parse).
    let shownOver: { record: CounterBaseline; shown: CounterGrowth } | undefined;
    const shownFor = (r: CounterBaseline): CounterGrowth =>
      (shownOver?.record === r ? shownOver : (shownOver = { record: r, shown: this.shown(base, r, sample.now) })).shown;

    let record = this.load(base);
    if (!ours(record)) record = this.create(base, first());
    if (!ours(record) || !baselineServes(record, sample, shownFor(record))) {
      const stale = ours(record) ? record : undefined;
      // Losing the race for the lock: count from the record as it was, this time.
      record = this.replace(base, (current) => {
        if (ours(current) && baselineServes(current, sample, shownFor(current))) return current;
        if (!ours(current)) return first();
        const startEvents = (events: NonNullable<CpuSample['events']>) => firstEvents(events, ageUs(), sample.now);
        return { ...key, boot, life, ...rebaseline(current, sample, shownFor(current), startEvents) };
      }) ?? stale ?? first();
    }
    const shown = shownFor(record);
    const counters = countersAt(record, sample, shown);
    this.remember(base, record, shown, counters.growth);
    return counters;
  }

  /**
   * False for a record whose figures the kernel could not have given (ignored: the
   * caller counts anew, as for a missing one), logged once per key. Records this store
   * made itself are never in question; one read from disk is checked once.
   */
  private plausible(base: string, record: CounterRecord, sample: CpuSample): boolean {
    if (this.checked.has(record)) return true;
    if (this.rejected.has(record)) return false;
    this.hostCpus ||= Math.max(cpus().length, ...sample.cpus.map((id) => id + 1));
    const previous = this.trustedLast.get(base);
    const why = recordImplausibility(record, sample.now, this.hostCpus) ??
      (previous?.life === record.life && previous.boot === record.boot ? successionImplausibility(previous, record) : undefined);
    if (why === undefined) {
      this.checked.add(record);
      this.trustedLast.set(base, record);
      return true;
    }
    this.rejected.add(record);
    if (this.reported.get(base) === undefined) {
      this.reported.set(base, true);
      this.onIgnored(base + RECORD, why);
    }
    return false;
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
   * this one showed; nothing when the file is of another baseline, garbled, or shows
   * more than time allows by `now` (the reader's clock).
   */
  private shown(base: string, record: CounterBaseline, now: number): CounterGrowth {
    const [at, user, system, idle, ctxt = 0, intr = 0] = this.shownFiles.read(base + SHOWN).trim().split(' ').map(Number);
    const valid = at === record.at && [user, system, idle, ctxt, intr].every(isCount);
    const read: CounterGrowth = valid ? { user: user!, system: system!, idle: idle!, ctxt, intr } : NO_GROWTH;
    // More than time allows was never shown: such a file is ignored like a garbled one.
    const persisted = shownPlausible(read, record.at, now, this.hostCpus || cpus().length) ? read : NO_GROWTH;
    const here = this.shownHere.get(base);
    if (here === undefined || here.at !== record.at) return persisted;
    const larger = (name: keyof CounterGrowth): number => Math.max(persisted[name], here.growth[name]);
    return { user: larger('user'), system: larger('system'), idle: larger('idle'), ctxt: larger('ctxt'), intr: larger('intr') };
  }

  /** Creates the record unless one exists; then the existing one (undefined if unreadable). */
  private create(base: string, record: CounterRecord): CounterRecord | undefined {
    const written = this.write(base + RECORD, JSON.stringify(record), linkSync);
    if (written === 'done') this.trustedLast.set(base, record);
    return written === 'exists' ? this.load(base) : record;
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
        fd = openSync(lock, CREATE_NEW, 0o600);
      } catch (error) {
        const stale = systemErrorCode(error) === 'EEXIST' && ageMs(lock) >= STALE_LOCK_MS;
        if (!stale || !removeQuietly(lock)) return undefined;
      }
    }
    if (fd === undefined) return undefined;
    try {
      const current = this.load(base);
      const record = next(current);
      // What this store writes starts the succession later records must follow.
      if (record !== current && this.write(base + RECORD, JSON.stringify(record), renameSync) === 'done') this.trustedLast.set(base, record);
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
    // A name nobody can guess and O_EXCL: nothing planted there is ever written through (issue 18).
    const temporary = temporaryName(path);
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
      writeNewFile(path, text);
    } catch (error) {
      if (systemErrorCode(error) !== 'ENOENT') throw error;
      ensurePrivateDir(this.dir);
      writeNewFile(path, text);
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
