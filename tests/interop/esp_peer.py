# SPDX-License-Identifier: BSD-2-Clause
"""The independent ESP peer of the interoperability tests: scapy's ESP.

What lives here: the algorithm table (ipseck name -> scapy names and key sizes), a Peer
that holds one SA's keys and makes both the ipseck `sa add` line and the scapy
SecurityAssociation for it, the varied packet sets the tests send, and pcap reading and
writing with one frame number per packet (the timestamp), so that ipseck's output frames
can be matched to the input frames that caused them.

scapy 2.5 adds the high half of an extended sequence number to the AAD of AEAD
algorithms only; for CBC + HMAC the ICV is computed here: HMAC over the ESP packet
followed by the high 32 bits, which enter the ICV but are not sent (RFC 4303 §2.2.1).
"""
import hashlib
import hmac
import random
import struct
import warnings
from math import gcd

warnings.filterwarnings("ignore")
from scapy.all import (ICMP, IP, TCP, UDP, ICMPv6EchoRequest,  # noqa: E402
                       IPOption_NOP, IPOption_Router_Alert, IPv6, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrHopByHop, PadN, Raw, RouterAlert, conf)
from scapy.layers.ipsec import ESP, SecurityAssociation, _ESPPlain  # noqa: E402
from scapy.utils import RawPcapReader, RawPcapWriter  # noqa: E402

conf.verb = 0

# Link types of the input captures: name -> (pcap LINKTYPE, link header in front of each
# IP packet, whose last two bytes are the EtherType and are filled in per packet).
LINKS = {
    "raw": (101, b""),
    "ethernet": (1, bytes.fromhex("02005e00000a" "02005e00000b") + b"\0\0"),
    "vlan": (1, bytes.fromhex("02005e00000a" "02005e00000b" "8100" "0064") + b"\0\0"),
    # Linux cooked capture: packet type 0 (to us), ARPHRD_ETHER, 6-byte address.
    "linux-sll": (113, bytes.fromhex("0000" "0001" "0006" "02005e00000b0000") + b"\0\0"),
}
FRAME_TIME_BASE = 1000  # frame n has timestamp FRAME_TIME_BASE + n seconds

# ipseck name -> (scapy cipher, cipher key bytes, salt bytes, scapy integrity, auth key
# bytes, IV bytes, ICV bytes, AEAD). Key sizes as src/crypto/alg.h.
ALGS = {
    "aes128gcm16": ("AES-GCM", 16, 4, None, 0, 8, 16, True),
    "aes256gcm16": ("AES-GCM", 32, 4, None, 0, 8, 16, True),
    "chacha20poly1305": ("CHACHA20-POLY1305", 32, 4, None, 0, 8, 16, True),
    "aes128-sha256": ("AES-CBC", 16, 0, "SHA2-256-128", 32, 16, 16, False),
    "aes256-sha256": ("AES-CBC", 32, 0, "SHA2-256-128", 32, 16, 16, False),
    "null-sha256": (None, 0, 0, "SHA2-256-128", 32, 0, 16, False),
    "3des-md5": ("3DES", 24, 0, "HMAC-MD5-96", 16, 8, 12, False),
    "3des-sha1": ("3DES", 24, 0, "HMAC-SHA1-96", 20, 8, 12, False),
}

HASHES = {"SHA2-256-128": (hashlib.sha256, 16), "HMAC-MD5-96": (hashlib.md5, 12),
          "HMAC-SHA1-96": (hashlib.sha1, 12)}


