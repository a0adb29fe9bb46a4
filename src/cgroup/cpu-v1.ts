// The cgroup v1 CPU driver, answering in v2 vocabulary: cpuset.cpus.effective <-
// cpuset.effective_cpus (cpuset.cpus on kernels without it), cpu.max <-
// cpu.cfs_quota_us (-1: none) / cpu.cfs_period_us, cpu.stat user/system <-
// cpuacct.usage_all (ns per CPU), else cpuacct.stat (USER_HZ ticks).
import { lines, unparsable } from '../host/files.js';
import type { CpuDriver, CpuUsage } from './cpu.js';
import type { CpuQuota } from './cpu-rules.js';
import type { CgroupDir } from './memory.js';

const NS_PER_US = 1000n;
/** cpuacct.stat counts in USER_HZ (100) ticks: 10 000 µs each. */
const US_PER_TICK = 10_000;
const SIGNED_INTEGER = /^-?\d+$/;

/**
 * cpuacct.usage_all: a `cpu user system` header, then `N user_ns system_ns` per CPU.
 * Summed as bigints: the ns totals pass 2^53 after about 104 days of CPU time.
 */
export function parseUsageAll(text: string, source: string): CpuUsage {
  let user = 0n;
  let system = 0n;
  for (const line of lines(text).slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3 || !fields.every((field) => /^\d+$/.test(field))) throw unparsable(source, line);
    user += BigInt(fields[1]!);
    system += BigInt(fields[2]!);
  }
  return { user: Number(user / NS_PER_US), system: Number(system / NS_PER_US) };
}

function quota(dir: CgroupDir): CpuQuota | undefined {
  const text = dir.optional('cpu.cfs_quota_us');
  if (text === undefined) return undefined;
  if (!SIGNED_INTEGER.test(text.trim())) throw unparsable(dir.file('cpu.cfs_quota_us'), text);
  const value = Number(text.trim());
  return value < 0 ? undefined : { quota: value, period: dir.count('cpu.cfs_period_us') };
}

/**
 * usage_all is exact (ns); kernels before 4.7 lack it, and there cpuacct.stat (whose
 * user and system each only grow) stands in. Its split is not applied to
 * cpuacct.usage: that ratio moves, and a moving ratio would make user or system shrink.
 */
function usage(dir: CgroupDir): CpuUsage {
  const all = dir.optional('cpuacct.usage_all');
  if (all !== undefined) return parseUsageAll(all, dir.file('cpuacct.usage_all'));
  const stat = dir.keyed('cpuacct.stat');
  return { user: (stat['user'] ?? 0) * US_PER_TICK, system: (stat['system'] ?? 0) * US_PER_TICK };
}

export const cpuDriverV1: CpuDriver = {
  cpusetFiles: ['cpuset.effective_cpus', 'cpuset.cpus'],
  quota,
  usage,
};
