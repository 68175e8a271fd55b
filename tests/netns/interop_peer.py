#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The independent ESP peer of tests/netns/interop_daemon.sh: scapy's ESP
(scapy.layers.ipsec, through the SA helpers of tests/interop/esp_peer.py) against a
running ipseckd in tun mode.

  interop_peer.py config              the gateway's SAs and policies, one line each
  interop_peer.py serve COUNT STOP    on the host behind the gateway: a UDP server on
                                      HOST:PORT that checks every datagram against the
                                      payload its header names and answers it, until every
                                      case sent COUNT or the file STOP exists (120 s at
                                      most); prints "case NAME ok N bad M" per case
  interop_peer.py run CASE COUNT      on the peer: COUNT ICMP echo requests and COUNT UDP
                                      datagrams from the case's site, encrypted by scapy;
                                      receives the gateway's ESP (raw socket, or UDP 4500),
                                      decrypts it with scapy and checks echo replies, UDP
                                      answers and the sequence numbers 1..2*COUNT in order
  interop_peer.py tshark PCAP COUNT   Wireshark's ESP dissector, given the keys, must
                                      verify and decrypt every packet of the cases it
                                      knows the algorithm of, and show the inner packets

Every wait is bounded; exit status 1 when something is missing or wrong.
"""
import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))

from esp_peer import Peer, esp_offset, parse_ip  # noqa: E402
from scapy.all import ICMP, IP, UDP, Raw  # noqa: E402

GW = "192.0.2.1"
PEER = "192.0.2.2"
HOST = "10.1.0.2"
PORT = 47000        # the host's UDP server
PEER_PORT = 47001   # the peer's source port, where answers go
NATT_PORT = 4500
WAIT_S = 15

# name, ipseck proposal, SPI peer -> gateway, SPI gateway -> peer, UDP encapsulation.
# Case k (from 1) speaks for site 10.2.k.0/24 behind the peer.
CASES = [
    ("gcm", "aes128gcm16", 0x7101, 0x7201, False),
    ("cbc", "aes128-sha256", 0x7102, 0x7202, False),
    ("chacha", "chacha20poly1305", 0x7103, 0x7203, False),
    ("gcm-udp", "aes128gcm16", 0x7104, 0x7204, True),
]

# Wireshark 4.0's names for its ESP SA table (no ChaCha20-Poly1305 for ESP there).
TSHARK_ALGS = {
    "aes128gcm16": ("AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
    "aes128-sha256": ("AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"),
}


def case(name):
    for k, c in enumerate(CASES, 1):
        if c[0] == name:
            return k, c
    raise SystemExit("no case %s" % name)


def site(k):
    return "10.2.%d.2" % k


def sas(c):
    """(peer -> gateway, gateway -> peer) as esp_peer.Peer objects."""
    name, alg, spi_in, spi_out, natt = c
    to_gw = Peer("in-" + name, alg, spi_in, "tunnel", PEER, GW, natt=natt)
    from_gw = Peer("out-" + name, alg, spi_out, "tunnel", GW, PEER, natt=natt)
    return to_gw, from_gw


def payload(name, kind, i):
    """The deterministic payload of packet @i of a case: a readable header naming it, then
    bytes derived from it, 8..1100 bytes in all."""
    head = ("%s/%s/%d/" % (name, kind, i)).encode()
    size = 8 + (i * 137) % 1093
    body = bytes((i * 31 + j * 7 + len(name)) & 0xFF for j in range(max(0, size - len(head))))
    return head + body


def answer(data):
    """What the host's server sends back for a datagram."""
    return b"answer/" + data


def check_payload(data):
    """The case name and index a payload names, if the payload is exactly what that
    header promises; else None."""
    try:
        name, kind, i = data.split(b"/", 3)[:3]
        name, kind, i = name.decode(), kind.decode(), int(i)
    except (ValueError, UnicodeDecodeError):
        return None
    return (name, i) if payload(name, kind, i) == data else None


def config():
    for k, c in enumerate(CASES, 1):
        to_gw, from_gw = sas(c)
        print(to_gw.config("in"))
        print(from_gw.config("out"))
        print("policy add name out-%s dir out src 10.1.0.0/24 dst 10.2.%d.0/24 "
              "action protect sa out-%s" % (c[0], k, c[0]))
        print("policy add name in-%s dir in src 10.2.%d.0/24 dst 10.1.0.0/24 "
              "action protect sa in-%s" % (c[0], k, c[0]))
    return 0


