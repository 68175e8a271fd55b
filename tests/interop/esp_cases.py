# SPDX-License-Identifier: BSD-2-Clause
"""The interoperability cases: what goes into ipseck and what must come out.

Site A is ipseck (gateway 192.0.2.1 / 2001:db8:ffff::1, network 10.1.0.0/24 /
2001:db8:1::/64); site B is scapy (192.0.2.2 / 2001:db8:ffff::2, 10.2.0.0/24 /
2001:db8:2::/64). Every case configures both SAs (a-to-b outbound, SPI 0x1001; b-to-a
inbound, SPI 0x2001) and both protect policies, then feeds one capture:

  scapy->ipseck  scapy encrypts twenty varied packets with b-to-a; ipseck must give back
                 each original byte for byte (tunnel: the inner packet; transport: the
                 packet with its IP header rebuilt, which must equal the original's).
  ipseck->scapy  ipseck encrypts the plaintext with a-to-b; scapy must decrypt each to the
                 original, the SPI and sequence numbers (start+1, start+2, ...) must be
                 right, the outer header must carry the SA's addresses and the inner
                 DSCP/ECN (RFC 4301 §5.1.2.1, RFC 6040 §4.1), and re-encrypting the original
                 with scapy under the packet's IV must give the same ESP bytes.
  negative       forged, replayed, too old, unknown-SPI, out-of-policy, ECN, truncated,
                 dummy and badly padded packets among good ones; each drop must be
                 printed with its frame and reason and counted in the summary.

Each case lists, per input frame, what must happen to it (an Expect). Everything is
deterministic (keys, IVs, payloads), so `gen` and `check` build identical cases.
"""
import re
import struct

from esp_peer import (ALGS, IP, LINKS, UDP, IPv6, Peer, TOS_EF_ECT0, derive, esp_offset,
                      ethertype, header_packets, inner_tos, parse_ip, varied_packets)
from scapy.all import IPv6ExtHdrFragment, fragment, fragment6

GW = {4: ("192.0.2.1", "192.0.2.2"), 6: ("2001:db8:ffff::1", "2001:db8:ffff::2")}
NET = {4: ("10.1.0.0/24", "10.2.0.0/24"), 6: ("2001:db8:1::/64", "2001:db8:2::/64")}
HOST = {4: ("10.1.0.7", "10.2.0.9"), 6: ("2001:db8:1::7", "2001:db8:2::9")}
SPI_OUT, SPI_IN = 0x1001, 0x2001
OUTER_TTL = 64  # ipseck's default outer TTL / hop limit (sa.h)


class Expect:
    """What must become of one input frame.
    kind: 'pass' (output equals @data), 'enc' (protected: @data is the plaintext; the
    sequence number is the case's start plus the packet's rank among the protected
    ones), 'drop' (@reason), 'held' (a fragment: no output, no drop).
    For plaintext fragments (@group: which datagram): no output is fine for all but the
    last fragment (@optional), whose output may instead carry the reassembled @alt."""

    def __init__(self, kind, data=None, reason=None, optional=False, alt=None, group=None):
        self.kind, self.data, self.reason = kind, data, reason
        self.optional, self.alt, self.group = optional, alt, group


