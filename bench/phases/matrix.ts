// Issue 8 item 1: every file at every reader count, readers in their own pid namespace
// and cgroup (plus a row of readers in the host's pid namespace), rounds rotating the
// order of the targets; the floor servers and the host's /proc ride along meminfo.
import type { BenchContext } from '../context.js';
import type { Target, TargetName } from '../daemons.js';
import { Cell, measureRound, type CellSummary } from '../measure.js';
import { ReaderGroup } from '../readers.js';
import { limitMiBOf } from '../cgroups.js';
import { describeRepeat, quieterOfTwo, type PhaseLoad } from '../host-load.js';

export interface MatrixRow {
  file: string;
  readers: number;
  /** 'own': each reader is pid 1 of its own namespace; 'host': readers in the host's. */
  pidns: 'own' | 'host';
  cells: Partial<Record<TargetName, CellSummary>>;
}

export interface MatrixResult {
  rows: MatrixRow[];
  skipped: { file: string; why: string }[];
}

const DAEMONS: readonly TargetName[] = ['cgprocfs', 'lxcfs'];
const REFERENCES: readonly TargetName[] = ['floor-st', 'floor-mt', 'host'];

interface Plan {
  file: string;
  pidns: 'own' | 'host';
  targets: Target[];
}

/** Rotates `items` by `by`: round r starts with a different target. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % Math.max(items.length, 1);
  return [...items.slice(k), ...items.slice(0, k)];
}

function plans(ctx: BenchContext, skipped: MatrixResult['skipped']): { own: Plan[]; host: Plan[] } {
  const own: Plan[] = [];
  const present = (names: readonly TargetName[], file: string) =>
    names.map((n) => ctx.targets.get(n)).filter((t): t is Target => t?.pathOf(file) !== undefined);
  for (const file of ctx.options.files) {
    const cgprocfs = ctx.targets.get('cgprocfs')!;
    if (cgprocfs.pathOf(file) === undefined) {
      skipped.push({ file, why: 'cgprocfs does not serve it (yet)' });
      continue;
    }
    const lxcfs = ctx.targets.get('lxcfs');
    if (lxcfs && lxcfs.pathOf(file) === undefined) skipped.push({ file, why: 'lxcfs does not serve it: cgprocfs alone' });
    const refs = file === 'proc/meminfo' ? present(REFERENCES, file) : [];
    own.push({ file, pidns: 'own', targets: [...present(DAEMONS, file), ...refs] });
  }
  const meminfo = own.find((p) => p.file === 'proc/meminfo');
  const host = meminfo ? [{ file: meminfo.file, pidns: 'host' as const, targets: present(DAEMONS, meminfo.file) }] : [];
  return { own, host };
}

async function runPlans(ctx: BenchContext, readers: ReaderGroup, count: number, list: Plan[], rows: MatrixRow[]): Promise<void> {
  const { options, progress } = ctx;
  for (const plan of list) {
    const cells = new Map(plan.targets.map((t) => [t.name, new Cell(t.name)]));
    for (let round = 0; round < options.rounds; round++) {
      for (const target of rotate(plan.targets, round)) {
        const r = await measureRound(readers.readers, target, plan.file, { durationMs: options.durationMs });
        cells.get(target.name)!.add(r);
        const bad = r.bad + r.errors > 0 ? `  ${r.bad} bad, ${r.errors} errors: ${r.problems[0] ?? ''}` : '';
        progress.step(
          `${count} readers (${plan.pidns === 'own' ? 'own pidns' : 'host pidns'}) ${plan.file} ${target.name} round ${round + 1}: ` +
            `${(r.readsPerSec / 1000).toFixed(1)}k/s p99 ${Math.round(r.hist.quantileNs(0.99) / 1000)} us${bad}`,
        );
      }
    }
    rows.push({
      file: plan.file,
      readers: count,
      pidns: plan.pidns,
      cells: Object.fromEntries([...cells].map(([name, cell]) => [name, cell.summary()])),
    });
  }
}

/** Reader counts from which a row is run again when others outweighed the bench (issue 22 item 3). */
const REPEAT_WHEN_BUSY_FROM = 32;

/** `window` measures the host's load: rows of 32 readers or more run again when others outweighed the bench. */
export async function runMatrix(ctx: BenchContext, window: () => () => PhaseLoad): Promise<MatrixResult> {
  const { options, cgroups, cleanup } = ctx;
  const skipped: MatrixResult['skipped'] = [];
  const { own, host } = plans(ctx, skipped);
  const steps = (list: Plan[]) => list.reduce((a, p) => a + p.targets.length, 0) * options.rounds;
  ctx.progress.plan(options.readerCounts.length * steps(own) + options.hostPidnsCounts.length * steps(host));
  const rows: MatrixRow[] = [];
  for (const count of options.readerCounts) {
    // Reader i lives in cgroup c<i>, whose limit no other reader shares.
    const cgs = Array.from({ length: count }, (_, i) => cgroups.make(`c${i}`, limitMiBOf(i)));
    for (const pidns of ['own', 'host'] as const) {
      const list = pidns === 'own' ? own : options.hostPidnsCounts.includes(count) ? host : [];
      if (list.length === 0) continue;
      const readers = await ReaderGroup.start(ctx.readerBin, cgs, pidns === 'own', ctx.readerStderr);
      const stop = cleanup.add(`${count} readers`, () => readers.kill());
      try {
        const measure = async () => {
          const measured: MatrixRow[] = [];
          await runPlans(ctx, readers, count, list, measured);
          return measured;
        };
        if (count < REPEAT_WHEN_BUSY_FROM) {
          rows.push(...(await measure()));
          continue;
        }
        const { value, attempts, kept } = await quieterOfTwo(window, measure);
        rows.push(...value);
        if (attempts.length > 1) ctx.notes.push(describeRepeat(`${count} readers (${pidns} pidns)`, attempts, kept));
      } finally {
        await stop();
      }
    }
  }
  return { rows, skipped };
}
