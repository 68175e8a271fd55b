#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The `udp` port (src/io/udpencap.c): ESP in UDP 4500 (RFC 3948). The peer sends a NAT
# keepalive and ESP datagrams from port 4500; io_echo receives them through the port as
# whole IP + UDP + ESP packets (headers rebuilt from the datagram and its ancillary
# data), swaps addresses and ports, and sends them back through the port, which sends the
# UDP payload to the packet's destination with its TOS / TTL.
#
#   ns ipk-udp-PID-peer                    ns ipk-udp-PID-gw
#   +---------------------------+          +-----------------------------------+
#   | p0 10.77.4.2/24           | <-veth-> | g0 10.77.4.1/24                   |
#   |    fd77:4::2/64           |          |    fd77:4::1/64                   |
#   | peer.py udp: socket on    |          | io_echo reflect udp (port 4500)   |
#   | 4500, tos 0xb9, ttl 33:   |          |   rx: IP + UDP + ESP, ESP at 28   |
#   | 1 keepalive + N ESP       |          |       (IPv4) or 48 (IPv6)         |
#   +---------------------------+          +-----------------------------------+
#
# Checks: the keepalive and every datagram come back with the same bytes, TOS / traffic
# class and TTL / hop limit; ipk_esp_locate() finds ESP at 28 / 48 and reports the
# keepalive as nat-keepalive; counters.
#
# usage: io_udp.sh IO_ECHO   (root; exits 77 otherwise)
source "$(dirname "$0")/lib.sh"

peer=ipk-udp-$$-peer
gw=ipk-udp-$$-gw
count=2000

add_ns "$peer"
add_ns "$gw"
run ip link add p0 netns "$peer" type veth peer name g0 netns "$gw"
in_ns "$peer" ip addr add 10.77.4.2/24 dev p0
in_ns "$peer" ip addr add fd77:4::2/64 dev p0 nodad
in_ns "$peer" ip link set p0 up
in_ns "$gw" ip addr add 10.77.4.1/24 dev g0
in_ns "$gw" ip addr add fd77:4::1/64 dev g0 nodad
in_ns "$gw" ip link set g0 up
wait_for 10 "10.77.4.1 answers" in_ns "$peer" ping -q -c 1 -W 1 10.77.4.1
wait_for 10 "fd77:4::1 answers" in_ns "$peer" ping -q -c 1 -W 1 fd77:4::1

log=$WORK/udp.log
start_echo "$gw" "$log" -t 90 -v reflect udp port 4500 rcvbuf 4194304 sndbuf 4194304
check "udp: keepalive + $count IPv4 datagrams reflected whole" \
	in_ns "$peer" timeout 60 "$PYTHON" "$HERE/peer.py" udp 10.77.4.2 10.77.4.1 "$count"
check "udp: keepalive + $count IPv6 datagrams reflected whole" \
	in_ns "$peer" timeout 60 "$PYTHON" "$HERE/peer.py" udp fd77:4::2 fd77:4::1 "$count"
stop_echo "$log"

check "udp: IPv4 + UDP header rebuilt, ESP at 28" \
	grep -q '^rx udp v4 len [0-9]* proto 17 tos 0xb9 ttl 33 esp_off 28 spi 0x1000abcd$' "$log"
check "udp: IPv6 + UDP header rebuilt, ESP at 48" \
	grep -q '^rx udp v6 len [0-9]* proto 17 tos 0xb9 ttl 33 esp_off 48 spi 0x1000abcd$' "$log"
check "udp: keepalives passed up as they are (29 and 49 bytes)" \
	sh -c "grep -q '^rx udp v4 len 29 proto 17 .* nat-keepalive$' $log &&
	       grep -q '^rx udp v6 len 49 proto 17 .* nat-keepalive$' $log"
total=$((2 * count + 2))
check "udp: port counted $total rx and tx" \
	test "$(stat "$log" udp rx-packets)/$(stat "$log" udp tx-packets)" = "$total/$total"
check "udp: no syscall errors, kernel or pool drops" \
	test "$(stat "$log" udp rx-syscall)$(stat "$log" udp tx-syscall)$(stat "$log" udp rx-kernel-drop)$(stat "$log" udp no-buffer)" = 0000
finish
