// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/crypto/aead.c: the AES-GCM, AES-GMAC and ChaCha20-Poly1305 ESP vectors
 * (draft-mcgrew-gcm-test-01 §4, RFC 7634 Appendix A) through ipk_crypto_seal_iv() and
 * ipk_crypto_open(), tampering with each authenticated field, and the raw AEAD vectors
 * (RFC 8439 §2.8.2, A.5, RFC 7634 Appendix B) on the AEAD primitive. Sources: kat_util.h. */
#include <errno.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "crypto/aead.h"
#include "kat_util.h"

/* The published ESP vectors of the AEAD kinds: all but esp-aes-cbc. */
#define ESP_AEAD_VECTORS 18
/* Of those, the ones ipseck has an algorithm for: all but AES-192-GCM (case 7). */
#define ESP_AEAD_IN_TABLE 17

static bool is_aead(const struct kat_esp *v)
{
	return strcmp(v->cipher, "AES-128-CBC") != 0;
}

static bool is_gmac(const struct kat_esp *v)
{
	return v->alg && strcmp(v->alg, "aes128gmac") == 0;
}

/* 1. Encapsulation: the packet byte for byte, twice on one context (the second run
 * shows that only the nonce is reset between packets). */
static void esp_encapsulation_kat(void **state)
{
	static uint8_t pkt[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_ESP_COUNT; i++) {
		const struct kat_esp *v = &kat_esp[i];
		struct ipk_crypto *c;

		if (!is_aead(v) || !v->alg)
			continue;
		c = kat_crypto(v, true);
		for (int round = 0; round < 2; round++) {
			kat_frame(pkt, v);
			if (ipk_crypto_seal_iv(c, pkt, v->plaintext.len, v->seq, v->esn, v->iv.p))
				fail_msg("%s: seal failed", v->id);
			kat_expect(v, "packet", pkt, v->esp_packet.p, v->esp_packet.len);
		}
		ipk_crypto_destroy(c);
		n++;
	}
	assert_int_equal(n, ESP_AEAD_IN_TABLE);
}

/* 2. Decapsulation: the plaintext back, header, IV and ICV untouched. */
static void esp_decapsulation_kat(void **state)
{
	static uint8_t pkt[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_ESP_COUNT; i++) {
		const struct kat_esp *v = &kat_esp[i];
		size_t off = KAT_ESP_HDR_LEN + v->iv.len, len = v->plaintext.len;
		struct ipk_crypto *c;

		if (!is_aead(v) || !v->alg)
			continue;
		c = kat_crypto(v, false);
		for (int round = 0; round < 2; round++) {
			memcpy(pkt, v->esp_packet.p, v->esp_packet.len);
			if (ipk_crypto_open(c, pkt, len, v->seq, v->esn) != 0)
				fail_msg("%s: open failed", v->id);
			kat_expect(v, "plaintext", pkt + off, v->plaintext.p, len);
			kat_expect(v, "header and IV", pkt, v->esp_packet.p, off);
			kat_expect(v, "ICV", pkt + off + len, v->icv.p, v->icv.len);
		}
		ipk_crypto_destroy(c);
		n++;
	}
	assert_int_equal(n, ESP_AEAD_IN_TABLE);
}

/* Opens a tampered copy: -EBADMSG, and no plaintext left behind. GMAC decrypts nothing
 * so the packet stays as it came; GCM/ChaCha20 wipe what libcrypto decrypted. */
static void expect_rejected(struct ipk_crypto *c, const struct kat_esp *v, const uint8_t *pkt_in,
			    uint64_t seq, bool esn, const char *what)
{
	static uint8_t pkt[KAT_BUF_LEN];
	static const uint8_t zero[KAT_BUF_LEN];
	size_t off = KAT_ESP_HDR_LEN + v->iv.len, len = v->plaintext.len;

	memcpy(pkt, pkt_in, v->esp_packet.len);
	if (ipk_crypto_open(c, pkt, len, seq, esn) != -EBADMSG)
		fail_msg("%s: %s accepted", v->id, what);
	if (is_gmac(v)) {
		if (memcmp(pkt, pkt_in, v->esp_packet.len) != 0)
			fail_msg("%s: %s: rejected packet modified", v->id, what);
	} else if (memcmp(pkt + off, zero, len) != 0) {
		fail_msg("%s: %s: unauthenticated plaintext left in the buffer", v->id, what);
	}
}

