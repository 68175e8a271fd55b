#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Path MTU handling across a tun-mode site-to-site pair (RFC 4301 §8, RFC 1191, RFC 8201).
# Gateway A's outbound SA says `mtu 1500`, so its effective MTU is 1446 (aes128gcm16,
# IPv4 outer); the TUN devices take 1500-byte packets (overhead 0), so the kernel hands
# ipseckd packets that no longer fit once encrypted.
#
#   ns ipk-mtu-PID-ha     ns ipk-mtu-PID-ga               ns ipk-mtu-PID-gb     ns ipk-mtu-PID-hb
#   +-------------+      +--------------------+          +--------------------+      +-------------+
#   | h0          |<---->| l0 10.1.0.1        |          |        10.2.0.1 l0 |<---->|          h0 |
#   |  10.1.0.2   | veth |    fd00:1::1       |          |        fd00:2::1   | veth |    10.2.0.2 |
#   |  fd00:1::2  |      | ipk0 (tun, 1500)   |          |   (tun, 1500) ipk0 |      |   fd00:2::2 |
#   +-------------+      |   ^ ipseckd A      |          |      ipseckd B ^   |      +-------------+
#                        |   v (esp port)     |   veth   |     (esp port) v   |
#                        | w0 192.0.2.1       |<========>|       192.0.2.2 w0 |
#                        +--------------------+ mtu 1500 +--------------------+
#
# Checks: `ping -M dont -s 1472` goes through as outer fragments (the 1554-byte ESP packet
# could not cross the 1500-byte link whole; the esp port sends fragments as they are);
# `ping -M do -s 1472` (1500 bytes, DF) gets "frag needed" with mtu 1446 from 192.0.2.1
# and host A's route cache learns 1446; `ping -M do -s 1418` (1446 bytes) goes through
# whole; IPv6 `ping -6 -s 1452` gets Packet Too Big 1446 and host A learns it; counters:
# frag-needed drops at A's scheduler, nothing refused at the esp ports, no frag-* drop.
# Then outer fragments through ports whose kernel builds the IP header: ESP in UDP 4500
# (RFC 3948) and ESP over IPv6, added at runtime: 1460-byte datagrams without DF arrive
# whole at host B, the ports refuse no fragment.
#
# usage: mtu.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/common.sh"

IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL}")
ha=ipk-mtu-$$-ha
ga=ipk-mtu-$$-ga
gb=ipk-mtu-$$-gb
hb=ipk-mtu-$$-hb
KA=0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1
KB=0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2

