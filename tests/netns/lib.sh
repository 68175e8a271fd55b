# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the netns tests of the I/O back ends; sourced by tests/netns/io_*.sh, not run.
#
# Gives: run / in_ns (echo each command, then run it), add_ns (a namespace named with the
# test's PID, deleted by the EXIT trap even on failure), start_echo / stop_echo (io_echo in
# the background, waited for with a timeout), wait_for (a bounded wait), check (one named
# result). Background processes listed in BG_PIDS are killed by the trap. Exits 77
# (skipped) unless root with network namespaces.
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

IO_ECHO=$(realpath "${1:?usage: $0 IO_ECHO}")
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
		kill "$pid" 2>/dev/null || true
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
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

# add_ns NAME: creates the namespace (NAME should contain $$), loopback up.
add_ns() {
	run ip netns add "$1"
	NAMESPACES+=("$1")
	in_ns "$1" ip link set lo up
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s; fails after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1)) what=$2
	shift 2
	until "$@" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timeout after $1 s: $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# start_echo NS LOG IO_ECHO-ARGS...: starts io_echo in NS, output to LOG, and waits
# (10 s at most) for its "ready" line. Sets ECHO_PID.
start_echo() {
	local ns=$1 log=$2
	shift 2
	echo "+ [$ns] io_echo $* > $log &" >&2
	ip netns exec "$ns" "$IO_ECHO" "$@" >"$log" 2>&1 &
	ECHO_PID=$!
	BG_PIDS+=("$ECHO_PID")
	if ! wait_for 10 "io_echo ready" grep -q '^ready' "$log"; then
		cat "$log" >&2
		return 1
	fi
}

# stop_echo LOG: stops the io_echo started last (TERM, then 5 s for it to print its
# counters) and shows its summary.
stop_echo() {
	local log=$1 rc=0
	kill -TERM "$ECHO_PID" 2>/dev/null || true
	if ! wait_for 5 "io_echo exit" sh -c "! kill -0 $ECHO_PID"; then
		kill -KILL "$ECHO_PID" 2>/dev/null || true
	fi
	wait "$ECHO_PID" || rc=$?
	grep -E '^(io_echo|stat .* (rx-packets|tx-packets|rx-kernel-drop|tx-syscall|no-buffer))' \
		"$log" >&2 || true
	return "$rc"
}

# stat LOG PORT NAME: a counter from io_echo's final report (0 when absent).
stat() {
	awk -v p="$2" -v n="$3" '$1 == "stat" && $2 == p && $3 == n { v = $4 } END { print v + 0 }' "$1"
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
