#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Bad input against a running tun-mode ipseckd, class by class, and a flood of unknown SPIs:
# the figures of docs/hardening.md ("Bad input"). Another test, bad_wire.sh, sends malformed
# ESP in wire mode during good traffic; this one covers the tun/esp/udp ports, the checks
# behind the ICV (built with the SA's key), the kernel's share, the configuration language
# and the control socket.
#
#   ns ipk-bi-PID-ha     ns ipk-bi-PID-ga              ns ipk-bi-PID-gb     ns ipk-bi-PID-hb
#   +-----------+       +------------------+          +-----------------+      +-----------+
#   | 10.1.0.2  |<----->| ipseckd A        |   veth   | ipseckd B       |<---->| 10.2.0.2  |
#   +-----------+       | injector:        |=========>| esp port        |      +-----------+
#                       |  badinput.py,    | 192.0.2.2| udp port 4500   |
#                       |  ipseck-espflood |          | SA inj 0x3001   |
#                       +------------------+          +-----------------+
#   (tests/netns/pair.sh; B also has a udp port and an inbound SA "inj" with a policy for
#    inner 10.9.0.0/24 -> 10.2.0.0/24, whose key the injector uses)
#
# For each class: counters of B (`ipseckctl -j stats`, `-j show sa`, the kernel's Ip/Udp
# counters in B's namespace) and B's RSS before and after; a row "class, sent, result,
# counter, RSS before/after". Checks: every ESP/UDP class is counted under its reason, one
# drop per bad packet (the engine's or the port's counter, not the SA's second view); the
# IP-header classes never reach ipseckd (the kernel drops them: its counters say which);
# malformed configuration lines and control-socket messages are refused and change nothing;
# the 100 kpps flood (BADINPUT_FLOOD_PPS, BADINPUT_FLOOD_S, default 100000 and 10) is counted
# as unknown-spi or as the socket's overflow, a ping through the tunnel meanwhile still
# answers, and B's RSS grows by less than 4 MiB; both daemons stop cleanly.
#
# usage: bad_input_flood.sh IPSECKD IPSECKCTL ESPFLOOD   (root; exits 77 otherwise)
#        BADINPUT_REPORT=FILE writes the table (Markdown) to FILE too.
source "$(dirname "$0")/common.sh"

IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL ESPFLOOD}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL ESPFLOOD}")
ESPFLOOD=$(realpath "${3:?usage: $0 IPSECKD IPSECKCTL ESPFLOOD}")
PAIR=ipk-bi-$$
source "$HERE/pair.sh"
BI="$HERE/badinput.py"
ha=$(pair_ns ha) ga=$(pair_ns ga) gb=$(pair_ns gb) hb=$(pair_ns hb)
PPS=${BADINPUT_FLOOD_PPS:-100000}
FLOOD_S=${BADINPUT_FLOOD_S:-10}
REPORT=${BADINPUT_REPORT:-$WORK/report.md}
INJ_KEY=$(pair_key inj)

pair_topology
pair_config a "$WORK/a.conf"
pair_config b "$WORK/b.conf" \
	"interface add name nat kind udp side protected family 4 local 192.0.2.2 port 4500" \
	"sa add name inj spi 0x3001 dir in mode tunnel src 192.0.2.1 dst 192.0.2.2 proposal aes128gcm16 key $INJ_KEY" \
	"policy add name pinj dir in src 10.9.0.0/24 dst 10.2.0.0/24 action protect sa inj"
chmod 600 "$WORK/a.conf" "$WORK/b.conf"
pair_start a "$WORK/a.conf"
pair_start b "$WORK/b.conf"
pair_routes
pid_b=${PAIR_PIDS[1]}
DST_MAC=$(ip netns exec "$gb" cat /sys/class/net/w0/address)
check "ping through the pair before the bad input" in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 10.2.0.2

snap() {
	ip netns exec "$gb" "$PYTHON" "$BI" snap "$WORK/b.sock" >"$1"
}

{
	echo "| class | tried | result at ipseckd B | counter(s) that moved | RSS before -> after (KiB) |"
	echo "|---|---|---|---|---|"
} >"$REPORT"

# engine_count DELTA_FILE REASON: the drops under REASON counted by the engine, the gateway
# or a port (providers.*), not the SA's second view (sa.*) nor the SA sums (drops.*).
engine_count() {
	awk -v r="$2" '$1 ~ "^providers\\..*drops\\." r "$" { s += $2 } END { print s + 0 }' "$1"
}
# ipseckd_drops DELTA_FILE: every drop the daemon counted (providers.* per reason), except
# no-policy: the kernel's own IPv6 packets on the TUN device (router solicitations) come
# from the plaintext side now and then, never from the injector.
ipseckd_drops() {
	awk '$1 ~ /^providers\..*drops\.[a-z-]+$/ && $1 !~ /no-policy$/ { s += $2 }
	     END { print s + 0 }' "$1"
}

