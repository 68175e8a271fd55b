#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# `ipseckctl capture`: packets passing a hook of a running ipseckd, written to a pcap file
# (src/engine/tap.h, src/gw/gwcapture.h), read back with tshark. The site-to-site pair of
# site_to_site.sh in tun mode, with examples/site-*.conf:
#
#   ns ipk-cap-PID-ha     ns ipk-cap-PID-ga               ns ipk-cap-PID-gb     ns ipk-cap-PID-hb
#   +-------------+      +--------------------+          +--------------------+      +-------------+
#   | h0          |<---->| l0 10.1.0.1        |          |        10.2.0.1 l0 |<---->|          h0 |
#   |  10.1.0.2   | veth | ipk0 (tun)         |          |         (tun) ipk0 | veth |    10.2.0.2 |
#   +-------------+      |   ^ ipseckd A      |          |      ipseckd B ^   |      +-------------+
#                        |   v (esp port)     |   veth   |     (esp port) v   |
#                        | w0 192.0.2.1       |<========>|       192.0.2.2 w0 |
#                        +--------------------+   ESP    +--------------------+
#
# Checks, during a UDP flow host A -> host B (port 6000): on gateway A, `capture 1a ... count
# 50` holds exactly 50 packets, all UDP 10.1.0.2 -> 10.2.0.2:6000 in clear (queue 1 before
# the SPD), while `capture 2b ... count 50` at the same time holds 50 ESP packets
# 192.0.2.1 -> 192.0.2.2 of SPI 0x1001; on gateway B, hook 5a (the crypto dispatcher's) the
# same ESP packets and hook 4a the decrypted ones.
# `capture stop` closes a file with exactly the packets of a 30-datagram burst; refusals
# (busy hook, unknown hook, relative path, nothing to stop); the engines still balance; a
# daemon stopped with a capture running exits 0 and leaves a complete file.
#
# usage: capture.sh IPSECKD IPSECKCTL   (root; exits 77 otherwise)
source "$(dirname "$0")/gwlib.sh"

EXAMPLES=$(cd "$HERE/../../examples" && pwd)
ha=ipk-cap-$$-ha
ga=ipk-cap-$$-ga
gb=ipk-cap-$$-gb
hb=ipk-cap-$$-hb

if ! command -v tshark >/dev/null; then
	echo "SKIP: tshark is not installed"
	exit 77
fi

# udp_flow PORT COUNT: COUNT datagrams host A -> host B, 2 ms apart (no receiver needed).
udp_flow() {
	in_ns "$ha" timeout 30 "$PYTHON" - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(i.to_bytes(4, "big") * 25, ("10.2.0.2", int(sys.argv[1])))
    time.sleep(0.002)
PY
}

# capture_state GW HOOK: the state `show captures` gives for HOOK ("running", "done"...).
capture_state() {
	ctl "$1" -j show captures | "$PYTHON" -c '
import json, sys
caps = [c for c in json.load(sys.stdin)["captures"] if c["hook"] == sys.argv[1]]
print(caps[0]["state"] if caps else "none")' "$2"
}

# capture_is GW HOOK STATE: true when the capture at HOOK is in STATE.
capture_is() {
	test "$(capture_state "$1" "$2")" = "$3"
}

