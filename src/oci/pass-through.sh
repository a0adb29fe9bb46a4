# cgprocfs-runc's pass-through, run by /bin/sh before any Node starts: the build
# (scripts/build-runc-wrapper.mjs) puts it at the head of dist/bin/cgprocfs-runc.js, a file
# that sh and node both run. Docker calls its runtime four times per container (create,
# start, delete, delete --force) and only create and run need Node (tens of ms to start):
# the other calls exec runc from here. Whatever is not plain goes to Node (src/oci/), which
# decides the same way; test/unit/oci/pass-through.test.ts holds both to one table.
# Without node on PATH, create and run go straight to runc, with one line saying so.

needs_node=
for arg do
	case $arg in create | run) needs_node=1; break ;; esac
done
has_node=
command -v node >/dev/null 2>&1 && has_node=1
[ -n "$needs_node" ] && [ -n "$has_node" ] && exec node "$0" "$@"

# Execs runc without the wrapper's own options (they come first, as Docker's runtimeArgs
# do). Returns when something is not plain: an option of ours without a value, no runc
# found, or a runc that is this very file.
pass_to_runc() {
	runc=
	while [ $# -gt 0 ]; do
		case $1 in
		--runc=?*) runc=${1#--runc=}; shift ;;
		--cgprocfs-mountpoint=?*) shift ;;
		--runc | --cgprocfs-mountpoint)
			[ $# -ge 2 ] && [ -n "$2" ] || return
			[ "$1" = --runc ] && runc=$2
			shift 2 ;;
		--runc=* | --cgprocfs-mountpoint=*) return ;;
		*) break ;;
		esac
	done
	real=$(command -v "${runc:-${CGPROCFS_RUNC:-runc}}") || return
	[ "$real" -ef "$0" ] && return
	[ -n "$needs_node" ] && echo "cgprocfs-runc: no node on PATH: the container starts without cgprocfs, with the host's /proc files" >&2
	exec "$real" "$@"
}
pass_to_runc "$@"
[ -n "$has_node" ] && exec node "$0" "$@"
echo "cgprocfs-runc: found no runc to run other than cgprocfs-runc itself, and no node on PATH to look further" >&2
exit 127
