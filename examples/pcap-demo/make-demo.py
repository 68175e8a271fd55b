#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes demo-in.pcap, the capture of the pcap demo (see README.md): what site A's
gateway sees on its two sides, as Ethernet frames. The ESP frames from site B are made
with scapy's ESP using the b-to-a key read from gateway.conf, so the two cannot drift.

usage: make-demo.py [OUT.pcap]    (default: demo-in.pcap next to this script)

The output is byte for byte the same on every run: fixed timestamps, IVs and fields.
"""
import os
import re
import struct
import sys
import warnings

warnings.filterwarnings("ignore")
from scapy.all import (DNS, DNSQR, DNSRR, ICMP, IP, NTP, TCP, UDP, Ether,  # noqa: E402
                       RawPcapWriter, conf, fragment)
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

conf.verb = 0
HERE = os.path.dirname(os.path.abspath(__file__))
GW_A, GW_B = "192.0.2.1", "192.0.2.2"
HOST_A, HOST_B = "10.1.0.10", "10.2.0.20"
MAC_GW_A, MAC_LAN, MAC_WAN = "02:00:5e:00:01:01", "02:00:5e:00:01:0a", "02:00:5e:00:02:02"
START = 1704103200  # 2024-01-01 10:00:00 UTC
TOS_EF, TOS_AF21 = 46 << 2, 18 << 2


def peer_sa(conf_path):
    """scapy's view of the inbound SA b-to-a in gateway.conf (SPI and key || salt)."""
    text = open(conf_path).read().replace("\\\n", " ")
    m = re.search(r"sa add name b-to-a spi (0x[0-9a-f]+) .*? key 0x([0-9a-f]+)", text)
    spi, key = int(m.group(1), 16), bytes.fromhex(m.group(2))
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                               tunnel_header=IP(src=GW_B, dst=GW_A))


def seal(sa, inner, seq):
    """Site B's ESP packet: the IV is the sequence number, as RFC 4106 §3.1 allows."""
    sa.tunnel_header.tos = inner.tos
    sa.tunnel_header.id = seq
    return IP(bytes(sa.encrypt(inner, seq_num=seq, iv=struct.pack("!Q", seq))))


def lan(pkt):
    return Ether(src=MAC_LAN, dst=MAC_GW_A) / pkt


def wan(pkt):
    return Ether(src=MAC_WAN, dst=MAC_GW_A) / pkt


def frames(conf_path):
    sa = peer_sa(conf_path)
    forger = SecurityAssociation(ESP, spi=sa.spi, crypt_algo="AES-GCM",
                                 crypt_key=bytes(range(20)),
                                 tunnel_header=IP(src=GW_B, dst=GW_A))
    stale = SecurityAssociation(ESP, spi=0x1fff, crypt_algo="AES-GCM",
                                crypt_key=bytes(range(20, 40)),
                                tunnel_header=IP(src=GW_B, dst=GW_A))
    ping_reply = IP(src=HOST_B, dst=HOST_A, id=501) / ICMP(type=0, id=7, seq=1) / \
        (b"ipseck pcap demo" * 3)
    dns_reply = IP(src=HOST_B, dst=HOST_A, id=502) / UDP(sport=53, dport=53000) / \
        DNS(id=0x4242, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.b.example."),
            an=DNSRR(rrname="www.b.example.", ttl=300, rdata=HOST_B))
    first = seal(sa, ping_reply, 1)
    big = IP(src=HOST_B, dst=HOST_A, id=503, flags="DF") / \
        TCP(sport=443, dport=40000, flags="A", seq=1, ack=1) / bytes(1200)
    pieces = fragment(seal(sa, big, 3), fragsize=720)
    return [
        # Plaintext from site A's LAN.
        lan(IP(src=HOST_A, dst=HOST_B, id=101) / ICMP(id=7, seq=1) / (b"ipseck pcap demo" * 3)),
        lan(IP(src=HOST_A, dst=HOST_B, id=102) / UDP(sport=53000, dport=53) /
            DNS(id=0x4242, rd=1, qd=DNSQR(qname="www.b.example."))),
        lan(IP(src=HOST_A, dst=HOST_B, id=103, tos=TOS_AF21, flags="DF") /
            TCP(sport=40000, dport=443, flags="S", seq=0)),
        lan(IP(src=HOST_A, dst=HOST_B, id=104, tos=TOS_EF | 2) /
            UDP(sport=16384, dport=16384) / bytes(172)),
        lan(IP(src=GW_A, dst=GW_B, id=105) / UDP(sport=500, dport=500) / bytes(28)),
        lan(IP(src=HOST_A, dst="198.51.100.5", id=106) / UDP(sport=514, dport=514) /
            b"<134>demo: link up"),
        lan(IP(src=HOST_A, dst=HOST_B, id=107) / TCP(sport=40001, dport=23, flags="S")),
        lan(IP(src=HOST_A, dst="203.0.113.7", id=108) / UDP(sport=123, dport=123) /
            NTP(version=4, mode=3, orig=0, sent=0)),
        # ESP from site B.
        wan(first),
        wan(seal(sa, dns_reply, 2)),
        wan(IP(bytes(forger.encrypt(ping_reply, seq_num=3, iv=struct.pack("!Q", 3))))),
        wan(first),
        wan(pieces[0]),
        wan(pieces[1]),
        wan(IP(bytes(stale.encrypt(dns_reply, seq_num=9, iv=struct.pack("!Q", 9))))),
    ]


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(HERE, "demo-in.pcap")
    w = RawPcapWriter(out, linktype=1, sync=True, snaplen=65535)
    w.write_header(None)
    for n, f in enumerate(frames(os.path.join(HERE, "gateway.conf"))):
        data = bytes(f)
        data += bytes(max(0, 60 - len(data)))  # Ethernet minimum frame, as on the wire
        w.write_packet(data, sec=START + n // 100, usec=(n % 100) * 10000)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
