#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The far end of the netns tests of the protected-side ports (tests/netns/io_esp.sh and
io_udp.sh). Sends ESP packets (raw IP protocol 50, built with scapy) or ESP-in-UDP
datagrams (RFC 3948, with NAT keepalives) to a gateway running `io_echo reflect`, and
checks that every one comes back whole: same ESP bytes, addresses swapped, TOS / traffic
class and TTL / hop limit as sent.

usage: peer.py esp IFACE LOCAL GW COUNT
       peer.py udp LOCAL GW COUNT
Prints one line per family and a summary; exits 1 when a packet is missing or altered.
"""
import socket
import struct
import sys
import time

TOS = 0xB9        # DSCP EF (46) and ECT(1): both must survive the round trip
TTL = 33
SPI = 0x1000ABCD
NATT_PORT = 4500
WAIT_S = 10
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)  # not exported by every Python


def esp_bytes(seq, size):
    """An ESP header (RFC 4303 §2: SPI, sequence number) and @size payload bytes."""
    body = bytes((seq + i) & 0xFF for i in range(size))
    return struct.pack("!II", SPI, seq) + body


def family(addr):
    return 6 if ":" in addr else 4


def esp_round(iface, local, gw, count):
    """Raw ESP: scapy sends, an AsyncSniffer on IFACE collects what comes back."""
    from scapy.all import IP, IPv6, Raw, AsyncSniffer, conf

    v6 = family(gw) == 6
    got = {}

    def from_gw(p):
        ip = p.getlayer(IPv6 if v6 else IP)
        if ip is None or ip.src != gw or ip.dst != local:
            return False
        return (ip.nh if v6 else ip.proto) == 50

    def keep(p):
        ip = p.getlayer(IPv6 if v6 else IP)
        data = bytes(ip.payload)
        seq = struct.unpack("!I", data[4:8])[0]
        marks = (ip.tc, ip.hlim) if v6 else (ip.tos, ip.ttl)
        got[seq] = (data, marks)

    sniffer = AsyncSniffer(iface=iface, lfilter=from_gw, prn=keep, store=False)
    sniffer.start()
    time.sleep(0.5)
    sock = conf.L3socket6(iface=iface) if v6 else conf.L3socket(iface=iface)
    sent = {}
    start = time.monotonic()
    for seq in range(1, count + 1):
        data = esp_bytes(seq, 16 + seq % 200)
        if v6:
            pkt = IPv6(src=local, dst=gw, nh=50, tc=TOS, hlim=TTL) / Raw(data)
        else:
            pkt = IP(src=local, dst=gw, proto=50, tos=TOS, ttl=TTL) / Raw(data)
        sock.send(pkt)
        sent[seq] = data
    deadline = time.monotonic() + WAIT_S
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    sniffer.stop()
    sock.close()
    return compare(f"esp v{family(gw)}", sent, got, elapsed)


def udp_socket(v6, rcvbuf):
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, TOS)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, TTL)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, TOS)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, TTL)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    return s


def udp_marks(v6, ancdata):
    tos = ttl = None
    for level, kind, data in ancdata:
        value = data[0] if len(data) == 1 else struct.unpack("i", data[:4])[0]
        if kind in ((socket.IPV6_TCLASS,) if v6 else (socket.IP_TOS,)):
            tos = value
        elif kind in ((socket.IPV6_HOPLIMIT,) if v6 else (socket.IP_TTL,)):
            ttl = value
    return tos, ttl


def udp_round(local, gw, count):
    """ESP in UDP 4500, one keepalive first (RFC 3948 §2.3): a plain socket is enough."""
    v6 = family(gw) == 6
    s = udp_socket(v6, 1 << 22)
    s.bind((local, NATT_PORT))
    s.settimeout(0.2)
    sent = {0: b"\xff"}
    got = {}
    start = time.monotonic()
    s.sendto(b"\xff", (gw, NATT_PORT))
    for seq in range(1, count + 1):
        sent[seq] = esp_bytes(seq, 16 + seq % 200)
        s.sendto(sent[seq], (gw, NATT_PORT))
    deadline = time.monotonic() + WAIT_S
    while len(got) < len(sent) and time.monotonic() < deadline:
        try:
            data, anc, _, addr = s.recvmsg(4096, 256)
        except socket.timeout:
            continue
        if addr[0] != gw or addr[1] != NATT_PORT:
            continue
        seq = 0 if data == b"\xff" else struct.unpack("!I", data[4:8])[0]
        got[seq] = (data, udp_marks(v6, anc))
    elapsed = time.monotonic() - start
    s.close()
    return compare(f"udp v{family(gw)}", sent, got, elapsed)


def compare(name, sent, got, elapsed):
    bad = 0
    for seq, data in sent.items():
        if seq not in got:
            bad += 1
            if bad <= 5:
                print(f"{name}: packet {seq} did not come back")
            continue
        back, marks = got[seq]
        if back != data or marks != (TOS, TTL):
            bad += 1
            if bad <= 5:
                print(f"{name}: packet {seq} altered: {len(back)} bytes, "
                      f"tos/ttl {marks}, expected {len(data)} bytes, {(TOS, TTL)}")
    print(f"{name}: {len(sent)} sent, {len(got)} back, {bad} missing or altered, "
          f"{elapsed:.2f} s")
    return bad == 0


def main(argv):
    if len(argv) == 6 and argv[1] == "esp":
        ok = esp_round(argv[2], argv[3], argv[4], int(argv[5]))
    elif len(argv) == 5 and argv[1] == "udp":
        ok = udp_round(argv[2], argv[3], int(argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
