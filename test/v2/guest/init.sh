#!/bin/bash
# PID 1 of the cgroup v2 test guest (test/v2): the mounts a systemd host would make, cgroup2 alone at
# /sys/fs/cgroup with every controller delegated from the root, the kernel modules Docker and FUSE need,
# then the command from the control disk, placed like a systemd host places things (PID 1 in /init.scope,
# the command in /system.slice/cgprocfs-v2.service); whatever it leaves is killed, the disks are
# unmounted and the guest powers off. The host reads the exit status from the console marker and out/rc.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
CONTROL=/cgprocfs-v2
CG=/sys/fs/cgroup

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin; ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -o remount,rw /
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
# systemd's options; cgroup_no_v1=all on the command line keeps every controller here.
mount -t cgroup2 -o rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot cgroup2 $CG
for c in $(cat $CG/cgroup.controllers); do echo "+$c" > $CG/cgroup.subtree_control; done
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
for m in $(cat /etc/cgprocfs-v2/modules); do modprobe -q "$m" 2>/dev/null; done
mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null
ip link set lo up
hostname cgprocfs-v2

status=99
# The control disk is the one virtio disk (its driver is a module); the root is the one NVMe disk, as
# 6.12 names NVMe disks in probe order.
modprobe -q virtio_pci; modprobe -q virtio_blk
for _ in $(seq 1 200); do [ -b /dev/vda ] && break; sleep 0.05; done
mkdir -p $CONTROL
if mount -t ext4 /dev/vda $CONTROL; then
  mkdir -p $CONTROL/out
  share=$(cat $CONTROL/share-path 2>/dev/null)
  [ -n "$share" ] && mkdir -p "$share" && mount --bind $CONTROL/share "$share"
  export CGPROCFS_V2_OUT=$CONTROL/out
  [ -f $CONTROL/env ] && set -a && . $CONTROL/env && set +a
  echo "CGPROCFS-V2-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
  mkdir -p $CG/init.scope $CG/system.slice/cgprocfs-v2.service
  echo $$ > $CG/init.scope/cgroup.procs
  (echo $BASHPID > $CG/system.slice/cgprocfs-v2.service/cgroup.procs && cd "${share:-/root}" &&
    exec setsid -c bash $CONTROL/command.sh < /dev/console > /dev/console 2>&1)
  status=$?
  # As a shutdown does: every process left goes, so that the disks unmount cleanly.
  kill -TERM -1 2>/dev/null; sleep 1; kill -KILL -1 2>/dev/null; sleep 0.2
  echo "$status" > $CONTROL/out/status
  [ -n "$share" ] && umount "$share"
  sync; umount $CONTROL || umount -l $CONTROL
else
  echo "CGPROCFS-V2: no control disk"
fi
# On a line of its own: the command may have left the console mid-line or mid-escape sequence.
printf '\n%s\n' "CGPROCFS-V2-EXIT=$status uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
echo o > /proc/sysrq-trigger
sleep 10
