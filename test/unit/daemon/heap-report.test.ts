import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { withHeapReports } from '../../../src/daemon/heap-report.js';
import type { RequestHandler } from '../../../src/fuse/device.js';

function capturingLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, stream), lines };
}

const echo: RequestHandler = { handle: (request) => Buffer.from(request), replyDropped: () => undefined };

describe('withHeapReports', () => {
  it('is the handler itself when debug is off: nothing added per request', () => {
    const { log } = capturingLogger('info');
    expect(withHeapReports(echo, log)).toBe(echo);
  });

  it('at debug, reports the isolate\'s resident heap and its spaces at once, and serves every request through', () => {
    const { log, lines } = capturingLogger('debug');
    const handler = withHeapReports(echo, log);
    expect(handler.handle(Buffer.from('request'))?.toString()).toBe('request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'isolate memory', residentMb: expect.any(Number), usedMb: expect.any(Number), spacesMb: expect.objectContaining({ old_space: expect.any(Number) }) });
    expect(lines[0]!.residentMb as number).toBeGreaterThan(0);
  });
});
