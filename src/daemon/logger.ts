// The one pino root: JSON lines on stdout for journald, a child per component.
// Each thread builds its own root with a synchronous destination, so a log line from a
// worker is written by that worker and is never lost when the process exits.

import { pino, type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      name: 'cgprocfs',
      level,
      base: { pid: process.pid, ...bindings },
      // bigint fields (fuse uniques, node ids) are logged as strings by the callers.
      serializers: { err: pino.stdSerializers.err },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
