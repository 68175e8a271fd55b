#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Bad input for a tun-mode ipseckd, for tests/netns/bad_input_flood.sh.

  badinput.py inject CLASS COUNT KEYHEX    sends COUNT packets of CLASS to 192.0.2.2 (run in
                                           the namespace of the other gateway); prints
                                           "sent N delivered-expected D"
  badinput.py ctlsock SOCKET CLASS COUNT   COUNT malformed control-socket messages of
                                           CLASS; prints "sent N replies R"
  badinput.py snap SOCKET                  one JSON line: every counter of `stats` and of
                                           `show sa` (SA drops as sa.NAME.drops.REASON),
                                           plus the kernel's Ip/Udp counters of this
                                           namespace as kernel.Ip.X / kernel.Udp.X
  badinput.py delta BEFORE AFTER           the counters that moved, "NAME +N" per line

IP classes are Ethernet frames sent on $BADINPUT_DEV to $BADINPUT_DST_MAC (the receiver's
link), so that they arrive as malformed as they were built.
ESP classes go to the inbound SA "inj" (SPI 0x3001, aes128gcm16, key KEYHEX: 16 bytes of
key and the 4-byte salt, RFC 4106 §8.1) that the test installs at the receiver with a
policy for inner 10.9.0.0/24 -> 10.2.0.0/24. Valid packets are built with that key (AES-GCM,
RFC 4106: nonce = salt || IV, AAD = SPI || sequence number) so that the receiver gets past
the ICV to the checks behind it (padding, next header, inner packet, policy). Each class
uses its own range of sequence numbers, all ahead of the window, except the replay ones.
"""
import json
import os
import random
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SPI = 0x3001
DST = "192.0.2.2"
SRC = "192.0.2.1"
PACE = 0.0005  # 2000 packets/s: the classes are about what, not how fast

ESP_CLASSES = {
    # class: (sequence base, what the receiver should count)
    "unknown-spi": (0, "unknown-spi"),
    "truncated-esp": (0, "truncated-esp"),
    "bad-icv": (900000, "bad-icv"),
    "replay-duplicate": (1, "replay-duplicate"),
    "replay-too-old": (100000, "replay-too-old"),
    "bad-padding": (200000, "bad-padding"),
    "bad-pad-length": (300000, "bad-pad-length"),
    "bad-next-header": (400000, "bad-next-header"),
    "dummy-packet": (500000, "dummy-packet"),
    "inner-mismatch": (600000, "inner-mismatch"),
    "policy-mismatch": (700000, "policy-mismatch"),
    "oversize": (800000, "(see row)"),
}
IP_CLASSES = ["ip-bad-version", "ip-short-header", "ip-long-total", "ip-short-total",
              "ip-bad-checksum", "wrong-protocol", "frag-overlap", "frag-incomplete",
              "frag-oversize"]
UDP_CLASSES = ["udp-keepalive", "udp-non-esp", "udp-short", "udp-empty", "udp-unknown-spi"]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(payload, proto, src, dst, ident=0, frag=0, total=None, version=4, ihl=5,
         good_csum=True):
    total = 20 + len(payload) if total is None else total
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, total & 0xFFFF,
                                ident, frag, 64, proto, 0, socket.inet_aton(src),
                                socket.inet_aton(dst)))
    c = csum(bytes(hdr))
    struct.pack_into("!H", hdr, 10, c if good_csum else c ^ 0x5555)
    return bytes(hdr) + payload


def inner_udp(src="10.9.0.1", dst="10.2.0.2", size=64):
    body = struct.pack("!HHHH", 40000, 9, 8 + size, 0) + bytes(size)
    return ipv4(body, 17, src, dst)


def seal(key, seq, inner, next_header=4, pad=None, pad_len=None, spi=SPI):
    """ESP with AES-GCM-128 over @inner; @pad / @pad_len override the trailer (the
    caller keeps inner + pad + 2 a multiple of 4, RFC 4303 §2.4)."""
    if pad is None:
        n = (-(len(inner) + 2)) % 4
        pad = bytes(range(1, n + 1))
    plain = inner + pad + bytes([len(pad) if pad_len is None else pad_len, next_header])
    iv = os.urandom(8)
    aad = struct.pack("!II", spi, seq & 0xFFFFFFFF)
    ct = AESGCM(key[:16]).encrypt(key[16:20] + iv, plain, aad)
    return aad + iv + ct


def esp_packets(cls, count, key):
    base = ESP_CLASSES[cls][0]
    rnd = random.Random(cls)
    out = []
    for i in range(count):
        if cls == "unknown-spi":
            out.append(struct.pack("!II", 0x7F000000 + i, i + 1) + os.urandom(64))
        elif cls == "truncated-esp":
            out.append(struct.pack("!II", SPI, 990000 + i) + os.urandom(rnd.randrange(0, 24)))
        elif cls == "bad-icv":
            out.append(struct.pack("!II", SPI, base + i) + os.urandom(8 + 80 + 16))
        elif cls == "replay-duplicate":
            out.append(seal(key, base + i % (count // 2), inner_udp()))
        elif cls == "replay-too-old":
            out.append(seal(key, base if i == 0 else base - 5000 + i, inner_udp()))
        elif cls == "bad-padding":
            out.append(seal(key, base + i, inner_udp(size=63), pad=b"\x09\x09\x09"))
        elif cls == "bad-pad-length":
            out.append(seal(key, base + i, inner_udp(size=66), pad=b"", pad_len=250))
        elif cls == "bad-next-header":
            out.append(seal(key, base + i, inner_udp(), next_header=6))
        elif cls == "dummy-packet":
            out.append(seal(key, base + i, inner_udp(), next_header=59))
        elif cls == "inner-mismatch":
            out.append(seal(key, base + i, b"\x45" + os.urandom(11)))
        elif cls == "policy-mismatch":
            out.append(seal(key, base + i, inner_udp(src="10.8.0.1")))
        elif cls == "oversize":
            out.append(seal(key, base + i, inner_udp(size=8900)))
    return out


def ip_packets(cls, count):
    out = []
    esp = struct.pack("!II", 0x7E000000, 1) + bytes(64)
    for i in range(count):
        ident = (0x4000 + i) & 0xFFFF
        if cls == "ip-bad-version":
            out.append(ipv4(esp, 50, SRC, DST, version=7))
        elif cls == "ip-short-header":
            out.append(ipv4(esp, 50, SRC, DST, ihl=i % 5))
        elif cls == "ip-long-total":
            out.append(ipv4(esp, 50, SRC, DST, total=20 + len(esp) + 1 + i % 400))
        elif cls == "ip-short-total":
            out.append(ipv4(esp, 50, SRC, DST, total=i % 20))
        elif cls == "ip-bad-checksum":
            out.append(ipv4(esp, 50, SRC, DST, good_csum=False))
        elif cls == "wrong-protocol":
            out.append(ipv4(esp, 51 if i % 2 else 47, SRC, DST))
        elif cls == "frag-overlap":
            data = struct.pack("!II", 0x7E000001, i + 1) + bytes(200)
            out.append(ipv4(data[:104], 50, SRC, DST, ident=ident, frag=0x2000,
                            total=124))
            out.append(ipv4(data[64:], 50, SRC, DST, ident=ident, frag=8, total=20 + 144))
        elif cls == "frag-incomplete":
            out.append(ipv4(bytes(104), 50, SRC, DST, ident=ident, frag=0x2000, total=124))
        elif cls == "frag-oversize":
            # The last fragment ends past 65535 bytes (offset 8189 * 8 + 200).
            out.append(ipv4(bytes(200), 50, SRC, DST, ident=ident, frag=8189, total=220))
    return out


def udp_packets(cls, count):
    out = []
    for i in range(count):
        if cls == "udp-keepalive":
            out.append(b"\xff")
        elif cls == "udp-non-esp":
            out.append(b"\0\0\0\0" + os.urandom(40))
        elif cls == "udp-short":
            out.append(os.urandom(1 + i % 3).replace(b"\xff", b"\x01"))
        elif cls == "udp-empty":
            out.append(b"")
        elif cls == "udp-unknown-spi":
            out.append(struct.pack("!II", 0x7D000000 + i, i + 1) + os.urandom(64))
    return out


def inject(cls, count, keyhex):
    key = bytes.fromhex(keyhex[2:] if keyhex.startswith("0x") else keyhex)
    expect = 0
    if cls in ESP_CLASSES:
        pkts = esp_packets(cls, count, key)
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
        send = lambda p: s.sendto(p, (DST, 0))
        if cls == "replay-duplicate":
            expect = count // 2
        elif cls == "replay-too-old":
            expect = 1
    elif cls in IP_CLASSES:
        # Ethernet frames on the link: a raw IP socket would have its own kernel rewrite
        # the total length and the checksum (IP_HDRINCL) and refuse short headers.
        dev, dst_mac = os.environ["BADINPUT_DEV"], os.environ["BADINPUT_DST_MAC"]
        src_mac = open("/sys/class/net/%s/address" % dev).read().strip()
        l2 = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", ""))
        pkts = [l2 + b"\x08\x00" + p for p in ip_packets(cls, count)]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((dev, 0))
        send = s.send
    elif cls in UDP_CLASSES:
        pkts = udp_packets(cls, count)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        send = lambda p: s.sendto(p, (DST, 4500))
    else:
        sys.exit("unknown class " + cls)
    sent = 0
    for p in pkts:
        try:
            send(p)
            sent += 1
        except OSError as e:
            print("send:", e, file=sys.stderr)
        time.sleep(PACE)
    print("sent", sent, "delivered-expected", expect, flush=True)


CTL_EXEC = 1


def ctl_messages(cls, i):
    if cls == "garbage":
        return os.urandom(1 + i % 64)
    if cls == "bad-type":
        return struct.pack("=III", 99, 0, 4) + b"stat"
    if cls == "too-long":
        return struct.pack("=III", CTL_EXEC, 0, (1 << 20) + 1 + i)
    if cls == "nul-byte":
        return struct.pack("=III", CTL_EXEC, 0, 6) + b"st\0ats"
    if cls == "truncated":
        return struct.pack("=III", CTL_EXEC, 0, 100) + b"show sa"
    if cls == "bad-command":
        text = random.Random(i).choice([b"sa add", b"show", b"\\", b"sa del name",
                                        b"x" * 5000, b"policy add name p dir sideways"])
        return struct.pack("=III", CTL_EXEC, 0, len(text)) + text
    raise SystemExit("unknown class " + cls)


def ctlsock(path, cls, count):
    replies = 0
    for i in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        try:
            s.sendall(ctl_messages(cls, i))
            if cls in ("truncated", "garbage"):
                s.shutdown(socket.SHUT_WR)  # the message ends here
            if s.recv(4096):
                replies += 1
        except (socket.timeout, OSError):
            pass
        s.close()
    print("sent", count, "replies", replies, flush=True)


def kernel_counters():
    out = {}
    with open("/proc/net/snmp") as f:
        lines = f.read().split("\n")
    for head, vals in zip(lines[0::2], lines[1::2]):
        names, values = head.split()[1:], vals.split()[1:]
        proto = head.split(":")[0]
        if proto in ("Ip", "Udp"):
            for n, v in zip(names, values):
                out["kernel.%s.%s" % (proto, n)] = int(v)
    return out


def ctl_json(path, text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    data = text.encode()
    s.sendall(struct.pack("=III", CTL_EXEC, 1, len(data)) + data)
    buf = b""
    while len(buf) < 12 or len(buf) < 12 + struct.unpack("=III", buf[:12])[2]:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf[12:].decode() or "{}")


def flatten(prefix, node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            flatten(prefix + "." + k if prefix else k, v, out)
    elif isinstance(node, bool):
        return
    elif isinstance(node, int):
        out[prefix] = node


def snap(path):
    out = {}
    flatten("", ctl_json(path, "stats"), out)
    for sa in ctl_json(path, "show sa").get("sa", []):
        for k, v in sa.get("drops", {}).items():
            out["sa.%s.drops.%s" % (sa["name"], k)] = v
        out["sa.%s.packets" % sa["name"]] = sa.get("packets", 0)
    out.update(kernel_counters())
    print(json.dumps(out))


def delta(before, after):
    b, a = json.loads(open(before).read()), json.loads(open(after).read())
    for k in sorted(a):
        if a[k] != b.get(k, 0):
            print(k, "%+d" % (a[k] - b.get(k, 0)))


def main(argv):
    if len(argv) == 5 and argv[1] == "inject":
        return inject(argv[2], int(argv[3]), argv[4])
    if len(argv) == 5 and argv[1] == "ctlsock":
        return ctlsock(argv[2], argv[3], int(argv[4]))
    if len(argv) == 3 and argv[1] == "snap":
        return snap(argv[2])
    if len(argv) == 4 and argv[1] == "delta":
        return delta(argv[2], argv[3])
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
