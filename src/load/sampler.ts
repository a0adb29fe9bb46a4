// Advances the load averages of the cgroups readers care about, on the daemon's main
// thread every LOAD_FREQ, like the kernel's calc_global_load but per cgroup.
//
// Bounded cost with hundreds of containers (lxcfs samples every container's every
// thread each 5 s and freezes past ~250 containers, lxcfs #504):
// - only cgroups read in the last EXPIRY_MS are sampled; a cgroup nobody reads costs nothing,
//   and a cgroup first read gets averages warm-started from its current task count;
// - each tick samples at most `budget.cgroups` cgroups in `budget.tickMs`, in round
//   robin, so every cgroup is sampled eventually; a cgroup skipped for k ticks is
//   caught up with calc_load_n over the k+1 intervals at its next sample (its samples are
//   spaced further apart, so short bursts between them are missed);
// - one cgroup's tasks are read for at most `budget.cgroupMs` per tick: a container with
//   more tasks than that (tens of thousands of threads, issue 17) is counted from the
//   tasks read, scaled to all it lists, and the next tick reads on where this one stopped.
import { CensusTaker, type SampledCensus } from '../cgroup/tasks.js';
import { TaskReader } from '../cgroup/task-reader.js';
import { advanceAverages, seededAverages } from './fixed-point.js';
import { monotonicMs } from '../shared/clock.js';
import { LoadavgTable, type LoadavgMemory, type SlotEntry } from './table.js';

/** The kernel's LOAD_FREQ is 5 s + 1 tick (`5*HZ+1`), so sampling does not beat with 5 s periodic jobs; one tick at HZ=250. */
export const LOAD_FREQ_MS = 5004;
/** A cgroup nobody read for this long is no longer sampled and its slot is freed. */
export const LOADAVG_EXPIRY_MS = 10 * 60 * 1000;

export interface SamplerBudget {
  /** Most cgroups sampled per tick. */
  readonly cgroups: number;
  /** Time for one tick, ms: once spent, no further cgroup is started (the first of a tick always is). */
  readonly tickMs: number;
  /** Time for reading one cgroup's tasks per tick, ms (its listing is not cut short). */
  readonly cgroupMs: number;
}

/**
 * At about 15 µs per task, 25 ms reads some 1,600 tasks of one cgroup, and a tick costs
 * the main thread at most about a quarter second every 5 s (plus one listing per
 * cgroup: 27 ms for 20,000 threads on cgroup v1).
 */
export const DEFAULT_SAMPLER_BUDGET: SamplerBudget = { cgroups: 256, tickMs: 250, cgroupMs: 25 };

export interface TickResult {
  /** Cgroups whose averages advanced (or were seeded) this tick. */
  readonly sampled: number;
  /** Cgroups due for a sample that the budget left for a later tick. */
  readonly skipped: number;
  /** Slots freed: not read for LOADAVG_EXPIRY_MS, their cgroup removed, or unreadable. */
  readonly freed: number;
  /** Of those, cgroups whose tasks could not be read (e.g. EACCES); worth a log line. */
  readonly failed: number;
}

export class LoadavgSampler {
  private readonly table: LoadavgTable;
  private readonly censuses: CensusTaker;
  /** Where the next tick starts: the first cgroup the last tick's budget skipped. */
  private cursor = 0;

  /** `now` is the load clock (intervals, expiry); `workClock` measures the time spent against the budget. */
  constructor(
    memory: LoadavgMemory,
    procRoot: string,
    private readonly now: () => number = monotonicMs,
    private readonly budget: SamplerBudget = DEFAULT_SAMPLER_BUDGET,
    private readonly workClock: () => number = monotonicMs,
  ) {
    this.table = new LoadavgTable(memory);
    this.censuses = new CensusTaker(new TaskReader(procRoot), workClock);
  }

  /**
   * Samples the cgroups due. With `newOnly`, only cgroups registered but never counted
   * (a large container's first reader leaves it to the sampler): run more often than
   * the tick, so their first figures come soon.
   */
  tick({ newOnly = false }: { newOnly?: boolean } = {}): TickResult {
    const now = this.now();
    const started = this.workClock();
    const freed: number[] = [];
    let sampled = 0;
    let skipped = 0;
    let failed = 0;
    let resumeAt: number | undefined;
    for (let i = 0; i < this.table.capacity; i++) {
      const slot = (this.cursor + i) % this.table.capacity;
      const entry = this.table.entry(slot);
      if (entry === undefined || (newOnly && entry.seeded)) continue;
      const steps = stepsDue(entry, now);
      const spentMs = this.workClock() - started;
      if (now - entry.readAt >= LOADAVG_EXPIRY_MS) {
        freed.push(slot);
      } else if (steps === 0) {
        continue;
      } else if (sampled >= this.budget.cgroups || (sampled > 0 && spentMs >= this.budget.tickMs)) {
        skipped++;
        resumeAt ??= slot;
      } else {
        const outcome = this.sample(slot, entry, steps, now, Math.min(this.budget.cgroupMs, Math.max(0, this.budget.tickMs - spentMs)));
        if (outcome === 'sampled') {
          sampled++;
        } else {
          freed.push(slot);
          if (outcome === 'failed') failed++;
        }
      }
    }
    this.table.free(freed);
    if (!newOnly) this.cursor = resumeAt ?? this.cursor;
    return { sampled, skipped, freed: freed.length, failed };
  }

  /**
   * Counts the cgroup's tasks for at most `budgetMs` and advances its averages. A
   * removed cgroup, or one whose tasks cannot be read, loses its slot: its next reader
   * registers it afresh.
   */
  private sample(slot: number, entry: SlotEntry, steps: number, now: number, budgetMs: number): 'sampled' | 'gone' | 'failed' {
    let census: SampledCensus | undefined;
    try {
      census = this.censuses.census(entry, { budgetMs, switches: true });
    } catch {
      return 'failed';
    }
    if (census === undefined) return 'gone';
    const active = census.running + census.blocked;
    const averages = entry.seeded ? advanceAverages(entry.averages, active, steps) : seededAverages(active);
    this.table.publish(slot, averages, census, now);
    return 'sampled';
  }
}

/**
 * LOAD_FREQ intervals since the cgroup's averages were last advanced (rounded, as
 * timers drift); 0 when less than half an interval passed (e.g. a reader just seeded
 * it). An unseeded cgroup is always due.
 */
function stepsDue(entry: SlotEntry, now: number): number {
  if (!entry.seeded) return 1;
  return Math.max(0, Math.round((now - entry.sampledAt) / LOAD_FREQ_MS));
}
