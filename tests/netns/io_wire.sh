#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The `wire` port (src/io/afpacket.c): a bump-in-the-wire gateway. io_echo opens one wire
# port on each of its two interfaces and forwards every frame to the other one; the two
# hosts share one subnet as if the gateway were a cable.
#
#   ns ipk-wire-PID-h1       ns ipk-wire-PID-gw                         ns ipk-wire-PID-h2
#   +-----------------+      +-----------------------------------+      +-----------------+
#   | a1 10.77.5.1/24 |<---->| ga --[wire ga]  io_echo  [wire gb]-- gb |<---->| b2 10.77.5.2/24 |
#   |    fd77:5::1/64 | veth |    no addresses, IPv6 off:           | veth |    fd77:5::2/64 |
#   | vlan.py send:   |      |    the gateway is transparent        |      | vlan.py recv:   |
#   | 802.1Q, VLAN 100|      |    TPACKET_V3 rx ring, sendmmsg tx   |      | tag and payload |
#   +-----------------+      +-----------------------------------+      +-----------------+
#
# Round 1 forwards whole frames; round 2 strips them to IP packets and rebuilds them on
# the way out (`strip yes`), with ARP passing as non-IP frames. Checks: pings (IPv4,
# IPv6), 802.1Q frames from scapy (the receiving kernel takes the tag off, the port puts
# it back: same VLAN, priority and payload on the far side), a 1 MiB TCP transfer over
# IPv4 and over IPv6 with the SHA-256 compared, checksums left to offload completed,
# nothing looped back, counters.
#
# usage: io_wire.sh IO_ECHO   (root; exits 77 otherwise)
source "$(dirname "$0")/lib.sh"

h1=ipk-wire-$$-h1
h2=ipk-wire-$$-h2
gw=ipk-wire-$$-gw
mib=1048576

add_ns "$h1"
add_ns "$h2"
add_ns "$gw"
run ip link add a1 netns "$h1" type veth peer name ga netns "$gw"
run ip link add b2 netns "$h2" type veth peer name gb netns "$gw"
for dev in ga gb; do
	in_ns "$gw" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
	in_ns "$gw" ip link set "$dev" up
done
# host NS DEV N: addresses 10.77.5.N and fd77:5::N. A veth sender
# hands TSO/GSO super-frames to its peer, which no AF_PACKET bridge can forward: one
# segment per frame, as on a real wire (tests/netns and src/io/afpacket.h).
host() {
	local ns=$1 dev=$2 n=$3
	in_ns "$ns" ip link set "$dev" gso_max_segs 1
	in_ns "$ns" ip addr add "10.77.5.$n/24" dev "$dev"
	in_ns "$ns" ip addr add "fd77:5::$n/64" dev "$dev" nodad
	in_ns "$ns" ip link set "$dev" up
}
host "$h1" a1 1
host "$h2" b2 2

ping_ok() {
	local n=$1 out
	shift
	out=$(in_ns "$h1" ping -q -c "$n" -i 0.01 -W 2 -w 20 "$@" 2>&1) || { echo "$out"; return 1; }
	echo "$out" | tail -n 1
	echo "$out" | grep -q " $n received, 0% packet loss"
}

# tagged COUNT: COUNT frames on VLAN 100 from h1 to h2, all received with their tag.
tagged() {
	local n=$1 out=$WORK/vlan.out mac
	mac=$(ip netns exec "$h2" cat /sys/class/net/b2/address)
	in_ns "$h2" timeout 30 "$PYTHON" "$HERE/vlan.py" recv b2 "$n" >"$out" &
	local rcv=$!
	BG_PIDS+=("$rcv")
	wait_for 15 "vlan.py listening" grep -q listening "$out"
	in_ns "$h1" timeout 30 "$PYTHON" "$HERE/vlan.py" send a1 "$mac" "$n"
	wait "$rcv" || { cat "$out"; return 1; }
	tail -n 1 "$out"
}

# transfer ADDR: 1 MiB over TCP from h1 to h2 through the gateway; same SHA-256 at both
# ends.
transfer() {
	local addr=$1 out=$WORK/xfer.out sent got
	in_ns "$h2" timeout 40 "$PYTHON" "$HERE/xfer.py" serve "$addr" 5001 >"$out" &
	local server=$!
	BG_PIDS+=("$server")
	sent=$(in_ns "$h1" timeout 40 "$PYTHON" "$HERE/xfer.py" send "$addr" 5001 "$mib") || true
	wait "$server" || true
	got=$(cat "$out")
	echo "$sent / $got" >&2
	[ -n "$sent" ] && [ "$(echo "$sent" | cut -d' ' -f2,3)" = "$(echo "$got" | cut -d' ' -f2,3)" ]
}

round() {
	local name=$1 strip=$2 log=$WORK/$1.log
	# Forget the neighbours, so that ARP and neighbour discovery cross the gateway too.
	in_ns "$h1" ip neigh flush dev a1
	in_ns "$h2" ip neigh flush dev b2
	start_echo "$gw" "$log" -t 120 -v forward wire dev ga promisc yes strip "$strip" \
		-- wire dev gb promisc yes strip "$strip"
	check "$name: 50 IPv4 pings across" ping_ok 50 10.77.5.2
	check "$name: 50 IPv6 pings across" ping_ok 50 fd77:5::2
	check "$name: 50 frames on VLAN 100 across, tag restored" tagged 50
	check "$name: 1 MiB over TCP/IPv4, same SHA-256" transfer 10.77.5.2
	check "$name: 1 MiB over TCP/IPv6, same SHA-256" transfer fd77:5::2
	stop_echo "$log"
	local fwd=$(($(stat "$log" ga tx-packets) + $(stat "$log" gb tx-packets)))
	local rx=$(($(stat "$log" ga rx-packets) + $(stat "$log" gb rx-packets)))
	echo "$name: $rx frames received, $fwd forwarded" >&2
	check "$name: every frame forwarded ($rx = $fwd)" test "$rx" -eq "$fwd"
	check "$name: more than 1500 frames forwarded" test "$fwd" -gt 1500
	check "$name: nothing looped back or dropped" test \
		"$(stat "$log" ga outgoing-skipped)$(stat "$log" gb outgoing-skipped)$(stat "$log" ga rx-truncated)$(stat "$log" gb rx-truncated)$(stat "$log" ga tx-syscall)$(stat "$log" gb tx-syscall)" = 000000
	check "$name: offloaded TCP checksums completed" \
		test $(($(stat "$log" ga csum-completed) + $(stat "$log" gb csum-completed))) -gt 0
	check "$name: VLAN tags put back" \
		test $(($(stat "$log" ga vlan-restored) + $(stat "$log" gb vlan-restored))) -gt 0
}

round frames no
check "frames: whole frames seen (98-byte IPv4 pings, ARP)" \
	sh -c "grep -q '^rx ga frame len 98 ethertype 0x0800$' $WORK/frames.log &&
	       grep -q '^rx ga frame len [0-9]* ethertype 0x0806$' $WORK/frames.log"
round strip yes
check "strip: ARP passed as non-IP frames" \
	test $(($(stat "$WORK/strip.log" ga non-ip) + $(stat "$WORK/strip.log" gb non-ip))) -gt 0
check "strip: IP packets seen without their link header" \
	grep -q '^rx ga v4 len 84 proto 1 ' "$WORK/strip.log"
finish