class Case:
    def __init__(self, name, alg, mode="tunnel", outer=4, inner=4, esn=False, natt=False,
                 link="raw", seq_start=0):
        self.name = name
        self.slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.alg, self.mode, self.outer, self.inner = alg, mode, outer, inner
        self.seq_start = seq_start
        ga, gb = GW[outer]
        self.a_to_b = Peer("a-to-b", alg, SPI_OUT, mode, ga, gb, esn, natt,
                           key_label=self.slug + "/a-to-b")
        self.b_to_a = Peer("b-to-a", alg, SPI_IN, mode, gb, ga, esn, natt,
                           key_label=self.slug + "/b-to-a")
        self.link = link
        self.frames = []
        self.expect = []
        self.tshark = False

    def endpoints(self, direction):
        """(src, dst) of plaintext packets: A->B for 'out', B->A for 'in'."""
        if self.mode == "tunnel":
            a, b = HOST[self.inner]
        else:
            a, b = GW[self.outer]
        return (a, b) if direction == "out" else (b, a)

    def config(self):
        fam = self.inner if self.mode == "tunnel" else self.outer
        if self.mode == "tunnel":
            na, nb = NET[fam]
        else:
            bits = 32 if fam == 4 else 128
            na, nb = ["%s/%d" % (g, bits) for g in GW[fam]]
        seq = " seq 0x%x" % self.seq_start if self.seq_start else ""
        return "\n".join([
            "# %s" % self.name,
            self.a_to_b.config("out", seq.strip()),
            self.b_to_a.config("in"),
            "policy add name out-a-b dir out src %s dst %s action protect sa a-to-b" %
            (na, nb),
            "policy add name in-b-a dir in src %s dst %s action protect sa b-to-a" %
            (nb, na),
            ""])

    def add(self, data, expect):
        self.frames.append(bytes(data))
        self.expect.append(expect)

    def iv(self, peer, seq):
        """The IV scapy uses: deterministic, and not the sequence number, so ipseck must
        read it from the packet (RFC 4303 §2.3)."""
        return derive("%s/%s/iv/%d" % (self.slug, peer.name, seq), peer.iv_len)

    def seal_in(self, pkt, seq, **kw):
        """scapy's encryption of @pkt under b-to-a (what site B sends)."""
        return self.b_to_a.encrypt(pkt, seq, iv=self.iv(self.b_to_a, seq),
                                   ident=seq & 0xffff, **kw)


def dec_case(name, alg, mode="tunnel", outer=4, inner=4, frag=False, packets=varied_packets,
             **kw):
    c = Case(name, alg, mode, outer, inner, **kw)
    src, dst = c.endpoints("in")
    for i, p in enumerate(packets(src, dst, c.slug)):
        esp = c.seal_in(p, i + 1)
        if frag and len(esp) > 600:
            add_fragments(c, esp, i, bytes(p))
        else:
            c.add(esp, Expect("pass", bytes(p)))
    return c


def add_fragments(c, esp, i, orig):
    """Fragments the ESP packet in the outer IP layer; every other datagram's fragments go
    in reverse order. Only the fragment that completes the datagram yields output."""
    if esp.version == 4:
        frags = fragment(esp, fragsize=256)
    else:
        hdr = esp.copy()
        hdr.remove_payload()
        del hdr.plen, hdr.nh
        frags = fragment6(hdr / IPv6ExtHdrFragment(id=0x5000 + i) / esp.payload, 320)
    frags = [bytes(f) for f in frags]
    if i % 2:
        frags.reverse()
    for f in frags[:-1]:
        c.add(f, Expect("held"))
    c.add(frags[-1], Expect("pass", orig))


def enc_case(name, alg, mode="tunnel", outer=4, inner=4, count=20, drop_after=None,
             packets=varied_packets, frag=False, **kw):
    c = Case(name, alg, mode, outer, inner, **kw)
    src, dst = c.endpoints("out")
    for i, p in enumerate(packets(src, dst, c.slug)[:count]):
        if drop_after is not None and c.seq_start + i + 1 > drop_after:
            c.add(p, Expect("drop", reason="seq-exhausted"))
        elif frag and len(p) > 576:
            add_plaintext_fragments(c, p, i)
        else:
            c.add(p, Expect("enc", bytes(p)))
    return c


def add_plaintext_fragments(c, p, i):
    """What a LAN host sends for @p over a 576-byte path: fragments, in order (IPv4 with
    DF clear). ipseck may protect each (RFC 4301 §7) or reassemble first."""
    if p.version == 4:
        p = parse_ip(bytes(p))
        p.flags = 0
        del p.chksum
        p = parse_ip(bytes(p))
        frags = fragment(p, fragsize=512)
    else:
        hdr = p.copy()
        hdr.remove_payload()
        del hdr.plen, hdr.nh
        frags = fragment6(hdr / IPv6ExtHdrFragment(id=0x7000 + i) / p.payload, 576)
    frags = [bytes(f) for f in frags]
    for f in frags[:-1]:
        c.add(f, Expect("enc", f, optional=True, group=i))
    c.add(frags[-1], Expect("enc", frags[-1], alt=bytes(p), group=i))


