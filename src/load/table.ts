// The loadavg table in memory shared by the serving workers and the main thread's
// sampler: fixed capacity, open addressing (linear probing) on a 64-bit FNV-1a hash
// of a cgroup's task-list directory. Workers register cgroups (a claim under the table
// mutex, once per cgroup) and read averages lock-free under a per-slot seqlock; the
// main thread alone writes averages and frees slots, so readers never see a torn triple.
import type { TaskListFile } from '../cgroup/tasks.js';
import { seededAverages, type LoadAverages } from './fixed-point.js';
import { withLock } from '../shared/mutex.js';
import { fnv1a64 } from '../shared/fnv.js';

/** Slots of the default table: one per cgroup read in the last EXPIRY; lxcfs has 100 buckets. */
export const LOADAVG_TABLE_CAPACITY = 4096;
/** Longest task-list directory a slot holds (k8s pod cgroups run to ~250 bytes). */
export const LOADAVG_PATH_BYTES = 1024;
/** A torn read is retried this often before the reader gives up (and renders seeded values). */
const SEQLOCK_ATTEMPTS = 1000;

const LOCK_INDEX = 0;
const HEADER_WORDS = 1;
/**
 * Slot row (Int32): state, seqlock counter, hash, list kind, path length, flags, last
 * task count, averages, and the last sample's running and blocked counts and newest task.
 */
const Col = { STATE: 0, SEQ: 1, HASH_LO: 2, HASH_HI: 3, KIND: 4, PATH_LEN: 5, FLAGS: 6, TASKS: 7, AVG: 8, RUNNING: 11, BLOCKED: 12, NEWEST_TID: 13 } as const;
const ROW = 14;
/** Slot times (BigInt64, ms): last read by a view, averages last advanced by the sampler. */
const Time = { READ_AT: 0, SAMPLED_AT: 1 } as const;
const TIMES = 2;

const State = { FREE: 0, READY: 1, TOMBSTONE: 2 } as const;
/** The averages hold values (a seed or samples); an unseeded slot is seeded at its first sample. */
const FLAG_SEEDED = 1;
const KIND_CODES: Readonly<Record<TaskListFile, number>> = { tasks: 1, 'cgroup.threads': 2 };
const KIND_FILES: Readonly<Record<number, TaskListFile>> = { 1: 'tasks', 2: 'cgroup.threads' };

/** What a worker receives to attach to the table (structured-clone safe). */
export interface LoadavgMemory {
  readonly words: SharedArrayBuffer;
  readonly times: SharedArrayBuffer;
  readonly paths: SharedArrayBuffer;
  /** Per slot, the context switches the last sample counted (Float64: they outgrow 32 bits). */
  readonly switches: SharedArrayBuffer;
}

export function allocateLoadavgMemory(capacity = LOADAVG_TABLE_CAPACITY): LoadavgMemory {
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`bad loadavg table capacity ${capacity}`);
  return {
    words: new SharedArrayBuffer((HEADER_WORDS + capacity * ROW) * Int32Array.BYTES_PER_ELEMENT),
    times: new SharedArrayBuffer(capacity * TIMES * BigInt64Array.BYTES_PER_ELEMENT),
    paths: new SharedArrayBuffer(capacity * LOADAVG_PATH_BYTES),
    switches: new SharedArrayBuffer(capacity * Float64Array.BYTES_PER_ELEMENT),
  };
}

/** A cgroup's key: its task-list directory and which list file it has. */
export interface TaskListKey {
  readonly dir: string;
  readonly file: TaskListFile;
}

/** A count of a cgroup's tasks: running plus uninterruptible, and all. */
export interface TaskCount {
  readonly active: number;
  readonly total: number;
}

/** What the sampler counted at a cgroup's last sample, for views that do not count a large cgroup's tasks themselves. */
export interface SampledTasks {
  readonly running: number;
  readonly blocked: number;
  readonly total: number;
  /** Host thread id of the task that started last among those read (0: none). */
  readonly newestTid: number;
  /** The tasks' context switches (scaled like the counts). */
  readonly switches: number;
}

