# SPDX-License-Identifier: BSD-2-Clause
# What every netns test needs; sourced (through lib.sh or directly), not run.
#
# Gives: run / in_ns (echo each command, then run it), add_ns (a namespace, its name
# should hold the test's PID, deleted by the EXIT trap even on failure), wait_for (a
# bounded wait), check (one named result), finish (the tally). Processes listed in BG_PIDS
# are killed by the trap; on failure the tails of $WORK/*.log are shown. Exits 77 (skipped)
# unless root with network namespaces.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: network namespace tests need root"
	exit 77
fi
if ! command -v ip >/dev/null || ! ip netns add "ipk-probe-$$" 2>/dev/null; then
	echo "SKIP: cannot create network namespaces"
	exit 77
fi
ip netns del "ipk-probe-$$"

PYTHON=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ipk-netns.$$.XXXXXX")
NAMESPACES=()
BG_PIDS=()
PASSED=0
FAILED=0

cleanup() {
	local rc=$?
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for ns in "${NAMESPACES[@]}"; do
		# Whatever still runs inside (a sink started in the background through in_ns
		# outlives the subshell BG_PIDS names) would hold the test's output open.
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		for log in "$WORK"/*.log; do
			[ -f "$log" ] && { echo "--- $log"; tail -n 30 "$log"; } >&2
		done
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT

# Echoes a command (on stderr), then runs it.
run() {
	echo "+ $*" >&2
	"$@"
}

# in_ns NS COMMAND...: runs COMMAND inside namespace NS, echoed.
in_ns() {
	local ns=$1
	shift
	echo "+ [$ns] $*" >&2
	ip netns exec "$ns" "$@"
}

# add_ns NAME: creates the namespace, loopback up.
add_ns() {
	run ip netns add "$1"
	NAMESPACES+=("$1")
	in_ns "$1" ip link set lo up
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s; fails after SECONDS.
wait_for() {
	local limit=$1 deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timeout after $limit s: $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# check NAME COMMAND...: records one result; the script goes on either way.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL $name"
		FAILED=$((FAILED + 1))
	fi
}

# finish: prints the tally and exits non-zero when a check failed.
finish() {
	echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