def with_tos(pkt, tos):
    """@pkt with its TOS / traffic class set (IPv4 checksum recomputed)."""
    p = parse_ip(bytes(pkt))
    if p.version == 4:
        p.tos = tos
        del p.chksum
    else:
        p.tc = tos
    return parse_ip(bytes(p))


def negative_case(name, alg):
    """Good packets mixed with every way an inbound packet must be refused."""
    c = Case(name, alg)
    src, dst = c.endpoints("in")
    pkts = varied_packets(src, dst, c.slug)
    forger = Peer("b-to-a", alg, SPI_IN, "tunnel", *reversed(GW[4]),
                  key_label=c.slug + "/wrong-key")

    def good(i, seq, expect=None, **kw):
        esp = c.seal_in(pkts[i], seq, **kw)
        c.add(esp, expect or Expect("pass", bytes(pkts[i])))
        return esp

    first = good(0, 1)
    # A forged packet far ahead must not move the window (RFC 4303 §3.4.3: the window is
    # updated only after the ICV verified), so sequence number 2 is still accepted.
    c.add(forger.encrypt(pkts[1], 3000, iv=c.iv(forger, 3000)),
          Expect("drop", reason="bad-icv"))
    good(2, 2)
    c.add(first, Expect("drop", reason="replay-duplicate"))
    other = Peer("x", alg, 0x9999, "tunnel", *reversed(GW[4]), key_label=c.slug + "/x")
    c.add(other.encrypt(pkts[3], 3, iv=c.iv(other, 3)), Expect("drop", reason="unknown-spi"))
    good(4, 2000)
    good(5, 5, Expect("drop", reason="replay-too-old"))
    # The window's edges (RFC 4303 §3.4.3; 1024 packets wide by default): with 2000 the
    # highest, 977 is the oldest number still inside and 976 is out.
    good(16, 2000 - 1024 + 1)
    good(17, 2000 - 1024, Expect("drop", reason="replay-too-old"))
    dup = good(6, 1500)
    c.add(dup, Expect("drop", reason="replay-duplicate"))
    tampered = bytearray(bytes(c.seal_in(pkts[7], 1600)))
    tampered[-20] ^= 0x01  # one bit of ciphertext (or of the ICV for 12-byte ICVs)
    c.add(bytes(tampered), Expect("drop", reason="bad-icv"))
    good(8, 1601)  # 1600 never verified, so it was never recorded either
    # The SAD matches SPI and destination (RFC 4301 §4.1): right SPI, wrong gateway.
    wrong_dst = parse_ip(bytes(c.seal_in(pkts[9], 1602)))
    wrong_dst.dst = "192.0.2.99"
    del wrong_dst.chksum
    c.add(bytes(wrong_dst), Expect("drop", reason="unknown-spi"))
    # RFC 4301 §5.2: the decrypted packet must match the SA's inbound policy.
    stray = parse_ip(bytes(pkts[10]))
    stray.src = "10.3.0.1"
    del stray.chksum, stray[UDP].chksum
    c.add(c.seal_in(parse_ip(bytes(stray)), 1603), Expect("drop", reason="policy-mismatch"))
    # RFC 6040 §4.2: outer CE marks an ECT inner packet CE, and drops a Not-ECT one.
    ect = with_tos(pkts[11], TOS_EF_ECT0)
    c.add(c.seal_in(ect, 1604, tos=TOS_EF_ECT0 | 3),
          Expect("pass", bytes(with_tos(ect, TOS_EF_ECT0 | 3))))
    not_ect = with_tos(pkts[12], 46 << 2)
    c.add(c.seal_in(not_ect, 1605, tos=3), Expect("drop", reason="ecn-ce-not-ect"))
    # ...outer ECT(1) over inner ECT(0) is propagated, outer ECT over Not-ECT is not.
    ect1 = with_tos(pkts[18], 10 << 2 | 2)
    c.add(c.seal_in(ect1, 1612, tos=10 << 2 | 1),
          Expect("pass", bytes(with_tos(ect1, 10 << 2 | 1))))
    plain = with_tos(pkts[19], 10 << 2)
    c.add(c.seal_in(plain, 1613, tos=10 << 2 | 2), Expect("pass", bytes(plain)))
    # Cut inside the ESP header: too short for ESP header, IV and ICV.
    short = parse_ip(bytes(first)[:20 + 12])
    short.len = None
    del short.chksum
    c.add(bytes(short), Expect("drop", reason="truncated-esp"))
    good(13, 1606)
    # Packets a conforming peer may send that SecurityAssociation.encrypt cannot make.
    peer, align = c.b_to_a, c.b_to_a.alignment()

    def crafted(seq, payload, nh, expect, **kw):
        c.add(peer.seal_payload(payload, nh, seq, c.iv(peer, seq), **kw), expect)

    inner = bytes(pkts[14])
    # RFC 4303 §2.6: next header 59 marks a dummy packet, discarded by the receiver.
    crafted(1607, derive("dummy", 40), 59, Expect("drop", reason="dummy-packet"))
    # §2.7: TFC padding after the inner packet; its own length tells where it ends.
    crafted(1608, inner + bytes(24), 4, Expect("pass", inner))
    # §2.4: more padding than the cipher needs (up to 255 bytes) is legal.
    crafted(1609, inner, 4, Expect("pass", inner), extra_pad=4 * align)
    # §2.4: the receiver checks the default padding 1, 2, 3, ...
    crafted(1610, inner, 4, Expect("drop", reason="bad-padding"), extra_pad=align,
            bad_pad=True)
    good(15, 1611)
    return c