def derive(label, n):
    """n deterministic key bytes named by @label (reproducible captures)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("%s/%d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


class Peer:
    """One SA as both sides see it: the `sa add` line for ipseck and scapy's SA."""

    def __init__(self, name, alg, spi, mode, src, dst, esn=False, natt=False,
                 key_label=None):
        self.name, self.alg, self.spi, self.mode = name, alg, spi, mode
        self.src, self.dst, self.esn, self.natt = src, dst, esn, natt
        crypt, klen, slen, auth, alen, self.iv_len, self.icv_len, self.aead = ALGS[alg]
        label = key_label or name
        self.enc_key = derive(label + "/enc", klen + slen)
        self.auth_key = derive(label + "/auth", alen)
        self.crypt, self.auth = crypt, auth
        self.outer_v6 = ":" in src

    def config(self, direction, extra=""):
        """The `sa add` line of this SA for ipseck."""
        words = ["sa add name %s spi 0x%x dir %s mode %s src %s dst %s proposal %s" %
                 (self.name, self.spi, direction, self.mode, self.src, self.dst, self.alg)]
        if self.aead:
            words.append("key 0x" + self.enc_key.hex())
        else:
            if self.enc_key:
                words.append("enc-key 0x" + self.enc_key.hex())
            words.append("auth-key 0x" + self.auth_key.hex())
        if self.esn:
            words.append("esn")
        if self.natt:
            words.append("encap udp")
        if extra:
            words.append(extra)
        return " ".join(words)

    def tunnel_header(self, tos=0, ttl=64, ident=0, df=False):
        if self.mode != "tunnel":
            return None
        if self.outer_v6:
            return IPv6(src=self.src, dst=self.dst, tc=tos, hlim=ttl)
        return IP(src=self.src, dst=self.dst, tos=tos, ttl=ttl, id=ident,
                  flags="DF" if df else 0)

    def scapy_sa(self, tunnel=None, hmac_by_scapy=True, natt=True):
        """scapy's SA. Without @hmac_by_scapy the integrity algorithm is left out (the
        ESN + HMAC path computes the ICV itself)."""
        natt = UDP(sport=4500, dport=4500) if self.natt and natt else None
        auth = self.auth if hmac_by_scapy else None
        return SecurityAssociation(ESP, spi=self.spi, crypt_algo=self.crypt,
                                   crypt_key=self.enc_key or None, auth_algo=auth,
                                   auth_key=self.auth_key if auth else None,
                                   tunnel_header=tunnel, nat_t_header=natt,
                                   esn_en=self.esn)

    def _icv(self, esp_bytes, seq_hi):
        digest, n = HASHES[self.auth]
        data = esp_bytes + (struct.pack("!L", seq_hi) if self.esn else b"")
        return hmac.new(self.auth_key, data, digest).digest()[:n]

    def encrypt(self, pkt, seq, iv=None, tos=None, ttl=64, ident=0, df=False):
        """Encrypts the scapy packet @pkt with the full sequence number @seq. Tunnel mode
        puts an outer header with @tos (default: the inner TOS, as RFC 4301 §5.1.2.1)."""
        if tos is None:
            tos = inner_tos(pkt)
        own_icv = self.esn and not self.aead
        sa = self.scapy_sa(self.tunnel_header(tos, ttl, ident, df), not own_icv)
        sa.seq_num = seq & 0xffffffff
        sa.esn = seq >> 32
        out = sa.encrypt(pkt, iv=iv)
        if own_icv:
            esp = out[ESP]
            esp.data = bytes(esp.data) + self._icv(bytes(esp), seq >> 32)
            # The lengths scapy wrote do not count the ICV added afterwards.
            if out.version == 4:
                del out.len
                del out.chksum
            else:
                del out.plen
        if self.natt:
            # scapy 2.5 freezes the UDP length at 8 (it builds the IPv4 header before the
            # ESP payload is attached) and leaves the checksum 0 over IPv6, where RFC 8200
            # §8.1 requires one; RFC 3948 §2.1 allows 0 over IPv4 only.
            del out[UDP].len
            if out.version == 6:
                del out[UDP].chksum
        return out.__class__(bytes(out))

    def seal_payload(self, payload, nh, seq, iv, extra_pad=0, bad_pad=False):
        """A tunnel-mode ESP packet around arbitrary @payload with next header @nh, from
        scapy's own pieces, for what SecurityAssociation.encrypt cannot make: dummy
        packets (RFC 4303 §2.6), TFC padding (§2.7), more padding than needed (§2.4: up
        to 255 bytes, to hide lengths) and padding that breaks the 1, 2, 3, ... rule.
        @extra_pad: bytes of padding beyond the minimum (a multiple of the alignment).
        No ESN, no UDP encapsulation."""
        sa = self.scapy_sa()
        esp = _ESPPlain(spi=self.spi, seq=seq, iv=iv, data=Raw(payload), nh=nh)
        esp = sa.crypt_algo.pad(esp)
        esp.padlen += extra_pad
        pad = bytearray(range(1, esp.padlen + 1))
        if bad_pad:
            pad[-1] ^= 0x80
        esp.padding = bytes(pad)
        esp = sa.crypt_algo.encrypt(sa, esp, sa.crypt_key, sa.crypt_icv_size)
        sa.auth_algo.sign(esp, sa.auth_key)
        outer = self.tunnel_header()
        return parse_ip(bytes(outer / esp))

    def alignment(self):
        """What payload || padding || 2 must be a multiple of (RFC 4303 §2.4)."""
        b = self.scapy_sa().crypt_algo.block_size
        return b * 4 // gcd(b, 4)

    def decrypt(self, raw_pkt, seq_hi=0):
        """Verifies and decrypts the IP packet @raw_pkt (bytes); returns the bytes scapy
        recovers (inner packet, or the transport-mode packet rebuilt). Raises on an ICV
        mismatch."""
        if self.natt:
            raw_pkt = strip_udp(raw_pkt)
        pkt = parse_ip(raw_pkt)
        own_icv = self.esn and not self.aead
        sa = self.scapy_sa(self.tunnel_header(), not own_icv, natt=False)
        if own_icv:
            esp = pkt[ESP]
            body, icv = bytes(esp)[:-self.icv_len], bytes(esp)[-self.icv_len:]
            if not hmac.compare_digest(icv, self._icv(body, seq_hi)):
                raise ValueError("HMAC with ESN high bits %d does not verify" % seq_hi)
            esp.data = bytes(esp.data)[:-self.icv_len]
        return bytes(sa.decrypt(pkt, esn_en=self.esn, esn=seq_hi))


