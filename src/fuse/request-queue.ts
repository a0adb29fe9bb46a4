// Requests read from /dev/fuse ahead of serving them, in memory the serving workers of
// one server share, and served so that every class of requester (a container) gets its
// turn. The kernel keeps one FIFO queue per connection, shared by every reader of every
// mount of it: 32 readers in one container put up to 32 requests ahead of each request
// of a quiet container (issue 17). Taken out of the kernel's queue as soon as a worker
// is free, requests here are served oldest first within a class, and the class served
// longest ago first. A request read here stays in the kernel's processing list until
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
const HEADER = 3;
/** Per slot: state, class, length, arrival. */
const Col = { STATE: 0, CLASS: 1, LENGTH: 2, ARRIVAL: 3 } as const;
const ROW = 4;
const State = { FREE: 0, FILLING: 1, QUEUED: 2, SERVING: 3 } as const;
/** Above any count of turns a 32-bit clock can hold. */
const NEVER_SERVED = 2 ** 32;

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

  /** A free slot to read a request into, held by the caller until published or given back; undefined when full. */
  reserve(): number | undefined {
    return this.locked(() => {
      for (let slot = 0; slot < this.slots; slot++) {
        if (this.words[this.row(slot) + Col.STATE] === State.FREE) {
          this.words[this.row(slot) + Col.STATE] = State.FILLING;
          return slot;
        }
      }
      return undefined;
    });
  }

  /** The buffer of a slot (the whole of it to read into; the request's bytes once published). */
  buffer(slot: number, length = this.bufferBytes): Buffer {
    return this.buffers.subarray(slot * this.bufferBytes, slot * this.bufferBytes + length);
  }

  /** Queues the `length` bytes read into `slot` as a request of class `cls`. */
  publish(slot: number, length: number, cls: number): void {
    this.locked(() => {
      const row = this.row(slot);
      this.words[row + Col.CLASS] = cls;
      this.words[row + Col.LENGTH] = length;
      this.words[row + Col.ARRIVAL] = ++this.words[ARRIVALS]!;
      this.words[row + Col.STATE] = State.QUEUED;
    });
  }

  /**
   * The next request to serve, marked as being served: of the classes waiting, the one
   * whose last turn is oldest (a class new to the queue first), its oldest request.
   */
  take(): { slot: number; request: Buffer } | undefined {
    const slot = this.locked(() => {
      let best: number | undefined;
      let bestWait = 0;
      let bestArrival = 0;
      for (let slot = 0; slot < this.slots; slot++) {
        const row = this.row(slot);
        if (this.words[row + Col.STATE] !== State.QUEUED) continue;
        const wait = this.turnsSince(this.words[row + Col.CLASS]!);
        const arrival = this.words[row + Col.ARRIVAL]!;
        // Counters wrap: ages are compared as differences.
        if (best === undefined || wait > bestWait || (wait === bestWait && ((arrival - bestArrival) | 0) < 0)) {
          best = slot;
          bestWait = wait;
          bestArrival = arrival;
        }
      }
      if (best === undefined) return undefined;
      const row = this.row(best);
      this.words[row + Col.STATE] = State.SERVING;
      this.giveTurn(this.words[row + Col.CLASS]!);
      return best;
    });
    return slot === undefined ? undefined : { slot, request: this.buffer(slot, this.words[this.row(slot) + Col.LENGTH]) };
  }

  /** Gives a slot back once its request is answered (or its read failed). */
  free(slot: number): void {
    this.locked(() => {
      this.words[this.row(slot) + Col.STATE] = State.FREE;
    });
  }

  /** Requests queued and not yet taken. */
  waiting(): number {
    let n = 0;
    for (let slot = 0; slot < this.slots; slot++) if (Atomics.load(this.words, this.row(slot) + Col.STATE) === State.QUEUED) n++;
    return n;
  }

  /** Turns handed out since a class was last served; more than any for a class not served lately (it goes first). */
  private turnsSince(cls: number): number {
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
