// `cgprocfs setup lxc`: an LXC mount hook (lxc.hook.mount) that binds the live mount's
// files over a container's /proc and /sys, and a config snippet that names it. The hook
// is a shell script written from the list of bind targets (files/binds.ts: all of them,
// since LXC mounts /proc itself and accepts pressure/* too), so a container start needs
// no Node. It never stops a container unless CGPROCFS_REQUIRE=1 asks for that.

import { ALL_TARGETS } from '../../files/binds.js';
import { CgprocfsError } from '../../errors.js';
import { SAFE_PATH } from '../docker-flags.js';
import { FSTYPE } from '../../fuse/mount.js';

export const DEFAULT_LXC_HOOK = '/usr/local/lib/cgprocfs/lxc-mount-hook';
/** LXC's common.conf includes this directory: every container made from a template reads it. */
export const DEFAULT_LXC_SNIPPET = '/usr/share/lxc/config/common.conf.d/50-cgprocfs.conf';
export const LXC_HOOK_MARKER = '#!/bin/sh\n# Written by cgprocfs setup lxc';
export const LXC_SNIPPET_MARKER = '# Written by cgprocfs setup lxc';

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function assertLxcMountpoint(mountpoint: string): void {
  if (!SAFE_PATH.test(mountpoint)) {
    throw new CgprocfsError('USAGE', `${mountpoint} has characters the hook would have to escape in /proc/self/mountinfo; use another --mountpoint`);
  }
}

/** The hook script for `mountpoint`. */
export function lxcHook(mountpoint: string, version: string): string {
  assertLxcMountpoint(mountpoint);
  return `${LXC_HOOK_MARKER} ${version}: an LXC mount hook (lxc.hook.mount) that
# binds the files of the cgprocfs mount at ${mountpoint} over the container's /proc and /sys.
# LXC runs it in the container's mount namespace before pivot_root, with the container's
# root at $LXC_ROOTFS_MOUNT. LXC mounts /proc itself, so every file can be bound, pressure/*
# included. It never stops a container: without a live mount it binds nothing and says why
# (CGPROCFS_REQUIRE=1 in lxc-start's environment refuses to start instead). A container
# whose config sets lxc.environment = CGPROCFS_ENABLE=0 is left alone. Written from the
# version's list of files: run cgprocfs setup lxc --write again after an upgrade.

mountpoint=${shellQuote(mountpoint)}
targets=${shellQuote(ALL_TARGETS.join(' '))}
bound=

say() {
	echo "cgprocfs lxc hook: \${LXC_NAME:-container}: $*" >&2
}

# Takes back what was bound (a container sees all our files or none), says why, and lets
# the container start with the host's files, unless CGPROCFS_REQUIRE=1.
give_up() {
	for target in $bound; do umount -l "$root/$target" 2>/dev/null; done
	if [ "\${CGPROCFS_REQUIRE:-}" = 1 ]; then
		say "$1; refusing to start (CGPROCFS_REQUIRE=1)"
		exit 1
	fi
	say "$1; the container starts with the host's /proc files"
	exit 0
}

if [ -f "\${LXC_CONFIG_FILE:-}" ] &&
	grep -Eqi '^[[:space:]]*lxc\\.environment[[:space:]]*=[[:space:]]*CGPROCFS_ENABLE=(0|false|no|off)[[:space:]]*$' "$LXC_CONFIG_FILE"; then
	exit 0
fi
root=$(readlink -f "\${LXC_ROOTFS_MOUNT:-}")
[ -n "$root" ] && [ -d "$root" ] || give_up "LXC_ROOTFS_MOUNT is not a directory (run this as lxc.hook.mount)"
fstype=$(awk -v m="$mountpoint" '$5 == m { for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } } END { print t }' /proc/self/mountinfo)
[ "$fstype" = ${FSTYPE} ] || give_up "no ${FSTYPE} is mounted at $mountpoint"
timeout 2 stat -f "$mountpoint" >/dev/null 2>&1 || give_up "the cgprocfs mount at $mountpoint does not answer (its daemon is gone or stuck)"
for target in $targets; do
	[ -e "$mountpoint/$target" ] && [ -e "$root/$target" ] || continue
	mount -n --bind -o ro "$mountpoint/$target" "$root/$target" || give_up "cannot bind $mountpoint/$target over /$target"
	bound="$target $bound"
done
exit 0
`;
}

/** The config snippet that makes LXC run `hook` for every container that reads it. */
export function lxcSnippet(hook: string): string {
  return `${LXC_SNIPPET_MARKER}: every container whose configuration reads this file
# (LXC's common.conf includes common.conf.d/) runs the cgprocfs mount hook. For a container
# that should not: lxc.environment = CGPROCFS_ENABLE=0 in its config.
lxc.hook.mount = ${hook}
`;
}
