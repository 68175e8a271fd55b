#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Malformed ESP at the wire, for tests/netns/bad_wire.sh.

  bad_wire.py capture DEV COUNT FILE [UNTIL]
                                       keeps the first COUNT ESP frames of SPI 0x3001
                                       seen on DEV (AF_PACKET, 30 s at most) in FILE; with
                                       UNTIL the last COUNT before the file UNTIL appears
  bad_wire.py inject DEV CLASS COUNT [FILE]
                                       sends COUNT frames of CLASS out of DEV (paced, in
                                       bursts), FILE holding the frames to replay
  bad_wire.py delta BEFORE AFTER       the counters that moved between two snapshots
                                       (`ipseckctl -j stats` and `-j show sa` of one
                                       daemon, one JSON document per line)
  bad_wire.py flow SENT GOT A0 A1 B0 B1
                                       the good flow's datagrams, sent and received, against
                                       the snapshots of gateways A and B around it: exit 1
                                       unless every datagram not received is counted (a
                                       drop at A, a ring drop at A or B, load shed at B)
  bad_wire.py judge CLASS SENT BEFORE AFTER
                                       one row of the table: class, sent, counted under the
                                       class's reason(s), kernel ring drops, load shed
                                       (queue-full, no-buffer); exit 1 unless counted = sent
                                       (or the shortfall is within ring drops + load shed)
                                       and nothing was counted under another reason

Classes, all addressed to host B's MAC address from the injector's own, outer addresses
those of the SA (192.0.2.1 -> 192.0.2.2) unless the class is about the header:
  unknown-spi    well-formed ESP, SPIs nobody installed                  unknown-spi
  truncated-esp  the SA's SPI, 0..23 bytes after the ESP header (less
                 than IV + ICV)                                           truncated-esp
  bad-icv        the SA's SPI, sequence numbers ahead of the window,
                 random ciphertext and ICV                                bad-icv
  replay         ESP frames of the good flow captured at its start,       replay-too-old
                 sent again: long left of the window                      (+ duplicate)
  replay-recent  the last ESP frames of the good flow, sent again at     replay-duplicate
                 once: inside the window (1024), unless the machine       (+ too-old)
                 stalls the injector
  bad-version    IPv4 EtherType, version nibble neither 4 nor 6           bad-ip-version
  long-ip        IPv4 total length 1..400 bytes beyond the frame          ip-length-mismatch
  short-ip       IPv4 total length below its own header (0..19)           bad-ip-header
  garbage-frame  random bytes behind an EtherType that is not IP          unsupported
                 (the protected port drops non-IP frames: non-ip drop)
  garbage-ip     random bytes behind the IPv4 EtherType                   any reason