def inner_tos(pkt):
    return pkt.tos if pkt.version == 4 else pkt.tc


def parse_ip(data):
    return IPv6(data) if data[0] >> 4 == 6 else IP(data)


def strip_udp(data):
    """RFC 3948 §3.3 decapsulation, step one: removes the UDP header in front of ESP and
    names ESP in the IP header. (scapy 2.5 rebuilds an IPv6 transport-mode packet wrongly
    when the UDP header is still there.)"""
    off = esp_offset(data)
    out = bytearray(data[:off - 8] + data[off:])
    if out[0] >> 4 == 4:
        out[9] = 50
        out[2:4] = struct.pack("!H", len(out))
        out[10:12] = b"\0\0"
        out[10:12] = struct.pack("!H", ip_checksum(bytes(out[:(out[0] & 15) * 4])))
    else:
        out[6] = 50
        out[4:6] = struct.pack("!H", len(out) - 40)
    return bytes(out)


def ip_checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def esp_offset(data):
    """Offset of the ESP header in the IP packet @data (after UDP for RFC 3948), or None."""
    if data[0] >> 4 == 4:
        off, proto = (data[0] & 15) * 4, data[9]
    else:
        off, proto = 40, data[6]
        while proto in (0, 43, 60):  # hop-by-hop, routing, destination options
            off, proto = off + (data[off + 1] + 1) * 8, data[off]
    if proto == 17:
        return off + 8
    return off if proto == 50 else None


# DSCP EF (46) with ECT(0), AF41 with ECT(1), CS6 Not-ECT (RFC 2474, RFC 3168).
TOS_EF_ECT0 = 46 << 2 | 2
TOS_AF41_ECT1 = 34 << 2 | 1
TOS_CS6 = 48 << 2

UDP_SIZES = [0, 1, 2, 3, 7, 15, 16, 17, 100, 255, 256, 511, 1000, 1399, 1400]


