#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Rekeying a running site-to-site pair through ipseckctl, the SA events and lifetimes.
#
#   ns ipk-rk-PID-ha     ns ipk-rk-PID-ga            ns ipk-rk-PID-gb     ns ipk-rk-PID-hb
#   +-----------+       +----------------+          +----------------+       +-----------+
#   | h0        |<----->| l0  ipk0 (tun) |   veth   | ipk0 (tun)  l0 |<----->|        h0 |
#   | 10.1.0.2  | veth  | ipseckd A   w0 |<========>| w0  ipseckd B  | veth  |  10.2.0.2 |
#   +-----------+       | 192.0.2.1      |   ESP    |      192.0.2.2 |       +-----------+
#                       +----------------+          +----------------+
#   (tests/netns/pair.sh: SA generations abG / baG, rekeyed make-before-break)
#
# Checks:
#  - key-file permissions: A's file (mode 0644, keys inside) draws the "chmod 600" warning,
#    B's (0600) does not;
#  - three rekeys (new SPIs both ways, installed before the old SAs are removed) under two
#    numbered UDP flows (A->B and B->A, ~400 datagrams/s each): zero datagrams lost, none
#    duplicated; the old SAs are gone, the new ones carried the flows;
#  - `ipseckctl show events` (text and -j) lists sa-added and sa-deleted of the rekeys;
#  - a fourth generation whose outbound SA at A has soft-lifetime packets 100 and lifetime
#    packets 300: 200 datagrams -> soft-expired in `show events` and the event command of A
#    (-e) wrote it to its file; 200 more -> exactly 300 of the 400 arrived, hard-expired is
#    listed, and A counted exactly 100 drops as sa-expired;
#  - an idle SA at B with soft-lifetime seconds 1, lifetime seconds 2 raises soft-expired
#    and hard-expired without traffic (the daemon's once-a-second check), and B's
#    event-command (set in its file) ran for it;
#  - both daemons stop cleanly on SIGTERM.
#
# usage: rekey.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/common.sh"

IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL}")
PAIR=ipk-rk-$$
source "$HERE/pair.sh"
FLOW="$HERE/flow.py"
ha=$(pair_ns ha) hb=$(pair_ns hb)

# The event command: one line per event, arguments then environment.
cat >"$WORK/event.sh" <<EOF
#!/bin/sh
echo "\$1 \$2 \$3 \$4 \$IPSECK_EVENT \$IPSECK_SA" >>"$WORK/events-\$(basename "\$0" .sh).txt"
EOF
chmod 700 "$WORK/event.sh"
cp "$WORK/event.sh" "$WORK/eventb.sh"

pair_topology
pair_config a "$WORK/a.conf"
pair_config b "$WORK/b.conf" "event-command $WORK/eventb.sh" \
	"$(pair_sa b ba900 soft-lifetime seconds 1 lifetime seconds 2)"
sed -i 's/^sa add name ba900 /sa add name idle /' "$WORK/b.conf"
chmod 644 "$WORK/a.conf"
chmod 600 "$WORK/b.conf"
pair_start a "$WORK/a.conf" -- -e "$WORK/event.sh"
pair_start b "$WORK/b.conf"
pair_routes

check "key file: mode 0644 with keys draws the chmod 600 warning" \
	grep -q "a.conf: holds keys but its mode 0644 lets others read or write it; run chmod 600" \
	"$WORK/ipseckd-a.log"
check "key file: mode 0600 draws none" \
	sh -c "! grep -q 'chmod 600' '$WORK/ipseckd-b.log'"
check "ping through generation 0" in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 10.2.0.2

# Two numbered flows while the pair is rekeyed three times.
rm -f "$WORK/stop" "$WORK/ready-b" "$WORK/ready-a"
FLOW_READY="$WORK/ready-b" in_ns "$hb" timeout 120 "$PYTHON" "$FLOW" recv 10.2.0.2 7000 3 \
	>"$WORK/recv-ab.out" &
rx_ab=$!
FLOW_READY="$WORK/ready-a" in_ns "$ha" timeout 120 "$PYTHON" "$FLOW" recv 10.1.0.2 7001 3 \
	>"$WORK/recv-ba.out" &
rx_ba=$!
wait_for 10 "receivers bound" test -e "$WORK/ready-a" -a -e "$WORK/ready-b"
FLOW_STOP="$WORK/stop" in_ns "$ha" timeout 100 "$PYTHON" "$FLOW" send 10.2.0.2 7000 400 0 \
	>"$WORK/send-ab.out" &
tx_ab=$!
FLOW_STOP="$WORK/stop" in_ns "$hb" timeout 100 "$PYTHON" "$FLOW" send 10.1.0.2 7001 400 0 \
	>"$WORK/send-ba.out" &
tx_ba=$!
sleep 1
rekeys=0
for i in 1 2 3; do
	pair_rekey && rekeys=$((rekeys + 1))
	sleep 1
done
touch "$WORK/stop"
wait "$tx_ab" "$tx_ba" "$rx_ab" "$rx_ba"
read -r _ sent_ab <"$WORK/send-ab.out"
read -r _ sent_ba <"$WORK/send-ba.out"
read -r _ got_ab _ _ _ dup_ab _ miss_ab _ <"$WORK/recv-ab.out"
read -r _ got_ba _ _ _ dup_ba _ miss_ba _ <"$WORK/recv-ba.out"
echo "A->B: sent $sent_ab, $(cat "$WORK/recv-ab.out")"
echo "B->A: sent $sent_ba, $(cat "$WORK/recv-ba.out")"
check "three rekeys applied on both gateways" test "$rekeys" = 3
check "rekeys: A->B lost 0 of $sent_ab datagrams, no duplicates" \
	test "$got_ab/$dup_ab" = "$sent_ab/0" -a "$sent_ab" -gt 1000