/* 3. One flipped bit anywhere that is authenticated fails the tag: first and last
 * payload byte, first and last ICV byte, SPI, sequence number, IV, and the ESN high half
 * (never sent, RFC 4106 §5) or ESN on a packet sealed without. */
static void esp_tampering_is_detected(void **state)
{
	static uint8_t bad[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_ESP_COUNT; i++) {
		const struct kat_esp *v = &kat_esp[i];
		size_t off = KAT_ESP_HDR_LEN + v->iv.len, len = v->plaintext.len;
		const size_t flips[][2] = {
			{ off, 0x01 }, { off + len - 1, 0x80 }, { off + len, 0x01 },
			{ off + len + v->icv.len - 1, 0x80 }, { 0, 0x10 }, { 7, 0x01 },
			{ KAT_ESP_HDR_LEN, 0x01 },
		};
		struct ipk_crypto *c;

		if (!is_aead(v) || !v->alg)
			continue;
		c = kat_crypto(v, false);
		for (unsigned f = 0; f < IPK_ARRAY_SIZE(flips); f++) {
			char what[32];

			memcpy(bad, v->esp_packet.p, v->esp_packet.len);
			bad[flips[f][0]] ^= (uint8_t)flips[f][1];
			snprintf(what, sizeof(what), "flip %u (byte %zu)", f, flips[f][0]);
			expect_rejected(c, v, bad, v->seq, v->esn, what);
		}
		if (v->esn)
			expect_rejected(c, v, v->esp_packet.p, v->seq ^ (1ull << 32), true,
					"seq_hi");
		else
			expect_rejected(c, v, v->esp_packet.p, v->seq, true,
					"ESN on 32-bit packet");
		ipk_crypto_destroy(c);
		n++;
	}
	assert_int_equal(n, ESP_AEAD_IN_TABLE);
}

static struct ipk_aead aead_for(const char *id, const char *cipher, const struct kat_bytes *key,
				const uint8_t *salt, bool encrypt)
{
	struct ipk_aead a;

	if (ipk_aead_init(&a, cipher, key->p, key->len, salt, encrypt) != 0)
		fail_msg("%s: ipk_aead_init failed", id);
	return a;
}

/* 4. Every ESP AEAD vector again on the primitive, framed here: nonce = salt || IV and
 * AAD = SPI || [seq_hi ||] seq_lo, or for GMAC the whole packet before the ICV. This is
 * where AES-192-GCM (case 7), which ipseck does not offer, runs. */
static void esp_vectors_on_the_primitive(void **state)
{
	static uint8_t buf[KAT_BUF_LEN], aad[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_ESP_COUNT; i++) {
		const struct kat_esp *v = &kat_esp[i];
		bool gmac = is_gmac(v);
		size_t len = v->plaintext.len, aad_len = 8, enc_len = gmac ? 0 : len;
		struct ipk_aead enc, dec;
		uint8_t tag[IPK_AEAD_TAG_LEN];
		struct ipk_span span;

		if (!is_aead(v))
			continue;
		memcpy(aad, v->spi.p, 4);
		kat_put_be32(aad + 4, (uint32_t)(v->seq >> 32));
		kat_put_be32(aad + (v->esn ? 8 : 4), (uint32_t)v->seq);
		aad_len = v->esn ? 12 : 8;
		if (gmac) {
			memcpy(aad + aad_len, v->iv.p, v->iv.len);
			memcpy(aad + aad_len + v->iv.len, v->plaintext.p, len);
			aad_len += v->iv.len + len;
		}
		span = (struct ipk_span){ aad, aad_len };
		enc = aead_for(v->id, v->cipher, &v->key, v->salt.p, true);
		dec = aead_for(v->id, v->cipher, &v->key, v->salt.p, false);
		memcpy(buf, v->plaintext.p, len);
		assert_int_equal(ipk_aead_seal(&enc, v->iv.p, &span, 1, buf, enc_len, tag), 0);
		if (!gmac)
			kat_expect(v, "ciphertext", buf, v->ciphertext.p, len);
		kat_expect(v, "tag", tag, v->icv.p, IPK_AEAD_TAG_LEN);
		assert_int_equal(ipk_aead_open(&dec, v->iv.p, &span, 1, buf, enc_len, tag), 0);
		kat_expect(v, "plaintext", buf, v->plaintext.p, len);
		tag[IPK_AEAD_TAG_LEN - 1] ^= 1;
		assert_int_equal(ipk_aead_open(&dec, v->iv.p, &span, 1, buf, enc_len, tag),
				 -EBADMSG);
		ipk_aead_fini(&enc);
		ipk_aead_fini(&dec);
		n++;
	}
	assert_int_equal(n, ESP_AEAD_VECTORS);
}