/** A cgroup's averages and last sample, as a view reads them. */
export interface SampledFigures {
  readonly averages: LoadAverages;
  readonly tasks: SampledTasks;
  /** False until the sampler has counted the cgroup's tasks once. */
  readonly sampled: boolean;
}

/** A registered cgroup as the sampler sees it. */
export interface SlotEntry extends TaskListKey {
  readonly averages: LoadAverages;
  readonly seeded: boolean;
  /** Tasks counted at the last sample or seed (predicts the cost of the next sample). */
  readonly tasks: number;
  readonly readAt: number;
  readonly sampledAt: number;
}

/** A slot's contents read consistently under its seqlock. */
interface Snapshot {
  readonly slot: number;
  readonly averages: LoadAverages;
  readonly seeded: boolean;
  readonly tasks: SampledTasks;
}

interface EncodedKey {
  readonly bytes: Buffer;
  readonly kind: number;
  readonly lo: number;
  readonly hi: number;
}

function encodeKey(key: TaskListKey): EncodedKey {
  const kind = KIND_CODES[key.file];
  const bytes = Buffer.from(key.dir, 'utf8');
  const { lo, hi } = fnv1a64(Buffer.concat([bytes, Buffer.of(kind)]));
  return { bytes, kind, lo: lo | 0, hi: hi | 0 };
}

export class LoadavgTable {
  private readonly words: Int32Array;
  private readonly times: BigInt64Array;
  private readonly paths: Buffer;
  private readonly switches: Float64Array;
  readonly capacity: number;

  constructor(memory: LoadavgMemory) {
    this.words = new Int32Array(memory.words);
    this.times = new BigInt64Array(memory.times);
    this.paths = Buffer.from(memory.paths);
    this.switches = new Float64Array(memory.switches);
    this.capacity = this.times.length / TIMES;
  }

  /**
   * The averages of a cgroup, marking it read at `now`. A new cgroup is registered
   * with averages seeded from `census`. Undefined when the table holds no averages
   * for it (full, path too long, not sampled yet): the caller shows seeded values.
   */
  read(key: TaskListKey, now: number, census: TaskCount | (() => TaskCount)): LoadAverages | undefined {
    const found = this.markRead(key, now, census);
    return found?.seeded === true ? found.averages : undefined;
  }

  /**
   * The sampler's figures for a cgroup, marking it read at `now`; a new cgroup is
   * registered for the sampler to count (averages 0 until then). Undefined when the
   * table cannot hold it (full, path too long).
   */
  sampled(key: TaskListKey, now: number): SampledFigures | undefined {
    const found = this.markRead(key, now);
    return found && { averages: found.averages, tasks: found.tasks, sampled: found.seeded };
  }

  /** The task count of a registered cgroup's last sample or seed, without marking it read; undefined when not registered. */
  taskCount(key: TaskListKey): number | undefined {
    return this.find(encodeKey(key))?.tasks.total;
  }

  /**
   * The key's slot, claimed if new (seeded from `census` when given, counted only when
   * this call claims it: a warm start may count twice), marked read at `now`.
   */
  private markRead(key: TaskListKey, now: number, census?: TaskCount | (() => TaskCount)): Snapshot | undefined {
    const encoded = encodeKey(key);
    let found = this.find(encoded);
    if (found === undefined) {
      const slot = this.claim(encoded, now, typeof census === 'function' ? census() : census);
      found = slot === undefined ? undefined : this.snapshot(slot, encoded);
    }
    if (found === undefined) return undefined;
    Atomics.store(this.times, found.slot * TIMES + Time.READ_AT, BigInt(Math.floor(now)));
    return found;
  }

  /** Registers a cgroup, seeded from `census` or left for the sampler to seed; its slot, or undefined when full. */
  register(key: TaskListKey, now: number, census?: TaskCount): number | undefined {
    return this.claim(encodeKey(key), now, census);
  }

