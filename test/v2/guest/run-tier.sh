#!/bin/bash
# Runs in the cgroup v2 guest (test/v2), from its copy of the checkout: the given test files under
# CI=true (in the guest a skipped suite is a failure: the tier exists to run them), with vitest's JSON
# report and the facts of the run (kernel, layout, Docker, `cgprocfs check`) in $CGPROCFS_V2_OUT for
# the host's summary. Exits with vitest's status.
#   bash test/v2/guest/run-tier.sh FILE...
set -u
out=${CGPROCFS_V2_OUT:?run this in the guest}
# A swap file, so the swap views (memory.swap.max, SwapTotal, /proc/swaps) have swap to show.
fallocate -l 512M /swapfile && chmod 600 /swapfile && mkswap -q /swapfile && swapon /swapfile ||
  { echo "run-tier: no swap file, the swap tests would prove nothing" >&2; exit 1; }
# TCG runs the tests 4-7 times slower than the host (harness/exec.ts: SLOWDOWN).
export CGPROCFS_E2E_SLOWDOWN=${CGPROCFS_E2E_SLOWDOWN:-5}
{
  echo "guest: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB," \
    "cgroup $(stat -fc %T /sys/fs/cgroup) (root delegates: $(cat /sys/fs/cgroup/cgroup.subtree_control))," \
    "swap $(awk 'NR > 1 {print $3 " kB"}' /proc/swaps), $(dockerd --version), node $(node --version)"
} | tee "$out/environment.txt"
node dist/bin/cgprocfs.js check > "$out/check.txt" 2>&1
# The tests' own timeouts are made for the host; TCG runs them several times slower.
CI=true node node_modules/vitest/vitest.mjs run "$@" \
  --testTimeout=300000 --hookTimeout=300000 \
  --reporter=default --reporter=./test/support/summary-reporter.ts --reporter=json --outputFile.json="$out/vitest.json"
status=$?
cp /var/tmp/cgprocfs-runtime/dockerd-*.log "$out/" 2>/dev/null
exit $status