def natt_extras(c):
    """RFC 3948 §2.2-2.3: a NAT keepalive and an IKE packet (non-ESP marker) on 4500."""
    ga, gb = GW[c.outer]
    ipc = IP if c.outer == 4 else IPv6
    c.add(parse_ip(bytes(ipc(src=gb, dst=ga) / UDP(sport=4500, dport=4500) / b"\xff")),
          Expect("drop", reason="nat-keepalive"))
    c.add(parse_ip(bytes(ipc(src=gb, dst=ga) / UDP(sport=4500, dport=4500) /
                         (b"\0" * 4 + derive("ike", 28)))),
          Expect("drop", reason="non-esp-marker"))
    return c


def all_cases():
    cases = []
    for alg in ALGS:
        for mode in ("tunnel", "transport"):
            cases.append(dec_case("%s %s ipv4 scapy->ipseck" % (alg, mode), alg, mode))
            cases.append(enc_case("%s %s ipv4 ipseck->scapy" % (alg, mode), alg, mode))
    g = "aes128gcm16"
    for outer, inner, what in ((6, 6, "6in6"), (6, 4, "4in6"), (4, 6, "6in4")):
        cases.append(dec_case("%s tunnel %s scapy->ipseck" % (g, what), g, "tunnel",
                              outer, inner))
        cases.append(enc_case("%s tunnel %s ipseck->scapy" % (g, what), g, "tunnel",
                              outer, inner))
    cases.append(dec_case("%s transport ipv6 scapy->ipseck" % g, g, "transport", 6, 6))
    cases.append(enc_case("%s transport ipv6 ipseck->scapy" % g, g, "transport", 6, 6))
    for alg in (g, "aes128-sha256"):
        for fam, what in ((4, "ipv4 options"), (6, "ipv6 extension headers")):
            for make, arrow in ((dec_case, "scapy->ipseck"), (enc_case, "ipseck->scapy")):
                cases.append(make("%s transport %s %s" % (alg, what, arrow), alg,
                                  "transport", fam, fam, packets=header_packets))
    for alg in (g, "chacha20poly1305", "aes128-sha256", "3des-sha1"):
        cases.append(dec_case("%s tunnel ipv4 esn scapy->ipseck" % alg, alg, esn=True))
        # Crosses 2^32: the high half must enter the AAD / ICV (RFC 4303 §2.2.1).
        cases.append(enc_case("%s tunnel ipv4 esn across 2^32 ipseck->scapy" % alg, alg,
                              esn=True, seq_start=0xfffffff5))
    for mode, outer in (("tunnel", 4), ("transport", 4), ("tunnel", 6)):
        cases.append(natt_extras(dec_case("%s %s ipv%d udp-encap scapy->ipseck" %
                                          (g, mode, outer), g, mode, outer, outer,
                                          natt=True)))
        cases.append(enc_case("%s %s ipv%d udp-encap ipseck->scapy" % (g, mode, outer), g,
                              mode, outer, outer, natt=True))
    # pcap mode writes the input's link type and link header, with the EtherType of the
    # IP version that leaves (4in6: IPv4 in, IPv6 out). Ethernet frames come padded.
    for link, outer, inner, what in (("ethernet", 4, 4, "ipv4"), ("vlan", 6, 4, "4in6"),
                                     ("linux-sll", 4, 6, "6in4")):
        for make, arrow in ((dec_case, "scapy->ipseck"), (enc_case, "ipseck->scapy")):
            cases.append(make("%s tunnel %s %s %s" % (g, what, link, arrow), g, "tunnel",
                              outer, inner, link=link))
    cases.append(dec_case("%s tunnel ipv4 fragmented scapy->ipseck" % g, g, frag=True))
    cases.append(dec_case("%s tunnel 6in6 fragmented scapy->ipseck" % g, g, "tunnel", 6, 6,
                          frag=True))
    cases.append(dec_case("aes128-sha256 transport ipv4 fragmented scapy->ipseck",
                          "aes128-sha256", "transport", frag=True))
    # Fragments of UDP-encapsulated ESP: only the first one shows port 4500.
    cases.append(dec_case("%s tunnel ipv4 udp-encap fragmented scapy->ipseck" % g, g,
                          natt=True, frag=True))
    # RFC 4301 §7: a tunnel-mode SA carries fragments; ipseck protects each fragment
    # of plaintext on its own (no reassembly on the outbound side).
    cases.append(enc_case("%s tunnel ipv4 fragmented plaintext ipseck->scapy" % g, g,
                          frag=True))
    cases.append(enc_case("%s tunnel 6in6 fragmented plaintext ipseck->scapy" % g, g,
                          "tunnel", 6, 6, frag=True))
    for alg in (g, "aes128-sha256", "3des-md5"):
        cases.append(negative_case("%s tunnel ipv4 negative" % alg, alg))
    # RFC 4303 §3.3.3: without ESN the sender stops at 2^32 - 1 rather than cycle.
    cases.append(enc_case("%s tunnel ipv4 sequence exhausted" % g, g, count=5,
                          seq_start=0xfffffffd, drop_after=0xffffffff))
    for c in cases:
        c.tshark = c.name in ["%s tunnel ipv4 ipseck->scapy" % a
                              for a in (g, "aes128-sha256", "3des-md5")]
    return cases


