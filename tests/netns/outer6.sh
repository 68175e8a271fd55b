#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Two ipseckd joining two sites over ESP with IPv6 OUTER addresses (the ESP packets
# between the gateways are IPv6), carrying IPv4 and IPv6 inside: first in tun mode (raw
# ESP sockets, family 6), then as bumps in the wire (AF_PACKET).
#
#   ns ipk-o6-PID-ha      ns ipk-o6-PID-ga                ns ipk-o6-PID-gb      ns ipk-o6-PID-hb
#   +-------------+      +---------------------+         +---------------------+      +-------------+
#   | h0          |<---->| l0 10.1.0.1         |         |         10.2.0.1 l0 |<---->|          h0 |
#   |  10.1.0.2   | veth |    fd00:1::1        |         |         fd00:2::1   | veth |    10.2.0.2 |
#   |  fd00:1::2  |      | ipk0 (tun)          |         |          (tun) ipk0 |      |   fd00:2::2 |
#   +-------------+      |   ^ ipseckd A       |         |       ipseckd B ^   |      +-------------+
#                        |   v (esp, family 6) |  veth   | (esp, family 6) v   |
#                        | w0 2001:db8::1      |<=======>|      2001:db8::2 w0 |
#                        +---------------------+ ESP/IPv6+---------------------+
#
#   routes: A 10.2.0.0/24 + fd00:2::/64 dev ipk0; B 10.1.0.0/24 + fd00:1::/64 dev ipk0
#   SAs: a-to-b SPI 0x6001, b-to-a SPI 0x6002, aes128gcm16, tunnel 2001:db8::1 <-> ::2;
#   one policy pair per inner family, both on the same SAs.
#
# Checks, per inner family: ping across; a TCP transfer with the same SHA-256 at both ends;
# exactly N UDP datagrams arrive and both SAs and both engines count exactly N more; the
# ESP on the wire is IPv6 (port counters; the outer addresses seen in a capture), no SA
# drops, the engines balance, both daemons stop with status 0.
#
# Then the same tun-mode pair with UDP encapsulation (RFC 3948, udp ports of family 6,
# SAs with encap udp), and wire mode (second diagram below), with the same checks.
#
# usage: outer6.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/gwlib.sh"

ha=ipk-o6-$$-ha
ga=ipk-o6-$$-ga
gb=ipk-o6-$$-gb
hb=ipk-o6-$$-hb
KEY_AB=0x$(printf '6a%.0s' $(seq 20))
KEY_BA=0x$(printf '6b%.0s' $(seq 20))

# sa_lines ME: the SAs of gateway ME (a or b), IPv6 outer; $ENCAP ("encap udp" or empty)
# is added to each.
ENCAP=
CAP_FILTER="ip6 proto 50 or ip proto 50"
sa_lines() {
	local out=out in=in
	[ "$1" = b ] && { out=in; in=out; }
	cat <<EOF
sa add name a-to-b spi 0x6001 dir $out mode tunnel src 2001:db8::1 dst 2001:db8::2 \
	proposal aes128gcm16 key $KEY_AB $ENCAP
sa add name b-to-a spi 0x6002 dir $in mode tunnel src 2001:db8::2 dst 2001:db8::1 \
	proposal aes128gcm16 key $KEY_BA $ENCAP
EOF
}

# policy_lines ME A4 B4 A6 B6: policies of gateway ME between site A (A4, A6) and site B.
policy_lines() {
	local out=out in=in
	[ "$1" = b ] && { out=in; in=out; }
	cat <<EOF
policy add name a-to-b dir $out src $2 dst $3 action protect sa a-to-b
policy add name b-to-a dir $in src $3 dst $2 action protect sa b-to-a
policy add name a-to-b6 dir $out src $4 dst $5 action protect sa a-to-b
policy add name b-to-a6 dir $in src $5 dst $4 action protect sa b-to-a
EOF
}

# tun_conf ME: gateway ME's file in tun mode. Overhead 93: outer IPv6 40, ESP 8, IV 8,
# trailer 2..5, ICV 16 make 77 at most; the rest is slack.
tun_conf() {
	local me=$1 n=1
	[ "$me" = b ] && n=2
	cat <<EOF
engine units 2
interface add name ipk0 kind tun side plain address 10.$n.255.1/32 mtu 1500 overhead 93
interface add name wan kind esp side protected family 6 local 2001:db8::$n
EOF
	[ -z "$ENCAP" ] ||
		echo "interface add name natt kind udp side protected family 6 local 2001:db8::$n port 4500"
	sa_lines "$me"
	policy_lines "$me" 10.1.0.0/24 10.2.0.0/24 fd00:1::/64 fd00:2::/64
}

