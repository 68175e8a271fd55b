# SPDX-License-Identifier: BSD-2-Clause
# A site-to-site pair of ipseckd in tun mode whose SAs the caller rekeys at runtime; sourced
# by rekey.sh, valgrind.sh, bad_input_flood.sh and scripts/soak after common.sh, not run.
# The topology is site_to_site.sh's:
#
#   ns $PAIR-ha       ns $PAIR-ga                ns $PAIR-gb                ns $PAIR-hb
#   +-----------+    +-------------------+      +-------------------+    +-----------+
#   | h0        |<-->| l0 10.1.0.1       |      |       10.2.0.1 l0 |<-->|        h0 |
#   | 10.1.0.2  |veth| ipk0 (tun)        | veth |        (tun) ipk0 |veth|  10.2.0.2 |
#   +-----------+    | ipseckd A  esp w0 |<====>| w0 esp  ipseckd B |    +-----------+
#                    |       192.0.2.1   | ESP  |   192.0.2.2       |
#                    +-------------------+      +-------------------+
#
# SAs of generation G (aes128gcm16, tunnel): abG (A out, B in) SPI 0x10000+G and baG (B out,
# A in) SPI 0x20000+G; policies poutG / pinG on each side. pair_rekey installs generation
# G+1 before it removes G, in three batches per gateway:
#   1. inbound:  sa add of the new inbound SA and a second inbound policy with the same
#                selectors naming it, beside the old one (make before break: a packet
#                that verified under either SA passes, since a matching rule names it;
#                src/engine/lookup.c ipk_lookup_in_allowed);
#   2. outbound: sa add of the new outbound SA and the outbound policy replaced by one
#                naming it, in one batch (applied while the receive threads wait: nothing
#                in the engine is lost);
#   3. after PAIR_GRACE seconds (packets of the old SAs still on the wire arrive): the
#      old inbound policy and the old SAs are deleted.
# Step 1 runs on both gateways before step 2 on either, so a packet under a new SA never
# reaches a gateway that cannot accept it.
#
# Needs: IPSECKD, IPSECKCTL, WORK, PAIR (a name prefix holding the PID), HERE, PYTHON.

PAIR_GRACE=${PAIR_GRACE:-1}
PAIR_GEN=0
PAIR_PIDS=()  # ipseckd of a, b (their index in BG_PIDS)

pair_ns() { echo "$PAIR-$1"; }

# pair_topology: the four namespaces, veths, addresses and host routes.
pair_topology() {
	local ha ga gb hb
	ha=$(pair_ns ha) ga=$(pair_ns ga) gb=$(pair_ns gb) hb=$(pair_ns hb)
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
}

# The key of SA NAME: 16 bytes and a 4-byte salt, derived from the name (a test only).
pair_key() {
	echo "0x$(printf '%s' "$1" | sha256sum | cut -c1-40)"
}

# pair_sa GW SIDE NAME DIR [EXTRA...]: the `sa add` line for SA NAME (abG or baG) as
# gateway GW sees it.
pair_sa() {
	local gw=$1 name=$2 gen=${2#??} src=192.0.2.1 dst=192.0.2.2 spi dir
	shift 2
	case $name in
	ab*) spi=$((0x10000 + gen)); [ "$gw" = a ] && dir=out || dir=in ;;
	ba*) spi=$((0x20000 + gen)) src=192.0.2.2 dst=192.0.2.1
	     [ "$gw" = b ] && dir=out || dir=in ;;
	esac
	echo "sa add name $name spi $spi dir $dir mode tunnel src $src dst $dst" \
		"proposal aes128gcm16 key $(pair_key "$name") $*"
}

# pair_policy GW NAME DIR SA [EXTRA...]: a policy of gateway GW covering the two sites.
pair_policy() {
	local gw=$1 name=$2 dir=$3 sa=$4 here=10.1.0.0/24 there=10.2.0.0/24 src dst
	shift 4
	[ "$gw" = b ] && { here=10.2.0.0/24; there=10.1.0.0/24; }
	if [ "$dir" = out ]; then src=$here dst=$there; else src=$there dst=$here; fi
	echo "policy add name $name dir $dir src $src dst $dst action protect sa $sa $*"
}