def inner_of(c, data):
    """The plaintext the case's outbound SA protected, as scapy recovers it."""
    return c.a_to_b.decrypt(data)


def check_natt(pkt, data):
    """RFC 3948 §2.1 UDP header of a packet ipseck encapsulated."""
    u, bad = pkt[UDP], []
    if (u.sport, u.dport) != (4500, 4500):
        bad.append("UDP ports %d->%d, expected 4500->4500" % (u.sport, u.dport))
    if pkt.version == 4 and u.chksum != 0:
        bad.append("UDP checksum 0x%04x over IPv4, RFC 3948 §2.1 says 0" % u.chksum)
    if pkt.version == 6:
        clone = parse_ip(data)
        del clone[UDP].chksum
        want = parse_ip(bytes(clone))[UDP].chksum
        if u.chksum != want:
            bad.append("UDP checksum 0x%04x over IPv6, expected 0x%04x" % (u.chksum, want))
    return bad


def check_outer(sa, pkt, data, orig):
    """Tunnel mode: the outer header ipseck built around @orig."""
    bad = []
    if (pkt.src, pkt.dst) != (sa.src, sa.dst):
        bad.append("outer %s->%s, expected the SA's %s->%s" % (pkt.src, pkt.dst, sa.src,
                                                               sa.dst))
    ttl = pkt.ttl if pkt.version == 4 else pkt.hlim
    if ttl != OUTER_TTL:
        bad.append("outer TTL %d, expected %d" % (ttl, OUTER_TTL))
    if outer_tos(data) >> 2 != inner_tos(orig) >> 2:
        bad.append("outer DSCP %d, inner %d (RFC 4301 §5.1.2.1: copy)" %
                   (outer_tos(data) >> 2, inner_tos(orig) >> 2))
    if outer_tos(data) & 3 != inner_tos(orig) & 3:
        bad.append("outer ECN %d, inner %d (RFC 6040 §4.1 normal mode: copy)" %
                   (outer_tos(data) & 3, inner_tos(orig) & 3))
    # RFC 4301 §8.1: copying DF from the inner header is the option to support.
    if pkt.version == 4 and orig.version == 4 and \
            ("DF" in pkt.flags) != ("DF" in orig.flags):
        bad.append("outer DF %s, inner DF %s" % ("DF" in pkt.flags, "DF" in orig.flags))
    return bad


