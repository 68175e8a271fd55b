#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Two ipseckd joining two sites over ESP: first in tun mode, with the example
# configurations examples/site-a.conf and examples/site-b.conf as they are shipped, then as
# bumps in the wire.
#
#   ns ipk-s2s-PID-ha     ns ipk-s2s-PID-ga               ns ipk-s2s-PID-gb     ns ipk-s2s-PID-hb
#   +-------------+      +--------------------+          +--------------------+      +-------------+
#   | h0          |<---->| l0 10.1.0.1        |          |        10.2.0.1 l0 |<---->|          h0 |
#   |  10.1.0.2   | veth |    fd00:1::1       |          |        fd00:2::1   | veth |    10.2.0.2 |
#   |  fd00:1::2  |      | ipk0 (tun)         |          |         (tun) ipk0 |      |   fd00:2::2 |
#   +-------------+      |   ^ ipseckd A      |          |      ipseckd B ^   |      +-------------+
#                        |   v (esp port)     |   veth   |     (esp port) v   |
#                        | w0 192.0.2.1       |<========>|       192.0.2.2 w0 |
#                        +--------------------+   ESP    +--------------------+
#
#   routes: A 10.2.0.0/24 + fd00:2::/64 dev ipk0; B 10.1.0.0/24 + fd00:1::/64 dev ipk0
#   SAs (examples/site-*.conf): a-to-b SPI 0x1001, b-to-a SPI 0x2001, aes128gcm16, tunnel
#
# Checks: ping across; a 4 MiB TCP transfer with the same SHA-256 at both ends; IPv6 inside
# the IPv4 tunnel (policies added at runtime: ping and 1 MiB over TCP); exactly N
# UDP datagrams counted by both SAs and both engines; 140 runtime changes (SAs, policies,
# crypto units, a QoS chain at queue 3) while 3,000 datagrams flow, none lost; `engine mode`
# and more units than CPUs refused at runtime; a discard policy added at runtime
# through ipseckctl drops its flow (counted as policy-discard) while the rest flows; a
# bypass policy sends its flow unencrypted (scheduler.bypassed), which the ESP port of tun
# mode cannot carry (not-esp at the port: docs/man/ipseck.conf.5); the engines balance;
# SIGTERM stops both daemons cleanly; daemonized start-up (pidfile); a file with a wrong last
# line starts nothing and leaves no TUN device behind; under a flood against a capped crypto
# unit, the losses happen in ipseck's queues and the kernel's TUN queue drops nothing.
#
# Then the same pair in wire mode (second diagram below): ping, TCP, bypass and discard.
#
# usage: site_to_site.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/common.sh"
# The configurations written below hold keys: readable by their owner only.
umask 077

IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL}")
EXAMPLES=$(cd "$HERE/../../examples" && pwd)
ha=ipk-s2s-$$-ha
ga=ipk-s2s-$$-ga
gb=ipk-s2s-$$-gb
hb=ipk-s2s-$$-hb

# ctl GW ARGS...: ipseckctl against the daemon of gateway GW (a or b), bounded.
ctl() {
	local gw=$1
	shift
	echo "+ ipseckctl($gw) $*" >&2
	timeout 10 "$IPSECKCTL" -s "$WORK/$gw.sock" "$@"
}

