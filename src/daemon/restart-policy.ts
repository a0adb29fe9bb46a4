// When the supervisor starts the next server after one died (issue 16). Readers of the
// mount wait for as long as no server runs, so a server that had been serving is
// replaced at once however often that happens; only a server that dies at start-up,
// again and again (a broken install, a request that kills every server it reaches),
// makes the supervisor wait longer each time, so it does not spin.

/** A server ready for this long before it died was serving, not failing at start-up. */
export const SERVED_WELL_MS = 1_000;
/** From this many start-up failures in a row, the log says the server fails in a loop. */
export const START_UP_LOOP = 3;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/** The wait before the next start after `startupFailures` start-up failures in a row. */
export function restartDelay(startupFailures: number): number {
  if (startupFailures <= 1) return 0;
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (startupFailures - 2));
}

export interface ServerLife {
  /** When it became ready (epoch ms); undefined if it never did. */
  readyAt: number | undefined;
  /** When it died (epoch ms). */
  diedAt: number;
}

export interface RestartDecision {
  delayMs: number;
  /** Start-up failures in a row, this one included; 0 after a server that served. */
  startupFailures: number;
  /** The server keeps dying at start-up: worth a loud log line. */
  loop: boolean;
}

export class RestartPolicy {
  private startupFailures = 0;

  /** Call when a server died; says how long to wait before the next one. */
  afterDeath(life: ServerLife): RestartDecision {
    const served = life.readyAt !== undefined && life.diedAt - life.readyAt >= SERVED_WELL_MS;
    this.startupFailures = served ? 0 : this.startupFailures + 1;
    return { delayMs: restartDelay(this.startupFailures), startupFailures: this.startupFailures, loop: this.startupFailures >= START_UP_LOOP };
  }

  /** Call when a server could not even be spawned: it counts as a start-up failure. */
  afterSpawnFailure(): RestartDecision {
    return this.afterDeath({ readyAt: undefined, diedAt: 0 });
  }
}
