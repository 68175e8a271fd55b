// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/crypto/cbc_hmac.c: the RFC 3602 §4 AES-CBC vectors (raw Cases #1-#4 and
 * ESP sample packets #5-#8) through the `aes128` algorithm, and for the HMAC kinds the
 * order RFC 4303 §3.4.4.1 asks for: a packet whose ICV fails is left exactly as it came,
 * never decrypted. Sources: kat_util.h. */
#include <errno.h>
#include <stdio.h>

#include "kat_util.h"

/* 1. RFC 3602 Cases #5-#8: sample ESP packets, AES-128-CBC, no integrity. */
static void esp_aes_cbc_kat(void **state)
{
	static uint8_t pkt[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_ESP_COUNT; i++) {
		const struct kat_esp *v = &kat_esp[i];
		size_t off, len = v->plaintext.len;
		struct ipk_crypto *enc, *dec;

		if (strcmp(v->cipher, "AES-128-CBC") != 0)
			continue;
		enc = kat_crypto(v, true);
		dec = kat_crypto(v, false);
		for (int round = 0; round < 2; round++) {
			off = kat_frame(pkt, v);
			if (ipk_crypto_seal_iv(enc, pkt, len, v->seq, v->esn, v->iv.p) != 0)
				fail_msg("%s: seal failed", v->id);
			kat_expect(v, "packet", pkt, v->esp_packet.p, v->esp_packet.len);
		}
		for (int round = 0; round < 2; round++) {
			memcpy(pkt, v->esp_packet.p, v->esp_packet.len);
			if (ipk_crypto_open(dec, pkt, len, v->seq, v->esn) != 0)
				fail_msg("%s: open failed", v->id);
			kat_expect(v, "plaintext", pkt + off, v->plaintext.p, len);
		}
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
		n++;
	}
	assert_int_equal(n, 4);
}

/* 2. RFC 3602 Cases #1-#4: raw AES-128-CBC, run as the body of an ESP packet sealed
 * with an explicit IV (the header does not enter CBC). */