# wire_conf ME: gateway ME's file as a bump in the wire. The rings: a TPACKET_V3 block is
# handed over when full or after block-timeout (1 ms), so at a low rate each block holds a
# frame or two and the default 32 blocks cover only some 32 ms without the receive thread
# (then the kernel drops, counted as rx-kernel-drop); 256 smaller blocks ride out a quarter
# of a second off the CPU, as a busy test machine needs.
wire_conf() {
	local ring="blocks 256 block-size 32768"
	cat <<EOF
engine units 1
interface add name lan kind wire side plain dev p0 promisc yes strip yes $ring
interface add name wan kind wire side protected dev w0 promisc yes strip yes $ring
EOF
	sa_lines "$1"
	policy_lines "$1" 10.9.0.1/32 10.9.0.2/32 fd00:9::1/128 fd00:9::2/128
}

# capture_outer NS DEV: starts tshark on DEV of NS for the next 6 ESP packets (IPv4 or
# IPv6; $CAP_FILTER) and waits until it captures; sets CAP_PID. Output: $WORK/outer-DEV.txt.
capture_outer() {
	local ns=$1 dev=$2
	rm -f "$WORK/tshark.err"
	in_ns "$ns" timeout 30 tshark -n -l -i "$dev" -c 6 -f "$CAP_FILTER" \
		-T fields -e ipv6.src -e ipv6.dst -e ip.src -e esp.spi \
		>"$WORK/outer-$dev.txt" 2>"$WORK/tshark.err" &
	CAP_PID=$!
	wait_for 20 "tshark captures" grep -q "Capturing on" "$WORK/tshark.err"
}

# show_drops GW...: the counters of drops and I/O errors that are not 0 (after a failure).
show_drops() {
	for gw in "$@"; do
		echo "--- $gw" >&2
		ctl "$gw" stats | grep -E 'kernel-drop|drop|tx-busy|syscall|^\t(in|out|in-flight) ' |
			grep -v ' 0$' >&2 || true
	done
}

# xfer_or_show GWA GWB TCP_XFER-ARGS...: tcp_xfer; on failure, show_drops of both.
xfer_or_show() {
	local ga=$1 gb=$2
	shift 2
	tcp_xfer "$@" && return 0
	show_drops "$ga" "$gb"
	return 1
}

# exact_udp LABEL TX RX DST PORT N GWA GWB: N datagrams arrive; SA a-to-b counts N more
# at both gateways, and so do both engines (protected at A, decrypted at B).
exact_udp() {
	local label=$1 tx=$2 rx=$3 dst=$4 port=$5 n=$6 ga=$7 gb=$8 a0 b0 e0 d0 got
	a0=$(counter "$ga" sa.a-to-b.packets)
	b0=$(counter "$gb" sa.a-to-b.packets)
	e0=$(counter "$ga" engine.scheduler.protected)
	d0=$(counter "$gb" engine.scheduler.decrypted)
	got=$(udp_count "$tx" "$rx" "$dst" "$port" "$n")
	check "$label: host B received $got of $n datagrams" test "$got" = "$n"
	[ "$got" = "$n" ] || show_drops "$ga" "$gb"
	check "$label: SA a-to-b counted $n more at A and at B" \
		test "$(($(counter "$ga" sa.a-to-b.packets) - a0))/$(($(counter "$gb" sa.a-to-b.packets) - b0))" = "$n/$n"
	check "$label: engine A protected $n, engine B decrypted $n" \
		test "$(($(counter "$ga" engine.scheduler.protected) - e0))/$(($(counter "$gb" engine.scheduler.decrypted) - d0))" = "$n/$n"
}

