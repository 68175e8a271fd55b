#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The `esp` port (src/io/rawesp.c): raw IP protocol 50 sockets. A scapy peer sends ESP
# packets; io_echo receives them through the port as whole IP packets (an IPv6 header
# rebuilt from the ancillary data), swaps the addresses and sends them back through the
# port (IPv4 with IP_HDRINCL, IPv6 through sendmsg with its control messages).
#
#   ns ipk-esp-PID-peer                    ns ipk-esp-PID-gw
#   +---------------------------+          +----------------------------------+
#   | p0 10.77.3.2/24           | <-veth-> | g0 10.77.3.1/24                  |
#   |    fd77:3::2/64           |          |    fd77:3::1/64                  |
#   | peer.py esp: scapy sends  |          | io_echo reflect esp              |
#   | ESP (tos 0xb9, ttl 33),   |          |   rx: whole IP packet, ESP at 20 |
#   | sniffs the replies        |          |       (IPv4) or 40 (IPv6)        |
#   +---------------------------+          +----------------------------------+
#
# Checks: every packet comes back with the same ESP bytes, TOS / traffic class and TTL /
# hop limit; ipk_esp_locate() finds ESP at offset 20 / 40 with the SPI sent; counters.
#
# usage: io_esp.sh IO_ECHO   (root; exits 77 otherwise)
source "$(dirname "$0")/lib.sh"

peer=ipk-esp-$$-peer
gw=ipk-esp-$$-gw
count=300

add_ns "$peer"
add_ns "$gw"
run ip link add p0 netns "$peer" type veth peer name g0 netns "$gw"
in_ns "$peer" ip addr add 10.77.3.2/24 dev p0
in_ns "$peer" ip addr add fd77:3::2/64 dev p0 nodad
in_ns "$peer" ip link set p0 up
in_ns "$gw" ip addr add 10.77.3.1/24 dev g0
in_ns "$gw" ip addr add fd77:3::1/64 dev g0 nodad
in_ns "$gw" ip link set g0 up
# Neighbours resolved before the timed part.
wait_for 10 "10.77.3.1 answers" in_ns "$peer" ping -q -c 1 -W 1 10.77.3.1
wait_for 10 "fd77:3::1 answers" in_ns "$peer" ping -q -c 1 -W 1 fd77:3::1

log=$WORK/esp.log
start_echo "$gw" "$log" -t 90 -v reflect esp batch 16 rcvbuf 4194304
check "esp: $count IPv4 ESP packets reflected whole" \
	in_ns "$peer" timeout 60 "$PYTHON" "$HERE/peer.py" esp p0 10.77.3.2 10.77.3.1 "$count"
check "esp: $count IPv6 ESP packets reflected whole" \
	in_ns "$peer" timeout 60 "$PYTHON" "$HERE/peer.py" esp p0 fd77:3::2 fd77:3::1 "$count"
stop_echo "$log"

check "esp: IPv4 seen with its header, ESP at 20" \
	grep -q '^rx esp v4 len [0-9]* proto 50 tos 0xb9 ttl 33 esp_off 20 spi 0x1000abcd$' "$log"
check "esp: IPv6 header rebuilt (tclass, hop limit), ESP at 40" \
	grep -q '^rx esp v6 len [0-9]* proto 50 tos 0xb9 ttl 33 esp_off 40 spi 0x1000abcd$' "$log"
check "esp: nothing malformed" sh -c "! grep -q ' bad \| not-esp' $log"
check "esp: port counted $((2 * count)) rx and tx" \
	test "$(stat "$log" esp rx-packets)/$(stat "$log" esp tx-packets)" = "$((2 * count))/$((2 * count))"
check "esp: no syscall errors, kernel or pool drops" \
	test "$(stat "$log" esp rx-syscall)$(stat "$log" esp tx-syscall)$(stat "$log" esp rx-kernel-drop)$(stat "$log" esp no-buffer)" = 0000
finish
