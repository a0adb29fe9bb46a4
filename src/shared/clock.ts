// The one clock for intervals that several threads compare: CLOCK_MONOTONIC, the same
// in every thread of the process (each thread's performance.now() has its own origin)
// and immune to wall-clock steps.

/** CLOCK_MONOTONIC in ms, with sub-ms precision. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** CLOCK_MONOTONIC in whole µs. */
export function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}
