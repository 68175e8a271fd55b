#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""802.1Q frames through the wire gateway (tests/netns/io_wire.sh), with scapy: the
kernel takes a tag off every frame it receives (VLAN offload), so the wire port has to put
it back for the frame to leave as it came.

usage: vlan.py recv IFACE COUNT         prints "listening", then waits (10 s at most) for
                                        COUNT tagged frames and prints "received N"
       vlan.py send IFACE DSTMAC COUNT  sends COUNT frames, VLAN 100, priority 5
Exits 1 unless every frame arrived with VLAN 100, priority 5 and its payload.
"""
import sys
import time

from scapy.all import Dot1Q, Ether, IP, UDP, Raw, AsyncSniffer, sendp

VLAN, PRIO, MARK = 100, 5, b"ipseck-vlan-"


def frame(dst, i):
    return (Ether(dst=dst) / Dot1Q(vlan=VLAN, prio=PRIO) /
            IP(src="10.77.6.1", dst="10.77.6.2") / UDP(sport=7000, dport=7000) /
            Raw(MARK + b"%06d" % i))


def recv(iface, count):
    got = set()

    def keep(p):
        if Dot1Q in p and p[Dot1Q].vlan == VLAN and p[Dot1Q].prio == PRIO and Raw in p:
            data = bytes(p[Raw])
            if data.startswith(MARK):
                got.add(int(data[len(MARK):]))

    sniffer = AsyncSniffer(iface=iface, prn=keep, store=False)
    sniffer.start()
    time.sleep(0.5)
    print("listening", flush=True)
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    sniffer.stop()
    print(f"received {len(got)}", flush=True)
    return len(got) == count


def send(iface, dst, count):
    sendp([frame(dst, i) for i in range(count)], iface=iface, verbose=False)
    return True


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "recv":
        ok = recv(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        ok = send(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(0 if ok else 1)
