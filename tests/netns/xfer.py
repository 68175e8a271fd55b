#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A bounded TCP transfer for the netns tests (tests/netns/io_wire.sh).

usage: xfer.py serve ADDR PORT      accepts one connection, reads to EOF, prints
                                    "received BYTES SHA256"
       xfer.py send ADDR PORT BYTES connects (retrying for 5 s), sends BYTES of
                                    deterministic data, prints "sent BYTES SHA256 SECONDS"
Every wait is bounded (30 s).
"""
import hashlib
import socket
import sys
import time


def serve(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        s.settimeout(30)
        conn, _ = s.accept()
        conn.settimeout(30)
        digest, total = hashlib.sha256(), 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            digest.update(chunk)
            total += len(chunk)
        conn.close()
    print(f"received {total} {digest.hexdigest()}", flush=True)


def send(addr, port, size):
    data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(size))
    deadline = time.monotonic() + 5
    while True:
        try:
            s = socket.create_connection((addr, port), timeout=30)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    start = time.monotonic()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    elapsed = time.monotonic() - start
    print(f"sent {size} {hashlib.sha256(data).hexdigest()} {elapsed:.3f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
