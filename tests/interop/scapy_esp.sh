#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Interoperability of ipseck's ESP with an independent implementation: scapy's
# (scapy.layers.ipsec), through the offline pcap mode. No network, no root.
#
#     site B (scapy)                                   site A (ipseck pcap)
#     10.2.0.0/24, 2001:db8:2::/64                     10.1.0.0/24, 2001:db8:1::/64
#     gateway 192.0.2.2, 2001:db8:ffff::2  <== ESP ==>  gateway 192.0.2.1, 2001:db8:ffff::1
#
#   scapy encrypts  -> CASE.in.pcap -> ipseck pcap -> CASE.out.pcap -> compared with the
#   plaintext          originals (byte for byte)
#   plaintext       -> CASE.in.pcap -> ipseck pcap -> CASE.out.pcap -> scapy decrypts and
#                                                                     compares
#
# The cases (algorithms, tunnel/transport, IPv4/IPv6, ESN, UDP encapsulation, Ethernet,
# fragments, forged/replayed/unknown packets) are in esp_cases.py; each is one named check.
# Then the shipped example capture (examples/pcap-demo) must still be what its generator
# makes and give the documented summary.
#
# usage: tests/interop/scapy_esp.sh BUILD_DIR
#   Set IPSECK_INTEROP_KEEP=1 to keep the work directory.
# Prints one line per check and, last, "interop: N passed, M failed"; exits 1 on failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:?usage: scapy_esp.sh BUILD_DIR}
ipseck=$(realpath -m "$build/tools/ipseck")
python=/usr/bin/python3
demo=$top/examples/pcap-demo

work=$(mktemp -d "${TMPDIR:-/tmp}/ipseck-interop.$$.XXXXXX")
cleanup() {
	if [ -n "${IPSECK_INTEROP_KEEP:-}" ]; then
		echo "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

passed=0
failed=0

# Echoes a command (on stderr, so that its own output can be redirected), then runs it.
run() {
	echo "+ $*" >&2
	"$@"
}

# Records one check from its exit status: check NAME COMMAND...
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

# Prints the totals and exits: 0 only when nothing failed.
finish() {
	echo "interop: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# Counts a failure that stops the run, then exits.
abort() {
	echo "FAIL $*"
	failed=$((failed + 1))
	finish
}

[ -x "$ipseck" ] || abort "$ipseck not built"
"$python" -c 'import scapy.layers.ipsec' 2>/dev/null ||
	abort "$python has no scapy (Debian: apt-get install python3-scapy)"
run "$python" "$here/esp_interop.py" gen "$work" || abort "esp_interop.py gen"

# One ipseck run per case; its stdout (drop lines, summary), stderr and exit status are
# what the checks read.
while IFS=$'\t' read -r id name; do
	echo "+ ipseck pcap -f $id.conf --in $id.in.pcap --out $id.out.pcap   # $name"
	rc=0
	"$ipseck" pcap -f "$work/$id.conf" --in "$work/$id.in.pcap" --out "$work/$id.out.pcap" \
		>"$work/$id.stdout" 2>"$work/$id.stderr" || rc=$?
	echo "$rc" >"$work/$id.rc"
done <"$work/cases.list"

echo "+ $python $here/esp_interop.py check $work"
"$python" "$here/esp_interop.py" check "$work" >"$work/check.out" 2>"$work/check.err" || true
cat "$work/check.out"
if [ -s "$work/check.err" ]; then
	echo "FAIL esp_interop.py check: $(tail -n 1 "$work/check.err")"
	failed=$((failed + 1))
fi
passed=$((passed + $(grep -c '^ok ' "$work/check.out" || true)))
failed=$((failed + $(grep -c '^FAIL ' "$work/check.out" || true)))

# The example capture is what its generator makes, and gives the summary its README shows.
demo_regenerates() {
	run "$python" "$demo/make-demo.py" "$work/demo-in.pcap" >/dev/null &&
		run cmp "$work/demo-in.pcap" "$demo/demo-in.pcap"
}

demo_summary() {
	run "$ipseck" pcap -f "$demo/gateway.conf" --in "$demo/demo-in.pcap" \
		--out "$work/demo-out.pcap" >"$work/demo.stdout" &&
		run diff -u "$demo/expected.txt" "$work/demo.stdout"
}

check "pcap-demo: demo-in.pcap is what make-demo.py writes" demo_regenerates
check "pcap-demo: ipseck prints the summary of expected.txt" demo_summary

finish
