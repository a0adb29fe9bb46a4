// Undo for everything the bench creates (mounts, processes, cgroups, directories):
// steps run last-in first-out, once, whether the run ends normally, fails, or is
// interrupted by SIGINT/SIGTERM.

export type Step = () => Promise<void> | void;

export class Cleanup {
  private readonly steps: { what: string; step: Step }[] = [];
  private running: Promise<string[]> | undefined;
  /** Set by a signal: errors that follow (readers killed under a phase) are expected. */
  interrupted = false;

  /** Registers an undo step; the returned function runs it early (and unregisters it). */
  add(what: string, step: Step): () => Promise<void> {
    const entry = { what, step };
    this.steps.push(entry);
    return async () => {
      const i = this.steps.indexOf(entry);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step();
    };
  }

  /**
   * Runs every step, newest first; returns the failures (never throws). Once done, the
   * cleanup takes new steps again (`--repeat` cleans up between repeats); calls while it
   * runs share its result.
   */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      while (this.steps.length > 0) {
        const { what, step } = this.steps.pop()!;
        try {
          await step();
        } catch (err) {
          failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return failures;
    })().finally(() => {
      if (!this.interrupted) this.running = undefined;
    });
    return this.running;
  }
}

/**
 * On SIGINT/SIGTERM: clean up and exit 130/143. A second signal while cleaning is
 * ignored, so a hasty double Ctrl-C cannot leave mounts or cgroups behind.
 */
export function cleanUpOnSignals(cleanup: Cleanup, log: (line: string) => void): void {
  let caught = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (caught) return;
      caught = true;
      cleanup.interrupted = true;
      log(`\n${sig}: cleaning up...`);
      void cleanup.runAll().then((failures) => {
        for (const f of failures) log(`cleanup failed: ${f}`);
        process.exit(sig === 'SIGTERM' ? 143 : 130);
      });
    });
  }
}
