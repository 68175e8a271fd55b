#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Independent decoder for mtu_test.c: reads the ICMP errors the gateway built (a pcap of
raw IP packets) with scapy and checks type, code, MTU field and checksums (recomputed by
scapy), and that the quoted packet is the one that was dropped (same addresses).

usage: mtu_check.py FILE.pcap N_ICMPV4 N_ICMPV6 MTU   (exit 77 when scapy is missing)"""
import sys

try:
    from scapy.all import IP, ICMP, IPv6, ICMPv6PacketTooBig, IPerror, IPerror6, rdpcap, raw
except ImportError:
    sys.exit(77)


def check_v4(p, mtu):
    ip = IP(raw(p))
    assert ip[ICMP].type == 3 and ip[ICMP].code == 4, ip.summary()
    assert ip[ICMP].nexthopmtu == mtu, ip[ICMP].nexthopmtu
    fresh = IP(raw(ip))
    del fresh.chksum
    del fresh[ICMP].chksum
    fresh = IP(raw(fresh))
    assert fresh.chksum == ip.chksum and fresh[ICMP].chksum == ip[ICMP].chksum
    assert ip.ttl == 64 and ip.tos == 0xc0 and len(ip) <= 576
    assert ip[IPerror].src == ip.dst, (ip[IPerror].src, ip.dst)


def check_v6(p, mtu):
    ip = IPv6(raw(p))
    ptb = ip[ICMPv6PacketTooBig]
    assert ptb.type == 2 and ptb.code == 0 and ptb.mtu == mtu, ptb.summary()
    fresh = IPv6(raw(ip))
    del fresh[ICMPv6PacketTooBig].cksum
    fresh = IPv6(raw(fresh))
    assert fresh[ICMPv6PacketTooBig].cksum == ptb.cksum
    assert ip.hlim == 64 and len(ip) <= 1280
    assert ip[IPerror6].src == ip.dst and ip[IPerror6].dst == ip.src


def main():
    path, n4, n6, mtu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    seen4 = seen6 = 0
    for p in rdpcap(path):
        data = raw(p)
        if data[0] >> 4 == 4:
            check_v4(data, mtu)
            seen4 += 1
        else:
            check_v6(data, mtu)
            seen6 += 1
    assert (seen4, seen6) == (n4, n6), (seen4, seen6)
    print(f"mtu_check: {seen4} ICMPv4 and {seen6} ICMPv6 errors decoded by scapy, all right")


main()
