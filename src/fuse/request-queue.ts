// Requests read from /dev/fuse ahead of serving them, in memory the serving workers of
// one server share, and served so that every class of requester (a container) gets its
// turn. The kernel keeps one FIFO queue per connection, shared by every reader of every
// mount of it: 32 readers in one container put up to 32 requests ahead of each request
// of a quiet container (issue 17). Taken out of the kernel's queue as soon as a worker
// is free, requests here are served oldest first within a class, and the class served
// longest ago first; requests of no requester (class 0: the RELEASE of a closed file,
// FORGET) go before all, as nobody waits for them and they give back what a
// container holds. A request read here stays in the kernel's processing list until
// answered, so a server that dies with requests queued here has them re-sent to its
// successor (FUSE_NOTIFY_RESEND), like any request it held.
import { withLock } from '../shared/mutex.js';
import { REQUEST_BUFFER_SIZE } from './abi.js';

/** Room for every request a flood can have in flight: a reader each, and the kernel's 16 background ones. */
export const DEFAULT_QUEUE_SLOTS = 64;
/** Classes whose last turn is remembered; two classes sharing an entry share their turns. */
const TURNS = 256;

const LOCK = 0;
/** Counts turns handed out: a class's last turn is the count when it was served. */
const CLOCK = 1;
/** Counts requests queued, so age breaks ties within a class and between equal turns. */
const ARRIVALS = 2;
/** Requests queued and not yet taken: read without the lock to skip an empty queue. */
const QUEUED = 3;
const HEADER = 4;
/** Per slot: state, class, length, arrival. */
const Col = { STATE: 0, CLASS: 1, LENGTH: 2, ARRIVAL: 3 } as const;
const ROW = 4;
const State = { FREE: 0, QUEUED: 1, SERVING: 2 } as const;
/** Above any count of turns a 32-bit clock can hold. */
const NEVER_SERVED = 2 ** 32;
/** The class of requests no process waits for (the kernel sends them with pid 0): served first. */
export const NO_REQUESTER = 0;

/** What a worker receives to attach to the queue (structured-clone safe). */
export interface RequestQueueMemory {
  readonly words: SharedArrayBuffer;
  /** Per class-table entry: the class and its last turn. */
  readonly turns: SharedArrayBuffer;
  readonly buffers: SharedArrayBuffer;
}

export function allocateRequestQueue(slots = DEFAULT_QUEUE_SLOTS, bufferBytes = REQUEST_BUFFER_SIZE): RequestQueueMemory {
  return {
    words: new SharedArrayBuffer((HEADER + slots * ROW) * 4),
    turns: new SharedArrayBuffer(TURNS * 2 * 4),
    buffers: new SharedArrayBuffer(slots * bufferBytes),
  };
}

/**
 * The queue as one worker uses it: one lock taken to queue a request, one to take the
 * next and give back the slot of the one before (the lock is shared by every worker,
 * so each taking counts).
 */
export class RequestQueue {
  private readonly words: Int32Array;
  private readonly turns: Int32Array;
  private readonly buffers: Buffer;
  readonly slots: number;
  readonly bufferBytes: number;

  constructor(memory: RequestQueueMemory) {
    this.words = new Int32Array(memory.words);
    this.turns = new Int32Array(memory.turns);
    this.buffers = Buffer.from(memory.buffers);
    this.slots = (this.words.length - HEADER) / ROW;
    this.bufferBytes = this.buffers.length / this.slots;
  }

  /** Requests queued and not yet taken (without the lock: a hint). */
  queued(): number {
    return Atomics.load(this.words, QUEUED);
  }

  /** Queues a copy of `request` as one of class `cls`; false when the queue is full. */
  push(request: Buffer, cls: number): boolean {
    return this.locked(() => {
      for (let slot = 0; slot < this.slots; slot++) {
        const row = this.row(slot);
        if (this.words[row + Col.STATE] !== State.FREE) continue;
        request.copy(this.buffers, slot * this.bufferBytes);
        this.words[row + Col.CLASS] = cls;
        this.words[row + Col.LENGTH] = request.length;
        this.words[row + Col.ARRIVAL] = ++this.words[ARRIVALS]!;
        this.words[row + Col.STATE] = State.QUEUED;
        this.words[QUEUED]!++;
        return true;
      }
      return false;
    });
  }

