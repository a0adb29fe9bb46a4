// Which test files the cgroup v2 guest runs (npm run test:v2), and why the others stay on the host.
// The guest is a TCG-emulated machine, several times slower than the host; these files are what the
// live v2 kernel must prove (issue 19), and together fit the CI budget.

/** Run in the guest every time (vitest orders the files itself). */
export const GUEST_FILES: readonly string[] = [
  // The unit and protocol tiers: some read the real kernel's /proc and /sys (held descriptors, seq_files).
  'test/unit',
  'test/protocol',
  // A real mount, real v2 cgroups (memory.max, cpu.max, cpuset.cpus, io.max under a subtree of the test's own).
  'test/e2e/mount.test.ts',
  'test/e2e/container.test.ts',
  'test/e2e/memory-limits.test.ts',
  'test/e2e/kernel-files.test.ts',
  'test/e2e/cpu-views.test.ts',
  'test/e2e/cpu-tree.test.ts',
  'test/e2e/time-views.test.ts',
  'test/e2e/render-command.test.ts',
  'test/e2e/render-views.test.ts',
  'test/e2e/policy.test.ts',
  'test/e2e/freshness.test.ts',
  'test/e2e/isolation.test.ts',
  'test/e2e/read-consistency.test.ts',
  'test/e2e/read-only.test.ts',
  'test/e2e/workers.test.ts',
  'test/e2e/check.test.ts',
  'test/e2e/lifecycle.test.ts',
  'test/e2e/startup-errors.test.ts',
  // FUSE_NOTIFY_RESEND on 6.12: the server killed under load.
  'test/e2e/crash-survival.test.ts',
  // Docker 20.10 on cgroup v2.
  'test/e2e/runtimes/docker.test.ts',
  'test/e2e/runtimes/vm-like.test.ts',
  'test/e2e/runtimes/never-break.test.ts',
];

/**
 * CI's core once it is in .ci/run (npm run test:v2 -- --core): the files that prove issue 19's
 * item 3 on the live kernel, about a third of the full tier's time. The full tier adds the unit and
 * protocol tiers, the daemon's lifecycle, policy, freshness and read-path files, and never-break.
 */
export const CORE_FILES: readonly string[] = [
  // meminfo from memory.stat and the ancestors' memory.max, swaps from memory.swap.max, diskstats from
  // io.stat, pressure/*: each against the kernel's own files; MemFree under load.
  'test/e2e/kernel-files.test.ts',
  'test/e2e/memory-limits.test.ts',
  'test/e2e/container.test.ts',
  // cpuinfo, stat and online under cpu.max and cpuset.cpus.effective; stat never going back; top.
  'test/e2e/cpu-views.test.ts',
  'test/e2e/cpu-tree.test.ts',
  // uptime, loadavg; render --cgroup.
  'test/e2e/time-views.test.ts',
  'test/e2e/render-command.test.ts',
  // RESEND on 6.12.
  'test/e2e/crash-survival.test.ts',
  // Docker on v2 (free, top, lscpu); a reader in init.scope with services beside it (systemd as PID 1).
  'test/e2e/runtimes/docker.test.ts',
  'test/e2e/runtimes/vm-like.test.ts',
];

/**
 * Left to the host's tiers, with the reason: every e2e file is in GUEST_FILES or here
 * (test/unit/harness/v2-tier.test.ts), so the run's summary names all that the guest does not prove.
 */
export const HOST_ONLY: Readonly<Record<string, string>> = {
  'test/e2e/preload.test.ts': 'the LD_PRELOAD library answers from the mounted files, whatever the cgroup version; its probe needs a C compiler',
  'test/e2e/systemd.test.ts': "systemd's fd-store hand-over is cgroup-independent; systemd-analyze needs systemd installed",
  'test/e2e/heal.test.ts': 'the heal replaces binds in mount namespaces and reads no cgroup file',
  'test/e2e/htop.test.ts': 'htop and tmux are not in the guest image; the cpuN tree and stat lines htop draws from are proven on v2 by cpu-tree and cpu-views',
  'test/e2e/npm-start.test.ts': 'npm is not in the guest image, and npm start reads no cgroup file',
  'test/e2e/one-daemon.test.ts': 'the state directory and mountpoint locks read no cgroup file',
  'test/e2e/restart-stall.test.ts': 'the restart policy reads no cgroup file; RESEND on 6.12 is proven by crash-survival',
  'test/e2e/full-state-dir.test.ts': 'the handle arena in a full state directory reads no cgroup file; RESEND on 6.12 is proven by crash-survival',
  'test/e2e/hung-server.test.ts': "the supervisor's heartbeat reads no cgroup file; a replaced server's RESEND on 6.12 is proven by crash-survival",
  'test/e2e/names-exhausted.test.ts': "the arena name space and the supervisor's signals read no cgroup file",
  'test/e2e/state-dir-checks.test.ts': "the state directory's checks read no cgroup file; counter records on v2 are proven by cpu-views",
  'test/e2e/lean.test.ts': "the supervisor's exec and the processes' memory are cgroup-independent",
  'test/e2e/loadavg-warm-start.test.ts': "the CI budget: loadavg on v2 (cpu.max, the cgroup's tasks) is proven by time-views and docker",
  'test/e2e/open-file-flood.test.ts': 'the CI budget (a flood under TCG); telling containers apart by their v2 cgroup is proven by isolation',
  'test/e2e/read-flood.test.ts': 'the CI budget (a flood under TCG); telling containers apart by their v2 cgroup is proven by isolation',
  'test/e2e/thread-heavy.test.ts': 'the CI budget (20,000 threads under TCG); a v2 cgroup\'s task counts are proven by time-views',
  'test/e2e/runtimes/podman-nspawn.test.ts': 'Podman and systemd-nspawn are not in the guest image',
  'test/e2e/runtimes/podman-runtime.test.ts': 'Podman is not in the guest image',
  'test/e2e/runtimes/containerd-runtime.test.ts': 'containerd\'s own config and ctr are not in the guest image',
  'test/e2e/runtimes/lxc-hook.test.ts': 'LXC is not in the guest image',
  'test/e2e/runtimes/heal.test.ts': 'Podman is not in the guest image; the heal reads no cgroup file',
  'test/e2e/runtimes/docker-runtime.test.ts': "the CI budget (a dockerd of the test's own); Docker on v2 with docker-flags is proven by docker, vm-like and never-break",
  'test/e2e/runtimes/runc-wrapper.test.ts': "runc's bundle handling is cgroup-independent",
  'test/e2e/runtimes/tools.test.ts': 'the CI budget; free, top and lscpu in Docker on v2 are proven by docker',
  'test/e2e/runtimes/agents.test.ts': 'the agents image is built by docker build from packages fetched on the host',
};
