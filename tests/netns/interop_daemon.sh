#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# A running ipseckd (tun mode) against an independent ESP implementation: scapy's
# (scapy.layers.ipsec, tests/netns/interop_peer.py), over the network, both ways; then
# Wireshark's ESP dissector (tshark) decrypts a capture of the protected link.
#
#   ns ipk-iop-PID-p                 ns ipk-iop-PID-g                  ns ipk-iop-PID-h
#   +---------------------+         +------------------------+       +-------------+
#   | scapy peer          |         | w0 192.0.2.1           |       |             |
#   |  sites 10.2.K.2     |  veth   |   esp port (proto 50)  |       |             |
#   |  (K = case 1..4)    |<=======>|   udp port 4500        |       |             |
#   | e0 192.0.2.2        |   ESP   |     ^ ipseckd v        |       |             |
#   +---------------------+ (+UDP)  | ipk0 (tun)             |       |             |
#                                   |   10.2.0.0/16 -> ipk0  | veth  | h0 10.1.0.2 |
#                                   | l0 10.1.0.1            |<----->| UDP :47000  |
#                                   +------------------------+       +-------------+
#   dumpcap on w0 -> tshark with the keys
#
# Cases (one SA pair and one policy pair each, all configured at once):
#   1 gcm      aes128gcm16       SPI 0x7101 (peer -> gw) / 0x7201 (gw -> peer)
#   2 cbc      aes128-sha256     SPI 0x7102 / 0x7202
#   3 chacha   chacha20poly1305  SPI 0x7103 / 0x7203
#   4 gcm-udp  aes128gcm16 in UDP 4500 (RFC 3948)  SPI 0x7104 / 0x7204
#
# Checks, per case: scapy encrypts COUNT ICMP echo requests and COUNT UDP datagrams with
# known payloads; the host receives every datagram intact (its server checks each payload)
# and answers; the kernel of the host answers the pings; ipseckd encrypts the answers,
# scapy decrypts every one and finds the payloads, the outer and inner addresses, and the
# sequence numbers 1..2*COUNT in order; `ipseckctl show sa` counts 2*COUNT packets on
# both SAs and no drops. Then tshark, given the keys of the cases whose algorithms it
# knows for ESP (Wireshark 4.0: AES-GCM and AES-CBC + HMAC-SHA-256, not ChaCha20-Poly1305),
# verifies the ICV of every packet of both directions and prints the inner addresses and
# payloads that were sent. The daemon stops with status 0.
#
# usage: interop_daemon.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/gwlib.sh"

PEER_PY=$HERE/interop_peer.py
COUNT=20
CASES="gcm cbc chacha gcm-udp"
np=ipk-iop-$$-p
ng=ipk-iop-$$-g
nh=ipk-iop-$$-h

if ! "$PYTHON" -c 'import scapy.layers.ipsec' 2>/dev/null; then
	echo "SKIP: $PYTHON has no scapy (Debian: python3-scapy)"
	exit 77
fi

for ns in "$np" "$ng" "$nh"; do
	add_ns "$ns"
done
run ip link add e0 netns "$np" type veth peer name w0 netns "$ng"
run ip link add l0 netns "$ng" type veth peer name h0 netns "$nh"
in_ns "$np" ip addr add 192.0.2.2/24 dev e0
in_ns "$ng" ip addr add 192.0.2.1/24 dev w0
in_ns "$ng" ip addr add 10.1.0.1/24 dev l0
in_ns "$nh" ip addr add 10.1.0.2/24 dev h0
for pair in "$np e0" "$ng w0" "$ng l0" "$nh h0"; do
	set -- $pair
	in_ns "$1" ip link set "$2" up
done
in_ns "$nh" ip route add default via 10.1.0.1
in_ns "$ng" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0
wait_for 10 "the peer answers ARP and ping" ip netns exec "$ng" ping -c 1 -W 1 192.0.2.2

