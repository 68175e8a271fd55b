# SPDX-License-Identifier: BSD-2-Clause
"""Command line of the scapy interoperability tests (driven by scapy_esp.sh).

  esp_interop.py gen DIR     writes, for every case, DIR/ID.conf and DIR/ID.in.pcap, and
                             DIR/cases.list with one "ID<TAB>NAME" line per case
  esp_interop.py check DIR   reads what `ipseck pcap` left for each case (DIR/ID.out.pcap,
                             DIR/ID.stdout, DIR/ID.rc) and prints one line per check,
                             "ok   NAME" or "FAIL NAME: what is wrong"; exits 1 if any failed

The tshark checks give the SA's keys to Wireshark's ESP dissector (preference uat:esp_sa)
and let it verify and decrypt what ipseck sent (aes128gcm16, aes128-sha256, 3des-md5
tunnel cases), when tshark is installed.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from esp_cases import all_cases, check_counts, check_output, parse_stdout  # noqa: E402
from esp_peer import parse_ip, read_pcap, write_pcap  # noqa: E402

# ipseck algorithm -> Wireshark's names for its ESP SA table (Wireshark 4.0).
TSHARK_ALGS = {
    "aes128gcm16": ("AES-GCM with 16 octet ICV [RFC4106]", "NULL"),
    "aes128-sha256": ("AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"),
    "3des-md5": ("TripleDES-CBC [RFC2451]", "HMAC-MD5-96 [RFC2403]"),
}


def gen(workdir):
    with open(os.path.join(workdir, "cases.list"), "w") as lst:
        for c in all_cases():
            base = os.path.join(workdir, c.slug)
            with open(base + ".conf", "w") as f:
                f.write(c.config())
            write_pcap(base + ".in.pcap", c.frames, c.link)
            lst.write("%s\t%s\n" % (c.slug, c.name))
    return 0


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def check_case(c, base):
    rc = read(base + ".rc")
    if rc is None:
        return ["ipseck was not run"]
    if rc.strip() != "0":
        err = (read(base + ".stderr") or "").strip().splitlines()
        return ["ipseck exited %s: %s" % (rc.strip(), err[0] if err else "")]
    try:
        linktype, frames = read_pcap(base + ".out.pcap", c.link)
    except Exception as err:  # a missing or unreadable capture
        return ["cannot read the output capture: %s" % err]
    drops, counters, summary = parse_stdout(read(base + ".stdout") or "")
    bad = check_counts(c, drops, counters, summary, [n for n, _, _ in frames])
    return bad + check_output(c, linktype, frames)


def tshark_check(c, base):
    """Wireshark's ESP dissector, given the key, must decrypt every packet ipseck sent
    and find the original inner addresses and protocol."""
    sa = c.a_to_b
    enc, auth = TSHARK_ALGS[sa.alg]
    uat = '"IPv%d","%s","%s","0x%08x","%s","0x%s","%s","%s"' % (
        c.outer, sa.src, sa.dst, sa.spi, enc, sa.enc_key.hex(), auth,
        "0x" + sa.auth_key.hex() if sa.auth_key else "")
    cmd = ["tshark", "-n", "-r", base + ".out.pcap",
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE",
           "-o", "uat:esp_sa:" + uat,
           # Only ESP and IP matter here; upper-layer dissectors guess protocols from
           # the test's ports and may throw before the ICV is shown.
           "--disable-protocol", "udp", "--disable-protocol", "tcp",
           "--disable-protocol", "icmp",
           "-T", "fields", "-E", "separator=|", "-E", "aggregator=,",
           "-e", "esp.spi", "-e", "esp.sequence", "-e", "esp.icv_good", "-e", "ip.src",
           "-e", "ip.dst", "-e", "ip.proto"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return ["tshark: %s" % err]
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    want = [e for e in c.expect if e.kind == "enc"]
    if res.returncode != 0 or len(lines) != len(want):
        return ["tshark exited %d with %d lines for %d packets: %s" %
                (res.returncode, len(lines), len(want), res.stderr.strip()[:200])]
    bad = []
    for seq, (ln, e) in enumerate(zip(lines, want), c.seq_start + 1):
        spi, seq_field, good, srcs, dsts, protos = ln.split("|")
        inner = parse_ip(e.data)
        got = (int(spi, 0), int(seq_field), good, srcs.split(","), dsts.split(","),
               protos.split(","))
        expect = (sa.spi, seq, "1", [sa.src, inner.src], [sa.dst, inner.dst],
                  ["50", str(inner.proto)])
        if got != expect:
            bad.append("seq %d: tshark decoded %s, expected %s" % (seq, got, expect))
    return bad[:4]


def report(name, bad):
    if bad:
        print("FAIL %s: %s" % (name, "; ".join(bad)))
    else:
        print("ok   %s" % name)
    sys.stdout.flush()
    return not bad


def check(workdir):
    ok = True
    for c in all_cases():
        base = os.path.join(workdir, c.slug)
        ok &= report(c.name, check_case(c, base))
        if c.tshark and shutil.which("tshark"):
            ok &= report("tshark decrypts " + c.name, tshark_check(c, base))
    return 0 if ok else 1


def main(argv):
    if len(argv) != 3 or argv[1] not in ("gen", "check"):
        sys.stderr.write("usage: esp_interop.py gen|check DIR\n")
        return 2
    return gen(argv[2]) if argv[1] == "gen" else check(argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
