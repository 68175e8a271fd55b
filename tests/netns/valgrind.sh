#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# One ipseckd under valgrind memcheck for a whole end-to-end run.
#
#   ns ipk-vg-PID-ha     ns ipk-vg-PID-ga             ns ipk-vg-PID-gb     ns ipk-vg-PID-hb
#   +-----------+       +-----------------+          +----------------+       +-----------+
#   | h0        |<----->| l0  ipk0 (tun)  |   veth   | ipk0 (tun)  l0 |<----->|        h0 |
#   | 10.1.0.2  | veth  | valgrind        |<========>| w0  ipseckd B  | veth  |  10.2.0.2 |
#   +-----------+       |  ipseckd A   w0 |   ESP    |      192.0.2.2 |       +-----------+
#                       +-----------------+          +----------------+
#   (tests/netns/pair.sh)
#
# Daemon A runs under
#   valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite,indirect
# through: ping, a 512 KiB TCP transfer (same SHA-256 at both ends), ipseckctl sa add / show
# sa / sa del, one make-before-break rekey (sa add/del and policy changes in batches), a QoS
# chain attached at hooks 1 and 5, show hooks, stats, the chain detached, a free node built
# and deleted, show
# events, show policy, a bad batch (refused, nothing changed), 200 UDP datagrams, then
# SIGTERM. Checks: every step worked, the daemon exited 0 (not 99), and the valgrind log says
# 0 errors and 0 bytes definitely and indirectly lost.
#
# usage: valgrind.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise, or without valgrind)
source "$(dirname "$0")/common.sh"

IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL}")
if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind is not installed (scripts/deps)"
	exit 77
fi
PAIR=ipk-vg-$$
source "$HERE/pair.sh"
FLOW="$HERE/flow.py"
ha=$(pair_ns ha) hb=$(pair_ns hb)
VG_LOG="$WORK/valgrind-a.log"

pair_topology
pair_config a "$WORK/a.conf"
pair_config b "$WORK/b.conf"
chmod 600 "$WORK/a.conf" "$WORK/b.conf"
PAIR_START_WAIT=120 pair_start a "$WORK/a.conf" valgrind --leak-check=full \
	--error-exitcode=99 --errors-for-leak-kinds=definite,indirect --track-origins=yes \
	--log-file="$VG_LOG" --
pair_start b "$WORK/b.conf"
pair_routes

check "ping through A under valgrind" in_ns "$ha" ping -q -c 5 -i 0.3 -W 5 10.2.0.2

size=$((512 << 10))
in_ns "$hb" timeout 120 "$PYTHON" "$HERE/xfer.py" serve 10.2.0.2 5001 >"$WORK/serve.out" &
serve=$!
in_ns "$ha" timeout 120 "$PYTHON" "$HERE/xfer.py" send 10.2.0.2 5001 "$size" >"$WORK/send.out" ||
	true
wait "$serve" || true
read -r _ sent_bytes sent_sum _ <"$WORK/send.out" || true
read -r _ got_bytes got_sum <"$WORK/serve.out" || true
check "TCP: $size bytes with the same SHA-256" \
	test "${sent_bytes:-x} ${sent_sum:-x}" = "${got_bytes:-y} ${got_sum:-y}" -a "${got_bytes:-0}" = "$size"

check "sa add at runtime" ctl a $(pair_sa a ab77)
check "show sa lists it" sh -c "timeout 20 '$IPSECKCTL' -s '$WORK/a.sock' show sa | grep -q ab77"
check "sa del at runtime" ctl a sa del name ab77
check "make-before-break rekey (batches of sa add/del, policy add/del)" pair_rekey

cat >"$WORK/qos.conf" <<'EOF'
qos add name v-cls kind dscp ef 0 default 1
qos add name v-ef kind fifo limit 64
qos add name v-rest kind codel limit 512
qos add name v-prio kind prio
qos node name v1 classify v-cls children v-ef,v-rest schedule v-prio
hook attach 1 v1
qos add name d-cls kind dscp ef 0 default 1
qos add name d-ef kind fifo limit 32
qos add name d-rest kind fifo limit 128
qos add name d-drr kind drr quantum 1500
qos node name d5 classify d-cls children d-ef,d-rest schedule d-drr
hook attach 5 d5
EOF
check "qos: a chain attached at hooks 1 and 5" ctl a -f "$WORK/qos.conf"
check "show hooks names it" sh -c "timeout 20 '$IPSECKCTL' -s '$WORK/a.sock' show hooks | grep -q v1"
check "ping with the chain attached" in_ns "$ha" ping -q -c 3 -i 0.3 -W 5 10.2.0.2
check "stats" ctl a stats
check "stats -j" ctl a -j stats
check "qos: detached from hooks 1 and 5" batch a "hook detach 1" "hook detach 5"
check "qos: detaching deleted the chains' objects" \
	sh -c "! timeout 20 '$IPSECKCTL' -s '$WORK/a.sock' show hooks | grep -q v1"
check "qos: a free node built" batch a "qos add name f-cls kind dscp ef 0 default 1" \
	"qos add name f-a kind fifo limit 8" "qos add name f-b kind red limit 64" \
	"qos add name f-rr kind rr" "qos node name f1 classify f-cls children f-a,f-b schedule f-rr"
check "qos: the free node deleted" ctl a qos del name f1
check "show events" ctl a show events
check "show events -j" ctl a -j show events
check "show policy" ctl a show policy
check "show sa keys" ctl a show sa keys
check "a bad batch is refused" sh -c "! timeout 20 '$IPSECKCTL' -s '$WORK/a.sock' -f - <<'EOF'
sa add name bad spi 0x3000 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 proposal aes128gcm16 key 0x01
EOF"

in_ns "$hb" timeout 120 "$PYTHON" "$FLOW" recv 10.2.0.2 7000 5 >"$WORK/recv.out" &
rx=$!
sleep 0.5
in_ns "$ha" timeout 60 "$PYTHON" "$FLOW" burst 10.2.0.2 7000 200 5 >/dev/null
wait "$rx" || true
read -r _ got _ <"$WORK/recv.out" || true
check "UDP after the changes: 200 of 200" test "${got:-0}" = 200

rc=0
pair_stop "${PAIR_PIDS[0]}" 120 || rc=$?
check "A (under valgrind) exited 0 on SIGTERM (99 = valgrind errors), got $rc" test "$rc" = 0
echo "--- valgrind summary"
grep -E "ERROR SUMMARY|total heap usage|definitely lost|indirectly lost|possibly lost|still reachable|All heap" \
	"$VG_LOG" || true
check "valgrind: 0 errors" grep -q "ERROR SUMMARY: 0 errors" "$VG_LOG"
check "valgrind: 0 bytes definitely or indirectly lost" \
	sh -c "grep -q 'All heap blocks were freed' '$VG_LOG' ||
	       { grep -q 'definitely lost: 0 bytes' '$VG_LOG' &&
		 grep -q 'indirectly lost: 0 bytes' '$VG_LOG'; } ||
	       ! grep -Eq 'definitely lost|indirectly lost' '$VG_LOG'"
check "valgrind: the leak check ran" grep -Eq "LEAK SUMMARY|All heap blocks were freed" "$VG_LOG"
if [ "$FAILED" -ne 0 ]; then
	cp "$VG_LOG" "${TMPDIR:-/tmp}/ipk-valgrind-$$.log" &&
		echo "valgrind log kept in ${TMPDIR:-/tmp}/ipk-valgrind-$$.log"
fi
check "SIGTERM stops B cleanly" pair_stop "${PAIR_PIDS[1]}"
finish