  /** The registered cgroup in `slot`, for the sampler (main thread); undefined for a free slot. */
  entry(slot: number): SlotEntry | undefined {
    const row = this.row(slot);
    if (Atomics.load(this.words, row + Col.STATE) !== State.READY) return undefined;
    const length = this.words[row + Col.PATH_LEN]!;
    const start = slot * LOADAVG_PATH_BYTES;
    return {
      dir: this.paths.toString('utf8', start, start + length),
      file: KIND_FILES[this.words[row + Col.KIND]!]!,
      averages: this.averagesAt(row),
      seeded: (this.words[row + Col.FLAGS]! & FLAG_SEEDED) !== 0,
      tasks: this.words[row + Col.TASKS]!,
      readAt: Number(Atomics.load(this.times, slot * TIMES + Time.READ_AT)),
      sampledAt: Number(Atomics.load(this.times, slot * TIMES + Time.SAMPLED_AT)),
    };
  }

  /** Stores new averages and the sample's counts (main thread only, the single writer of a ready slot). */
  publish(slot: number, averages: LoadAverages, tasks: SampledTasks, sampledAt: number): void {
    const row = this.row(slot);
    this.write(row, () => {
      averages.forEach((value, i) => Atomics.store(this.words, row + Col.AVG + i, value));
      Atomics.store(this.words, row + Col.TASKS, tasks.total);
      Atomics.store(this.words, row + Col.RUNNING, tasks.running);
      Atomics.store(this.words, row + Col.BLOCKED, tasks.blocked);
      Atomics.store(this.words, row + Col.NEWEST_TID, tasks.newestTid);
      // Under the seqlock with the rest; Float64 has no atomics, the sequence check covers it.
      this.switches[slot] = tasks.switches;
      Atomics.or(this.words, row + Col.FLAGS, FLAG_SEEDED);
    });
    Atomics.store(this.times, slot * TIMES + Time.SAMPLED_AT, BigInt(Math.floor(sampledAt)));
  }

  /** Frees slots (main thread): tombstones keep probe chains intact; trailing ones become free again. */
  free(slots: readonly number[]): void {
    if (slots.length === 0) return;
    this.locked(() => {
      for (const slot of slots) {
        const row = this.row(slot);
        this.write(row, () => Atomics.store(this.words, row + Col.STATE, State.TOMBSTONE));
      }
      this.reclaimTombstones();
    });
  }

  /** Slots in use (for logs and tests). */
  used(): number {
    let n = 0;
    for (let slot = 0; slot < this.capacity; slot++) if (this.entry(slot) !== undefined) n++;
    return n;
  }

  /** Finds or claims the key's slot under the mutex, so two workers never claim one cgroup twice. */
  private claim(key: EncodedKey, now: number, census?: TaskCount): number | undefined {
    if (key.bytes.length > LOADAVG_PATH_BYTES) return undefined;
    return this.locked(() => {
      let insertAt: number | undefined;
      for (let probe = 0; probe < this.capacity; probe++) {
        const slot = this.probeSlot(key, probe);
        const state = Atomics.load(this.words, this.row(slot) + Col.STATE);
        if (state === State.READY && this.holds(slot, key)) return slot;
        if (state !== State.READY) insertAt ??= slot;
        if (state === State.FREE) break;
      }
      if (insertAt !== undefined) this.fill(insertAt, key, now, census);
      return insertAt;
    });
  }