def check_enc_frame(c, e, data, seq, ivs):
    """Checks one packet ipseck protected with sequence number @seq. Returns the problems
    and the plaintext it carries (None if it could not be recovered)."""
    sa = c.a_to_b
    off = esp_offset(data)
    if off is None:
        return ["not ESP (protocol %d)" % (data[9] if data[0] >> 4 == 4 else data[6])], None
    pkt = parse_ip(data)
    if sa.natt != (UDP in pkt):
        return ["UDP encapsulation %s, expected %s" % (UDP in pkt, sa.natt)], None
    bad = check_natt(pkt, data) if sa.natt else []
    spi, seq_lo = struct.unpack("!LL", data[off:off + 8])
    iv = data[off + 8:off + 8 + sa.iv_len]
    if spi != sa.spi:
        bad.append("SPI 0x%x, expected 0x%x" % (spi, sa.spi))
    if seq_lo != seq & 0xffffffff:
        bad.append("sequence number %d, expected %d" % (seq_lo, seq & 0xffffffff))
    if sa.aead and iv != struct.pack("!Q", seq):
        bad.append("AEAD IV %s is not the 64-bit sequence number" % iv.hex())
    if iv and not sa.aead and iv in ivs:
        bad.append("CBC IV %s repeated" % iv.hex())
    ivs.add(iv)
    try:
        plain = sa.decrypt(data, seq >> 32)
    except Exception as err:  # an ICV mismatch or an undecodable packet
        return bad + ["scapy cannot decrypt: %s" % (str(err)[:100] or type(err).__name__)], \
            None
    if plain not in (e.data, e.alt):
        return bad + ["scapy decrypts to %s..., expected %s..." %
                      (plain[:48].hex(), e.data[:48].hex())], plain
    orig = parse_ip(plain)
    if c.mode == "tunnel":
        bad += check_outer(sa, pkt, data, orig)
    # Same key, plaintext and IV: scapy must produce exactly the same ESP bytes.
    again = bytes(sa.encrypt(orig, seq, iv=iv or None))
    if again[esp_offset(again):] != data[off:]:
        bad.append("ESP bytes differ from scapy's encryption with the same IV")
    return bad, plain


def outer_tos(data):
    return data[1] if data[0] >> 4 == 4 else ((data[0] & 15) << 4 | data[1] >> 4)


SUMMARY = re.compile(r"^frames (\d+)\s+written (\d+)\s+protected (\d+)\s+decrypted (\d+)\s+"
                     r"bypassed (\d+)\s+dropped (\d+)$")