# flows LABEL GWA GWB NS_A NS_B B4 B6: ping, TCP and exact UDP counts, both inner families.
flows() {
	local label=$1 ga=$2 gb=$3 na=$4 nb=$5 b4=$6 b6=$7
	capture_outer "$GA_NS" w0
	check "$label: ping IPv4 inside IPv6, host A -> host B" \
		in_ns "$na" ping -q -c 5 -i 0.2 -W 3 "$b4"
	check "$label: ping IPv6 inside IPv6, host A -> host B" \
		in_ns "$na" ping -q -c 5 -i 0.2 -W 3 "$b6"
	wait "$CAP_PID" || true
	cat "$WORK/outer-w0.txt" >&2
	check "$label: a capture on w0 shows ESP (SPIs 0x6001/0x6002) over IPv6 2001:db8::1 <-> ::2" \
		"$PYTHON" - "$WORK/outer-w0.txt" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
pairs = {(r[0], r[1]) for r in rows}
ok = len(rows) == 6 and all(r[2] == "" for r in rows) and \
    pairs == {("2001:db8::1", "2001:db8::2"), ("2001:db8::2", "2001:db8::1")} and \
    {int(r[3], 16) for r in rows} == {0x6001, 0x6002}
sys.exit(0 if ok else 1)
PY
	check "$label: TCP over IPv4 inside: 2 MiB with the same SHA-256" \
		xfer_or_show "$ga" "$gb" "$nb" "$na" "$b4" 5001 $((2 << 20))
	check "$label: TCP over IPv6 inside: 2 MiB with the same SHA-256" \
		xfer_or_show "$ga" "$gb" "$nb" "$na" "$b6" 5002 $((2 << 20))
	exact_udp "$label: UDP/IPv4" "$na" "$nb" "$b4" 6000 500 "$ga" "$gb"
	exact_udp "$label: UDP/IPv6" "$na" "$nb" "$b6" 6001 500 "$ga" "$gb"
	for gw in "$ga" "$gb"; do
		check "$label: $gw: no SA drops, engine balanced, nothing in flight" \
			test "$(counter "$gw" sa.a-to-b.drops)/$(counter "$gw" sa.b-to-a.drops)/$(counter "$gw" engine.balanced)/$(counter "$gw" engine.in-flight)" = "0/0/1/0"
	done
}

for ns in "$ha" "$ga" "$gb" "$hb"; do
	add_ns "$ns"
done
run ip link add h0 netns "$ha" type veth peer name l0 netns "$ga"
run ip link add w0 netns "$ga" type veth peer name w0 netns "$gb"
run ip link add l0 netns "$gb" type veth peer name h0 netns "$hb"
in_ns "$ha" ip addr add 10.1.0.2/24 dev h0
in_ns "$ga" ip addr add 10.1.0.1/24 dev l0
in_ns "$gb" ip addr add 10.2.0.1/24 dev l0
in_ns "$hb" ip addr add 10.2.0.2/24 dev h0
in_ns "$ha" ip addr add fd00:1::2/64 dev h0 nodad
in_ns "$ga" ip addr add fd00:1::1/64 dev l0 nodad
in_ns "$gb" ip addr add fd00:2::1/64 dev l0 nodad
in_ns "$hb" ip addr add fd00:2::2/64 dev h0 nodad
in_ns "$ga" ip addr add 2001:db8::1/64 dev w0 nodad
in_ns "$gb" ip addr add 2001:db8::2/64 dev w0 nodad
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
wait_for 10 "IPv6 between the gateways" ip netns exec "$ga" ping -c 1 -W 1 2001:db8::2

tun_conf a >"$WORK/tun-a.conf"
tun_conf b >"$WORK/tun-b.conf"
start_gw a "$ga" "$WORK/tun-a.conf"
start_gw b "$gb" "$WORK/tun-b.conf"
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
in_ns "$gb" ip route add 10.1.0.0/24 dev ipk0
in_ns "$ga" ip -6 route add fd00:2::/64 dev ipk0
in_ns "$gb" ip -6 route add fd00:1::/64 dev ipk0

GA_NS=$ga
flows "tun" a b "$ha" "$hb" 10.2.0.2 fd00:2::2
check "tun: the ESP ports moved packets both ways" \
	test "$(counter a ports.wan.tx-packets)" -ge 1000 -a "$(counter a ports.wan.rx-packets)" -ge 10
check "tun: SIGTERM: ipseckd a exits 0" stop_gw a
check "tun: SIGTERM: ipseckd b exits 0" stop_gw b

