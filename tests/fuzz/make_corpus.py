#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/TARGET/).

    /usr/bin/python3 tests/fuzz/make_corpus.py [tests/fuzz/corpus]

ip_parse: IPv4/IPv6 packets (options, fragments, extension headers, ICMP, TCP, UDP).
esp_decap: inputs in the format of esp_decap_fuzz.c (first byte: mode, path, SA), with
ESP packets encrypted here independently of ipseck (AES-GCM, RFC 4106) for the raw mode,
plaintext for the seal mode and clear ESP payloads for the craft mode.
ctlsock: control socket messages (socket.h framing), well-formed and not.
config: the configuration files of examples/ (the hand-written seeds stay as they are).
"""
import os, struct, sys
from scapy.all import IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, IPv6ExtHdrHopByHop, IPv6ExtHdrFragment, IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, raw, fragment, Raw
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
def w(target, name, data):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(bytes(data))

# ---- ip_parse ----
pl = b'hello ipseck' * 3
w('ip_parse', 'v4-udp', raw(IP(src='10.1.0.5', dst='10.2.0.9', tos=0xb9)/UDP(sport=1024, dport=5000)/pl))
w('ip_parse', 'v4-tcp', raw(IP(src='10.1.0.5', dst='10.2.0.9')/TCP(sport=1234, dport=80)/pl))
w('ip_parse', 'v4-icmp', raw(IP(src='10.1.0.5', dst='10.2.0.9')/ICMP()/pl))
w('ip_parse', 'v4-options', raw(IP(src='10.1.0.5', dst='10.2.0.9', options=b'\x01\x01\x01\x00')/UDP()/pl))
frags = fragment(IP(src='10.1.0.5', dst='10.2.0.9')/UDP(dport=9)/(b'x' * 200), fragsize=96)
w('ip_parse', 'v4-frag-first', raw(frags[0])); w('ip_parse', 'v4-frag-last', raw(frags[-1]))
w('ip_parse', 'v4-esp', raw(IP(src='192.0.2.1', dst='192.0.2.2', proto=50)/(b'\x00\x00\x01\x00\x00\x00\x00\x01' + b'\xaa' * 40)))
w('ip_parse', 'v6-udp', raw(IPv6(src='2001:db8:1::5', dst='2001:db8:2::9', tc=0x28)/UDP(sport=1024, dport=5000)/pl))
w('ip_parse', 'v6-icmp', raw(IPv6(src='2001:db8:1::5', dst='2001:db8:2::9')/ICMPv6EchoRequest()/pl))
w('ip_parse', 'v6-ext', raw(IPv6(src='2001:db8:1::5', dst='2001:db8:2::9')/IPv6ExtHdrHopByHop()/IPv6ExtHdrRouting()/IPv6ExtHdrDestOpt()/UDP(dport=53)/pl))
w('ip_parse', 'v6-frag', raw(IPv6(src='2001:db8:1::5', dst='2001:db8:2::9')/IPv6ExtHdrFragment(offset=0, m=1, id=77)/UDP(dport=53)/pl))
w('ip_parse', 'v6-frag-later', raw(IPv6(src='2001:db8:1::5', dst='2001:db8:2::9')/IPv6ExtHdrFragment(offset=8, m=0, id=77, nh=17)/pl))

# ---- esp_decap ----
def keys(spi):
    return bytes((spi * 7 + k) & 0xff for k in range(64)), bytes((spi * 13 + 3 * k) & 0xff for k in range(64))
V4 = ('192.0.2.1', '192.0.2.2'); V6 = ('2001:db8:ff::1', '2001:db8:ff::2')
SAS = [  # alg, tunnel, v6, esn, udp
    ('aes128gcm16', 1, 0, 0, 0), ('aes128-sha256', 1, 1, 0, 0), ('3des-md5', 1, 0, 0, 0),
    ('chacha20poly1305', 0, 0, 1, 0), ('null-sha256', 1, 0, 1, 0), ('aes128gcm16', 0, 1, 0, 0),
    ('aes128gcm16', 1, 0, 0, 1), ('chacha20poly1305', 0, 0, 0, 1), ('null-sha256', 0, 1, 0, 0),
    ('aes128-sha256', 0, 0, 1, 1), ('null-sha256', 1, 1, 0, 1)]
def inner_udp(i, v6=False):
    if v6:
        return IPv6(src='2001:db8:1::5', dst='2001:db8:2::9')/UDP(sport=1024, dport=1000 + i)/(b'p' * 20)
    return IP(src='10.1.0.5', dst='10.2.0.9')/UDP(sport=1024, dport=1000 + i)/(b'p' * 20)
def outer(i, body):
    alg, tun, v6, esn, udp = SAS[i]
    s, d = V6 if v6 else V4
    if udp:
        body = raw(UDP(sport=4500, dport=4500)/body)
    if v6:
        return IPv6(src=s, dst=d, nh=17 if udp else 50)/Raw(body)
    return IP(src=s, dst=d, proto=17 if udp else 50, flags='DF')/Raw(body)
def trailer(payload, nh, block=4):
    pad = (-(len(payload) + 2)) % block
    return payload + bytes(range(1, pad + 1)) + bytes([pad, nh])
def gcm_pkt(i, seq, inner_pkt):
    spi = 0x100 + i; ek, _ = keys(spi)
    alg, tun, v6, esn, udp = SAS[i]
    if tun:
        pt = trailer(raw(inner_pkt), 41 if isinstance(inner_pkt, IPv6) else 4)
    else:
        pt = trailer(raw(inner_pkt[UDP]), 17)
    iv = struct.pack('>Q', seq)
    hdr = struct.pack('>II', spi, seq)
    ct = AESGCM(ek[:16]).encrypt(ek[16:20] + iv, pt, hdr)
    return raw(outer(i, hdr + iv + ct))
for i in (0, 6):
    for v6 in (False, True):
        p = gcm_pkt(i, 1, inner_udp(i, v6))
        name = 'raw-sa%d-%s' % (i, 'v6in' if v6 else 'v4in')
        w('esp_decap', name, bytes([(i << 3) | 0]) + struct.pack('>H', len(p)) + p)
        w('esp_decap', name + '-direct', bytes([(i << 3) | 4 | 3]) + struct.pack('>H', len(p)) + p)
# SA 5: transport over IPv6, GCM
tp = IPv6(src=V6[0], dst=V6[1])/UDP(sport=1024, dport=1005)/(b't' * 30)
p = gcm_pkt(5, 1, tp)
w('esp_decap', 'raw-sa5-transport', bytes([(5 << 3)]) + struct.pack('>H', len(p)) + p)
# an ESP packet cut into two IPv4 fragments, length-prefixed
p = IP(gcm_pkt(0, 1, IP(src='10.1.0.5', dst='10.2.0.9')/UDP(sport=1, dport=1000)/(b'f' * 300)))
fr = fragment(p, fragsize=160)
buf = b''.join(struct.pack('>H', len(raw(f))) + raw(f) for f in fr)
w('esp_decap', 'raw-frags', bytes([0]) + buf)
# plaintext: bypass (port 53) and not-protected
w('esp_decap', 'raw-bypass', bytes([0]) + struct.pack('>H', 48) + raw(IP(src='10.9.0.1', dst='10.9.0.2')/UDP(dport=53)/(b'q' * 20)))
w('esp_decap', 'raw-keepalive', bytes([(6 << 3)]) + struct.pack('>H', 29) + raw(IP(src=V4[0], dst=V4[1])/UDP(sport=4500, dport=4500)/b'\xff'))
# seal: plaintext through each SA's outbound twin
for i, (alg, tun, v6, esn, udp) in enumerate(SAS):
    if tun:
        for iv6 in (False, True):
            w('esp_decap', 'seal-sa%d-%s' % (i, 'v6in' if iv6 else 'v4in'), bytes([(i << 3) | 1]) + raw(inner_udp(i, iv6)))
    else:
        s, d = V6 if v6 else V4
        ip = IPv6(src=s, dst=d) if v6 else IP(src=s, dst=d)
        w('esp_decap', 'seal-sa%d-tcp' % i, bytes([(i << 3) | 1]) + raw(ip/TCP(sport=2000, dport=1000 + i)/(b'z' * 33)))
        w('esp_decap', 'seal-sa%d-udp-direct' % i, bytes([(i << 3) | 5]) + raw(ip/UDP(sport=2000, dport=1000 + i)/(b'z' * 7)))
# craft: null-sha256 payloads with the trailer in clear (k picks SA 4, 8, 10)
t4 = trailer(raw(inner_udp(4)), 4)
w('esp_decap', 'craft-sa4-tunnel', bytes([(0 << 3) | 2]) + struct.pack('>I', 1) + t4)
w('esp_decap', 'craft-sa4-badpad', bytes([(0 << 3) | 2]) + struct.pack('>I', 2) + raw(inner_udp(4)) + b'\x09\x09\x07\x04')
t8 = trailer(raw(UDP(sport=1, dport=1008)/(b'u' * 9)), 17)
w('esp_decap', 'craft-sa8-transport', bytes([(1 << 3) | 2]) + struct.pack('>I', 1) + t8)
w('esp_decap', 'craft-sa8-dummy', bytes([(1 << 3) | 2]) + struct.pack('>I', 1) + b'\x00\x00' + bytes([0, 59]))
t10 = trailer(raw(inner_udp(10, True)), 41)
w('esp_decap', 'craft-sa10-udp', bytes([(2 << 3) | 2 | 4]) + struct.pack('>I', 5) + t10)

# ---- ctlsock ----
def msg(t, flags, payload):
    return struct.pack('=III', t, flags, len(payload)) + payload
w('ctlsock', 'exec-show', msg(1, 0, b'show sa'))
w('ctlsock', 'exec-json', msg(1, 1, b'stats'))
w('ctlsock', 'exec-two', msg(1, 0, b'show policy') + msg(1, 1, b'show sa'))
w('ctlsock', 'exec-error', msg(1, 0, b'Error please'))
w('ctlsock', 'exec-nul', msg(1, 0, b'show\x00sa'))
w('ctlsock', 'exec-batch', msg(1, 0, b'sa del name a\npolicy del name b\n'))
w('ctlsock', 'unknown-type', msg(7, 0, b'x'))
w('ctlsock', 'too-long', struct.pack('=III', 1, 0, (1 << 20) + 1))
w('ctlsock', 'cut-short', msg(1, 0, b'show sa')[:15])
w('ctlsock', 'reply-ok', msg(2, 0, b'sa a-to-b spi 0x1001\n'))
w('ctlsock', 'reply-err', msg(3, 0, b'ipseckctl:1: sa add: missing spi'))

# ---- config ----
examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'examples')
for name in ('paper-fig6.conf', 'recommended-qos.conf', 'site-a.conf', 'site-b.conf',
             'pcap-demo/gateway.conf'):
    w('config', 'example-' + os.path.basename(name), open(os.path.join(examples, name), 'rb').read())