# pair_config GW FILE [EXTRA LINES...]: gateway GW's start-up file, generation 0.
pair_config() {
	local gw=$1 file=$2 local_ip=192.0.2.1 addr=10.1.255.1/32 out=ab0 in=ba0
	shift 2
	[ "$gw" = b ] && { local_ip=192.0.2.2 addr=10.2.255.1/32 out=ba0 in=ab0; }
	{
		echo "engine units ${PAIR_UNITS:-1}"
		echo "interface add name ipk0 kind tun side plain address $addr mtu 1500 overhead 73"
		echo "interface add name wan kind esp side protected family 4 local $local_ip"
		pair_sa "$gw" "$out"
		pair_sa "$gw" "$in"
		pair_policy "$gw" pout0 out "$out"
		pair_policy "$gw" pin0 in "$in"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# ctl GW ARGS...: ipseckctl against gateway GW (a or b), bounded.
ctl() {
	local gw=$1
	shift
	echo "+ ipseckctl($gw) $*" >&2
	timeout 20 "$IPSECKCTL" -s "$WORK/$gw.sock" "$@"
}

# batch GW LINES...: the lines as one batch (all or nothing).
batch() {
	local gw=$1
	shift
	printf '%s\n' "$@" >"$WORK/batch-$gw.conf"
	printf '+ ipseckctl(%s) batch: %s\n' "$gw" "$*" >&2
	timeout 20 "$IPSECKCTL" -s "$WORK/$gw.sock" -f "$WORK/batch-$gw.conf"
}

# pair_start GW FILE [WRAPPER...] [-- DAEMON OPTIONS...]: starts ipseckd for GW (in the
# foreground, log $WORK/ipseckd-GW.log), under WRAPPER (e.g. valgrind) when given.
pair_start() {
	local gw=$1 file=$2 ns wrapper=() opts=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		wrapper+=("$1")
		shift
	done
	[ $# -gt 0 ] && { shift; opts=("$@"); }
	ns=$(pair_ns g"$gw")
	echo "+ [$ns] ${wrapper[*]} ipseckd -F -f $file -s $WORK/$gw.sock ${opts[*]} &" >&2
	ip netns exec "$ns" "${wrapper[@]}" "$IPSECKD" -F -f "$file" -s "$WORK/$gw.sock" \
		"${opts[@]}" >"$WORK/ipseckd-$gw.log" 2>&1 &
	BG_PIDS+=("$!")
	PAIR_PIDS+=("$!")
	wait_for "${PAIR_START_WAIT:-15}" "ipseckd $gw answers" \
		"$IPSECKCTL" -s "$WORK/$gw.sock" stats
}

# pair_routes: the kernel routes the other site into ipk0 (after both daemons started).
pair_routes() {
	in_ns "$(pair_ns ga)" ip route add 10.2.0.0/24 dev ipk0
	in_ns "$(pair_ns gb)" ip route add 10.1.0.0/24 dev ipk0
}

# pair_stop PID [SECONDS]: SIGTERM, bounded wait; returns the daemon's exit status.
pair_stop() {
	local pid=$1 rc=0
	run kill -TERM "$pid"
	wait_for "${2:-20}" "ipseckd $pid exits" sh -c "! kill -0 $pid"
	wait "$pid" || rc=$?
	return "$rc"
}

# pair_rekey [A_OUT_EXTRA]: generation G -> G+1 on both gateways (see the top); the
# words of A_OUT_EXTRA go to A's new outbound SA (e.g. lifetimes).
pair_rekey() {
	local old=$PAIR_GEN new=$((PAIR_GEN + 1)) a_extra=${1:-}
	# 1. Each side accepts the new inbound SA as well as the old one.
	batch a "$(pair_sa a ba$new)" "$(pair_policy a pin$new in ba$new)" || return 1
	batch b "$(pair_sa b ab$new)" "$(pair_policy b pin$new in ab$new)" || return 1
	# 2. Each side sends under the new SA.
	batch a "$(pair_sa a ab$new $a_extra)" "policy del name pout$old" \
		"$(pair_policy a pout$new out ab$new)" || return 1
	batch b "$(pair_sa b ba$new)" "policy del name pout$old" \
		"$(pair_policy b pout$new out ba$new)" || return 1
	# 3. What was on the wire under the old SAs has arrived: remove them.
	sleep "$PAIR_GRACE"
	if declare -F pair_before_delete >/dev/null; then
		pair_before_delete
	fi
	batch a "policy del name pin$old" "sa del name ab$old" "sa del name ba$old" || return 1
	batch b "policy del name pin$old" "sa del name ab$old" "sa del name ba$old" || return 1
	PAIR_GEN=$new
}

# pair_stat GW NAME: one counter: SECTION.COUNTER of `ipseckctl -j stats` ("engine.x"),
# or sa.SA.FIELD of `ipseckctl -j show sa name SA` (FIELD drops: the sum of its drops).
pair_stat() {
	local gw=$1 name=$2 sa
	if [ "${name%%.*}" = sa ]; then
		sa=${name#sa.}
		sa=${sa%.*}
		timeout 20 "$IPSECKCTL" -s "$WORK/$gw.sock" -j show sa name "$sa" \
			>"$WORK/stats-$gw.json"
	else
		timeout 20 "$IPSECKCTL" -s "$WORK/$gw.sock" -j stats >"$WORK/stats-$gw.json"
	fi
	"$PYTHON" - "$WORK/stats-$gw.json" "$name" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
section, _, name = sys.argv[2].partition(".")
if section == "sa":
    value = doc["sa"][0][name.rpartition(".")[2]]
    print(sum(value.values()) if isinstance(value, dict) else value)
else:
    print(doc["providers"].get(section, {}).get(name, 0))
PY
}

# pair_drops GW: every non-zero drop counter of gateway GW, "NAME VALUE" per line, from
# `ipseckctl -j stats`: "drops.REASON" (summed over the SAs now in the SAD) and each
# provider's per-reason counters ("providers.engine.scheduler.drops.no-policy"); totals
# are left out, so no drop is listed twice.
pair_drops() {
	timeout 20 "$IPSECKCTL" -s "$WORK/$1.sock" -j stats >"$WORK/drops-$1.json"
	"$PYTHON" - "$WORK/drops-$1.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
reasons = set(doc.get("drops", {}))
out = {}
def walk(prefix, node):
    if isinstance(node, dict):
        for k, v in node.items():
            walk(prefix + "." + k if prefix else k, v)
    elif (isinstance(node, int) and not isinstance(node, bool) and node and
          ".drops." in "." + prefix and prefix.rpartition(".")[2] in reasons):
        out[prefix] = node
walk("", doc)
for k in sorted(out):
    print(k, out[k])
PY
}

# pair_rss PID: resident set size in KiB.
pair_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}