# conf ME PEER MY_NET PEER_NET OUT IN: a gateway's configuration.
conf() {
	cat <<EOC
engine units 1
interface add name ipk0 kind tun side plain address $3.255.1/32 mtu 1500 overhead 0
interface add name wan kind esp side protected family 4 local $1
sa add name $5 spi $([ "$5" = a-to-b ] && echo 0x1001 || echo 0x2001) dir out mode tunnel \
	src $1 dst $2 proposal aes128gcm16 key $([ "$5" = a-to-b ] && echo $KA || echo $KB) mtu 1500
sa add name $6 spi $([ "$6" = a-to-b ] && echo 0x1001 || echo 0x2001) dir in mode tunnel \
	src $2 dst $1 proposal aes128gcm16 key $([ "$6" = a-to-b ] && echo $KA || echo $KB)
policy add name o4 dir out src $3.0.0/24 dst $4.0.0/24 action protect sa $5
policy add name i4 dir in src $4.0.0/24 dst $3.0.0/24 action protect sa $6
policy add name o6 dir out src fd00:${3##*.}::/64 dst fd00:${4##*.}::/64 action protect sa $5
policy add name i6 dir in src fd00:${4##*.}::/64 dst fd00:${3##*.}::/64 action protect sa $6
EOC
}

ctl() {
	local gw=$1
	shift
	echo "+ ipseckctl($gw) $*" >&2
	timeout 10 "$IPSECKCTL" -s "$WORK/$gw.sock" "$@"
}

# sa_json GW SA FIELD: one field of `show sa` in JSON (drops: the object).
sa_field() {
	ctl "$1" -j show sa name "$2" | "$PYTHON" -c \
		'import json, sys; v = json.load(sys.stdin)["sa"][0][sys.argv[1]]; print(v)' "$3"
}

# stat GW SECTION.COUNTER of `ipseckctl -j stats`.
stat() {
	ctl "$1" -j stats | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)["providers"]
section, _, name = sys.argv[1].partition(".")
print(doc.get(section, {}).get(name, 0))' "$2"
}

start_gw() {
	local gw=$1 ns=$2
	echo "+ [$ns] ipseckd -F -f $WORK/$gw.conf -s $WORK/$gw.sock &" >&2
	ip netns exec "$ns" "$IPSECKD" -F -f "$WORK/$gw.conf" -s "$WORK/$gw.sock" \
		>"$WORK/ipseckd-$gw.log" 2>&1 &
	BG_PIDS+=("$!")
	wait_for 10 "ipseckd $gw answers" "$IPSECKCTL" -s "$WORK/$gw.sock" stats
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
# The error from A comes out of ipk0 with A's own outer address as its source: the kernel
# forwards it to host A only with accept_local on ipk0 (else it is a martian), which
# ipseckd sets on the TUN device it creates (io/tun.c); nothing here sets it.
for ns in "$ga" "$gb"; do
	in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1
done
in_ns "$ga" ping -q -c 1 -W 2 192.0.2.2 >/dev/null
conf 192.0.2.1 192.0.2.2 10.1 10.2 a-to-b b-to-a >"$WORK/a.conf"
conf 192.0.2.2 192.0.2.1 10.2 10.1 b-to-a a-to-b >"$WORK/b.conf"
chmod 600 "$WORK/a.conf" "$WORK/b.conf"
start_gw a "$ga"
start_gw b "$gb"
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
in_ns "$gb" ip route add 10.1.0.0/24 dev ipk0
in_ns "$ga" ip -6 route add fd00:2::/64 dev ipk0
in_ns "$gb" ip -6 route add fd00:1::/64 dev ipk0
in_ns "$ga" sysctl -qw net.ipv4.conf.ipk0.rp_filter=0
check "ipseckd set accept_local on its TUN device" \
	test "$(in_ns "$ga" sysctl -n net.ipv4.conf.ipk0.accept_local)" = 1

check "show sa: a-to-b mtu 1500, effective MTU 1446" \
	test "$(sa_field a a-to-b mtu)/$(sa_field a a-to-b effective_mtu)" = 1500/1446
check "ping across, small packets" in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 10.2.0.2

# Before any DF ping: host A has no PMTU yet and sends 1500 bytes whole; the 1554-byte ESP
# packet cannot cross the 1500-byte link whole, so it arriving proves the fragmentation.
esp_b0=$(sa_field b a-to-b packets)
check "ping -M dont -s 1472: through, in outer fragments" \
	in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 -M dont -s 1472 10.2.0.2
check "B decrypted those 3 pings" test "$(($(sa_field b a-to-b packets) - esp_b0))" -ge 3

in_ns "$ha" ping -c 3 -i 0.3 -W 2 -M do -s 1472 10.2.0.2 >"$WORK/ping-df.out" 2>&1 || true
cat "$WORK/ping-df.out"
check "ping -M do -s 1472: frag needed from 192.0.2.1, mtu 1446" \
	grep -Eq 'From 192.0.2.1 .*Frag needed.*mtu = 1446' "$WORK/ping-df.out"
in_ns "$ha" ip route get 10.2.0.2 >"$WORK/route.out"
cat "$WORK/route.out"
check "host A's route cache learned mtu 1446" grep -q 'mtu 1446' "$WORK/route.out"
check "ping -M do -s 1418 (1446 bytes, DF): through whole" \
	in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 -M do -s 1418 10.2.0.2

in_ns "$ha" ping -6 -c 3 -i 0.3 -W 2 -s 1452 fd00:2::2 >"$WORK/ping6.out" 2>&1 || true
cat "$WORK/ping6.out"
in_ns "$ha" ip -6 route get fd00:2::2 >"$WORK/route6.out"
cat "$WORK/route6.out"
check "IPv6: host A learned mtu 1446 from the Packet Too Big" \
	grep -q 'mtu 1446' "$WORK/route6.out"
check "IPv6: ping -6 -s 1452 gets through once the sender fragments" \
	in_ns "$ha" ping -6 -q -c 3 -i 0.2 -W 2 -s 1452 fd00:2::2

# A refused the first 1500-byte DF ping and the first IPv6 one (after that host A knew the
# path MTU: ping reports a local error, or the kernel fragments the IPv6 echo).
check "A: frag-needed drops counted at the scheduler (>= 2)" \
	test "$(stat a engine.scheduler.drops.frag-needed)" -ge 2
check "no drop at either esp port (outer fragments accepted by the raw socket)" \
	test "$(stat a ports.wan.unsupported)/$(stat b ports.wan.unsupported)" = 0/0

# big_datagrams PORT: host A sends five 1460-byte UDP datagrams without DF to host B's
# PORT; prints how many arrived whole.
big_datagrams() {
	in_ns "$hb" timeout 20 "$PYTHON" - "$1" >"$WORK/u$1.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.0.2", int(sys.argv[1])))
s.settimeout(5)
good = 0
try:
    while good < 5:
        good += s.recv(4096) == bytes(range(256)) * 5 + bytes(180)
except socket.timeout:
    pass
print(good)
PY
	local rx=$!
	sleep 0.5
	in_ns "$ha" "$PYTHON" - "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: no DF
for _ in range(5):
    s.sendto(bytes(range(256)) * 5 + bytes(180), ("10.2.0.2", int(sys.argv[1])))
    time.sleep(0.05)
PY
	wait "$rx" || true
	cat "$WORK/u$1.out"
}