check "rekeys: B->A lost 0 of $sent_ba datagrams, no duplicates" \
	test "$got_ba/$dup_ba" = "$sent_ba/0" -a "$sent_ba" -gt 1000
check "old SAs removed: A has ab3 and ba3 (and no ab0)" \
	sh -c "ctl() { timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' \"\$@\"; };
	       ctl show sa name ab3 >/dev/null && ctl show sa name ba3 >/dev/null &&
	       ! ctl show sa name ab0 >/dev/null 2>&1"
check "the last generation carried the flow (ab3 counted packets at B)" \
	test "$(pair_stat b sa.ab3.packets)" -gt 0

ctl a show events >"$WORK/events-a.txt"
ctl a -j show events >"$WORK/events-a.json"
cat "$WORK/events-a.txt"
check "show events: sa-added ab3 and sa-deleted ab2 at A (text)" \
	sh -c "grep -q 'sa-added sa ab3 spi 0x00010003 dir out' '$WORK/events-a.txt' &&
	       grep -q 'sa-deleted sa ab2 spi 0x00010002 dir out' '$WORK/events-a.txt'"
check "show events -j: 3 sa-deleted per direction, times and SPIs present" \
	"$PYTHON" - "$WORK/events-a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["events"]
dels = [e for e in ev if e["kind"] == "sa-deleted"]
ok = (len([e for e in dels if e["dir"] == "out"]) == 3 and
      len([e for e in dels if e["dir"] == "in"]) == 3 and
      all(e["time"].endswith("Z") and e["spi"] >= 0x10000 for e in ev) and
      d["total"] == len(ev) and d["lost"] == 0)
sys.exit(0 if ok else 1)
PY

# Generation 4: A's outbound SA has soft packets 100, hard packets 300.
check "rekey to a generation with packet lifetimes" \
	pair_rekey "soft-lifetime packets 100 lifetime packets 300"
sa=ab$PAIR_GEN
in_ns "$hb" timeout 60 "$PYTHON" "$FLOW" recv 10.2.0.2 7002 2 >"$WORK/recv-life1.out" &
rx=$!
sleep 0.5
in_ns "$ha" timeout 30 "$PYTHON" "$FLOW" burst 10.2.0.2 7002 200 >/dev/null
wait "$rx"
read -r _ got1 _ <"$WORK/recv-life1.out"
wait_for 5 "soft-expired event" sh -c "timeout 5 '$IPSECKCTL' -s '$WORK/a.sock' show events |
	grep -q 'soft-expired sa $sa '"
check "soft lifetime: 200 of 200 delivered" test "$got1" = 200
check "soft lifetime: show events lists soft-expired $sa" \
	sh -c "timeout 5 '$IPSECKCTL' -s '$WORK/a.sock' -j show events |
	       grep -q '\"kind\": *\"soft-expired\", *\"sa\": *\"$sa\"'"
wait_for 5 "event command ran" grep -q "^soft-expired $sa " "$WORK/events-event.txt"
check "soft lifetime: the event command (-e) ran with the event" \
	grep -q "^soft-expired $sa 0x00010004 out soft-expired $sa\$" "$WORK/events-event.txt"
drops0=$(pair_drops a | awk '$1 ~ /sa-expired$/ { s += $2 } END { print s + 0 }')
in_ns "$hb" timeout 60 "$PYTHON" "$FLOW" recv 10.2.0.2 7003 2 >"$WORK/recv-life2.out" &
rx=$!
sleep 0.5
in_ns "$ha" timeout 30 "$PYTHON" "$FLOW" burst 10.2.0.2 7003 200 >/dev/null
wait "$rx"
read -r _ got2 _ <"$WORK/recv-life2.out"
drops1=$(pair_drops a | awk '$1 ~ /sa-expired$/ { s += $2 } END { print s + 0 }')
pair_drops a >"$WORK/drops-a.txt"
echo "hard lifetime: delivered $got2 of 200; sa-expired drops $drops0 -> $drops1"
cat "$WORK/drops-a.txt"
check "hard lifetime: 100 of the next 200 delivered (300 in all)" test "$((got1 + got2))" = 300
check "hard lifetime: exactly 100 drops counted as sa-expired at A" \
	test "$((drops1 - drops0))" = 100
check "hard lifetime: show events lists hard-expired $sa" \
	sh -c "timeout 5 '$IPSECKCTL' -s '$WORK/a.sock' show events | grep -q 'hard-expired sa $sa '"

# The idle SA at B expires by the clock alone.
wait_for 10 "idle SA hard-expired" sh -c "timeout 5 '$IPSECKCTL' -s '$WORK/b.sock' show events |
	grep -q 'hard-expired sa idle '"
check "seconds lifetime of an idle SA: soft-expired then hard-expired at B" \
	sh -c "timeout 5 '$IPSECKCTL' -s '$WORK/b.sock' show events | grep -q 'soft-expired sa idle ' &&
	       timeout 5 '$IPSECKCTL' -s '$WORK/b.sock' show sa name idle | grep -q dead"
wait_for 5 "B's event command" grep -q "^hard-expired idle " "$WORK/events-eventb.txt"
check "B's event-command (from its file) ran for the idle SA" \
	grep -q "^soft-expired idle 0x00020384 out" "$WORK/events-eventb.txt"
check "notice lines logged for the events" grep -q "notice: event .*: soft-expired sa $sa" \
	"$WORK/ipseckd-a.log"

check "SIGTERM stops A cleanly" pair_stop "${PAIR_PIDS[0]}"
check "SIGTERM stops B cleanly" pair_stop "${PAIR_PIDS[1]}"
finish
