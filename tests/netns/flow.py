#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Numbered UDP flows for the netns tests (rekey.sh, valgrind.sh, scripts/soak).

usage: flow.py send DST PORT RATE SECONDS [DSCP]
           sends datagrams numbered 0, 1, ... at RATE per second for SECONDS (or, with
           SECONDS 0, until the file named by $FLOW_STOP exists; at most 3600 s), with the
           DSCP in the TOS byte; prints "sent N"
       flow.py burst DST PORT COUNT [GAP_MS]
           sends COUNT numbered datagrams, GAP_MS apart (default 1); prints "sent COUNT"
       flow.py recv ADDR PORT IDLE_SECONDS [MAX_SECONDS]
           counts datagrams until none came for IDLE_SECONDS (at most MAX_SECONDS, default
           3600, after the first); prints "received DISTINCT highest HIGHEST duplicates D
           missing M [first missing numbers...]" once done; with $FLOW_READY, creates that
           file once the socket is bound
Every datagram is 200 bytes: the 8-byte number, then filler.
"""
import os
import socket
import struct
import sys
import time


def sender(dst, port, dscp):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    if dscp:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, dscp << 2)
    return s


def payload(n):
    return struct.pack("!Q", n) + bytes(192)


def send(dst, port, rate, seconds, dscp=0):
    s = sender(dst, port, dscp)
    stop = os.environ.get("FLOW_STOP")
    gap = 1.0 / rate
    start = time.monotonic()
    limit = seconds if seconds > 0 else 3600
    n = 0
    while True:
        now = time.monotonic()
        if now - start >= limit or (seconds == 0 and stop and n % 64 == 0 and
                                    os.path.exists(stop)):
            break
        due = start + n * gap
        if due > now:
            time.sleep(due - now)
        try:
            s.sendto(payload(n), (dst, port))
        except OSError:
            pass  # counted as sent: the receiver sees it missing
        n += 1
    print("sent", n, flush=True)


def burst(dst, port, count, gap_ms=1.0):
    s = sender(dst, port, 0)
    for n in range(count):
        s.sendto(payload(n), (dst, port))
        time.sleep(gap_ms / 1000.0)
    print("sent", count, flush=True)


def recv(addr, port, idle, max_seconds=3600):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    ready = os.environ.get("FLOW_READY")
    if ready:
        open(ready, "w").close()
    seen = set()
    dups = 0
    first = None
    s.settimeout(max(idle, 30.0))  # the first datagram may take a while to come
    while True:
        try:
            data = s.recv(2048)
        except socket.timeout:
            break
        if first is None:
            first = time.monotonic()
            s.settimeout(idle)
        if len(data) >= 8:
            n = struct.unpack("!Q", data[:8])[0]
            if n in seen:
                dups += 1
            seen.add(n)
        if time.monotonic() - first > max_seconds:
            break
    high = max(seen) if seen else -1
    missing = [i for i in range(high + 1) if i not in seen]
    print("received", len(seen), "highest", high, "duplicates", dups, "missing",
          len(missing), *missing[:20], flush=True)


def main(argv):
    if len(argv) >= 6 and argv[1] == "send":
        send(argv[2], int(argv[3]), float(argv[4]), float(argv[5]),
             int(argv[6]) if len(argv) > 6 else 0)
    elif len(argv) >= 5 and argv[1] == "burst":
        burst(argv[2], int(argv[3]), int(argv[4]),
              float(argv[5]) if len(argv) > 5 else 1.0)
    elif len(argv) >= 5 and argv[1] == "recv":
        recv(argv[2], int(argv[3]), float(argv[4]),
             float(argv[5]) if len(argv) > 5 else 3600)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
