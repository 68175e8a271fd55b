# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the netns tests of the running daemon (outer6.sh, bad_wire.sh,
# interop_daemon.sh); sourced, not run. The test's arguments are IPSECKD and IPSECKCTL.
#
# Gives what common.sh gives, plus: start_gw / stop_gw (one ipseckd per name, control
# socket $WORK/NAME.sock, log $WORK/ipseckd-NAME.log), ctl (ipseckctl against one of
# them, bounded), counter (one counter of `ipseckctl -j stats` or of
# `ipseckctl -j show sa`), tcp_xfer (a checksum-verified TCP transfer) and udp_count (exactly
# N datagrams sent, the number received printed).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The configuration files hold keys: readable by their owner only, as ipseckd wants.
umask 077
IPSECKD=$(realpath "${1:?usage: $0 IPSECKD IPSECKCTL}")
IPSECKCTL=$(realpath "${2:?usage: $0 IPSECKD IPSECKCTL}")
declare -A GW_PID=()

# start_gw NAME NS CONF: ipseckd in the foreground of a background job, in NS, with CONF;
# waits (20 s at most) until it answers on its control socket.
start_gw() {
	local name=$1 ns=$2 conf=$3
	echo "+ [$ns] ipseckd -F -v -f $conf -s $WORK/$name.sock &" >&2
	ip netns exec "$ns" "$IPSECKD" -F -v -f "$conf" -s "$WORK/$name.sock" \
		>"$WORK/ipseckd-$name.log" 2>&1 &
	GW_PID[$name]=$!
	BG_PIDS+=("$!")
	wait_for 20 "ipseckd $name answers" "$IPSECKCTL" -s "$WORK/$name.sock" stats
}

# stop_gw NAME: SIGTERM, at most 15 s to exit; returns its exit status.
stop_gw() {
	local pid=${GW_PID[$1]} rc=0
	run kill -TERM "$pid"
	wait_for 15 "ipseckd $1 exits" sh -c "! kill -0 $pid" || return 1
	wait "$pid" || rc=$?
	return "$rc"
}

# gw_alive NAME: the daemon's process still runs.
gw_alive() {
	kill -0 "${GW_PID[$1]}" 2>/dev/null
}

# ctl NAME ARGS...: ipseckctl against the daemon NAME, bounded.
ctl() {
	local name=$1
	shift
	echo "+ ipseckctl($name) $*" >&2
	timeout 10 "$IPSECKCTL" -s "$WORK/$name.sock" "$@"
}

# counter NAME KEY: one number from the daemon NAME. KEY is SECTION.COUNTER of a stats
# provider ("engine.q1.drops.unknown-spi", "ports.wan.rx-packets"), "drops.REASON" (summed
# over the SAs, the top of `ipseckctl -j stats`), or sa.SA.FIELD (`show sa name SA`;
# a FIELD that is a set of counters, such as drops, gives their sum, and sa.SA.drops.REASON
# one of them). Absent counters are 0.
counter() {
	local name=$1 key=$2 sa
	if [ "${key%%.*}" = sa ]; then
		sa=${key#sa.}
		sa=${sa%%.*}
		timeout 10 "$IPSECKCTL" -s "$WORK/$name.sock" -j show sa name "$sa" \
			>"$WORK/counter.json"
	else
		timeout 10 "$IPSECKCTL" -s "$WORK/$name.sock" -j stats >"$WORK/counter.json"
	fi
	"$PYTHON" - "$WORK/counter.json" "$key" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
key = sys.argv[2]
if key.startswith("sa."):
    parts = key.split(".")[2:]
    value = doc["sa"][0]
    for p in parts:
        value = value.get(p, 0) if isinstance(value, dict) else 0
elif key.startswith("drops."):
    value = doc.get("drops", {}).get(key[len("drops."):], 0)
else:
    section, _, rest = key.partition(".")
    value = doc["providers"].get(section, {}).get(rest, 0)
print(sum(value.values()) if isinstance(value, dict) else value)
PY
}

# tcp_xfer NS_SERVER NS_CLIENT ADDR PORT BYTES: a TCP transfer (tests/netns/xfer.py) of
# BYTES to ADDR; succeeds when the server received BYTES with the sender's SHA-256.
tcp_xfer() {
	local srv=$1 cli=$2 addr=$3 port=$4 size=$5 serve sent_bytes sent_sum got_bytes got_sum
	in_ns "$srv" timeout 90 "$PYTHON" "$HERE/xfer.py" serve "$addr" "$port" \
		>"$WORK/serve-$port.out" &
	serve=$!
	in_ns "$cli" timeout 90 "$PYTHON" "$HERE/xfer.py" send "$addr" "$port" "$size" \
		>"$WORK/send-$port.out" || true
	wait "$serve" || true
	read -r _ sent_bytes sent_sum _ <"$WORK/send-$port.out" || true
	read -r _ got_bytes got_sum <"$WORK/serve-$port.out" || true
	echo "tcp_xfer: sent ${sent_bytes:-?} received ${got_bytes:-?}" >&2
	[ -n "${got_sum:-}" ] && [ "$sent_bytes $sent_sum" = "$got_bytes $got_sum" ] &&
		[ "$got_bytes" = "$size" ]
}

# udp_count NS_TX NS_RX DST PORT COUNT: exactly COUNT UDP datagrams (sequence number in
# the first 4 bytes) sent from NS_TX to DST:PORT, 1 ms apart; prints how many distinct
# ones NS_RX received (3 s of silence ends the wait).
udp_count() {
	local tx=$1 rx=$2 dst=$3 port=$4 count=$5 pid
	rm -f "$WORK/udp-$port.ready"
	in_ns "$rx" timeout 60 "$PYTHON" - "$dst" "$port" "$count" >"$WORK/udp-$port.out" \
		2>"$WORK/udp-$port.ready" <<'PY' &
import socket, sys
dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((dst, port))
s.settimeout(3)
print("ready", file=sys.stderr, flush=True)
seen = set()
try:
    while len(seen) < count:
        seen.add(int.from_bytes(s.recv(2048)[:4], "big"))
except socket.timeout:
    pass
print(len(seen), flush=True)
PY
	pid=$!
	wait_for 30 "UDP receiver on port $port" grep -q ready "$WORK/udp-$port.ready" >&2 || true
	in_ns "$tx" timeout 60 "$PYTHON" - "$dst" "$port" "$count" <<'PY'
import socket, sys, time
dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    s.sendto(i.to_bytes(4, "big") * 50, (dst, port))
    time.sleep(0.001)
PY
	wait "$pid" || true
	cat "$WORK/udp-$port.out"
}