def varied_packets(src, dst, seed):
    """Twenty packets from @src to @dst (one family): two ICMP echo requests, UDP with
    payloads of 0..1400 bytes, three TCP segments; DSCP/ECN and DF vary. Returned as
    normalised scapy packets (checksums and lengths filled in)."""
    rnd = random.Random(seed)
    v6 = ":" in src

    def ip(tos=0, df=False, ttl=64):
        if v6:
            return IPv6(src=src, dst=dst, tc=tos, hlim=ttl, fl=rnd.randrange(1 << 20))
        return IP(src=src, dst=dst, tos=tos, ttl=ttl, id=rnd.randrange(65536),
                  flags="DF" if df else 0)

    def data(n):
        return Raw(bytes(rnd.randrange(256) for _ in range(n)))

    echo = ICMPv6EchoRequest if v6 else ICMP
    pkts = [ip(0, True) / echo(id=0x4242, seq=1) / data(56),
            ip(TOS_EF_ECT0, True, 63) / echo(id=0x4242, seq=2) / data(56)]
    for i, n in enumerate(UDP_SIZES):
        tos = [0, TOS_EF_ECT0, TOS_AF41_ECT1, TOS_CS6][i % 4]
        pkts.append(ip(tos, i % 2 == 0, 64 - i) / UDP(sport=40000 + i, dport=5000 + i) /
                    data(n))
    pkts.append(ip(0, True) / TCP(sport=43210, dport=443, flags="S", seq=1000,
                                  options=[("MSS", 1360), ("SAckOK", b""),
                                           ("WScale", 7)]))
    pkts.append(ip(TOS_AF41_ECT1, True) / TCP(sport=43210, dport=443, flags="A",
                                               seq=1001, ack=77) / data(500))
    pkts.append(ip(TOS_EF_ECT0, True) / TCP(sport=43210, dport=443, flags="PA",
                                             seq=1501, ack=77) / data(1200))
    return [parse_ip(bytes(p)) for p in pkts]


def header_packets(src, dst, seed):
    """Packets whose IP header is more than the fixed part, for transport mode (ESP goes
    after it, RFC 4303 §3.1.1): IPv4 options; IPv6 hop-by-hop and destination options
    headers (both before ESP, where scapy and ipseck both put them)."""
    rnd = random.Random(seed)

    def data(n):
        return Raw(bytes(rnd.randrange(256) for _ in range(n)))

    if ":" not in src:
        ra = [IPOption_Router_Alert()]
        pkts = [IP(src=src, dst=dst, options=ra) / UDP(sport=4000, dport=5000) / data(100),
                IP(src=src, dst=dst, options=ra + [IPOption_NOP()] * 4, flags="DF") /
                ICMP(id=7, seq=1) / data(33),
                IP(src=src, dst=dst, options=[IPOption_NOP()] * 3 + ra, tos=TOS_EF_ECT0) /
                TCP(sport=4001, dport=22, flags="PA") / data(700)]
    else:
        hbh = IPv6ExtHdrHopByHop(options=[RouterAlert()])
        dst_opt = IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
        pkts = [IPv6(src=src, dst=dst) / hbh / UDP(sport=4000, dport=5000) / data(100),
                IPv6(src=src, dst=dst) / dst_opt / UDP(sport=4000, dport=5001) / data(3),
                IPv6(src=src, dst=dst, tc=TOS_EF_ECT0) / hbh / dst_opt /
                ICMPv6EchoRequest(id=7, seq=1) / data(33),
                IPv6(src=src, dst=dst) / hbh / TCP(sport=4001, dport=22, flags="PA") /
                data(700)]
    return [parse_ip(bytes(p)) for p in pkts]


ETHER_MIN_FRAME = 60  # without the FCS: shorter frames carry padding (IEEE 802.3)


def ethertype(ip):
    return b"\x86\xdd" if ip[0] >> 4 == 6 else b"\x08\x00"


def write_pcap(path, frames, link="raw"):
    """Writes @frames (IP packets, bytes or scapy) with frame n (from 1) stamped
    FRAME_TIME_BASE + n seconds, behind the link header of @link (LINKS); Ethernet frames
    are padded to the minimum size, as on the wire."""
    linktype, l2 = LINKS[link]
    w = RawPcapWriter(path, linktype=linktype, sync=True, snaplen=65535)
    w.write_header(None)
    for n, f in enumerate(frames, 1):
        data = bytes(f)
        if l2:
            data = l2[:-2] + ethertype(data) + data
        if linktype == 1:
            data += b"\0" * max(0, ETHER_MIN_FRAME - len(data))
        w.write_packet(data, sec=FRAME_TIME_BASE + n, usec=0)
    w.close()


def read_pcap(path, link="raw"):
    """Returns (linktype, [(frame, link header bytes, IP packet bytes)]) of a capture with
    the link header of @link; the frame number comes from the timestamp."""
    l2 = len(LINKS[link][1])
    reader = RawPcapReader(path)
    lt = reader.linktype
    out = []
    for data, meta in reader:
        out.append((meta.sec - FRAME_TIME_BASE, data[:l2], data[l2:]))
    reader.close()
    return lt, out