# UDP encapsulation (RFC 3948): a UDP port on each gateway and an SA pair for UDP to port
# 7100, added at runtime. 1488-byte datagrams without DF become 1550-byte ESP-in-UDP
# packets: A fragments them after encapsulation and its UDP port, whose kernel builds the
# IP header and cannot send a fragment, sends them through its IPPROTO_RAW socket
# (io/sockport.c); B's kernel reassembles the datagram for B's UDP port.
for gw in a b; do
	me=192.0.2.1 dir=out pdir=out
	[ "$gw" = b ] && { me=192.0.2.2; dir=in; pdir=in; }
	printf '%s\n' "interface add name nat kind udp side protected family 4 local $me" \
		"sa add name a-to-b-u spi 0x1101 dir $dir mode tunnel src 192.0.2.1 dst 192.0.2.2 \
encap udp proposal aes128gcm16 key $KA mtu 1500" \
		"policy add name u7100 dir $pdir src 10.1.0.0/24 dst 10.2.0.0/24 proto udp \
dport 7100 action protect sa a-to-b-u priority 5" >"$WORK/udp-$gw.conf"
	check "UDP encapsulation: port, SA and policy added at $gw" ctl "$gw" -f "$WORK/udp-$gw.conf"
done
check "UDP encapsulation: host B got 5 of 5 1460-byte datagrams whole" \
	test "$(big_datagrams 7100)" = 5
check "UDP encapsulation: B decrypted 5 on the UDP-encapsulated SA" \
	test "$(sa_field b a-to-b-u packets)" = 5
check "UDP encapsulation: A's UDP port sent 10 fragments, refused none" \
	test "$(stat a ports.nat.tx-packets)/$(stat a ports.nat.unsupported)" = 10/0

# ESP over IPv6 through the raw IPv6 ESP socket (the kernel builds the header, so outer
# fragments leave by the IPPROTO_RAW socket too): 2001:db8:ff::1 -> ::2, UDP to port 7200.
# A second ESP port, of IPv6 only: the gateway sends each packet by a port of its family.
in_ns "$ga" ip addr add 2001:db8:ff::1/64 dev w0 nodad
in_ns "$gb" ip addr add 2001:db8:ff::2/64 dev w0 nodad
for gw in a b; do
	me=2001:db8:ff::1 dir=out
	[ "$gw" = b ] && { me=2001:db8:ff::2; dir=in; }
	printf '%s\n' "interface add name wan6 kind esp side protected family 6 local $me" \
		"sa add name a-to-b-6 spi 0x1201 dir $dir mode tunnel src 2001:db8:ff::1 \
dst 2001:db8:ff::2 proposal aes128gcm16 key $KA mtu 1500" \
		"policy add name u7200 dir $dir src 10.1.0.0/24 dst 10.2.0.0/24 proto udp \
dport 7200 action protect sa a-to-b-6 priority 5" >"$WORK/v6-$gw.conf"
	check "IPv6 outer: port, SA and policy added at $gw" ctl "$gw" -f "$WORK/v6-$gw.conf"
done
check "IPv6 outer: host B got 5 of 5 1460-byte datagrams whole" \
	test "$(big_datagrams 7200)" = 5
check "IPv6 outer: B decrypted 5 on the IPv6 SA" test "$(sa_field b a-to-b-6 packets)" = 5
check "IPv6 outer: A's IPv6 ESP port sent at least the 10 fragments and refused none" \
	test "$(stat a ports.wan6.tx-packets)" -ge 10 -a "$(stat a ports.wan6.unsupported)" = 0
check "IPv6 outer: the IPv4 ESP port refused nothing" test "$(stat a ports.wan.unsupported)" = 0
check "no frag-* or bad-icv drop anywhere" \
	sh -c "! { ctl a -j stats; ctl b -j stats; } | grep -Eq '(bad-icv|frag-[a-z]*[^d])\": [1-9]'"
finish