# Overhead 93: AES-CBC in UDP 4500 adds 20 + 8 + 8 + 16 + 2..17 + 16 = 85 bytes at most.
{
	echo "engine units 2"
	echo "interface add name ipk0 kind tun side plain address 10.1.255.1/32 mtu 1500 overhead 93"
	echo "interface add name wan kind esp side protected family 4 local 192.0.2.1"
	echo "interface add name natt kind udp side protected family 4 local 192.0.2.1 port 4500"
	"$PYTHON" "$PEER_PY" config
} >"$WORK/gw.conf"
start_gw g "$ng" "$WORK/gw.conf"
in_ns "$ng" ip route add 10.2.0.0/16 dev ipk0

# The protected link, captured from before the first packet to after the last.
# Not through in_ns: $! must be dumpcap itself, which stops cleanly on SIGTERM.
echo "+ [$ng] dumpcap -q -i w0 -f 'ip proto 50 or udp port 4500' -w w0.pcapng &" >&2
ip netns exec "$ng" dumpcap -q -i w0 -f "ip proto 50 or udp port 4500" -a duration:300 \
	-w "$WORK/w0.pcapng" 2>"$WORK/dumpcap.log" &
cap=$!
BG_PIDS+=("$cap")
wait_for 20 "dumpcap captures" grep -q "Capturing on" "$WORK/dumpcap.log"

in_ns "$nh" timeout 200 "$PYTHON" "$PEER_PY" serve "$COUNT" "$WORK/stop" \
	>"$WORK/serve.out" 2>&1 &
serve=$!
BG_PIDS+=("$serve")
wait_for 30 "the host's UDP server" grep -q '^ready' "$WORK/serve.out"

for c in $CASES; do
	check "$c: scapy -> ipseckd -> host -> ipseckd -> scapy: all answers decrypt, seq 1..$((2 * COUNT))" \
		in_ns "$np" timeout 60 "$PYTHON" "$PEER_PY" run "$c" "$COUNT"
done
touch "$WORK/stop"
wait "$serve" || true
cat "$WORK/serve.out"
for c in $CASES; do
	check "$c: the host received $COUNT of $COUNT datagrams intact, none altered" \
		grep -qx "case $c ok $COUNT bad 0" "$WORK/serve.out"
	check "$c: show sa: in-$c and out-$c counted $((2 * COUNT)) packets each, no drops" \
		test "$(counter g sa.in-$c.packets)/$(counter g sa.out-$c.packets)/$(counter g sa.in-$c.drops)/$(counter g sa.out-$c.drops)" = "$((2 * COUNT))/$((2 * COUNT))/0/0"
done
check "the host received nothing from elsewhere" grep -qx "case unknown ok 0 bad 0" "$WORK/serve.out"
check "gcm-udp went by the UDP port, both ways ($((2 * COUNT)) each)" \
	test "$(counter g ports.natt.rx-packets)/$(counter g ports.natt.tx-packets)" = "$((2 * COUNT))/$((2 * COUNT))"
check "the engine balanced, nothing in flight" \
	test "$(counter g engine.balanced)/$(counter g engine.in-flight)" = "1/0"

sleep 1
run kill -TERM "$cap" || true
wait_for 15 "dumpcap exits" sh -c "! kill -0 $cap" || true
wait "$cap" || true
echo "+ $PEER_PY tshark w0.pcapng $COUNT" >&2
"$PYTHON" "$PEER_PY" tshark "$WORK/w0.pcapng" "$COUNT" >"$WORK/tshark.out" 2>&1 || true
cat "$WORK/tshark.out"
for line in "gcm to-gw" "gcm from-gw" "cbc to-gw" "cbc from-gw" "gcm-udp to-gw" \
	"gcm-udp from-gw"; do
	set -- $line
	check "tshark: $1 $2: $((2 * COUNT)) packets, ICV verified, inner addresses and payloads as sent" \
		grep -q "^right case $1 $2 " "$WORK/tshark.out"
done

check "SIGTERM: ipseckd exits 0" stop_gw g
finish
