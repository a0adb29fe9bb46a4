#!/bin/sh
# Runs inside a container of the agents image (test/runtime/agents-image.ts): asks every
# monitoring agent of issue 9 for its figures, and records the container's own truth
# (its cgroup's limits and usage, its overlaid /proc files) around them.
# usage: sh agents-collect.sh all|boot
# Output: sections, each "@@ NAME EPOCH_SECONDS.NANOSECONDS" (when it was measured)
# followed by the tool's raw output, with "loadavg-N" samples between them;
# test/runtime/agents.ts parses them.
set -u
what=${1:-all}
export LC_ALL=C

# Before every section, a sample of the container's /proc/loadavg: the load a tool shows
# lies between the samples taken around it (the averages move every 5 s).
samples=0
section() {
  samples=$((samples + 1))
  echo "@@ loadavg-$samples $(date +%s.%N)"
  cat /proc/loadavg
  echo "@@ $1 $(date +%s.%N)"
}

truth() {
  section "$1"
  cg=/sys/fs/cgroup
  if [ -f $cg/memory/memory.limit_in_bytes ]; then
    echo "limit $(cat $cg/memory/memory.limit_in_bytes)"
    echo "usage $(cat $cg/memory/memory.usage_in_bytes)"
    [ -f $cg/memory/memory.memsw.limit_in_bytes ] && echo "memsw_limit $(cat $cg/memory/memory.memsw.limit_in_bytes)"
    [ -f $cg/memory/memory.memsw.usage_in_bytes ] && echo "memsw_usage $(cat $cg/memory/memory.memsw.usage_in_bytes)"
    sed -n 's/^total_\(active_file\|inactive_file\) /\1 /p' $cg/memory/memory.stat
    echo "cpu_quota $(cat $cg/cpu/cpu.cfs_quota_us 2>/dev/null || cat $cg/cpu,cpuacct/cpu.cfs_quota_us)"
    echo "cpu_period $(cat $cg/cpu/cpu.cfs_period_us 2>/dev/null || cat $cg/cpu,cpuacct/cpu.cfs_period_us)"
    echo "cpuset $(cat $cg/cpuset/cpuset.cpus)"
  else
    max=$(cat $cg/memory.max)
    echo "limit $max"
    echo "usage $(cat $cg/memory.current)"
    [ -f $cg/memory.swap.max ] && echo "swap_limit $(cat $cg/memory.swap.max)"
    [ -f $cg/memory.swap.current ] && echo "swap_usage $(cat $cg/memory.swap.current)"
    sed -n 's/^\(active_file\|inactive_file\) /\1 /p' $cg/memory.stat
    read -r quota period < $cg/cpu.max
    echo "cpu_quota $quota"
    echo "cpu_period $period"
    echo "cpuset $(cat $cg/cpuset.cpus.effective)"
  fi
  echo "loadavg $(cat /proc/loadavg)"
  echo "uptime $(cat /proc/uptime)"
  grep '^btime ' /proc/stat
  grep -E '^(MemTotal|MemFree|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo
}

zabbix() {
  # zabbix_agentd: C, through glibc; zabbix_agent2: Go, partly through cgo (the C agent's code).
  for key in "$@"; do
    section "zabbix_agentd $key"
    zabbix_agentd -t "$key" 2>&1
  done
  # zabbix_agent2 -t answers on its scheduler's next whole second: ask for the keys at
  # once, and stamp each answer with the time it came; but the free-memory keys one at a
  # time, after the others, so ten agents' own memory does not count against the reading.
  n=0
  for key in "$@"; do
    n=$((n + 1))
    case $key in
      *free\]|*pavailable\]) ;;
      *) (zabbix_agent2 -t "$key" > /tmp/agent2.$n 2>&1; date +%s.%N > /tmp/agent2.$n.at) & ;;
    esac
  done
  wait
  n=0
  for key in "$@"; do
    n=$((n + 1))
    case $key in
      *free\]|*pavailable\]) zabbix_agent2 -t "$key" > /tmp/agent2.$n 2>&1; date +%s.%N > /tmp/agent2.$n.at ;;
    esac
  done
  # Ten Go agents started at once on a loaded host can miss agent2's own plugin timeout
  # ("No data available", seen at a load of 10 on 2 CPUs): ask such a key again, alone.
  n=0
  for key in "$@"; do
    n=$((n + 1))
    if grep -q 'No data available' /tmp/agent2.$n; then
      zabbix_agent2 -t "$key" > /tmp/agent2.$n 2>&1; date +%s.%N > /tmp/agent2.$n.at
    fi
  done
  n=0
  for key in "$@"; do
    n=$((n + 1))
    echo "@@ zabbix_agent2 $key $(cat /tmp/agent2.$n.at)"
    cat /tmp/agent2.$n
  done
}

node_exporter() {
  prometheus-node-exporter --web.listen-address=127.0.0.1:9100 > /tmp/node-exporter.log 2>&1 &
  pid=$!
  tries=0
  until busybox wget -q -O /tmp/metrics http://127.0.0.1:9100/metrics 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -gt 100 ]; then echo "node_exporter did not answer"; cat /tmp/node-exporter.log; break; fi
    sleep 0.1
  done
  section node_exporter
  grep -E '^node_(memory_MemTotal_bytes|load1|boot_time_seconds|cpu_seconds_total)[ {]' /tmp/metrics
  kill $pid
  wait $pid 2>/dev/null
}

truth truth-start
if [ "$what" = boot ]; then
  zabbix system.boottime system.uptime
  node_exporter
  section python
  python3 -c 'import json, psutil; print(json.dumps({"psutil.boot_time()": psutil.boot_time()}))'
  truth truth-end
  exit 0
fi

zabbix 'vm.memory.size[total]' 'vm.memory.size[free]' 'vm.memory.size[pavailable]' system.uptime \
  'system.cpu.load[all,avg1]' 'system.swap.size[,total]' system.swap.size system.cpu.num 'system.cpu.num[max]' system.boottime
node_exporter
section getconf
for name in _PHYS_PAGES PAGESIZE _NPROCESSORS_ONLN _NPROCESSORS_CONF; do echo "$name $(getconf $name)"; done
section 'busybox free'
busybox free
section 'busybox uptime'
busybox uptime
section python
python3 -c '
import json, os, psutil
print(json.dumps({
  "psutil.virtual_memory().total": psutil.virtual_memory().total,
  "psutil.cpu_count()": psutil.cpu_count(),
  "psutil.cpu_count(logical=False)": psutil.cpu_count(logical=False),
  "psutil.boot_time()": psutil.boot_time(),
  "psutil.getloadavg()": psutil.getloadavg()[0],
  "os.cpu_count()": os.cpu_count(),
  "os.getloadavg()": os.getloadavg()[0],
}))'
section mpstat
mpstat | head -n 1
section 'sar -r'
sar -r 1 1
section node
/usr/local/bin/node -e '
const os = require("os");
console.log(JSON.stringify({ "os.totalmem()": os.totalmem(), "os.cpus().length": os.cpus().length, "os.loadavg()": os.loadavg()[0], "os.uptime()": os.uptime() }));'
truth truth-end
