/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the crypto unit tests: framing a known-answer vector as an ESP buffer
 * and building its crypto context.
 *
 * Where the vectors come from (each row's `source` names the document, section and case;
 * tests/vectors/README.md has the full provenance):
 *   kat_esp         RFC 3602 §4 Cases #5-#8 (AES-128-CBC ESP), draft-mcgrew-gcm-test-01 §4
 *                   (AES-GCM ESP cases 1-14, 16, 17; AES-GMAC ESP case 15), RFC 7634
 *                   Appendix A (ChaCha20-Poly1305 ESP)
 *   kat_aead        RFC 8439 §2.8.2 and A.5, RFC 7634 Appendix B
 *   kat_hmac        RFC 2202 (MD5, SHA-1), RFC 4231 (SHA-256), RFC 4868 §2.7.1, §2.7.2
 *   kat_cbc         RFC 3602 §4 Cases #1-#4
 *   kat_crosscheck  not published: computed with python3-cryptography by
 *                   tests/vectors/gen_crosscheck.py for every ipseck algorithm, with and
 *                   without ESN, IVs derived as src/crypto/alg.h says
 * The tables are generated at build time from the JSON files in tests/vectors by gen_kat.py.
 */
#ifndef KAT_UTIL_H
#define KAT_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/alg.h"
#include "kat_vectors.h"

/* Room for the largest test packet (1500-byte plaintext) with header, IV and ICV. */
#define KAT_BUF_LEN 2048
#define KAT_ESP_HDR_LEN 8

static inline void kat_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void kat_put_be64(uint8_t *p, uint64_t v)
{
	kat_put_be32(p, (uint32_t)(v >> 32));
	kat_put_be32(p + 4, (uint32_t)v);
}

/* Writes SPI | seq_lo | zeroed IV | plaintext | zeroed ICV room into @buf, as the ESP
 * output path hands a packet to ipk_crypto_seal(). Returns the offset of the plaintext. */
static inline size_t kat_frame(uint8_t *buf, const struct kat_esp *v)
{
	size_t off = KAT_ESP_HDR_LEN + v->iv.len;

	memset(buf, 0, KAT_BUF_LEN);
	memcpy(buf, v->spi.p, 4);
	kat_put_be32(buf + 4, (uint32_t)v->seq);
	memcpy(buf + off, v->plaintext.p, v->plaintext.len);
	return off;
}

/* Key as `sa add` takes it: cipher key || salt. */
static inline size_t kat_enc_key(uint8_t *out, const struct kat_esp *v)
{
	memcpy(out, v->key.p, v->key.len);
	memcpy(out + v->key.len, v->salt.p, v->salt.len);
	return v->key.len + v->salt.len;
}

/* The context for vector @v (which must name an ipseck algorithm) in one direction. */
static inline struct ipk_crypto *kat_crypto(const struct kat_esp *v, bool encrypt)
{
	const struct ipk_alg *alg = ipk_alg_find(v->alg);
	struct ipk_crypto *c = NULL;
	struct ipk_err err = { { 0 } };
	uint8_t key[64];
	size_t key_len;

	assert_non_null(alg);
	key_len = kat_enc_key(key, v);
	if (ipk_crypto_create(&c, alg, encrypt, key, key_len, v->auth_key.p, v->auth_key.len,
			      &err) != 0)
		fail_msg("%s: %s", v->id, err.msg);
	return c;
}

/* Fails with the vector's name and source when @n bytes differ. */
static inline void kat_expect(const struct kat_esp *v, const char *what, const uint8_t *got,
			      const uint8_t *want, size_t n)
{
	if (memcmp(got, want, n) != 0)
		fail_msg("%s (%s): %s differs", v->id, v->source, what);
}

#endif