/* 5. Raw AEAD vectors, AAD of any length: seal (twice, and with the AAD in two spans),
 * open, and a bad tag that leaves a zeroed buffer. */
static void raw_aead_kat(void **state)
{
	static uint8_t buf[KAT_BUF_LEN];
	static const uint8_t zero[KAT_BUF_LEN];

	for (unsigned i = 0; i < KAT_AEAD_COUNT; i++) {
		const struct kat_aead *v = &kat_aead[i];
		size_t len = v->plaintext.len, half = v->aad.len / 2;
		struct ipk_aead enc = aead_for(v->id, v->cipher, &v->key, v->salt.p, true);
		struct ipk_aead dec = aead_for(v->id, v->cipher, &v->key, v->salt.p, false);
		struct ipk_span whole = { v->aad.p, v->aad.len };
		struct ipk_span split[2] = {
			{ v->aad.p, half },
			{ v->aad.p + half, v->aad.len - half },
		};
		uint8_t tag[IPK_AEAD_TAG_LEN];

		for (int round = 0; round < 2; round++) {
			memcpy(buf, v->plaintext.p, len);
			assert_int_equal(ipk_aead_seal(&enc, v->iv.p, round ? split : &whole,
						       round ? 2 : 1, buf, len, tag), 0);
			if (memcmp(buf, v->ciphertext.p, len) || memcmp(tag, v->tag.p, sizeof(tag)))
				fail_msg("%s (%s) round %d: wrong output", v->id, v->source, round);
		}
		assert_int_equal(ipk_aead_open(&dec, v->iv.p, &whole, 1, buf, len, tag), 0);
		if (memcmp(buf, v->plaintext.p, len) != 0)
			fail_msg("%s: plaintext not recovered", v->id);
		memcpy(buf, v->ciphertext.p, len);
		tag[0] ^= 0x80;
		assert_int_equal(ipk_aead_open(&dec, v->iv.p, &whole, 1, buf, len, tag), -EBADMSG);
		if (memcmp(buf, zero, len) != 0)
			fail_msg("%s: unauthenticated plaintext left", v->id);
		ipk_aead_fini(&enc);
		ipk_aead_fini(&dec);
	}
	assert_int_equal(KAT_AEAD_COUNT, 3);
}

/* 6. The primitive checks the key length against the cipher and names it right. */
static void primitive_refuses_bad_setup(void **state)
{
	static const uint8_t key[32], salt[4];
	struct ipk_aead a;

	assert_int_equal(ipk_aead_init(&a, "AES-128-GCM", key, 32, salt, true), -EINVAL);
	assert_null(a.ctx);
	assert_int_equal(ipk_aead_init(&a, "ChaCha20-Poly1305", key, 16, salt, false), -EINVAL);
	assert_int_equal(ipk_aead_init(&a, "AES-129-GCM", key, 16, salt, true), -EIO);
	assert_int_equal(ipk_aead_init(&a, "AES-256-GCM", key, 32, salt, true), 0);
	ipk_aead_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_encapsulation_kat),
		cmocka_unit_test(esp_decapsulation_kat),
		cmocka_unit_test(esp_tampering_is_detected),
		cmocka_unit_test(esp_vectors_on_the_primitive),
		cmocka_unit_test(raw_aead_kat),
		cmocka_unit_test(primitive_refuses_bad_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