# fields FILE FIELD...: one line per packet of FILE, the fields separated by spaces.
fields() {
	local file=$1
	shift
	tshark -r "$file" -T fields -E separator=' ' $(printf -- '-e %s ' "$@") 2>/dev/null
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
for pair in "$ha h0" "$ga l0" "$ga w0" "$gb w0" "$gb l0" "$hb h0"; do
	set -- $pair
	in_ns "$1" ip link set "$2" up
done
in_ns "$ha" ip route add default via 10.1.0.1
in_ns "$hb" ip route add default via 10.2.0.1
for ns in "$ga" "$gb"; do
	in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
done
in_ns "$ga" ping -q -c 1 -W 2 192.0.2.2 >/dev/null

start_gw a "$ga" "$EXAMPLES/site-a.conf"
start_gw b "$gb" "$EXAMPLES/site-b.conf"
for ns in "$ga" "$gb"; do
	# Only the test's packets at the hooks: no IPv6 router solicitations from the TUN.
	in_ns "$ns" sysctl -qw net.ipv6.conf.ipk0.disable_ipv6=1
done
in_ns "$ga" ip route add 10.2.0.0/24 dev ipk0
in_ns "$gb" ip route add 10.1.0.0/24 dev ipk0
check "ping host A -> host B through the pair" in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 10.2.0.2
# A sink on host B for ports 6000-6002, so that no ICMP port-unreachable comes back
# through the tunnel and the captures hold the flow only.
in_ns "$hb" timeout 120 "$PYTHON" - >"$WORK/sink.out" 2>&1 <<'PY' &
import select, socket
socks = []
for port in (6000, 6001, 6002):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.2.0.2", port))
    socks.append(s)
while True:
    for s in select.select(socks, [], [])[0]:
        s.recv(2048)
PY
BG_PIDS+=("$!")
sleep 0.5

# Three captures at once during one flow of 200 datagrams.
check "capture 1a on A starts" ctl a capture 1a "$WORK/a-1a.pcap" count 50
check "capture 2b on A starts" ctl a capture 2b "$WORK/a-2b.pcap" count 50
check "capture 4a on B starts" ctl b capture 4a "$WORK/b-4a.pcap" count 50
check "capture 5a on B starts" ctl b capture 5a "$WORK/b-5a.pcap" count 50
check "show captures: 1a running" test "$(capture_state a 1a)" = running
udp_flow 6000 200
for gw_hook in "a 1a" "a 2b" "b 4a" "b 5a"; do
	set -- $gw_hook
	check "$1: capture $2 done" wait_for 10 "capture $2 done" capture_is "$1" "$2" done
done
ctl a show captures >&2
check "1a: a pcap file of mode 0600" test "$(stat -c %a "$WORK/a-1a.pcap")" = 600
check "1a: exactly 50 packets" test "$(fields "$WORK/a-1a.pcap" frame.number | wc -l)" = 50
check "1a: all UDP 10.1.0.2 -> 10.2.0.2:6000, in clear" test \
	"$(fields "$WORK/a-1a.pcap" ip.src ip.dst udp.dstport | sort | uniq -c | awk '{$1=$1};1')" \
	= "50 10.1.0.2 10.2.0.2 6000"
check "1a: every datagram whole (UDP length 108)" test \
	"$(fields "$WORK/a-1a.pcap" udp.length | sort -u)" = 108
check "2b: exactly 50 ESP packets 192.0.2.1 -> 192.0.2.2, SPI 0x1001" test \
	"$(fields "$WORK/a-2b.pcap" ip.src ip.dst esp.spi | sort | uniq -c | awk '{$1=$1};1')" \
	= "50 192.0.2.1 192.0.2.2 0x00001001"
check "5a on B (the dispatcher's hook): 50 ESP packets of SPI 0x1001, still encrypted" test \
	"$(fields "$WORK/b-5a.pcap" ip.src ip.dst esp.spi udp.dstport | sort | uniq -c | awk '{$1=$1};1')" \
	= "50 192.0.2.1 192.0.2.2 0x00001001"
check "4a on B: 50 decrypted UDP packets 10.1.0.2 -> 10.2.0.2:6000" test \
	"$(fields "$WORK/b-4a.pcap" ip.src ip.dst udp.dstport | sort | uniq -c | awk '{$1=$1};1')" \
	= "50 10.1.0.2 10.2.0.2 6000"

# capture stop: the file holds exactly what passed.
check "capture 3a on A starts (count 1000000)" ctl a capture 3a "$WORK/a-3a.pcap" count 1000000
udp_flow 6001 30
sleep 0.5
check "capture stop 3a" ctl a capture stop 3a
check "show captures: 3a stopped" test "$(capture_state a 3a)" = stopped
check "3a: exactly the 30 datagrams of the burst" test \
	"$(fields "$WORK/a-3a.pcap" udp.dstport | sort | uniq -c | awk '{$1=$1};1')" = "30 6001"

# Refusals, with the daemon's messages.
ctl a capture 3b "$WORK/a-3b.pcap" count 5 >/dev/null
udp_flow 6002 3
check "a second capture at a busy hook is refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' capture 3b '$WORK/x.pcap' 2>'$WORK/e1'"
check "  ... saying so" grep -q "hook 3b is being captured" "$WORK/e1"
check "hook 6a is refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' capture 6a '$WORK/x.pcap' 2>'$WORK/e2'"
check "  ... naming the hooks" grep -q "expected a hook side 1a..4b, 5a or 5b" "$WORK/e2"
check "a relative path is refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' capture 1b x.pcap 2>'$WORK/e3'"
check "  ... asking for an absolute one" grep -q "expected an absolute path" "$WORK/e3"
check "capture stop without a capture is refused" \
	sh -c "! timeout 10 '$IPSECKCTL' -s '$WORK/a.sock' capture stop 4b 2>/dev/null"
check "no file for refused captures" test ! -e "$WORK/x.pcap"

for gw in a b; do
	check "engine $gw balanced" test "$(counter $gw engine.balanced)" = 1
done
check "ipseckd a exits 0 on SIGTERM with a capture running" stop_gw a
check "  ... and closed that file with its 3 packets" \
	test "$(fields "$WORK/a-3b.pcap" udp.dstport | sort | uniq -c | awk '{$1=$1};1')" = "3 6002"
check "ipseckd b exits 0 on SIGTERM" stop_gw b
finish
