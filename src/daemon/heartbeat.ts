// Whether a server still answers (issue 18): each serving thread marks, in memory the
// server's threads share, when it waits for the kernel and each request it finishes;
// the server's main thread reads that every second and, while some thread can answer,
// tells the supervisor so over the IPC channel. A supervisor that hears nothing for
// HUNG_AFTER_MS replaces the server as it replaces a crashed one.

import type { Connection, RequestHandler } from '../fuse/device.js';

/** How often a server that can answer says so. */
export const HEARTBEAT_MS = 1_000;
/** A server silent this long is stopped, hung or stuck: the supervisor replaces it (README). */
export const HUNG_AFTER_MS = 5_000;
/**
 * How long one request may keep a thread busy before the thread counts as stuck: a long
 * rendering (a container of 20,000 threads, a loaded machine) is not a hang, so this is
 * far above any rendering measured (tens of ms), and a server is judged by it only when
 * every thread is stuck (README).
 */
export const STUCK_REQUEST_MS = 30_000;

/** Per thread: requests finished (wrapping), and 1 while it waits for the kernel. */
const WORDS_PER_THREAD = 2;
const PROGRESS = 0;
const WAITING = 1;

export function allocateBeats(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * WORDS_PER_THREAD * 4);
}

/** What one serving thread writes. */
export class ThreadBeat {
  private readonly words: Int32Array;
  private readonly at: number;

  constructor(beats: SharedArrayBuffer, index: number) {
    this.words = new Int32Array(beats);
    this.at = index * WORDS_PER_THREAD;
  }

  waiting(on: boolean): void {
    Atomics.store(this.words, this.at + WAITING, on ? 1 : 0);
  }

  finished(): void {
    Atomics.add(this.words, this.at + PROGRESS, 1);
  }
}

/** The connection, marking the thread as waiting while it blocks in read(). */
export function beatingConnection(connection: Connection, beat: ThreadBeat): Connection {
  return {
    read(buf) {
      beat.waiting(true);
      try {
        return connection.read(buf);
      } finally {
        beat.waiting(false);
      }
    },
    write: (reply) => connection.write(reply),
  };
}

/** The handler, counting each request it finishes. */
export function beatingHandler(handler: RequestHandler, beat: ThreadBeat): RequestHandler {
  return {
    handle(request) {
      const reply = handler.handle(request);
      beat.finished();
      return reply;
    },
    replyDropped: (request, reply) => handler.replyDropped(request, reply),
  };
}

/** What the server's main thread reads: can any serving thread answer? */
export class LivenessWatch {
  private readonly words: Int32Array;
  private readonly seen: { progress: number; at: number }[];

  constructor(beats: SharedArrayBuffer, private readonly now: () => number, private readonly stuckMs = STUCK_REQUEST_MS) {
    this.words = new Int32Array(beats);
    const start = now();
    this.seen = Array.from({ length: this.words.length / WORDS_PER_THREAD }, () => ({ progress: 0, at: start }));
  }

  /** True while some thread waits for requests or finished one within the last `stuckMs`. */
  canAnswer(): boolean {
    const now = this.now();
    let answers = false;
    this.seen.forEach((seen, index) => {
      const progress = Atomics.load(this.words, index * WORDS_PER_THREAD + PROGRESS);
      if (progress !== seen.progress) Object.assign(seen, { progress, at: now });
      const waiting = Atomics.load(this.words, index * WORDS_PER_THREAD + WAITING) === 1;
      if (waiting) seen.at = now;
      if (waiting || now - seen.at < this.stuckMs) answers = true;
    });
    return answers;
  }
}