  /**
   * Gives back the slot of the request served before (`done`), and takes the next to
   * serve: of the classes waiting, the one whose last turn is oldest (a class new to
   * the queue first), its oldest request. Its bytes are valid until its slot is given back.
   */
  take(done?: number): { slot: number; request: Buffer } | undefined {
    if (done === undefined && this.queued() === 0) return undefined;
    const slot = this.locked(() => {
      if (done !== undefined) this.words[this.row(done) + Col.STATE] = State.FREE;
      return this.words[QUEUED] === 0 ? undefined : this.takeFairest();
    });
    if (slot === undefined) return undefined;
    const start = slot * this.bufferBytes;
    return { slot, request: this.buffers.subarray(start, start + this.words[this.row(slot) + Col.LENGTH]!) };
  }

  /** Marks the fairest queued request as being served. Under the lock; something is queued. */
  private takeFairest(): number {
    let best = -1;
    let bestWait = 0;
    let bestArrival = 0;
    for (let slot = 0; slot < this.slots; slot++) {
      const row = this.row(slot);
      if (this.words[row + Col.STATE] !== State.QUEUED) continue;
      const wait = this.turnsSince(this.words[row + Col.CLASS]!);
      const arrival = this.words[row + Col.ARRIVAL]!;
      // Counters wrap: ages are compared as differences.
      if (best < 0 || wait > bestWait || (wait === bestWait && ((arrival - bestArrival) | 0) < 0)) {
        best = slot;
        bestWait = wait;
        bestArrival = arrival;
      }
    }
    const row = this.row(best);
    this.words[row + Col.STATE] = State.SERVING;
    this.words[QUEUED]!--;
    this.giveTurn(this.words[row + Col.CLASS]!);
    return best;
  }

  /**
   * Turns handed out since a class was last served; more than any for a class not
   * served lately (it goes first), and more still for requests of no requester.
   */
  private turnsSince(cls: number): number {
    if (cls === NO_REQUESTER) return NEVER_SERVED + 1;
    const entry = this.turnEntry(cls);
    return this.turns[entry] === cls ? (this.words[CLOCK]! - this.turns[entry + 1]!) >>> 0 : NEVER_SERVED;
  }

  private giveTurn(cls: number): void {
    const entry = this.turnEntry(cls);
    this.turns[entry] = cls;
    this.turns[entry + 1] = ++this.words[CLOCK]!;
  }

  private turnEntry(cls: number): number {
    return ((cls >>> 0) % TURNS) * 2;
  }

  private row(slot: number): number {
    return HEADER + slot * ROW;
  }

  private locked<T>(fn: () => T): T {
    return withLock(this.words, LOCK, fn);
  }
}

/** Requests of a requester (class 0 aside) that tell whether one class floods the others. */
const WINDOW = 64;
/** A class with this share of the window while another class reads too: turns are taken. */
const DOMINANT_SHARE = 3 / 4;

/**
 * Whether requests should take turns, judged by one worker from the requests it
 * served: only when one class sends most of them while another reads too (a flood
 * beside a quiet container). Otherwise the kernel's order is as fair, and taking
 * requests out of the kernel first costs a poll(2) and a queue round trip each, about
 * a quarter more CPU per read when 8 containers read at once.
 */
export class FloodWatch {
  private readonly recent = new Int32Array(WINDOW);
  private readonly counts = new Map<number, number>();
  private next = 0;
  private seen = 0;

  /** Counts a request of class `cls` (class 0, no requester, is left out). */
  record(cls: number): void {
    if (cls === NO_REQUESTER) return;
    if (this.seen === WINDOW) {
      const old = this.recent[this.next]!;
      const left = this.counts.get(old)! - 1;
      if (left === 0) this.counts.delete(old);
      else this.counts.set(old, left);
    } else {
      this.seen++;
    }
    this.recent[this.next] = cls;
    this.next = (this.next + 1) % WINDOW;
    this.counts.set(cls, (this.counts.get(cls) ?? 0) + 1);
  }

  /** Whether one class floods while another reads too. */
  flooded(): boolean {
    if (this.counts.size < 2) return false;
    for (const count of this.counts.values()) if (count >= this.seen * DOMINANT_SHARE) return true;
    return false;
  }
}
