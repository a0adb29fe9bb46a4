// Advances the load averages of the cgroups readers care about, on the daemon's main
// thread every LOAD_FREQ, like the kernel's calc_global_load but per cgroup.
//
// Bounded cost with hundreds of containers (lxcfs samples every container's every
// thread each 5 s and freezes past ~250 containers, lxcfs #504):
// - only cgroups read in the last EXPIRY_MS are sampled; a cgroup nobody reads costs nothing,
//   and a cgroup first read gets averages warm-started from its current task count;
// - each tick samples at most `budget.cgroups` cgroups and about `budget.tasks` tasks, in
//   round robin, so every cgroup is sampled eventually; a cgroup skipped for k ticks is
//   caught up with calc_load_n over the k+1 intervals at its next sample (its samples are
//   spaced further apart, so short bursts between them are missed).
import { activeTasks } from '../cgroup/tasks.js';
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
  /** Tasks read per tick: a cgroup is sampled only if its last count fits (the first of a tick always is). */
  readonly tasks: number;
}

/** At ~12 us per /proc/<tid>/stat read, 16384 tasks cost ~0.2 s of the main thread per tick. */
export const DEFAULT_SAMPLER_BUDGET: SamplerBudget = { cgroups: 256, tasks: 16_384 };

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
  /** Where the next tick starts: the first cgroup the last tick's budget skipped. */
  private cursor = 0;

  constructor(
    memory: LoadavgMemory,
    private readonly procRoot: string,
    private readonly now: () => number = monotonicMs,
    private readonly budget: SamplerBudget = DEFAULT_SAMPLER_BUDGET,
  ) {
    this.table = new LoadavgTable(memory);
  }

  tick(): TickResult {
    const now = this.now();
    const freed: number[] = [];
    let sampled = 0;
    let skipped = 0;
    let failed = 0;
    let tasksLeft = this.budget.tasks;
    let resumeAt: number | undefined;
    for (let i = 0; i < this.table.capacity; i++) {
      const slot = (this.cursor + i) % this.table.capacity;
      const entry = this.table.entry(slot);
      if (entry === undefined) continue;
      const steps = stepsDue(entry, now);
      if (now - entry.readAt >= LOADAVG_EXPIRY_MS) {
        freed.push(slot);
      } else if (steps === 0) {
        continue;
      } else if (sampled >= this.budget.cgroups || (sampled > 0 && entry.tasks > tasksLeft)) {
        skipped++;
        resumeAt ??= slot;
      } else {
        const outcome = this.sample(slot, entry, steps, now);
        if (typeof outcome === 'number') {
          sampled++;
          tasksLeft -= outcome;
        } else {
          freed.push(slot);
          if (outcome === 'failed') failed++;
        }
      }
    }
    this.table.free(freed);
    this.cursor = resumeAt ?? this.cursor;
    return { sampled, skipped, freed: freed.length, failed };
  }

  /**
   * Counts the cgroup's active tasks and advances its averages; the tasks read. A removed
   * cgroup, or one whose tasks cannot be read, loses its slot: its next reader registers it afresh.
   */
  private sample(slot: number, entry: SlotEntry, steps: number, now: number): number | 'gone' | 'failed' {
    let count: { active: number; total: number } | undefined;
    try {
      count = activeTasks(this.procRoot, entry, this.budget.tasks);
    } catch {
      return 'failed';
    }
    if (count === undefined) return 'gone';
    const averages = entry.seeded ? advanceAverages(entry.averages, count.active, steps) : seededAverages(count.active);
    this.table.publish(slot, averages, count.total, now);
    return count.total;
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
