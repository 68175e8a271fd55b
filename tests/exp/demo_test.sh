#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs `ipseck demo ARGS...` (default --quick) into a temporary directory and checks the
# JSON it writes (default results.json) with CHECKER (check_demo.py: Tables I and II;
# check_sweep.py with --sweep sweep.json: the overload sweep). About 15 s (30 s for the
# sweep); meson runs it alone (is_parallel false).
#
# The EF target is a latency of a few hundred microseconds per hop through some seven
# threads on two vCPUs: another busy process, or the hypervisor, can stall one of them
# for milliseconds (docs/experiments.md, "Platform noise"). So a failed check earns
# another full run, said aloud, up to three. The checker says 77 when a run failed while
# other processes kept the CPUs busy: if every attempt was such a run, the test is
# skipped (77), as it could not measure; a failure on a quiet machine fails it.
# usage: demo_test.sh IPSECK CHECKER [JSON ARGS...]
set -u
ipseck=$1
checker=$2
json=${3:-results.json}
shift 2
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- --quick
out=$(mktemp -d "${TMPDIR:-/tmp}/ipseck-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT

result=77
for attempt in 1 2 3; do
	"$ipseck" demo "$@" --out "$out/$attempt" || exit 1
	/usr/bin/python3 "$checker" "$out/$attempt/$json"
	rc=$?
	[ "$rc" -eq 0 ] && exit 0
	[ "$rc" -eq 77 ] || result=1
	echo "demo_test: attempt $attempt failed the checks (load average:" \
		"$(cut -d' ' -f1-3 /proc/loadavg))"
done
[ "$result" -eq 77 ] && echo "demo_test: skipped: every attempt ran on a busy machine"
exit $result