def parse_stdout(text):
    drops, counters, summary = {}, {}, None
    for line in text.splitlines():
        m = re.match(r"^drop (\d+) (\S+)$", line)
        if m:
            drops[int(m.group(1))] = m.group(2)
            continue
        m = SUMMARY.match(line)
        if m:
            summary = [int(x) for x in m.groups()]
            continue
        m = re.match(r"^\s+drop (\S+)\s+(\d+)$", line)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return drops, counters, summary


def check_counts(c, drops, counters, summary, got):
    """The drop lines and the summary against the expectations and the frames that came
    out (@got: their numbers)."""
    bad = []
    want_drops = {n: e.reason for n, e in enumerate(c.expect, 1) if e.kind == "drop"}
    if drops != want_drops:
        missing = {n: r for n, r in want_drops.items() if drops.get(n) != r}
        extra = {n: r for n, r in drops.items() if want_drops.get(n) != r}
        bad.append("drop lines: missing %s, unexpected %s" % (fmt(missing), fmt(extra)))
    want_counters = {}
    for r in want_drops.values():
        want_counters[r] = want_counters.get(r, 0) + 1
    if counters != want_counters:
        bad.append("summary drop counters %s, expected %s" % (counters, want_counters))
    kinds = [c.expect[n - 1].kind for n in got if 1 <= n <= len(c.expect)]
    want = [len(c.frames), len(got), kinds.count("enc"), kinds.count("pass"), 0,
            len(want_drops)]
    if summary != want:
        bad.append("summary %s, expected frames/written/protected/decrypted/bypassed/"
                   "dropped %s" % (summary, want))
    return bad


def fmt(d):
    return "{" + ", ".join("frame %d %s" % kv for kv in sorted(d.items())) + "}" if d else "{}"


def check_output(c, linktype, frames):
    bad = []
    if linktype != LINKS[c.link][0]:
        bad.append("output link type %d, input's %d" % (linktype, LINKS[c.link][0]))
    got = [n for n, _, _ in frames]
    required = [n for n, e in enumerate(c.expect, 1)
                if e.kind in ("pass", "enc") and not e.optional]
    allowed = [n for n, e in enumerate(c.expect, 1) if e.kind in ("pass", "enc")]
    if got != sorted(set(got)) or not set(required) <= set(got) <= set(allowed):
        bad.append("output frames %s, expected %s" % (got, required))
    ivs, plains = set(), {}
    seq = c.seq_start
    for n, l2, data in frames:
        if not 1 <= n <= len(c.expect):
            continue
        e = c.expect[n - 1]
        want_l2 = LINKS[c.link][1][:-2] + ethertype(data) if c.link != "raw" else b""
        if l2 != want_l2:
            bad.append("frame %d: link header %s, expected %s" % (n, l2.hex(), want_l2.hex()))
        if e.kind == "pass" and data != e.data:
            bad.append("frame %d: output %s... differs from the original %s..." %
                       (n, data[:48].hex(), e.data[:48].hex()))
        elif e.kind == "enc":
            # Sequence numbers follow the order of protected packets (RFC 4303 §3.3.3).
            seq += 1
            problems, plains[n] = check_enc_frame(c, e, data, seq, ivs)
            bad += ["frame %d: %s" % (n, p) for p in problems]
        if len(bad) > 6:
            return bad[:6] + ["..."]
    return bad + check_fragment_groups(c, plains)


def check_fragment_groups(c, plains):
    """Fragments of one datagram must come out either each protected alone or, at the
    last one, reassembled and protected whole; not a mix."""
    bad = []
    groups = {}
    for n, e in enumerate(c.expect, 1):
        if e.group is not None:
            groups.setdefault(e.group, []).append(n)
    for g, members in sorted(groups.items()):
        last = c.expect[members[-1] - 1]
        alone = all(plains.get(n) == c.expect[n - 1].data for n in members)
        whole = plains.get(members[-1]) == last.alt and \
            not any(n in plains for n in members[:-1])
        if not (alone or whole):
            bad.append("frames %s: neither each fragment protected nor the datagram" %
                       members)
    return bad