# stat GW NAME: one counter. NAME is SECTION.COUNTER of a stats provider
# ("engine.scheduler.bypassed", "ports.wan.tx-packets"; `ipseckctl -j stats`) or
# sa.SA.FIELD (`ipseckctl -j show sa name SA`; FIELD drops is the sum of its drops).
stat() {
	local gw=$1 name=$2 sa
	if [ "${name%%.*}" = sa ]; then
		sa=${name#sa.}
		sa=${sa%.*}
		timeout 10 "$IPSECKCTL" -s "$WORK/$gw.sock" -j show sa name "$sa" >"$WORK/stats.json"
	else
		timeout 10 "$IPSECKCTL" -s "$WORK/$gw.sock" -j stats >"$WORK/stats.json"
	fi
	"$PYTHON" - "$WORK/stats.json" "$name" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
section, _, name = sys.argv[2].partition(".")
if section == "sa":
    value = doc["sa"][0][name.rpartition(".")[2]]
    print(sum(value.values()) if isinstance(value, dict) else value)
else:
    print(doc["providers"].get(section, {}).get(name, 0))
PY
}

# udp_burst PORT COUNT: exactly COUNT UDP datagrams from host A to host B on PORT; prints
# how many arrived. NS_TX, NS_RX and UDP_DST choose other hosts (the wire-mode pair).
udp_burst() {
	local port=$1 count=$2
	in_ns "${NS_RX:-$hb}" timeout 20 "$PYTHON" - "$port" "$count" "${UDP_DST:-10.2.0.2}" \
		>"$WORK/udp-$port.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], int(sys.argv[1])))
s.settimeout(3)
n = 0
open("/dev/stdout", "w").write("")
try:
    while n < int(sys.argv[2]):
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
EOF
	local rx=$!
	sleep 0.5
	in_ns "${NS_TX:-$ha}" timeout 20 "$PYTHON" - "$port" "$count" "${UDP_DST:-10.2.0.2}" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(i.to_bytes(4, "big") * 100, (sys.argv[3], int(sys.argv[1])))
    time.sleep(0.001)
EOF
	wait "$rx"
	cat "$WORK/udp-$port.out"
}

# Packets the kernel dropped at gateway A's TUN device: its queue towards ipseckd was full.
tun_dropped() {
	ip -n "$ga" -s -j link show ipk0 | "$PYTHON" -c \
		'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'
}

start_gw() {
	local gw=$1 ns=$2
	echo "+ [$ns] ipseckd -F -v -f $EXAMPLES/site-$gw.conf -s $WORK/$gw.sock &" >&2
	ip netns exec "$ns" "$IPSECKD" -F -v -f "$EXAMPLES/site-$gw.conf" -s "$WORK/$gw.sock" \
		>"$WORK/ipseckd-$gw.log" 2>&1 &
	BG_PIDS+=("$!")
	wait_for 10 "ipseckd $gw answers" "$IPSECKCTL" -s "$WORK/$gw.sock" stats
}

# stop_gw INDEX: SIGTERM, at most 10 s to exit; returns its exit status.
stop_gw() {
	local pid=${BG_PIDS[$1]} rc=0
	run kill -TERM "$pid"
	wait_for 10 "ipseckd $pid exits" sh -c "! kill -0 $pid"
	wait "$pid" || rc=$?
	return "$rc"
}

for ns in "$ha" "$ga" "$gb" "$hb"; do
	add_ns "$ns"
done
run ip link add h0 netns "$ha" type veth peer name l0 netns "$ga"
run ip link add w0 netns "$ga" type veth peer name w0 netns "$gb"
run ip link add l0 netns "$gb" type veth peer name h0 netns "$hb"
in_ns "$ha" ip addr add 10.1.0.2/24 dev h0
in_ns "$ga" ip addr add 10.1.0.1/24 dev l0
in_ns "$ga" ip addr add 192.0.2.1/24 dev w0
in_ns "$gb" ip addr add 192.0.2.2/24 dev w0
in_ns "$gb" ip addr add 10.2.0.1/24 dev l0
in_ns "$hb" ip addr add 10.2.0.2/24 dev h0
in_ns "$ha" ip addr add fd00:1::2/64 dev h0 nodad
in_ns "$ga" ip addr add fd00:1::1/64 dev l0 nodad
in_ns "$gb" ip addr add fd00:2::1/64 dev l0 nodad
in_ns "$hb" ip addr add fd00:2::2/64 dev h0 nodad
for pair in "$ha h0" "$ga l0" "$ga w0" "$gb w0" "$gb l0" "$hb h0"; do
	set -- $pair
	in_ns "$1" ip link set "$2" up
done
in_ns "$ha" ip route add default via 10.1.0.1
in_ns "$hb" ip route add default via 10.2.0.1
in_ns "$ha" ip -6 route add default via fd00:1::1
in_ns "$hb" ip -6 route add default via fd00:2::1
for ns in "$ga" "$gb"; do
	in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1
done
in_ns "$ga" ping -q -c 1 -W 2 192.0.2.2 >/dev/null

start_gw a "$ga"
start_gw b "$gb"
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
in_ns "$gb" ip route add 10.1.0.0/24 dev ipk0

check "ping host A -> host B through the tunnel" \
	in_ns "$ha" ping -q -c 5 -i 0.2 -W 2 10.2.0.2
check "ESP on the wire: SA a-to-b counted at A and B" \
	test "$(stat a sa.a-to-b.packets)" -ge 5 -a "$(stat b sa.a-to-b.packets)" -ge 5

# Bulk TCP, checksum verified at both ends.
size=$((4 << 20))
in_ns "$hb" timeout 60 "$PYTHON" "$HERE/xfer.py" serve 10.2.0.2 5001 >"$WORK/serve.out" &
serve=$!
in_ns "$ha" timeout 60 "$PYTHON" "$HERE/xfer.py" send 10.2.0.2 5001 "$size" >"$WORK/send.out"
wait "$serve"
read -r _ sent_bytes sent_sum _ <"$WORK/send.out"
read -r _ got_bytes got_sum <"$WORK/serve.out"
check "TCP: $size bytes arrived with the same SHA-256" \
	test "$sent_bytes $sent_sum" = "$got_bytes $got_sum" -a "$got_bytes" = "$size"

# IPv6 inside the IPv4 tunnel: policies added at runtime, one batch per gateway.
printf '%s\n' \
	"policy add name a-to-b6 dir out src fd00:1::/64 dst fd00:2::/64 action protect sa a-to-b" \
	"policy add name b-to-a6 dir in src fd00:2::/64 dst fd00:1::/64 action protect sa b-to-a" \
	>"$WORK/a6.conf"
sed -e 's/dir out/dir XX/' -e 's/dir in/dir out/' -e 's/dir XX/dir in/' "$WORK/a6.conf" \
	>"$WORK/b6.conf"
check "runtime: IPv6 policies added to A as one batch" ctl a -f "$WORK/a6.conf"
check "runtime: IPv6 policies added to B as one batch" ctl b -f "$WORK/b6.conf"
in_ns "$ga" ip -6 route add fd00:2::/64 dev ipk0
in_ns "$gb" ip -6 route add fd00:1::/64 dev ipk0
check "ping IPv6 host A -> host B through the IPv4 tunnel" \
	in_ns "$ha" ping -q -c 5 -i 0.2 -W 2 fd00:2::2
in_ns "$hb" timeout 60 "$PYTHON" "$HERE/xfer.py" serve fd00:2::2 5002 >"$WORK/serve6.out" &
serve=$!
in_ns "$ha" timeout 60 "$PYTHON" "$HERE/xfer.py" send fd00:2::2 5002 $((1 << 20)) \
	>"$WORK/send6.out"
wait "$serve"
read -r _ sent_bytes sent_sum _ <"$WORK/send6.out"
read -r _ got_bytes got_sum <"$WORK/serve6.out"
check "TCP over IPv6: 1 MiB arrived with the same SHA-256" \
	test "$sent_bytes $sent_sum" = "$got_bytes $got_sum" -a "$got_bytes" = $((1 << 20))

# Exactly N datagrams: both SAs and host B count N more.
n=500
a_out0=$(stat a sa.a-to-b.packets)
b_in0=$(stat b sa.a-to-b.packets)
got=$(udp_burst 6000 "$n")
check "UDP: host B received $n of $n datagrams" test "$got" = "$n"
check "UDP: SA a-to-b counted $n more at A and at B" \
	test "$(($(stat a sa.a-to-b.packets) - a_out0))/$(($(stat b sa.a-to-b.packets) - b_in0))" = "$n/$n"

# Runtime changes while traffic flows: each batch pauses the receive threads until the
# engine has passed its lookups (src/gw/README.md); packets wait, none is lost.
a_out0=$(stat a sa.a-to-b.packets)
in_ns "$hb" timeout 30 "$PYTHON" - 6010 3000 10.2.0.2 >"$WORK/udp-6010.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], int(sys.argv[1])))
s.settimeout(3)
n = 0
try:
    while n < int(sys.argv[2]):
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
print(n, flush=True)
EOF
rx=$!
sleep 0.5
in_ns "$ha" timeout 30 "$PYTHON" - <<'EOF' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(b"y" * 300, ("10.2.0.2", 6010))
    time.sleep(0.001)
EOF
tx=$!
# A QoS chain for queue 3, attached and detached (which deletes it) in turn
# (examples/recommended-qos.conf, reduced to EF first over one best-effort FIFO).
printf '%s\n' "qos add name churn-cls kind dscp ef 0 default 1" \
	"qos add name churn-ef kind fifo limit 64" "qos add name churn-be kind fifo limit 512" \
	"qos add name churn-prio kind prio" \
	"qos node name churn classify churn-cls children churn-ef,churn-be schedule churn-prio" \
	"hook attach 3 churn" >"$WORK/churn-qos.conf"
pauses0=$(stat a gateway.pauses)
holds0=$(stat a gateway.holds)
changes=0
for i in $(seq 20); do
	ctl a engine units $((1 + i % 2)) high $((2 + i % 3)) low 1 && changes=$((changes + 1))
	ctl a -f "$WORK/churn-qos.conf" && changes=$((changes + 1))
	ctl a policy add name churn-$i dir out src 10.1.0.0/24 dst 10.2.0.0/24 proto tcp \
		dport $((20000 + i)) action discard priority 20 && changes=$((changes + 1))
	ctl a sa add name churn-$i spi $((0x5000 + i)) dir in mode tunnel src 192.0.2.2 \
		dst 192.0.2.1 proposal aes128gcm16 key 0x$(printf 'e5%.0s' $(seq 20)) &&
		changes=$((changes + 1))
	ctl a policy del name churn-$i && changes=$((changes + 1))
	ctl a sa del name churn-$i && changes=$((changes + 1))
	ctl a hook detach 3 && changes=$((changes + 1))
done
wait "$tx"
wait "$rx"
check "runtime: 140 changes (SAs, policies, crypto units, QoS chains) applied while traffic flowed" \
	test "$changes" = 140
check "runtime: all 3000 datagrams arrived meanwhile" test "$(cat "$WORK/udp-6010.out")" = 3000
# SA and policy changes park the packet scheduler for their own time (holds); units and
# QoS chains take effect while traffic flows; nothing drained the engine (pauses).
check "runtime: the 80 SA and policy changes held the packet scheduler" \
	test "$(($(stat a gateway.holds) - holds0))" = 80
check "runtime: no change drained the engine" \
	test "$(($(stat a gateway.pauses) - pauses0))" = 0
check "runtime: the longest hold: $(stat a gateway.held-us-max) us" \
	test "$(stat a gateway.hold-timeouts)" = 0
check "runtime: SA a-to-b counted them all" \
	test "$(($(stat a sa.a-to-b.packets) - a_out0))" = 3000

# A discard policy, added at runtime, ahead of the protect policy.
d0=$(stat a engine.scheduler.drops.policy-discard)
ctl a policy add name no-udp-6001 dir out src 10.1.0.0/24 dst 10.2.0.0/24 proto udp \
	dport 6001 action discard priority 10
got=$(udp_burst 6001 50)
check "discard: host B received nothing on port 6001" test "$got" = 0
check "discard: A counted 50 policy-discard drops" \
	test "$(($(stat a engine.scheduler.drops.policy-discard) - d0))" = 50
got=$(udp_burst 6000 20)
check "discard: the protected flow still passes (20 of 20)" test "$got" = 20

# A bypass policy: the scheduler sends the flow on unencrypted; in tun mode the protected
# side is a raw ESP socket, which refuses anything but ESP.
b0=$(stat a engine.scheduler.bypassed)
ne0=$(stat a ports.wan.not-esp)
ctl a policy add name bypass-6002 dir out src 10.1.0.0/24 dst 10.2.0.0/24 proto udp \
	dport 6002 action bypass priority 10
got=$(udp_burst 6002 30)
check "bypass: 30 packets bypassed crypto at A" \
	test "$(($(stat a engine.scheduler.bypassed) - b0))" = 30
check "bypass: the ESP port refused them (not-esp), none arrived" \
	test "$(($(stat a ports.wan.not-esp) - ne0))/$got" = "30/0"
check "runtime: policy del through ipseckctl" ctl a policy del name bypass-6002

for gw in a b; do
	check "engine $gw balanced, nothing left in flight" \
		test "$(stat $gw engine.balanced)/$(stat $gw engine.in-flight)" = "1/0"
	check "no bad-icv or replay drops at $gw" \
		test "$(stat $gw sa.a-to-b.drops)$(stat $gw sa.b-to-a.drops)" = "00"
done
check "ipseckctl: a change of engine mode at runtime is refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' engine mode coupled 2>'$WORK/ctl.err'"
check "ipseckctl: ... with a clear message" grep -q "mode can only be set at start-up" "$WORK/ctl.err"
check "ipseckctl: more units than the SAs have crypto contexts for are refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' engine units 64 2>'$WORK/ctl.err'"
check "ipseckctl: ... saying how many it can run" grep -q "units 64 above" "$WORK/ctl.err"
check "ipseckctl: show units lists the running units" \
	sh -c "timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' show units | grep -q '^unit 0 caps all'"

check "SIGTERM: ipseckd a exits 0" stop_gw 0
check "SIGTERM: ipseckd b exits 0" stop_gw 1
check "logs: both stopped cleanly" \
	test "$(grep -c 'ipseckd: stopped' "$WORK"/ipseckd-a.log "$WORK"/ipseckd-b.log | \
		awk -F: '{ s += $2 } END { print s }')" = 2

# Overload: gateway A again, its one crypto unit capped at 500 packets/s, flooded with
# 20000 datagrams at some 10000/s (bursts of 50 every 5 ms: 20 times what crypto can do,
# paced so that the sender does not take the CPU the gateway runs on, as a sender on
# another machine would not). The receive thread must drain the TUN device faster than
# crypto works: the losses are ipseck's (queue-full at its queues), the kernel's TUN queue
# drops nothing.
sed -e 's/^engine units 2$/engine units 1 pps 500/' "$EXAMPLES/site-a.conf" >"$WORK/slow-a.conf"
grep -q '^engine units 1 pps 500$' "$WORK/slow-a.conf"
echo "+ [$ga] ipseckd -F -f $WORK/slow-a.conf -s $WORK/a.sock &" >&2
ip netns exec "$ga" "$IPSECKD" -F -f "$WORK/slow-a.conf" -s "$WORK/a.sock" \
	>"$WORK/ipseckd-slow.log" 2>&1 &
BG_PIDS+=("$!")
slow=$((${#BG_PIDS[@]} - 1))
wait_for 10 "slow ipseckd answers" "$IPSECKCTL" -s "$WORK/a.sock" stats
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
# Room for the receive thread being off the CPU for a while on a busy test machine; a
# thread that only drained at crypto speed would still lose most of the flood here.
in_ns "$ga" ip link set ipk0 txqueuelen 4096
tun_drop0=$(tun_dropped)
in_ns "$ha" timeout 30 "$PYTHON" - <<'PY' &
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for burst in range(400):
    for i in range(50):
        s.sendto(b"x" * 200, ("10.2.0.2", 6003))
    time.sleep(0.005)
PY
flood=$!
# A rekey in the middle of the flood: with queue 3 full, draining the engine would take
# seconds at 500 packets/s (and be refused after 2 s); the change only parks the packet
# scheduler, so it goes through.
sleep 1
q3_len=$(stat a engine.q3.len)
check "overload: an SA added mid-flood (queue 3 holds $q3_len packets)" \
	ctl a sa add name mid-flood spi 0x7777 dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 \
	proposal aes128gcm16 key 0x$(printf 'e5%.0s' $(seq 20))
check "overload: ... and deleted again, the longest hold $(stat a gateway.held-us-max) us" \
	ctl a sa del name mid-flood
check "overload: neither drained the engine" test "$(stat a gateway.pauses)" = 0
wait "$flood"
full=$(( $(stat a engine.q1.drops.queue-full) + $(stat a engine.q3.drops.queue-full) ))
lost=$(($(tun_dropped) - tun_drop0))
entered=$(stat a engine.in)
check "overload: ipseck dropped at its own queues (queue-full: $full)" test "$full" -gt 10000
check "overload: the TUN device's kernel queue dropped nothing ($lost)" test "$lost" = 0
check "overload: every datagram of the flood reached the engine ($entered)" \
	test "$entered" -ge 20000
check "overload: the capped gateway still stops cleanly" stop_gw "$slow"

# Daemonized: the parent returns once the gateway runs; pidfile written, then removed.
printf 'engine units 1 buffers 1024\n' >"$WORK/c.conf"
check "daemon: starts in the background, exit status 0" \
	in_ns "$gb" "$IPSECKD" -f "$WORK/c.conf" -s "$WORK/c.sock" -p "$WORK/c.pid"
cpid=$(cat "$WORK/c.pid" 2>/dev/null || echo none)
BG_PIDS+=("$cpid")
check "daemon: pidfile names a live process" kill -0 "$cpid"
check "daemon: answers on its socket" \
	sh -c "timeout 10 '$IPSECKCTL' -s '$WORK/c.sock' stats >/dev/null"
run kill -TERM "$cpid" || true
check "daemon: exits on SIGTERM" wait_for 10 "daemon exit" sh -c "! kill -0 $cpid"
check "daemon: pidfile and socket removed" test ! -e "$WORK/c.pid" -a ! -e "$WORK/c.sock"

# All or nothing at start-up: a file whose last line is wrong starts nothing, and the TUN
# device its check pass opened is gone again.
sed -e 's/ local 192.0.2.1$//' "$EXAMPLES/site-a.conf" >"$WORK/bad.conf"
echo "policy add name late dir out action protect sa nosuch" >>"$WORK/bad.conf"
bad_line=$(wc -l <"$WORK/bad.conf")
rc=0
in_ns "$hb" "$IPSECKD" -f "$WORK/bad.conf" -s "$WORK/bad.sock" -p "$WORK/bad.pid" \
	2>"$WORK/bad.err" || rc=$?
check "bad file: exit status 1" test "$rc" = 1
check "bad file: the message names file and line" \
	grep -q "bad.conf:$bad_line: policy late: sa 'nosuch' does not exist" "$WORK/bad.err"
check "bad file: no TUN device, socket or pidfile left" \
	sh -c "! ip -n $hb link show ipk0 >/dev/null 2>&1 && test ! -e $WORK/bad.sock -a ! -e $WORK/bad.pid"

# ---------------------------------------------------------------------------------------
# Wire mode: the same pair as bumps in the wire. Hosts A and B share one subnet; each
# gateway owns two interfaces through AF_PACKET and no address. ARP crosses as non-IP
# frames (non-ip pass); IP crosses under the policies: ESP between the gateways, a bypass
# flow in clear, a discard flow nowhere.
#
#   ns ...-wha            ns ...-wga                    ns ...-wgb             ns ...-whb
#   +-----------+        +--------------------+        +--------------------+  +-----------+
#   | h0        |<------>| p0 [wire] ipseckd  |        |  ipseckd [wire] p0 |<>|        h0 |
#   | 10.9.0.1  |  veth  |    [wire] w0       |<======>|       w0 [wire]    |  | 10.9.0.2  |
#   +-----------+        +--------------------+  ESP   +--------------------+  +-----------+
#   outer addresses 192.0.2.1 -> 192.0.2.2 (the gateways own none); w0 MTU 1600 for ESP
wha=ipk-s2s-$$-wha
wga=ipk-s2s-$$-wga
wgb=ipk-s2s-$$-wgb
whb=ipk-s2s-$$-whb
for ns in "$wha" "$wga" "$wgb" "$whb"; do
	add_ns "$ns"
done
run ip link add h0 netns "$wha" type veth peer name p0 netns "$wga"
run ip link add w0 netns "$wga" type veth peer name w0 netns "$wgb"
run ip link add p0 netns "$wgb" type veth peer name h0 netns "$whb"
for ns in "$wga" "$wgb"; do
	for dev in p0 w0; do
		in_ns "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	done
	in_ns "$ns" ip link set w0 mtu 1600
	in_ns "$ns" ip link set p0 up
	in_ns "$ns" ip link set w0 up
done
# A veth sender hands GSO super-frames to its peer, which no AF_PACKET bridge can forward
# (src/io/afpacket.h): one segment per frame, as on a real wire.
in_ns "$wha" ip link set h0 gso_max_segs 1
in_ns "$whb" ip link set h0 gso_max_segs 1
in_ns "$wha" ip addr add 10.9.0.1/24 dev h0
in_ns "$whb" ip addr add 10.9.0.2/24 dev h0
in_ns "$wha" ip link set h0 up
in_ns "$whb" ip link set h0 up

# wire_conf SIDE: the configuration of gateway SIDE (a or b).
wire_conf() {
	local me=$1 out=out in=in
	[ "$me" = b ] && { out=in; in=out; }
	cat <<EOF2
engine units 1
interface add name lan kind wire side plain dev p0 promisc yes strip yes
interface add name wan kind wire side protected dev w0 promisc yes strip yes
sa add name a-to-b spi 0x3001 dir $out mode tunnel src 192.0.2.1 dst 192.0.2.2 \
	proposal aes128gcm16 key 0x$(printf 'c3%.0s' $(seq 20))
sa add name b-to-a spi 0x4001 dir $in mode tunnel src 192.0.2.2 dst 192.0.2.1 \
	proposal aes128gcm16 key 0x$(printf 'd4%.0s' $(seq 20))
policy add name a-to-b dir $out src 10.9.0.1 dst 10.9.0.2 action protect sa a-to-b
policy add name b-to-a dir $in src 10.9.0.2 dst 10.9.0.1 action protect sa b-to-a
policy add name clear-out dir out proto udp dport 7000 action bypass priority 10
policy add name clear-in dir in proto udp dport 7000 action bypass priority 10
policy add name clear-back dir out proto udp sport 7000 action bypass priority 10
policy add name clear-back-in dir in proto udp sport 7000 action bypass priority 10
policy add name drop-7001 dir out proto udp dport 7001 action discard priority 10
EOF2
}

for gw in a b; do
	wire_conf "$gw" >"$WORK/wire-$gw.conf"
	ns=$wga
	[ "$gw" = b ] && ns=$wgb
	echo "+ [$ns] ipseckd -F -f $WORK/wire-$gw.conf -s $WORK/w$gw.sock &" >&2
	ip netns exec "$ns" "$IPSECKD" -F -f "$WORK/wire-$gw.conf" -s "$WORK/w$gw.sock" \
		>"$WORK/ipseckd-w$gw.log" 2>&1 &
	BG_PIDS+=("$!")
	wait_for 10 "wire ipseckd $gw answers" "$IPSECKCTL" -s "$WORK/w$gw.sock" stats
done

check "wire: ping host A -> host B (ARP as non-IP frames, ICMP under ESP)" \
	in_ns "$wha" ping -q -c 5 -i 0.2 -W 2 10.9.0.2
check "wire: ICMP went through the SAs" \
	test "$(stat wa sa.a-to-b.packets)" -ge 5 -a "$(stat wb sa.b-to-a.packets)" -ge 5
in_ns "$whb" timeout 60 "$PYTHON" "$HERE/xfer.py" serve 10.9.0.2 5003 >"$WORK/wserve.out" &
serve=$!
in_ns "$wha" timeout 60 "$PYTHON" "$HERE/xfer.py" send 10.9.0.2 5003 $((1 << 20)) \
	>"$WORK/wsend.out"
wait "$serve"
read -r _ sent_bytes sent_sum _ <"$WORK/wsend.out"
read -r _ got_bytes got_sum <"$WORK/wserve.out"
check "wire: TCP 1 MiB arrived with the same SHA-256" \
	test "$sent_bytes $sent_sum" = "$got_bytes $got_sum" -a "$got_bytes" = $((1 << 20))

sa0=$(stat wa sa.a-to-b.packets)
by0=$(stat wa engine.scheduler.bypassed)
got=$(UDP_DST=10.9.0.2 NS_TX=$wha NS_RX=$whb udp_burst 7000 40)
check "wire: bypass: host B received 40 of 40 in clear" test "$got" = 40
check "wire: bypass: counted as bypassed at A, not by the SA" \
	test "$(($(stat wa engine.scheduler.bypassed) - by0))/$(($(stat wa sa.a-to-b.packets) - sa0))" = "40/0"
d0=$(stat wa engine.scheduler.drops.policy-discard)
got=$(UDP_DST=10.9.0.2 NS_TX=$wha NS_RX=$whb udp_burst 7001 40)
check "wire: discard: host B received nothing" test "$got" = 0
dd=$(($(stat wa engine.scheduler.drops.policy-discard) - d0))
check "wire: discard: A counted 40 policy-discard drops (counted $dd)" test "$dd" = 40
# Path MTU in wire mode: ICMP between the hosts moves to an SA whose path MTU is 1280
# (effective 1226 for aes128gcm16 over IPv4). A 1328-byte echo with DF is refused at A,
# whose "fragmentation needed" goes back out of the plain interface to host A's MAC
# address (the answer carries the frame's link header with the addresses swapped).
for gw in a b; do
	dir=out
	[ "$gw" = b ] && dir=in
	printf '%s\n' "sa add name pmtu spi 0x3002 dir $dir mode tunnel src 192.0.2.1 \
dst 192.0.2.2 mtu 1280 proposal aes128gcm16 key 0x$(printf 'e7%.0s' $(seq 20))" \
		"policy add name pmtu dir $dir src 10.9.0.1 dst 10.9.0.2 proto icmp \
action protect sa pmtu priority 5" >"$WORK/pmtu-$gw.conf"
	check "wire: an SA with mtu 1280 for ICMP added at $gw" \
		timeout 10 "$IPSECKCTL" -s "$WORK/w$gw.sock" -f "$WORK/pmtu-$gw.conf"
done
in_ns "$wha" ping -c 2 -i 0.3 -W 2 -M do -s 1300 10.9.0.2 >"$WORK/wping-df.out" 2>&1 || true
check "wire: ping -M do -s 1300 gets frag needed, mtu 1226" \
	grep -Eq 'Frag needed.*mtu = 1226|mtu=1226|Message too long, mtu=1226' "$WORK/wping-df.out"
check "wire: host A learnt the path MTU 1226" \
	sh -c "ip -n $wha route get 10.9.0.2 | grep -q 'mtu 1226'"
check "wire: a 1226-byte echo with DF gets through the small-MTU SA" \
	in_ns "$wha" ping -q -c 2 -i 0.3 -W 2 -M do -s 1198 10.9.0.2
check "wire: ... counted by that SA at B" test "$(stat wb sa.pmtu.packets)" -ge 2
check "wire: A refused the large echoes as frag-needed" \
	test "$(stat wa engine.scheduler.drops.frag-needed)" -ge 1
check "wire: ARP crossed as non-IP frames" test "$(stat wa ports.lan.non-ip)" -gt 0
for gw in wa wb; do
	check "wire: engine $gw balanced" test "$(stat $gw engine.balanced)" = 1
done
check "wire: ipseckd a exits 0 on SIGTERM" stop_gw $((${#BG_PIDS[@]} - 2))
check "wire: ipseckd b exits 0 on SIGTERM" stop_gw $((${#BG_PIDS[@]} - 1))

finish