static void raw_aes_cbc_kat(void **state)
{
	const struct ipk_alg *alg = ipk_alg_find("aes128");
	static uint8_t pkt[KAT_BUF_LEN];
	uint8_t *body = pkt + KAT_ESP_HDR_LEN + 16;

	for (unsigned i = 0; i < KAT_CBC_COUNT; i++) {
		const struct kat_cbc *v = &kat_cbc[i];
		size_t len = v->plaintext.len;
		struct ipk_crypto *enc, *dec;

		assert_int_equal(ipk_crypto_create(&enc, alg, true, v->key.p, v->key.len, NULL, 0,
						   NULL), 0);
		assert_int_equal(ipk_crypto_create(&dec, alg, false, v->key.p, v->key.len, NULL, 0,
						   NULL), 0);
		memset(pkt, 0x5a, KAT_ESP_HDR_LEN);
		memcpy(body, v->plaintext.p, len);
		assert_int_equal(ipk_crypto_seal_iv(enc, pkt, len, 1, false, v->iv.p), 0);
		if (memcmp(body, v->ciphertext.p, len) != 0)
			fail_msg("%s (%s): ciphertext differs", v->id, v->source);
		assert_int_equal(ipk_crypto_open(dec, pkt, len, 1, false), 0);
		if (memcmp(body, v->plaintext.p, len) != 0)
			fail_msg("%s: plaintext differs", v->id);
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
	assert_int_equal(KAT_CBC_COUNT, 4);
}

static bool has_hmac(const struct kat_esp *v)
{
	enum ipk_alg_kind k = ipk_alg_find(v->alg)->kind;

	return k == IPK_ALG_CBC_HMAC || k == IPK_ALG_NULL_HMAC;
}

/* Opens a tampered copy: -EBADMSG and not one byte changed. */
static void expect_untouched(struct ipk_crypto *c, const struct kat_esp *v, const uint8_t *in,
			     uint64_t seq, const char *what)
{
	static uint8_t pkt[KAT_BUF_LEN];

	memcpy(pkt, in, v->esp_packet.len);
	if (ipk_crypto_open(c, pkt, v->plaintext.len, seq, v->esn) != -EBADMSG)
		fail_msg("%s: %s accepted", v->id, what);
	if (memcmp(pkt, in, v->esp_packet.len) != 0)
		fail_msg("%s: %s: buffer changed (decrypted before the ICV check?)", v->id, what);
}

/* 3. CBC + HMAC and NULL + HMAC (cross-check packets, with and without ESN): one flipped
 * bit in the ciphertext, the ICV, the SPI, the sequence number or the IV, or a wrong ESN
 * high half, is refused before decryption; the intact packet still opens afterwards. */
static void hmac_kinds_verify_before_decrypting(void **state)
{
	static uint8_t bad[KAT_BUF_LEN];
	unsigned n = 0;

	for (unsigned i = 0; i < KAT_CROSSCHECK_COUNT; i++) {
		const struct kat_esp *v = &kat_crosscheck[i];
		size_t off = KAT_ESP_HDR_LEN + v->iv.len, len = v->plaintext.len;
		const size_t flips[][2] = {
			{ off, 0x01 }, { off + len - 1, 0x80 }, { off + len, 0x01 },
			{ off + len + v->icv.len - 1, 0x80 }, { 1, 0x04 }, { 6, 0x20 },
			{ KAT_ESP_HDR_LEN, 0x01 },
		};
		struct ipk_crypto *c;

		if (!has_hmac(v))
			continue;
		c = kat_crypto(v, false);
		for (unsigned f = 0; f < IPK_ARRAY_SIZE(flips); f++) {
			char what[32];

			memcpy(bad, v->esp_packet.p, v->esp_packet.len);
			bad[flips[f][0]] ^= (uint8_t)flips[f][1];
			snprintf(what, sizeof(what), "flip %u (byte %zu)", f, flips[f][0]);
			expect_untouched(c, v, bad, v->seq, what);
		}
		if (v->esn)
			expect_untouched(c, v, v->esp_packet.p, v->seq + (1ull << 32), "seq_hi");
		memcpy(bad, v->esp_packet.p, v->esp_packet.len);
		assert_int_equal(ipk_crypto_open(c, bad, len, v->seq, v->esn), 0);
		kat_expect(v, "plaintext", bad + off, v->plaintext.p, len);
		ipk_crypto_destroy(c);
		n++;
	}
	/* aes128-sha256, aes256-sha256, null-sha256, 3des-md5, 3des-sha1; ESN and not. */
	assert_int_equal(n, 10);
}

/* 4. Lengths: CBC needs whole blocks. Sealing a misaligned plaintext is a caller bug
 * (-EINVAL); a misaligned ciphertext from the wire is a bad packet (-EBADMSG). */
static const struct {
	const char *alg;
	size_t len;
	int seal_rc, open_rc;
} lengths[] = {
	/* 0 */ { "aes128-sha256", 20, -EINVAL, -EBADMSG },
	/* 1 */ { "aes256-sha256", 8, -EINVAL, -EBADMSG },
	/* 2 */ { "3des-md5", 12, -EINVAL, -EBADMSG },
	/* 3 */ { "3des-sha1", 4, -EINVAL, -EBADMSG },
	/* 4 */ { "aes128", 24, -EINVAL, -EBADMSG },
	/* 5 */ { "aes128-sha256", 32, 0, -EBADMSG },
	/* 6 */ { "3des-sha1", 16, 0, -EBADMSG },
};

static void misaligned_lengths_are_refused(void **state)
{
	static const uint8_t key[64];

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(lengths); i++) {
		const struct ipk_alg *a = ipk_alg_find(lengths[i].alg);
		uint8_t pkt[256] = { 0 };
		struct ipk_crypto *enc, *dec;
		int rc;

		assert_int_equal(ipk_crypto_create(&enc, a, true, key, a->enc_key_len, key,
						   a->auth_key_len, NULL), 0);
		assert_int_equal(ipk_crypto_create(&dec, a, false, key, a->enc_key_len, key,
						   a->auth_key_len, NULL), 0);
		rc = ipk_crypto_seal(enc, pkt, lengths[i].len, 9, false);
		if (rc != lengths[i].seal_rc)
			fail_msg("row %u: seal rc %d", i, rc);
		/* Rows 5 and 6 seal fine: a zeroed ICV must then fail the check. */
		if (rc == 0)
			memset(pkt + KAT_ESP_HDR_LEN + a->iv_len + lengths[i].len, 0, a->icv_len);
		rc = ipk_crypto_open(dec, pkt, lengths[i].len, 9, false);
		if (rc != lengths[i].open_rc)
			fail_msg("row %u: open rc %d", i, rc);
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_aes_cbc_kat),
		cmocka_unit_test(raw_aes_cbc_kat),
		cmocka_unit_test(hmac_kinds_verify_before_decrypting),
		cmocka_unit_test(misaligned_lengths_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