def serve(count, stop):
    """Answers every datagram; stops when each case sent @count or when @stop exists."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((HOST, PORT))
    s.settimeout(0.5)
    ok = {c[0]: set() for c in CASES}
    bad = {c[0]: 0 for c in CASES + [("unknown",)]}
    deadline = time.monotonic() + 120
    print("ready", flush=True)
    while sum(len(v) for v in ok.values()) < count * len(CASES) and \
            time.monotonic() < deadline and not os.path.exists(stop):
        try:
            data, addr = s.recvfrom(4096)
        except socket.timeout:
            continue
        got = check_payload(data)
        k = int(addr[0].split(".")[2]) if addr[0].startswith("10.2.") else 0
        name = CASES[k - 1][0] if 1 <= k <= len(CASES) else "unknown"
        if got is None or got[0] != name:
            bad[name] += 1
            continue
        ok[got[0]].add(got[1])
        s.sendto(answer(data), addr)
    for name in bad:
        print("case %s ok %d bad %d" % (name, len(ok.get(name, ())), bad[name]), flush=True)
    return 0


def esp_sockets():
    """A raw IP protocol 50 socket (which also keeps the kernel from answering the
    gateway's ESP with ICMP protocol unreachable) and a UDP socket on port 4500."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((PEER, NATT_PORT))
    return raw, udp


def send_all(name, k, to_gw, count):
    """Sends @count echo requests and @count datagrams, interleaved, sequence numbers
    1..2*count; returns nothing (the answers tell)."""
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    seq = 0
    for i in range(1, count + 1):
        inner = [IP(src=site(k), dst=HOST) / ICMP(type=8, id=0x4000 + k, seq=i) /
                 Raw(payload(name, "icmp", i)),
                 IP(src=site(k), dst=HOST) / UDP(sport=PEER_PORT, dport=PORT) /
                 Raw(payload(name, "udp", i))]
        for pkt in inner:
            seq += 1
            esp = to_gw.encrypt(IP(bytes(pkt)), seq)
            out.sendto(bytes(esp), (GW, 0))
            time.sleep(0.003)
    out.close()


def receive(raw, udp, from_gw, want):
    """ESP packets of @from_gw's SPI as whole IP packets (UDP-encapsulated ones rebuilt
    with their UDP header, as RFC 3948 puts it), until @want arrived or WAIT_S passed."""
    got = []
    deadline = time.monotonic() + WAIT_S
    while len(got) < want and time.monotonic() < deadline:
        ready, _, _ = select.select([raw, udp], [], [], 0.2)
        for sock in ready:
            data, addr = sock.recvfrom(65535)
            if sock is udp:
                if len(data) < 8 or data[:4] == b"\0\0\0\0":
                    continue  # keepalive or IKE (RFC 3948 §2.2, §2.3)
                data = bytes(IP(src=addr[0], dst=PEER) /
                             UDP(sport=addr[1], dport=NATT_PORT) / Raw(data))
            off = esp_offset(data)
            if off is None or struct.unpack("!I", data[off:off + 4])[0] != from_gw.spi:
                continue
            got.append(data)
    return got


def judge(name, k, from_gw, packets, count):
    """Checks the gateway's packets; returns a list of problems."""
    bad, seqs, echoes, answers = [], [], set(), set()
    for data in packets:
        off = esp_offset(data)
        seqs.append(struct.unpack("!I", data[off + 4:off + 8])[0])
        outer = IP(data)
        if (outer.src, outer.dst) != (GW, PEER):
            bad.append("outer %s -> %s" % (outer.src, outer.dst))
        try:
            inner = parse_ip(from_gw.decrypt(data))
        except Exception as err:  # scapy raises several kinds on a bad ICV or padding
            bad.append("seq %d does not decrypt: %s" % (seqs[-1], err))
            continue
        if (inner.src, inner.dst) != (HOST, site(k)):
            bad.append("inner %s -> %s" % (inner.src, inner.dst))
        elif ICMP in inner and inner[ICMP].type == 0 and inner[ICMP].id == 0x4000 + k:
            i = inner[ICMP].seq
            if bytes(inner[ICMP].payload) == payload(name, "icmp", i):
                echoes.add(i)
            else:
                bad.append("echo reply %d: payload altered" % i)
        elif UDP in inner and inner[UDP].dport == PEER_PORT:
            data_in = bytes(inner[UDP].payload)
            got = check_payload(data_in[len(b"answer/"):])
            if data_in.startswith(b"answer/") and got and got[0] == name:
                answers.add(got[1])
            else:
                bad.append("UDP answer altered")
        else:
            bad.append("unexpected inner packet %r" % inner.summary())
    full = set(range(1, count + 1))
    if echoes != full:
        bad.append("echo replies for %d of %d" % (len(echoes), count))
    if answers != full:
        bad.append("UDP answers for %d of %d" % (len(answers), count))
    if seqs != list(range(1, 2 * count + 1)):
        bad.append("sequence numbers %s, expected 1..%d in order" % (seqs[:8], 2 * count))
    print("case %s: sent %d echo + %d UDP; got %d ESP, echo replies %d, UDP answers %d, "
          "sequence numbers %s..%s" % (name, count, count, len(packets), len(echoes),
                                       len(answers), seqs[0] if seqs else "-",
                                       seqs[-1] if seqs else "-"), flush=True)
    return bad


def run(name, count):
    k, c = case(name)
    to_gw, from_gw = sas(c)
    raw, udp = esp_sockets()
    send_all(name, k, to_gw, count)
    packets = receive(raw, udp, from_gw, 2 * count)
    bad = judge(name, k, from_gw, packets, count)
    for b in bad[:6]:
        print("  %s" % b, flush=True)
    return 1 if bad else 0


def uat_records():
    recs = []
    for c in CASES:
        if c[1] not in TSHARK_ALGS:
            continue
        enc, auth = TSHARK_ALGS[c[1]]
        for sa in sas(c):
            recs.append('"IPv4","%s","%s","0x%08x","%s","0x%s","%s","%s"' % (
                sa.src, sa.dst, sa.spi, enc, sa.enc_key.hex(), auth,
                "0x" + sa.auth_key.hex() if sa.auth_key else ""))
    return recs


def tshark(pcap, count):
    """Wireshark decrypts what it can; for each such case, every ESP packet of both
    directions must verify, and the inner packets must be the ones sent."""
    cmd = ["tshark", "-n", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE",
           # Plain data: heuristic dissectors (Hotline) claim the test's port otherwise
           # and throw before the ICV result is shown.
           "-d", "udp.port==%d,data" % PORT]
    for rec in uat_records():
        cmd += ["-o", "uat:esp_sa:" + rec]
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "aggregator=,", "-e", "esp.spi",
            "-e", "esp.sequence", "-e", "esp.icv_good", "-e", "ip.src", "-e", "ip.dst",
            "-e", "icmp.type", "-e", "icmp.seq", "-e", "data.data", "-e", "udp.payload"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        print("tshark exited %d: %s" % (res.returncode, res.stderr.strip()[:300]))
        return 1
    rows = {}
    bad = []
    for line in res.stdout.splitlines():
        f = line.split("|")
        if len(f) != 9 or not f[0]:
            continue
        rows.setdefault(int(f[0], 0), []).append(f)
    failed = False
    for k, c in enumerate(CASES, 1):
        if c[1] not in TSHARK_ALGS:
            continue
        for direction, sa in zip(("to-gw", "from-gw"), sas(c)):
            bad = judge_rows(c[0], k, direction, rows.get(sa.spi, []), count)
            shown = rows.get(sa.spi, [])
            print("%s case %s %s SPI 0x%x: %d packets decoded%s" % (
                "wrong" if bad else "right", c[0], direction, sa.spi, len(shown),
                ": " + "; ".join(bad[:3]) if bad else ""))
            if bad:
                print("  first line: %s" % "|".join(shown[0]) if shown else "  no lines")
            failed = failed or bool(bad)
    return 1 if failed else 0


def judge_rows(name, k, direction, rows, count):
    """The tshark lines of one SPI: 2*count packets, ICV good, inner addresses and
    payloads as sent (echo request/reply payloads equal; UDP as the case's header says)."""
    bad = []
    src, dst = (site(k), HOST) if direction == "to-gw" else (HOST, site(k))
    icmp, udp = set(), set()
    for f in rows:
        spi, seq, good, srcs, dsts, itype, iseq, data, upay = f
        if good != "1":
            bad.append("seq %s: ICV not verified (%r)" % (seq, good))
        if srcs.split(",")[-1:] != [src] or dsts.split(",")[-1:] != [dst]:
            bad.append("seq %s: inner %s -> %s" % (seq, srcs, dsts))
        if itype:
            body = bytes.fromhex(data.split(",")[-1].replace(":", "")) if data else b""
            if body == payload(name, "icmp", int(iseq)):
                icmp.add(int(iseq))
            else:
                bad.append("seq %s: ICMP payload %r..." % (seq, body[:20]))
        elif upay:
            body = bytes.fromhex(upay.split(",")[-1].replace(":", ""))
            if direction == "from-gw":
                body = body[len(b"answer/"):] if body.startswith(b"answer/") else b""
            got = check_payload(body)
            if got and got[0] == name:
                udp.add(got[1])
            else:
                bad.append("seq %s: UDP payload %r..." % (seq, body[:20]))
    full = set(range(1, count + 1))
    if len(rows) != 2 * count or icmp != full or udp != full:
        bad.append("%d lines, ICMP %d, UDP %d of %d each" % (len(rows), len(icmp), len(udp),
                                                            count))
    return bad


def main(argv):
    if argv[1:2] == ["config"]:
        return config()
    if len(argv) == 4 and argv[1] == "serve":
        return serve(int(argv[2]), argv[3])
    if len(argv) == 4 and argv[1] == "run":
        return run(argv[2], int(argv[3]))
    if len(argv) == 4 and argv[1] == "tshark":
        return tshark(argv[2], int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
