// /proc/diskstats for one view: the host's lines, in host order and the kernel's
// layout, for the disks the view's cgroup did I/O on, with the counts the I/O
// controller keeps (operations and sectors read, written, discarded). Every other
// counter is 0: the host's would describe other tenants. The root cgroup sees the
// host's file unchanged. collect() does the I/O, render() is pure.
import { didIo, type DeviceIo, type IoReading } from '../cgroup/io.js';
import {
  deviceNumber,
  DISKSTATS_COUNTER,
  formatDiskstatsLine,
  SECTOR_BYTES,
  type DiskstatsLine,
  type HostDiskstats,
} from '../host/diskstats.js';
import { readHostDiskstats } from '../host/proc-root.js';
import type { FileView, ViewContext } from './sources.js';

export interface DiskstatsSnapshot {
  readonly host: HostDiskstats;
  /** Undefined for the root cgroup: the host's own file is the view. */
  readonly io: IoReading | undefined;
}

export function collect({ sources, target }: ViewContext): DiskstatsSnapshot {
  return { host: readHostDiskstats(sources.procRoot), io: sources.cgroups.io(target.cgroups) };
}

/** The host line's device with the cgroup's counts; as many counters as the host kernel prints. */
export function cgroupLine(host: DiskstatsLine, io: DeviceIo): DiskstatsLine {
  const counters = host.counters.map(() => 0n);
  const set = (index: number, value: bigint): void => {
    if (index < counters.length) counters[index] = value;
  };
  set(DISKSTATS_COUNTER.readsCompleted, io.rios);
  set(DISKSTATS_COUNTER.sectorsRead, io.rbytes / SECTOR_BYTES);
  set(DISKSTATS_COUNTER.writesCompleted, io.wios);
  set(DISKSTATS_COUNTER.sectorsWritten, io.wbytes / SECTOR_BYTES);
  set(DISKSTATS_COUNTER.discardsCompleted, io.dios);
  set(DISKSTATS_COUNTER.sectorsDiscarded, io.dbytes / SECTOR_BYTES);
  return { ...host, counters };
}

export function render(snapshot: DiskstatsSnapshot): string {
  const { host, io } = snapshot;
  if (io === undefined) return host.text;
  return host.lines
    .flatMap((line) => {
      const device = io.get(deviceNumber(line));
      // A device the cgroup knows but the host no longer lists (removed) is skipped.
      return device !== undefined && didIo(device) ? [formatDiskstatsLine(cgroupLine(line, device))] : [];
    })
    .join('');
}

export const diskstatsView: FileView = (context) => render(collect(context));