"""
import json
import os
import random
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
HOST_B_MAC = bytes.fromhex("020000000902")
INJECTOR_MAC = bytes.fromhex("020000000e01")
SPI = 0x3001
SRC, DST = "192.0.2.1", "192.0.2.2"
BURST = 50
PAUSE_S = 0.01     # about 5000 frames/s: a burst a wire could carry, paced so that the
                   # injector does not take the CPUs the gateways run on

# The drop reasons of each class, and whether the SA counts them too (a drop is counted
# once per place that drops: the engine's scheduler or crypto unit, the gateway's I/O
# threads, a port; SA drops are a second view of the same packets).
EXPECT = {
    "unknown-spi": (["unknown-spi"], False),
    "truncated-esp": (["truncated-esp"], True),
    "bad-icv": (["bad-icv"], True),
    "replay": (["replay-duplicate", "replay-too-old"], True),
    "replay-recent": (["replay-duplicate", "replay-too-old"], True),
    "bad-version": (["bad-ip-version"], False),
    "long-ip": (["ip-length-mismatch"], False),
    "short-ip": (["bad-ip-header"], False),
    "garbage-frame": (["unsupported"], False),
    "garbage-ip": (None, False),  # any reason: the bytes decide which check fails first
}


SHED = ["queue-full", "no-buffer"]


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(payload, proto=50, version=4, total=None, ident=0):
    """An IPv4 header (with a correct checksum) in front of @payload."""
    total = 20 + len(payload) if total is None else total
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", version << 4 | 5, 0, total & 0xFFFF, ident,
                                0, 64, proto, 0, socket.inet_aton(SRC),
                                socket.inet_aton(DST)))
    hdr[10:12] = struct.pack("!H", ip_checksum(bytes(hdr)))
    return bytes(hdr) + payload


def ether(l3, ethertype=0x0800):
    return HOST_B_MAC + INJECTOR_MAC + struct.pack("!H", ethertype) + l3


def frame(cls, i, rnd, replay):
    """Frame @i of class @cls."""
    rb = rnd.randbytes
    if cls == "unknown-spi":
        return ether(ipv4(struct.pack("!II", 0xDEAD0000 + i, i + 1) + rb(8 + 64 + 16)))
    if cls == "truncated-esp":
        return ether(ipv4(struct.pack("!II", SPI, i + 1) + rb(i % 24)))
    if cls == "bad-icv":
        return ether(ipv4(struct.pack("!II", SPI, 0x40000000 + i) + rb(8 + 80 + 16)))
    if cls in ("replay", "replay-recent"):
        f = replay[i % len(replay)]
        return f[:6] + INJECTOR_MAC + f[12:]
    if cls == "bad-version":
        version = [0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15][i % 14]
        return ether(ipv4(struct.pack("!II", SPI, i + 1) + rb(40), version=version))
    if cls == "long-ip":
        body = struct.pack("!II", SPI, i + 1) + rb(40)
        return ether(ipv4(body, total=20 + len(body) + 1 + i % 400))
    if cls == "short-ip":
        return ether(ipv4(struct.pack("!II", SPI, i + 1) + rb(40), total=i % 20))
    if cls == "garbage-frame":
        etype = rnd.choice([0x0000, 0x0101, 0x0806, 0x88CC, 0x9000, 0xBEEF, 0xFFFF])
        return ether(rb(rnd.randrange(0, 200)), etype)
    if cls == "garbage-ip":
        return ether(rb(rnd.randrange(1, 300)))
    raise SystemExit("unknown class %s" % cls)


def capture(dev, count, path, until=None):
    """The first @count ESP frames of the SA, or, with @until, the last @count seen before
    the file @until appears (120 s at most)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    s.settimeout(0.05)
    print("ready", file=sys.stderr, flush=True)
    kept = []
    deadline = time.monotonic() + (120 if until else 30)
    while time.monotonic() < deadline:
        if until is None and len(kept) >= count:
            break
        if until is not None and os.path.exists(until):
            break
        try:
            f = s.recv(65535)
        except socket.timeout:
            continue
        if len(f) >= 42 and f[12:14] == b"\x08\x00" and f[23] == 50 and \
                struct.unpack("!I", f[34:38])[0] == SPI:
            kept = (kept + [f])[-count:]
    with open(path, "wb") as out:
        for f in kept:
            out.write(struct.pack("!H", len(f)) + f)
    print(len(kept))
    return 0 if len(kept) == count else 1


def load(path):
    data, frames = open(path, "rb").read(), []
    while data:
        n = struct.unpack("!H", data[:2])[0]
        frames.append(data[2:2 + n])
        data = data[2 + n:]
    return frames


