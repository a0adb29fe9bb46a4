// /proc/swaps for one view: the host's header, then one virtual device holding the
// view's swap in the kernel's own layout (mm/swapfile.c swap_show), or nothing when
// the view has no swap. collect() does the I/O, render() is pure.
import type { MemoryReading } from '../cgroup/memory.js';
import { readHostMeminfo, readHostSwaps } from '../host/proc-root.js';
import type { HostSwaps } from '../host/swaps.js';
import { hostTotals, swapFigures, type HostTotals, type SwapFigures } from './figures.js';
import type { FileView, ViewContext } from './sources.js';

export interface SwapsSnapshot {
  readonly host: HostSwaps;
  readonly hostTotals: HostTotals;
  /** Undefined for the root cgroup: the host's own devices are the view. */
  readonly memory: MemoryReading | undefined;
  readonly swap: boolean;
}

/** swap_show pads the name to this many columns. */
const NAME_COLUMNS = 40;
/** swap_show adds a second tab after a size or usage below this, to keep columns. */
const NARROW_VALUE_LIMIT = 10_000_000;
const DEVICE_NAME = 'none';
/** Types are `partition` or `file\t`; ours is padded like `file`. */
const DEVICE_TYPE = 'virtual\t';
const DEVICE_PRIORITY = 0;

export function collect({ sources, target, options }: ViewContext): SwapsSnapshot {
  return {
    host: readHostSwaps(sources.procRoot),
    hostTotals: hostTotals(readHostMeminfo(sources.procRoot)),
    memory: sources.cgroups.memory(target.cgroups),
    swap: options.swap,
  };
}

function column(kb: number): string {
  return `${kb}\t${kb < NARROW_VALUE_LIMIT ? '\t' : ''}`;
}

export function deviceLine(swap: SwapFigures): string {
  const padding = ' '.repeat(Math.max(1, NAME_COLUMNS - DEVICE_NAME.length));
  return `${DEVICE_NAME}${padding}${DEVICE_TYPE}\t${column(swap.total)}${column(swap.used)}${DEVICE_PRIORITY}`;
}

function bodyLines(snapshot: SwapsSnapshot): readonly string[] {
  if (!snapshot.swap) return [];
  if (snapshot.memory === undefined) return snapshot.host.devices;
  const swap = swapFigures(snapshot.memory, snapshot.hostTotals);
  return swap.total > 0 ? [deviceLine(swap)] : [];
}

export function render(snapshot: SwapsSnapshot): string {
  return [snapshot.host.header, ...bodyLines(snapshot)].map((line) => `${line}\n`).join('');
}

export const view: FileView = (context) => render(collect(context));
