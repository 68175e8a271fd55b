# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the netns tests of the I/O back ends; sourced by tests/netns/io_*.sh, not run.
#
# Gives what common.sh gives, plus start_echo / stop_echo (io_echo in the background,
# waited for with a timeout) and stat (a counter of io_echo's report). The test's first
# argument is the io_echo program.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

IO_ECHO=$(realpath "${1:?usage: $0 IO_ECHO}")

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
