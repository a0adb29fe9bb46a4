// What every phase works with: options, the bench's cgroups, the running targets,
// the reader binary, cleanup registration, and progress output.
import type { BenchCgroups } from './cgroups.js';
import type { Cleanup } from './cleanup.js';
import type { Target, TargetName } from './daemons.js';
import type { Options } from './options.js';

export interface BenchContext {
  options: Options;
  cgroups: BenchCgroups;
  targets: Map<TargetName, Target>;
  readerBin: string;
  /** Where readers write their stderr (a log file in the work directory). */
  readerStderr: number;
  cleanup: Cleanup;
  progress: Progress;
  notes: string[];
}

/** Progress lines on stderr: step i of n, elapsed time and an estimate of what is left. */
export class Progress {
  private done = 0;
  private total = 0;
  private readonly started = Date.now();

  constructor(private readonly write: (line: string) => void) {}

  plan(steps: number): void {
    this.total += steps;
  }

  step(what: string): void {
    this.done++;
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = this.done > 1 && this.total > this.done ? ` ~${Math.round(((elapsed / (this.done - 1)) * (this.total - this.done + 1)))}s left` : '';
    this.write(`[${String(this.done).padStart(String(this.total).length)}/${this.total} ${Math.round(elapsed)}s${eta}] ${what}`);
  }

  note(line: string): void {
    this.write(`  ${line}`);
  }
}