def inject(dev, cls, count, path=None):
    replay = load(path) if path else []
    rnd = random.Random(cls)
    frames = [frame(cls, i, rnd, replay) for i in range(count)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    sent = 0
    for k in range(0, count, BURST):
        for f in frames[k:k + BURST]:
            s.send(f)
            sent += 1
        time.sleep(PAUSE_S)
    print(sent)
    return 0


def flatten(path):
    """{name: value} of a snapshot file: the stats document (top-level "drops.REASON",
    "SECTION.COUNTER" of each provider) and the show-sa document ("sa.NAME.FIELD",
    "sa.NAME.drops.REASON")."""
    out = {}
    for line in open(path):
        if not line.strip():
            continue
        doc = json.loads(line)
        if isinstance(doc.get("sa"), list):
            for sa in doc["sa"]:
                out["sa.%s.packets" % sa["name"]] = sa["packets"]
                for r, v in sa["drops"].items():
                    out["sa.%s.drops.%s" % (sa["name"], r)] = v
            continue
        for r, v in doc.get("drops", {}).items():
            out["drops." + r] = v
        for sec, counters in doc.get("providers", {}).items():
            for k, v in counters.items():
                out["%s.%s" % (sec, k)] = v
    return out


def moved(before, after):
    a, b = flatten(before), flatten(after)
    return {k: b[k] - a.get(k, 0) for k in sorted(b) if b[k] != a.get(k, 0)}


def place_drops(d):
    """{key: count} of the drops counted by the places that drop (not the sums)."""
    return {k: v for k, v in d.items()
            if ".drops." in k and not k.startswith(("drops.", "sa."))}


def load_shed(drops):
    """Drops of an overloaded engine or port (queue-full, no-buffer): on a machine whose
    CPUs are busy elsewhere, the crypto queue (queue 3) sheds load, good and bad packets
    alike (docs/engine.md); counted, so a loss they explain is accounted for."""
    return sum(v for k, v in drops.items() if k.rpartition(".")[2] in SHED)


def judge(cls, sent, before, after):
    d = moved(before, after)
    ring = d.get("ports.wan.rx-kernel-drop", 0)
    reasons, by_sa = EXPECT[cls]
    drops = place_drops(d)
    shed = load_shed(drops)
    if reasons is None:
        reasons = sorted({k.rpartition(".")[2] for k in drops} - set(SHED))
    counted = sum(v for k, v in drops.items() if k.rpartition(".")[2] in reasons)
    elsewhere = {k: v for k, v in drops.items()
                 if k.rpartition(".")[2] not in reasons + SHED}
    sa_counted = sum(d.get("sa.a-to-b.drops." + r, 0) for r in reasons)
    sa_other = {k: v for k, v in d.items() if k.startswith("sa.") and ".drops." in k and
                k.rpartition(".")[2] not in reasons}
    where = ", ".join("%s %d" % (k.partition(".drops.")[2], v) for k, v in drops.items())
    print("%-14s %6d %7d %5d %5d  %s" % (cls, sent, counted, ring, shed, where or "-"))
    bad = []
    # Exact unless the machine overloaded the gateway meanwhile: then what is missing must
    # be within what the ring and the queues dropped (the good flow's share included).
    if counted > sent or sent - counted > ring + shed:
        bad.append("counted %d, ring drops %d, load shed %d, sent %d" %
                   (counted, ring, shed, sent))
    if elsewhere or sa_other:
        bad.append("also counted: %s" % dict(elsewhere, **sa_other))
    if by_sa and sa_counted != counted:
        bad.append("SA a-to-b counted %d, the engine %d" % (sa_counted, counted))
    for b in bad:
        print("    " + b)
    return 1 if bad else 0


def flow(sent, got, a0, a1, b0, b1):
    da, db = moved(a0, a1), moved(b0, b1)
    sealed = da.get("sa.a-to-b.packets", 0)
    ring_a = da.get("ports.lan.rx-kernel-drop", 0)
    drops_a = da.get("engine.drops", 0) + sum(place_drops(
        {k: v for k, v in da.items() if k.startswith("gateway.")}).values())
    opened = db.get("sa.a-to-b.packets", 0)
    ring_b = db.get("ports.wan.rx-kernel-drop", 0)
    shed_b = load_shed(place_drops(db))
    print("good flow: sent %d; A: sealed %d, ring drops %d, other drops %d; B: verified %d "
          "(ring drops %d, load shed %d, shared with the bad frames); host B received %d" %
          (sent, sealed, ring_a, drops_a, opened, ring_b, shed_b, got))
    bad = []
    if sent != sealed + ring_a + drops_a:
        bad.append("A: %d sent != %d sealed + %d + %d dropped" % (sent, sealed, ring_a, drops_a))
    if not sealed - ring_b - shed_b <= opened <= sealed:
        bad.append("B verified %d of the %d A sealed, ring drops %d, load shed %d" %
                   (opened, sealed, ring_b, shed_b))
    if got != opened:
        bad.append("host B received %d, B verified %d" % (got, opened))
    for b in bad:
        print("    " + b)
    return 1 if bad else 0


def main(argv):
    if len(argv) in (5, 6) and argv[1] == "capture":
        return capture(argv[2], int(argv[3]), argv[4], argv[5] if len(argv) == 6 else None)
    if len(argv) in (5, 6) and argv[1] == "inject":
        return inject(argv[2], argv[3], int(argv[4]), argv[5] if len(argv) == 6 else None)
    if len(argv) == 4 and argv[1] == "delta":
        for k, v in moved(argv[2], argv[3]).items():
            print(k, v)
        return 0
    if len(argv) == 8 and argv[1] == "flow":
        return flow(int(argv[2]), int(argv[3]), *argv[4:8])
    if len(argv) == 6 and argv[1] == "judge":
        return judge(argv[2], int(argv[3]), argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
