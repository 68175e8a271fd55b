#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The `tun` port (src/io/tun.c): io_echo creates the TUN device, the kernel routes pings
# into it, io_echo answers them through the port, and the replies find their way back.
#
#   ns ipk-tun-PID-host                 ns ipk-tun-PID-gw
#   +-------------------+               +-------------------------------------------+
#   | h0 10.77.1.2/24   | <-- veth -->  | g0 10.77.1.1/24          (forwarding on)  |
#   |    fd77:1::2/64   |               |    fd77:1::1/64                           |
#   | routes to         |               | ipkPID  10.77.2.1/24, fd77:2::1/64         |
#   | 10.77.2.0/24 and  |               |   mtu 1500 - 73 = 1427, made by the port   |
#   | fd77:2::/64 via gw|               |   +-> io_echo icmp-echo: answers for every |
#   +-------------------+               |       address in 10.77.2.0/24, fd77:2::/64 |
#                                       +-------------------------------------------+
#
# Checks: device set up by rtnetlink (MTU, addresses, up); IPv4 and IPv6 pings answered
# through the port, a full-MTU ping too, then again with a two-queue device, then with a
# second port attached to that device as a third queue; counters.
#
# usage: io_tun.sh IO_ECHO   (root; exits 77 otherwise)
source "$(dirname "$0")/lib.sh"

host=ipk-tun-$$-host
gw=ipk-tun-$$-gw
dev=ipk$$
count=50

add_ns "$host"
add_ns "$gw"
run ip link add h0 netns "$host" type veth peer name g0 netns "$gw"
in_ns "$host" ip addr add 10.77.1.2/24 dev h0
in_ns "$host" ip addr add fd77:1::2/64 dev h0 nodad
in_ns "$host" ip link set h0 up
in_ns "$gw" ip addr add 10.77.1.1/24 dev g0
in_ns "$gw" ip addr add fd77:1::1/64 dev g0 nodad
in_ns "$gw" ip link set g0 up
in_ns "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
in_ns "$host" ip route add 10.77.2.0/24 via 10.77.1.1
in_ns "$host" ip -6 route add fd77:2::/64 via fd77:1::1

# ping_ok NS COUNT ARGS...: COUNT pings, all answered.
ping_ok() {
	local ns=$1 n=$2 out
	shift 2
	out=$(in_ns "$ns" ping -q -c "$n" -i 0.01 -W 2 -w 20 "$@" 2>&1) || { echo "$out"; return 1; }
	echo "$out" | tail -n 2
	echo "$out" | grep -q " $n received, 0% packet loss"
}

# One round: open the device with ARGS, ping through it, check the counters.
round() {
	local name=$1 log=$WORK/$1.log
	shift
	start_echo "$gw" "$log" -t 60 -v icmp-echo tun name "$dev" address 10.77.2.1/24 \
		address fd77:2::1/64 mtu 1500 overhead 73 "$@"
	check "$name: device mtu 1427 and up" \
		sh -c "ip netns exec $gw ip link show $dev | grep -q '[<,]UP[,>].* mtu 1427 '"
	check "$name: addresses set" \
		sh -c "ip netns exec $gw ip addr show $dev | grep -q 'inet 10.77.2.1/24' &&
		       ip netns exec $gw ip addr show $dev | grep -q 'inet6 fd77:2::1/64'"
	check "$name: $count IPv4 pings answered through the port" ping_ok "$host" "$count" 10.77.2.9
	check "$name: $count IPv6 pings answered through the port" ping_ok "$host" "$count" fd77:2::9
	# 1399 bytes of ICMP data + 8 + 20 = 1427: exactly the device MTU, DF set.
	check "$name: full-MTU ping (1427 bytes)" ping_ok "$host" 5 -M do -s 1399 10.77.2.77
	check "$name: larger ping refused by the MTU" \
		sh -c "! ip netns exec $host ping -q -c 1 -W 1 -M do -s 1400 10.77.2.77 >/dev/null 2>&1"
	stop_echo "$log"
	local rx tx
	rx=$(stat "$log" "$dev" rx-packets)
	tx=$(stat "$log" "$dev" tx-packets)
	echo "$name: port received $rx packets, sent $tx replies" >&2
	check "$name: every echo request answered (tx >= $((2 * count + 5)))" \
		test "$tx" -ge $((2 * count + 5))
	check "$name: no errors or drops" \
		test "$(stat "$log" "$dev" rx-syscall)$(stat "$log" "$dev" tx-syscall)$(stat "$log" "$dev" no-buffer)" = 000
	check "$name: packets seen whole (IPv4 and IPv6 lines)" \
		sh -c "grep -q '^rx $dev v4 len 84 proto 1' $log && grep -q '^rx $dev v6 len 104 proto 58' $log"
	check "$name: device gone after close" \
		sh -c "! ip netns exec $gw ip link show $dev >/dev/null 2>&1"
}

round single
round multiqueue queues 2
check "multiqueue: two queues reported" test "$(stat "$WORK/multiqueue.log" "$dev" queues)" = 2

# A second port attaches a queue to the device of the first (one port per I/O thread):
# the kernel now spreads the flows over three queues and both ports answer their share.
txq() {
	ip netns exec "$gw" sh -c "ls /sys/class/net/$dev/queues | grep -c '^tx-'"
}
start_echo "$gw" "$WORK/first.log" -t 60 icmp-echo tun name "$dev" address 10.77.2.1/24 \
	address fd77:2::1/64 overhead 73 queues 2
first=$ECHO_PID
start_echo "$gw" "$WORK/second.log" -t 60 icmp-echo tun name "$dev" attach yes
check "attach: the device has 3 queues" test "$(txq)" = 3
for i in 5 6 7 8; do
	check "attach: IPv4 pings to 10.77.2.$i answered" ping_ok "$host" 10 "10.77.2.$i"
	check "attach: IPv6 pings to fd77:2::$i answered" ping_ok "$host" 10 "fd77:2::$i"
done
stop_echo "$WORK/second.log"
check "attach: back to 2 queues when the second port closes" test "$(txq)" = 2
ECHO_PID=$first
stop_echo "$WORK/first.log"
replies=$(($(stat "$WORK/first.log" "$dev" tx-packets) + $(stat "$WORK/second.log" "$dev" tx-packets)))
echo "attach: first port answered $(stat "$WORK/first.log" "$dev" tx-packets)," \
	"second $(stat "$WORK/second.log" "$dev" tx-packets)" >&2
check "attach: 80 replies between the two ports" test "$replies" -eq 80
finish
