#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write esp-crosscheck.json: ESP packets for every ipseck algorithm, computed with
python3-cryptography (an implementation independent of libcrypto's EVP framing code).

No published ESP packet vectors exist for AES-CBC + HMAC-SHA-256-128, 3DES-CBC +
HMAC-MD5-96 / HMAC-SHA1-96 or NULL + HMAC-SHA-256-128, nor for ESN with those or with
GMAC. These vectors fill that gap and pin down the IVs ipk_crypto_seal() derives from
the sequence number (src/crypto/alg.h):

  AEAD (GCM, ChaCha20-Poly1305, GMAC)   IV = seq, 64-bit big endian
  CBC (AES, 3DES)                       IV = E_K(zeros || seq) in ECB, one block
  NULL                                  no IV

Usage (Debian: apt-get install python3-cryptography), from the repository root:

    /usr/bin/python3 tests/vectors/gen_crosscheck.py > tests/vectors/esp-crosscheck.json

The output is deterministic; the build never runs this script (gen_kat.py only reads the
JSON it wrote).
"""
import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

# name: (kind, enc key bytes, salt bytes, auth key bytes, block, icv bytes, hash)
ALGS = {
    "aes128gcm16": ("gcm", 16, 4, 0, 4, 16, None),
    "aes256gcm16": ("gcm", 32, 4, 0, 4, 16, None),
    "chacha20poly1305": ("chacha", 32, 4, 0, 4, 16, None),
    "aes128-sha256": ("aes-cbc", 16, 0, 32, 16, 16, "sha256"),
    "aes256-sha256": ("aes-cbc", 32, 0, 32, 16, 16, "sha256"),
    "null-sha256": ("null", 0, 0, 32, 4, 16, "sha256"),
    "3des-md5": ("3des-cbc", 24, 0, 16, 8, 12, "md5"),
    "3des-sha1": ("3des-cbc", 24, 0, 20, 8, 12, "sha1"),
    "aes128gmac": ("gmac", 16, 4, 0, 4, 16, None),
    "aes128": ("aes-cbc", 16, 0, 0, 16, 0, None),
}

# (esn, full 64-bit sequence number, payload length). The ESN cases have a non-zero
# high half, which must enter the AAD / ICV although it is never sent.
CASES = [(False, 0x0000002A, 41), (True, 0x00000003FFFFFFF0, 100)]


def stream(label, n):
    """n deterministic bytes named by label (SHA-256 in counter mode)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(("ipseck crosscheck %s %d" % (label, i)).encode()).digest()
        i += 1
    return out[:n]


def trailer(payload_len, block):
    """RFC 4303 section 2.4 default padding 1, 2, 3, ... to align payload || pad || 2."""
    pad_len = (-(payload_len + 2)) % block
    return bytes(range(1, pad_len + 1)), pad_len


def block_cipher(kind, key):
    return algorithms.AES(key) if kind == "aes-cbc" else algorithms.TripleDES(key)


def derive_iv(kind, key, seq):
    if kind in ("gcm", "chacha", "gmac"):
        return struct.pack(">Q", seq)
    if kind == "null":
        return b""
    algo = block_cipher(kind, key)
    bs = algo.block_size // 8
    block = bytes(bs - 8) + struct.pack(">Q", seq)
    enc = Cipher(algo, modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aad_head(spi, seq, esn):
    if esn:
        return spi + struct.pack(">II", seq >> 32, seq & 0xFFFFFFFF)
    return spi + struct.pack(">I", seq & 0xFFFFFFFF)


def seal(kind, hash_name, icv_len, key, salt, auth_key, spi, seq, esn, iv, plaintext):
    head = spi + struct.pack(">I", seq & 0xFFFFFFFF)
    if kind in ("gcm", "chacha"):
        aead = AESGCM(key) if kind == "gcm" else ChaCha20Poly1305(key)
        out = aead.encrypt(salt + iv, plaintext, aad_head(spi, seq, esn))
        return out[:-16], out[-16:], head + iv + out
    if kind == "gmac":
        aad = aad_head(spi, seq, esn) + iv + plaintext
        tag = AESGCM(key).encrypt(salt + iv, b"", aad)
        return plaintext, tag, head + iv + plaintext + tag
    if kind == "null":
        ct = plaintext
    else:
        enc = Cipher(block_cipher(kind, key), modes.CBC(iv)).encryptor()
        ct = enc.update(plaintext) + enc.finalize()
    if not hash_name:
        return ct, b"", head + iv + ct
    covered = head + iv + ct + (struct.pack(">I", seq >> 32) if esn else b"")
    icv = hmac.new(auth_key, covered, hash_name).digest()[:icv_len]
    return ct, icv, head + iv + ct + icv


def vector(name, esn, seq, payload_len):
    kind, key_len, salt_len, auth_len, block, icv_len, hash_name = ALGS[name]
    label = "%s esn=%d" % (name, esn)
    key = stream(label + " key", key_len)
    salt = stream(label + " salt", salt_len)
    auth_key = stream(label + " auth-key", auth_len)
    spi = stream(label + " spi", 4)
    payload = stream(label + " payload", payload_len)
    padding, pad_len = trailer(payload_len, block)
    plaintext = payload + padding + bytes([pad_len, 4])
    iv = derive_iv(kind, key, seq)
    ct, icv, packet = seal(kind, hash_name, icv_len, key, salt, auth_key, spi, seq, esn, iv,
                           plaintext)
    return {
        "id": "crosscheck-%s-%s" % (name, "esn" if esn else "seq32"),
        "status": "verified",
        "group": "esp-crosscheck",
        "alg": name,
        "source": {
            "document": "computed by tests/vectors/gen_crosscheck.py with python3-cryptography",
            "section": "ipseck IV derivation (src/crypto/alg.h); RFC 4303 section 2",
        },
        "key": key.hex(),
        "salt": salt.hex(),
        "auth_key": auth_key.hex(),
        "iv": iv.hex(),
        "spi": spi.hex(),
        "seq": ("%016x" if esn else "%08x") % seq,
        "esn": esn,
        "plaintext": plaintext.hex(),
        "ciphertext": ct.hex(),
        "icv": icv.hex(),
        "esp_packet": packet.hex(),
    }


def main():
    vectors = [vector(name, esn, seq, plen) for name in ALGS for esn, seq, plen in CASES]
    doc = {
        "format": "esp-vectors/1",
        "description": "ESP packets for every ipseck algorithm, with and without ESN, with "
                       "the IV ipk_crypto_seal() derives from the sequence number; computed "
                       "with python3-cryptography by gen_crosscheck.py. Not published "
                       "vectors: an independent cross-check.",
        "counts": {"total": len(vectors), "verified": len(vectors), "failed": 0},
        "vectors": vectors,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
