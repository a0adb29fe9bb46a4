// The task figures a view shows (running, blocked, total, the newest pid). A container
// of a few hundred tasks is counted at each rendering, exactly; a larger one would
// tie up a serving worker for its whole census (20,000 threads: 27 ms only to list
// them on cgroup v1), so its figures come from the daemon's sampler, which counts it
// every 5 s within a time budget per container, on the main thread (issue 17). A
// serving worker then spends one small read (`pids.current`) on it.
import type { CgroupLayout } from '../cgroup/layout.js';
import { TaskReader } from '../cgroup/task-reader.js';
import { CensusTaker, NO_TASKS, pidsCurrent, type TaskCensus, type TaskList } from '../cgroup/tasks.js';
import type { CgroupView } from '../cgroup/view.js';
import { monotonicMs } from '../shared/clock.js';
import { LruMap } from '../shared/lru.js';
import type { LoadavgTable, SampledTasks } from './table.js';

/** A container of at most this many tasks is counted at each rendering (about 1-2 ms). */
export const COUNTED_TASKS = 256;
/**
 * Time a rendering may spend reading a counted container's tasks: past it, what was
 * read is scaled (a loaded machine, or a container that grew since its size was seen).
 */
export const CENSUS_BUDGET_MS = 2;
/** Newest pids remembered for sampled containers whose newest task has exited. */
const LAST_PIDS_LIMIT = 4096;

export interface ContainerTasksOptions {
  /**
   * The table the daemon's sampler fills; without one (the render command), every
   * container is counted, without a time budget.
   */
  readonly table?: LoadavgTable;
  /** The load clock, ms (registrations and reads in the table). */
  readonly now?: () => number;
  /** Measures census time against the budget. */
  readonly workClock?: () => number;
}

/** Task figures for the views of one thread. */
export class ContainerTasks {
  private readonly censuses: CensusTaker;
  private readonly lastPids = new LruMap<string, number>(LAST_PIDS_LIMIT);
  private readonly now: () => number;

  constructor(private readonly layout: CgroupLayout, procRoot: string, private readonly options: ContainerTasksOptions = {}) {
    this.censuses = new CensusTaker(new TaskReader(procRoot), options.workClock ?? monotonicMs);
    this.now = options.now ?? monotonicMs;
  }

  /** The cheap task reader (through /proc/<tgid>/task/<tid>, issue 17) its censuses use. */
  get reader(): TaskReader {
    return this.censuses.reader;
  }

  /**
   * The tasks of the view's cgroup subtree listed at `list`; `nsLevel` picks which
   * NSpid entry newestNsPid reports (default: the innermost); with `switches`, their
   * context switches are counted too.
   */
  census(list: TaskList, view: CgroupView, nsLevel?: number, switches = false): TaskCensus {
    const { table } = this.options;
    if (table === undefined) return this.censuses.census(list, { nsLevel, switches }) ?? NO_TASKS;
    const size = pidsCurrent(this.layout, view) ?? table.taskCount(list);
    if (size !== undefined && size > COUNTED_TASKS) {
      const sampled = table.sampled(list, this.now());
      if (sampled !== undefined) return this.fromSampler(list, nsLevel, sampled.sampled ? sampled.tasks : { ...NO_TASKS, total: size });
    }
    const census = this.censuses.census(list, { nsLevel, switches, budgetMs: CENSUS_BUDGET_MS }) ?? NO_TASKS;
    // Without pids.current, the table keeps the size of a container found large, so
    // the next rendering does not list its tasks again.
    if (size === undefined && census.total > COUNTED_TASKS) {
      table.register(list, this.now(), { active: census.running + census.blocked, total: census.total });
    }
    return census;
  }

  /** The sampler's last counts; the newest pid from its newest task, or the last one known. */
  private fromSampler(list: TaskList, nsLevel: number | undefined, tasks: SampledTasks): TaskCensus {
    const key = `${nsLevel ?? 'innermost'}\n${list.dir}`;
    const nspid = tasks.newestTid > 0 ? this.censuses.reader.read(tasks.newestTid)?.nspid : undefined;
    let newestNsPid = nspid === undefined ? undefined : nsLevel === undefined ? nspid.at(-1) : nspid[nsLevel];
    if (newestNsPid === undefined) newestNsPid = this.lastPids.get(key) ?? 0;
    else this.lastPids.set(key, newestNsPid);
    return { running: tasks.running, blocked: tasks.blocked, total: tasks.total, newestNsPid, exact: false, switches: tasks.switches };
  }
}
