// One task's state, start time and pids, read the cheapest way the kernel offers. A
// thread id's own /proc/<tid>/stat describes its whole thread group: the kernel walks
// every thread of the process to sum their counters (3.2 ms per read for a thread of a
// 20,000-thread process, issue 17), while /proc/<tgid>/task/<tid>/stat describes the
// one thread (13 µs). So a task's thread group is learnt once, from its status.
import { join } from 'node:path';
import { readOptionalText } from '../host/files.js';
import { pidStatField, statusNumbers } from '../host/pid-files.js';
import { LruMap } from '../shared/lru.js';

/** What a census needs of one task. */
export interface TaskReading {
  /** The kernel's state letter (R, S, D, ...). */
  readonly state: string;
  /** Start time, clock ticks after boot ('' when the stat text was cut short). */
  readonly start: string;
  /** The task's pid in each namespace it is in, outermost first. */
  readonly nspid: readonly number[];
}

interface KnownTask {
  readonly tgid: number;
  readonly start: string;
  readonly nspid: readonly number[];
}

/**
 * Tasks remembered per reader: enough for every task of a host with the default
 * pid_max of 32,768 and then some; about 100 bytes each.
 */
export const KNOWN_TASKS_LIMIT = 65_536;

/** A task's pids (outermost namespace first) from a /proc/<tid>/status text; [] without an NSpid line. */
export function parseTaskNsPids(text: string): number[] {
  return statusNumbers(text, 'NSpid') ?? [];
}

/** The thread group of a /proc/<tid>/status text; undefined without a Tgid line. */
export function parseTaskTgid(text: string): number | undefined {
  const tgid = statusNumbers(text, 'Tgid')?.[0];
  return tgid !== undefined && tgid > 0 ? tgid : undefined;
}

/**
 * The switches of a /proc/<tid>/schedstat text (`run_ns wait_ns pcount`: pcount, the
 * times the task was switched onto a CPU, its voluntary plus involuntary switches, as
 * /proc/<tid>/status shows them); 0 when unreadable or without sched_info ("0 0 0").
 */
export function parseSchedstatSwitches(text: string): number {
  const pcount = Number(text.trim().split(' ')[2]);
  return Number.isSafeInteger(pcount) && pcount >= 0 ? pcount : 0;
}

/** The state letter of a /proc/<tid>/stat text (its field 3). */
export function parseTaskStatState(text: string): string {
  return pidStatField(text, 3)?.charAt(0) ?? '?';
}

/**
 * State letter and start time (field 22, clock ticks after boot) of a /proc/<tid>/stat
 * text; start is '' when the text is cut short.
 */
export function parseTaskStat(text: string): { state: string; start: string } {
  return { state: parseTaskStatState(text), start: pidStatField(text, 22) ?? '' };
}

/**
 * Reads tasks under one proc root, remembering each task's thread group and pids:
 * they never change while it lives, and a thread id that comes back with another
 * start time is another task. One per thread (the serving workers, the sampler).
 */
export class TaskReader {
  private readonly known: LruMap<number, KnownTask>;

  constructor(readonly procRoot: string, limit = KNOWN_TASKS_LIMIT) {
    this.known = new LruMap(limit);
  }

  /** The task now; undefined when it is gone. */
  read(tid: number): TaskReading | undefined {
    const known = this.known.get(tid);
    if (known !== undefined) {
      const reading = this.again(tid, known);
      if (reading !== undefined) return reading;
      // Gone, or the thread id now names a task of another process.
      this.known.delete(tid);
    }
    return this.first(tid);
  }

  /**
   * The task's context switches (the kernel counts them per task only, no cgroup file
   * has them; issue 21), through its thread group's directory; 0 when it is gone.
   */
  switches(tid: number): number {
    const known = this.known.get(tid) ?? (this.read(tid) === undefined ? undefined : this.known.get(tid));
    const dir = known === undefined ? join(this.procRoot, String(tid)) : this.taskDir(known.tgid, tid);
    const text = readOptionalText(join(dir, 'schedstat'));
    return text === undefined ? 0 : parseSchedstatSwitches(text);
  }

  /** A remembered task, through its thread group's directory; undefined when that fails. */
  private again(tid: number, known: KnownTask): TaskReading | undefined {
    const dir = this.taskDir(known.tgid, tid);
    const stat = readOptionalText(join(dir, 'stat'));
    if (stat === undefined) return undefined;
    const { state, start } = parseTaskStat(stat);
    if (start === known.start) return { state, start, nspid: known.nspid };
    // Another task of the same process took the thread id: its pids are its own.
    const status = readOptionalText(join(dir, 'status'), { hold: false });
    if (status === undefined) return undefined;
    return this.remember(tid, known.tgid, { state, start, nspid: parseTaskNsPids(status) });
  }

  /** A task not seen before: its status says its thread group (and pids), then its own stat. */
  private first(tid: number): TaskReading | undefined {
    const status = readOptionalText(join(this.procRoot, String(tid), 'status'), { hold: false });
    if (status === undefined) return undefined;
    const tgid = parseTaskTgid(status) ?? tid;
    const stat = readOptionalText(join(this.taskDir(tgid, tid), 'stat'));
    if (stat === undefined) return undefined;
    return this.remember(tid, tgid, { ...parseTaskStat(stat), nspid: parseTaskNsPids(status) });
  }

  private remember(tid: number, tgid: number, reading: TaskReading): TaskReading {
    if (reading.start !== '') this.known.set(tid, { tgid, start: reading.start, nspid: reading.nspid });
    return reading;
  }

  private taskDir(tgid: number, tid: number): string {
    return join(this.procRoot, String(tgid), 'task', String(tid));
  }
}