# one CLASS COUNT REASON: injects, then judges. REASON "-" means the kernel must drop it
# all (nothing reaches ipseckd); "any" only records.
one() {
	local cls=$1 count=$2 reason=$3 rss0 rss1 sent expect moved counted result
	snap "$WORK/before.json"
	rss0=$(pair_rss "$pid_b")
	read -r _ sent _ expect < <(BADINPUT_DEV=w0 BADINPUT_DST_MAC=$DST_MAC in_ns "$ga" \
		timeout 120 "$PYTHON" "$BI" inject "$cls" "$count" "$INJ_KEY")
	sleep 1
	snap "$WORK/after.json"
	rss1=$(pair_rss "$pid_b")
	"$PYTHON" "$BI" delta "$WORK/before.json" "$WORK/after.json" >"$WORK/delta-$cls.txt"
	moved=$(grep -v -e '^kernel\.' -e '^sa\.' -e '^drops\.' -e 'ctlsock' "$WORK/delta-$cls.txt" |
		grep -e 'drops\.' -e 'truncated' | tr '\n' ' ' || true)
	if [ "$reason" = - ]; then
		counted=$(ipseckd_drops "$WORK/delta-$cls.txt")
		moved="$moved$(grep -e '^kernel\.Ip\.In[A-Z]' -e '^kernel\.Ip\.Reasm' \
			-e '^kernel\.Ip\.Frag' "$WORK/delta-$cls.txt" | tr '\n' ' ' || true)"
		result="dropped by the kernel, $counted reached ipseckd"
		check "$cls: $sent sent, none reached ipseckd" test "$counted" = 0
	elif [ "$reason" = any ]; then
		counted=$(ipseckd_drops "$WORK/delta-$cls.txt")
		result="$counted counted as drops"
	else
		counted=$(engine_count "$WORK/delta-$cls.txt" "$reason")
		result="$counted dropped as $reason, $expect delivered"
		check "$cls: $((sent - expect)) of $sent counted as $reason" \
			test "$counted" = $((sent - expect)) -a "$sent" = "$count"
	fi
	check "$cls: ipseckd B still answers" "$IPSECKCTL" -s "$WORK/b.sock" stats >/dev/null
	echo "| $cls | $sent | $result | ${moved:-none} | $rss0 -> $rss1 |" >>"$REPORT"
}

for cls in unknown-spi truncated-esp bad-icv replay-duplicate replay-too-old bad-padding \
	bad-pad-length bad-next-header dummy-packet inner-mismatch policy-mismatch; do
	one "$cls" 200 "$cls"
done
one oversize 50 any
for cls in ip-bad-version ip-short-header ip-long-total ip-short-total ip-bad-checksum \
	wrong-protocol frag-overlap frag-incomplete frag-oversize; do
	one "$cls" 200 -
done
one udp-keepalive 200 nat-keepalive
one udp-non-esp 200 non-esp-marker
one udp-short 200 any
one udp-empty 200 any
one udp-unknown-spi 200 unknown-spi

# Malformed configuration lines through ipseckctl: each refused, the SAD and SPD unchanged.
cat >"$WORK/badlines.txt" <<'EOF'
sa add
sa add name x spi 0x100 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x01
sa add name x spi 99999999999 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name x spi 0x5000 dir sideways mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name x spi 0x5000 dir out mode tunnel src 192.0.2.300 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name x spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 2001:db8::1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name x spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes129gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name x spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0xzz
sa add name x spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314 lifetime packets 10 soft-lifetime packets 20
sa add name xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa add name ab0 spi 0x5000 dir out mode tunnel src 192.0.2.2 dst 192.0.2.1 proposal aes128gcm16 key 0x0102030405060708090a0b0c0d0e0f1011121314
sa del name nosuch
policy add name p dir in src 10.0.0.0/33 action bypass
policy add name p dir in src 10.0.0.1/8 action bypass
policy add name p dir in sport 9-1 action bypass
policy add name p dir in action protect sa nosuch
policy add name p dir in proto 50 sport 1-2 action bypass
policy del name nosuch
qos add name q kind fifo limit 0
qos add name q kind nosuchkind
qos node name n children nosuch
hook attach 9 nothing
hook detach 2
engine units 64
interface add name i kind tun side middle
interface add name i kind nosuch side plain
event-command relative/path
event-command /nonexistent/cmd
\
sa add name x \
show sa name
stats extra words
EOF
printf 'sa add name %s\n' "$(head -c 3000 /dev/zero | tr '\0' 'k')" >>"$WORK/badlines.txt"
printf 'policy add name p dir in%s action bypass\n' "$(for i in $(seq 120); do printf ' dscp ef'; done)" \
	>>"$WORK/badlines.txt"