# The same pair with UDP encapsulation (RFC 3948) over IPv6: a udp port (family 6, port
# 4500) next to the esp port; the SAs say encap udp, so everything goes by the udp port.
# Over IPv6 the UDP checksum is mandatory (RFC 8200 §8.1): the receiving kernel drops
# datagrams without one, so a missing checksum shows as lost packets here.
ENCAP="encap udp"
CAP_FILTER="udp port 4500"
tun_conf a >"$WORK/udp-a.conf"
tun_conf b >"$WORK/udp-b.conf"
start_gw ua "$ga" "$WORK/udp-a.conf"
start_gw ub "$gb" "$WORK/udp-b.conf"
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
in_ns "$gb" ip route add 10.1.0.0/24 dev ipk0
in_ns "$ga" ip -6 route add fd00:2::/64 dev ipk0
in_ns "$gb" ip -6 route add fd00:1::/64 dev ipk0
flows "tun+udp" ua ub "$ha" "$hb" 10.2.0.2 fd00:2::2
check "tun+udp: the UDP ports carried it all both ways, the ESP ports nothing" \
	test "$(counter ua ports.natt.tx-packets)" -ge 1000 \
	-a "$(counter ua ports.natt.rx-packets)" -ge 10 \
	-a "$(counter ua ports.wan.tx-packets)/$(counter ub ports.wan.tx-packets)" = 0/0
check "tun+udp: SIGTERM: ipseckd a exits 0" stop_gw ua
check "tun+udp: SIGTERM: ipseckd b exits 0" stop_gw ub
ENCAP=
CAP_FILTER="ip6 proto 50 or ip proto 50"

# ---------------------------------------------------------------------------------------
# Wire mode: hosts A and B share one subnet (10.9.0.0/24, fd00:9::/64); each gateway owns
# two interfaces through AF_PACKET and no address, and puts an IPv6 header between them.
# ARP crosses as non-IP frames; IPv6 neighbours are static on the hosts (neighbour
# discovery would need policies of its own); w0 MTU 1600 leaves room for ESP.
#
#   ns ...-wha            ns ...-wga                    ns ...-wgb             ns ...-whb
#   +-------------+      +--------------------+        +--------------------+  +-------------+
#   | h0          |<---->| p0 [wire] ipseckd  |        |  ipseckd [wire] p0 |<>|          h0 |
#   | 10.9.0.1    | veth |    [wire] w0       |<======>|       w0 [wire]    |  |    10.9.0.2 |
#   | fd00:9::1   |      +--------------------+ESP/IPv6+--------------------+  |   fd00:9::2 |
#   +-------------+      outer 2001:db8::1 -> 2001:db8::2 (the gateways own none)
wha=ipk-o6-$$-wha
wga=ipk-o6-$$-wga
wgb=ipk-o6-$$-wgb
whb=ipk-o6-$$-whb
for ns in "$wha" "$wga" "$wgb" "$whb"; do
	add_ns "$ns"
done
run ip link add h0 netns "$wha" address 02:00:00:00:09:01 type veth peer name p0 netns "$wga"
run ip link add w0 netns "$wga" type veth peer name w0 netns "$wgb"
run ip link add p0 netns "$wgb" type veth peer name h0 netns "$whb" address 02:00:00:00:09:02
for ns in "$wga" "$wgb"; do
	for dev in p0 w0; do
		in_ns "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	done
	in_ns "$ns" ip link set w0 mtu 1600
	in_ns "$ns" ip link set p0 up
	in_ns "$ns" ip link set w0 up
done
# One segment per frame, as on a real wire (see site_to_site.sh).
in_ns "$wha" ip link set h0 gso_max_segs 1
in_ns "$whb" ip link set h0 gso_max_segs 1
in_ns "$wha" ip addr add 10.9.0.1/24 dev h0
in_ns "$whb" ip addr add 10.9.0.2/24 dev h0
in_ns "$wha" ip addr add fd00:9::1/64 dev h0 nodad
in_ns "$whb" ip addr add fd00:9::2/64 dev h0 nodad
in_ns "$wha" ip -6 neigh add fd00:9::2 lladdr 02:00:00:00:09:02 dev h0 nud permanent
in_ns "$whb" ip -6 neigh add fd00:9::1 lladdr 02:00:00:00:09:01 dev h0 nud permanent
in_ns "$wha" ip link set h0 up
in_ns "$whb" ip link set h0 up

wire_conf a >"$WORK/wire-a.conf"
wire_conf b >"$WORK/wire-b.conf"
start_gw wa "$wga" "$WORK/wire-a.conf"
start_gw wb "$wgb" "$WORK/wire-b.conf"

GA_NS=$wga
flows "wire" wa wb "$wha" "$whb" 10.9.0.2 fd00:9::2
check "wire: ARP crossed as non-IP frames" test "$(counter wa ports.lan.non-ip)" -gt 0
check "wire: SIGTERM: ipseckd a exits 0" stop_gw wa
check "wire: SIGTERM: ipseckd b exits 0" stop_gw wb

finish
