import { describe, expect, it } from 'vitest';
import { allocateBeats, beatingConnection, beatingHandler, LivenessWatch, ThreadBeat } from '../../../src/daemon/heartbeat.js';

const STUCK_MS = 30_000;

function threads(count: number) {
  const beats = allocateBeats(count);
  let now = 0;
  const watch = new LivenessWatch(beats, () => now, STUCK_MS);
  return {
    beat: (index: number) => new ThreadBeat(beats, index),
    watch,
    advance: (ms: number) => (now += ms),
  };
}

describe('a server\'s liveness, read from its serving threads (issue 18)', () => {
  it('can answer while a thread waits for the kernel, however long it has waited', () => {
    const t = threads(2);
    t.beat(0).waiting(true);
    t.advance(10 * STUCK_MS);
    expect(t.watch.canAnswer()).toBe(true);
  });

  it('can answer while a thread busy on one long request has been on it for less than the stuck bound (a long rendering is no hang)', () => {
    const t = threads(1);
    t.advance(STUCK_MS - 1);
    expect(t.watch.canAnswer()).toBe(true);
  });

  it('cannot answer once every thread has been busy on one request for the stuck bound', () => {
    const t = threads(2);
    t.beat(0).waiting(true);
    expect(t.watch.canAnswer()).toBe(true);
    t.beat(0).waiting(false);
    t.advance(STUCK_MS);
    expect(t.watch.canAnswer()).toBe(false);
  });

  it('counts each finished request as progress: a thread serving queued requests for long is not stuck', () => {
    const t = threads(1);
    const beat = t.beat(0);
    for (let i = 0; i < 5; i++) {
      t.advance(STUCK_MS / 2);
      beat.finished();
      expect(t.watch.canAnswer()).toBe(true);
    }
  });

  it('marks the thread waiting exactly while it blocks in read(), and counts each request the handler finishes', () => {
    const t = threads(1);
    const beat = t.beat(0);
    let waitingDuringRead: boolean | undefined;
    const connection = beatingConnection({ read: () => ((waitingDuringRead = t.watch.canAnswer()), 7), write: () => undefined }, beat);
    const handler = beatingHandler({ handle: () => null, replyDropped: () => undefined }, beat);
    t.advance(STUCK_MS);
    expect(connection.read(Buffer.alloc(8))).toBe(7);
    expect(waitingDuringRead).toBe(true);
    expect(t.watch.canAnswer()).toBe(true); // waited just now
    t.advance(STUCK_MS);
    expect(t.watch.canAnswer()).toBe(false);
    handler.handle(Buffer.alloc(0));
    expect(t.watch.canAnswer()).toBe(true);
  });
});