sa0=$(ctl b -j show sa | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["sa"]))')
refused=0 tried=0 rss0=$(pair_rss "$pid_b")
while IFS= read -r line; do
	tried=$((tried + 1))
	printf '%s\n' "$line" >"$WORK/line.conf"
	timeout 20 "$IPSECKCTL" -s "$WORK/b.sock" -f "$WORK/line.conf" >/dev/null 2>>"$WORK/badlines.log" &&
		echo "accepted: $line" >>"$WORK/badlines.log" || refused=$((refused + 1))
done <"$WORK/badlines.txt"
sa1=$(ctl b -j show sa | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["sa"]))')
echo "| config lines (ipseckctl -f) | $tried | $refused refused with a message, SAs $sa0 -> $sa1 | ctlsock.errors | $rss0 -> $(pair_rss "$pid_b") |" \
	>>"$REPORT"
check "config: $refused of $tried malformed lines refused, SAD unchanged" \
	test "$refused/$sa1" = "$tried/$sa0"

# Malformed control-socket messages.
for cls in garbage bad-type too-long nul-byte truncated bad-command; do
	snap "$WORK/before.json"
	rss0=$(pair_rss "$pid_b")
	read -r _ sent _ replies < <(timeout 120 "$PYTHON" "$BI" ctlsock "$WORK/b.sock" "$cls" 50)
	snap "$WORK/after.json"
	"$PYTHON" "$BI" delta "$WORK/before.json" "$WORK/after.json" >"$WORK/delta-ctl-$cls.txt"
	moved=$(grep ctlsock "$WORK/delta-ctl-$cls.txt" | tr '\n' ' ' || true)
	echo "| control socket: $cls | $sent | $replies ERR replies, connection closed | $moved | $rss0 -> $(pair_rss "$pid_b") |" \
		>>"$REPORT"
	check "ctlsock $cls: $sent messages, daemon still answers" \
		"$IPSECKCTL" -s "$WORK/b.sock" stats >/dev/null
done

# The flood: unknown SPIs at PPS for FLOOD_S seconds, a ping through the tunnel meanwhile.
snap "$WORK/before.json"
rss0=$(pair_rss "$pid_b")
in_ns "$ha" ping -q -c $((FLOOD_S * 5)) -i 0.2 -W 2 10.2.0.2 >"$WORK/ping-flood.out" 2>&1 &
ping=$!
read -r _ fsent _ ferrors _ fsecs < <(in_ns "$ga" timeout $((FLOOD_S + 30)) "$ESPFLOOD" 192.0.2.2 \
	0x7c000000 65536 "$PPS" "$FLOOD_S")
wait "$ping" || true
sleep 1
snap "$WORK/after.json"
rss1=$(pair_rss "$pid_b")
"$PYTHON" "$BI" delta "$WORK/before.json" "$WORK/after.json" >"$WORK/delta-flood.txt"
uspi=$(engine_count "$WORK/delta-flood.txt" unknown-spi)
ovfl=$(awk '$1 ~ /wan\.rx-kernel-drop$/ { print $2 + 0 }' "$WORK/delta-flood.txt")
kdrop=$(awk '$1 == "kernel.Ip.InDiscards" { print $2 + 0 }' "$WORK/delta-flood.txt")
ploss=$(grep -o '[0-9.]*% packet loss' "$WORK/ping-flood.out" || echo "?")
echo "flood: sent $fsent (errors $ferrors) in $fsecs s; unknown-spi +$uspi, socket overflow +${ovfl:-0}, RSS $rss0 -> $rss1 KiB, ping $ploss"
echo "| flood: unknown SPIs at $PPS pps for $FLOOD_S s (ipseck-espflood) | $fsent (sender errors $ferrors, $fsecs s) | $uspi counted as unknown-spi, ${ovfl:-0} lost in the socket buffer (rx-kernel-drop), ping through the tunnel meanwhile: $ploss | unknown-spi, wan.rx-kernel-drop | $rss0 -> $rss1 |" \
	>>"$REPORT"
check "flood: every packet that reached ipseckd counted (unknown-spi + overflow = sent - errors)" \
	test $((uspi + ${ovfl:-0})) -ge $(( (fsent - ferrors) * 99 / 100 ))
check "flood: $uspi unknown-spi counted (at least half of what was sent)" \
	test "$uspi" -ge $(( (fsent - ferrors) / 2 ))
check "flood: ping through the tunnel answered meanwhile" grep -q ' [1-9][0-9]* received' \
	"$WORK/ping-flood.out"
check "flood: RSS of B grew less than 4 MiB ($rss0 -> $rss1 KiB)" test $((rss1 - rss0)) -lt 4096
check "good traffic after all the bad input" in_ns "$ha" ping -q -c 3 -i 0.2 -W 2 10.2.0.2

cat "$REPORT"
check "SIGTERM stops A cleanly" pair_stop "${PAIR_PIDS[0]}"
check "SIGTERM stops B cleanly" pair_stop "$pid_b"
finish