  /** Lock-free lookup; a probe stops at the first free slot. */
  private find(key: EncodedKey): Snapshot | undefined {
    for (let probe = 0; probe < this.capacity; probe++) {
      const slot = this.probeSlot(key, probe);
      const state = Atomics.load(this.words, this.row(slot) + Col.STATE);
      if (state === State.FREE) return undefined;
      if (state !== State.READY) continue;
      const found = this.snapshot(slot, key);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** The slot's averages if it holds `key`, read consistently under its seqlock. */
  private snapshot(slot: number, key: EncodedKey): Snapshot | undefined {
    const row = this.row(slot);
    const w = this.words;
    for (let attempt = 0; attempt < SEQLOCK_ATTEMPTS; attempt++) {
      const seq = Atomics.load(w, row + Col.SEQ);
      if (seq % 2 !== 0) continue;
      const holds = Atomics.load(w, row + Col.STATE) === State.READY && this.holds(slot, key);
      const averages = this.averagesAt(row);
      const seeded = (Atomics.load(w, row + Col.FLAGS) & FLAG_SEEDED) !== 0;
      const tasks = {
        running: Atomics.load(w, row + Col.RUNNING),
        blocked: Atomics.load(w, row + Col.BLOCKED),
        total: Atomics.load(w, row + Col.TASKS),
        newestTid: Atomics.load(w, row + Col.NEWEST_TID),
        switches: this.switches[slot]!,
      };
      if (Atomics.load(w, row + Col.SEQ) === seq) return holds ? { slot, averages, seeded, tasks } : undefined;
    }
    return undefined;
  }

  private holds(slot: number, key: EncodedKey): boolean {
    const row = this.row(slot);
    if (this.words[row + Col.HASH_LO] !== key.lo || this.words[row + Col.HASH_HI] !== key.hi) return false;
    if (this.words[row + Col.KIND] !== key.kind || this.words[row + Col.PATH_LEN] !== key.bytes.length) return false;
    const start = slot * LOADAVG_PATH_BYTES;
    return this.paths.compare(key.bytes, 0, key.bytes.length, start, start + key.bytes.length) === 0;
  }

  private averagesAt(row: number): LoadAverages {
    const w = this.words;
    return [Atomics.load(w, row + Col.AVG), Atomics.load(w, row + Col.AVG + 1), Atomics.load(w, row + Col.AVG + 2)];
  }

  /** Writes a claimed slot (under the mutex); it becomes visible when its state turns READY. */
  private fill(slot: number, key: EncodedKey, now: number, census?: TaskCount): void {
    const row = this.row(slot);
    const w = this.words;
    this.write(row, () => {
      key.bytes.copy(this.paths, slot * LOADAVG_PATH_BYTES);
      Atomics.store(w, row + Col.HASH_LO, key.lo);
      Atomics.store(w, row + Col.HASH_HI, key.hi);
      Atomics.store(w, row + Col.KIND, key.kind);
      Atomics.store(w, row + Col.PATH_LEN, key.bytes.length);
      Atomics.store(w, row + Col.FLAGS, census === undefined ? 0 : FLAG_SEEDED);
      Atomics.store(w, row + Col.TASKS, census?.total ?? 0);
      Atomics.store(w, row + Col.RUNNING, 0);
      Atomics.store(w, row + Col.BLOCKED, 0);
      Atomics.store(w, row + Col.NEWEST_TID, 0);
      this.switches[slot] = 0;
      seededAverages(census?.active ?? 0).forEach((value, i) => Atomics.store(w, row + Col.AVG + i, value));
      Atomics.store(this.times, slot * TIMES + Time.READ_AT, BigInt(Math.floor(now)));
      Atomics.store(this.times, slot * TIMES + Time.SAMPLED_AT, BigInt(Math.floor(now)));
      Atomics.store(w, row + Col.STATE, State.READY);
    });
  }

  /** A tombstone followed by a free slot ends no probe chain that needs it (linear probing). */
  private reclaimTombstones(): void {
    for (let pass = 0; pass < 2; pass++) {
      for (let slot = this.capacity - 1; slot >= 0; slot--) {
        const row = this.row(slot);
        const next = this.row((slot + 1) % this.capacity);
        if (this.words[row + Col.STATE] === State.TOMBSTONE && this.words[next + Col.STATE] === State.FREE) {
          this.write(row, () => Atomics.store(this.words, row + Col.STATE, State.FREE));
        }
      }
    }
  }

  /** The seqlock's write side: odd while the row changes. */
  private write(row: number, change: () => void): void {
    Atomics.add(this.words, row + Col.SEQ, 1);
    try {
      change();
    } finally {
      Atomics.add(this.words, row + Col.SEQ, 1);
    }
  }

  /** Linear probing from the slot the hash picks. */
  private probeSlot(key: EncodedKey, probe: number): number {
    return ((key.lo >>> 0) + probe) % this.capacity;
  }

  private row(slot: number): number {
    return HEADER_WORDS + slot * ROW;
  }

  private locked<T>(fn: () => T): T {
    return withLock(this.words, LOCK_INDEX, fn);
  }
}
