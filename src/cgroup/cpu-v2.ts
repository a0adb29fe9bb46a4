// The cgroup v2 CPU driver (Documentation/admin-guide/cgroup-v2.rst): the effective
// CPUs in cpuset.cpus.effective, the quota in cpu.max (`$MAX $PERIOD`, `max` for
// none), CPU time in cpu.stat user_usec/system_usec (a core file: present even
// where the cpu controller is not enabled).
import { CgprocfsError } from '../errors.js';
import type { CpuDriver } from './cpu.js';
import type { CpuQuota } from './cpu-rules.js';

const CPU_MAX = /^(max|\d+)\s+(\d+)$/;

/** cpu.max; undefined for `max` (no quota). */
export function parseCpuMax(text: string, source: string): CpuQuota | undefined {
  const match = CPU_MAX.exec(text.trim());
  if (match === null) {
    throw new CgprocfsError('SOURCE_UNREADABLE', `${source}: cannot parse ${JSON.stringify(text.trim())}`);
  }
  return match[1] === 'max' ? undefined : { quota: Number(match[1]), period: Number(match[2]) };
}

export const cpuDriverV2: CpuDriver = {
  cpusetFiles: ['cpuset.cpus.effective'],
  quota(dir) {
    const text = dir.optional('cpu.max');
    return text === undefined ? undefined : parseCpuMax(text, dir.file('cpu.max'));
  },
  usage(dir) {
    const stat = dir.keyed('cpu.stat');
    return { user: stat['user_usec'] ?? 0, system: stat['system_usec'] ?? 0 };
  },
};
