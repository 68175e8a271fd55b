// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/crypto/alg.c: the algorithm table and its lookups, key-length checks,
 * the context life cycle and direction, IV derivation, a seal/open round trip for every
 * algorithm with and without ESN, and the cross-check packets of every algorithm
 * (tests/vectors/esp-crosscheck.json, see kat_util.h for all vector sources). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "kat_util.h"

/* libcrypto's allocations, counted (installed first thing in main). */
static size_t n_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
	n_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	n_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	free(p);
}

/* 1. The table generated from IPK_ALGS: every row, as alg.h documents it. */
static const struct {
	const char *name;
	enum ipk_alg_kind kind;
	unsigned enc, salt, auth, iv, block, icv;
	bool insecure;
} rows[] = {
	/* 0 */ { "aes128gcm16", IPK_ALG_AEAD, 16, 4, 0, 8, 4, 16, false },
	/* 1 */ { "aes256gcm16", IPK_ALG_AEAD, 32, 4, 0, 8, 4, 16, false },
	/* 2 */ { "chacha20poly1305", IPK_ALG_AEAD, 32, 4, 0, 8, 4, 16, false },
	/* 3 */ { "aes128-sha256", IPK_ALG_CBC_HMAC, 16, 0, 32, 16, 16, 16, false },
	/* 4 */ { "aes256-sha256", IPK_ALG_CBC_HMAC, 32, 0, 32, 16, 16, 16, false },
	/* 5 */ { "null-sha256", IPK_ALG_NULL_HMAC, 0, 0, 32, 0, 4, 16, false },
	/* 6 */ { "3des-md5", IPK_ALG_CBC_HMAC, 24, 0, 16, 8, 8, 12, false },
	/* 7 */ { "3des-sha1", IPK_ALG_CBC_HMAC, 24, 0, 20, 8, 8, 12, false },
	/* 8 */ { "aes128gmac", IPK_ALG_GMAC, 16, 4, 0, 8, 4, 16, false },
	/* 9 */ { "aes128", IPK_ALG_CBC_NONE, 16, 0, 0, 16, 16, 0, true },
};

static void table_has_every_row(void **state)
{
	assert_int_equal(IPK_ALG_COUNT, IPK_ARRAY_SIZE(rows));
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		const struct ipk_alg *a = ipk_alg_find(rows[i].name);

		if (!a)
			fail_msg("row %u: %s not found", i, rows[i].name);
		assert_ptr_equal(ipk_alg_get(a->id), a);
		assert_int_equal(a->id, i);
		assert_string_equal(a->name, rows[i].name);
		assert_int_equal(a->kind, rows[i].kind);
		assert_int_equal(a->enc_key_len, rows[i].enc);
		assert_int_equal(a->salt_len, rows[i].salt);
		assert_int_equal(a->auth_key_len, rows[i].auth);
		assert_int_equal(a->iv_len, rows[i].iv);
		assert_int_equal(a->block_size, rows[i].block);
		assert_int_equal(a->icv_len, rows[i].icv);
		assert_int_equal(a->insecure, rows[i].insecure);
	}
}

/* 2. Unknown names and ids. */
static void lookups_refuse_unknown(void **state)
{
	static const char *const unknown[] = { "aes129gcm16", "", "AES128GCM16", "aes128gcm",
					       "aes128gcm16 ", "aes192gcm16" };

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(unknown); i++)
		if (ipk_alg_find(unknown[i]))
			fail_msg("row %u: '%s' found", i, unknown[i]);
	assert_null(ipk_alg_find(NULL));
	assert_null(ipk_alg_get(IPK_ALG_COUNT));
	assert_null(ipk_alg_get((enum ipk_alg_id)-1));
}

/* 3. The list for error messages has the secure names only, in table order. */
static void names_lists_secure_algorithms(void **state)
{
	assert_string_equal(ipk_alg_names(), "aes128gcm16, aes256gcm16, chacha20poly1305, "
					     "aes128-sha256, aes256-sha256, null-sha256, "
					     "3des-md5, 3des-sha1, aes128gmac");
	assert_ptr_equal(ipk_alg_names(), ipk_alg_names());
}

/* 4. Key-length errors: a row per algorithm and key, with the message people see. */
static const struct {
	const char *alg;
	size_t enc_len, auth_len;
	const char *msg;
} key_errors[] = {
	/* 0 */ { "aes128gcm16", 16, 0,
		  "aes128gcm16: key must be 20 bytes (16 key + 4 salt), got 16" },
	/* 1 */ { "aes128gcm16", 20, 32, "aes128gcm16: takes no auth-key, got 32 bytes" },
	/* 2 */ { "aes256gcm16", 32, 0,
		  "aes256gcm16: key must be 36 bytes (32 key + 4 salt), got 32" },
	/* 3 */ { "aes256gcm16", 40, 0,
		  "aes256gcm16: key must be 36 bytes (32 key + 4 salt), got 40" },
	/* 4 */ { "chacha20poly1305", 32, 0,
		  "chacha20poly1305: key must be 36 bytes (32 key + 4 salt), got 32" },
	/* 5 */ { "chacha20poly1305", 36, 16, "chacha20poly1305: takes no auth-key, got 16 bytes" },
	/* 6 */ { "aes128-sha256", 20, 32, "aes128-sha256: enc-key must be 16 bytes, got 20" },
	/* 7 */ { "aes128-sha256", 16, 16, "aes128-sha256: auth-key must be 32 bytes, got 16" },
	/* 8 */ { "aes128-sha256", 16, 0, "aes128-sha256: auth-key must be 32 bytes, got 0" },
	/* 9 */ { "aes256-sha256", 16, 32, "aes256-sha256: enc-key must be 32 bytes, got 16" },
	/* 10 */ { "aes256-sha256", 32, 20, "aes256-sha256: auth-key must be 32 bytes, got 20" },
	/* 11 */ { "null-sha256", 16, 32, "null-sha256: takes no enc-key, got 16 bytes" },
	/* 12 */ { "null-sha256", 0, 16, "null-sha256: auth-key must be 32 bytes, got 16" },
	/* 13 */ { "3des-md5", 16, 16, "3des-md5: enc-key must be 24 bytes, got 16" },
	/* 14 */ { "3des-md5", 24, 20, "3des-md5: auth-key must be 16 bytes, got 20" },
	/* 15 */ { "3des-sha1", 32, 20, "3des-sha1: enc-key must be 24 bytes, got 32" },
	/* 16 */ { "3des-sha1", 24, 16, "3des-sha1: auth-key must be 20 bytes, got 16" },
	/* 17 */ { "aes128gmac", 16, 0,
		   "aes128gmac: key must be 20 bytes (16 key + 4 salt), got 16" },
	/* 18 */ { "aes128gmac", 20, 20, "aes128gmac: takes no auth-key, got 20 bytes" },
	/* 19 */ { "aes128", 20, 0, "aes128: key must be 16 bytes, got 20" },
	/* 20 */ { "aes128", 16, 32, "aes128: takes no auth-key, got 32 bytes" },
};

static void wrong_key_lengths_are_refused(void **state)
{
	static const uint8_t key[64];
	static int sentinel;

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(key_errors); i++) {
		/* Not NULL beforehand, so that the test sees create clear it. */
		struct ipk_crypto *c = (struct ipk_crypto *)&sentinel;
		struct ipk_err err = { { 0 } };
		int rc = ipk_crypto_create(&c, ipk_alg_find(key_errors[i].alg), i % 2 == 0, key,
					   key_errors[i].enc_len, key, key_errors[i].auth_len,
					   &err);

		if (rc != -EINVAL || strcmp(err.msg, key_errors[i].msg) != 0)
			fail_msg("row %u: rc %d, message '%s'", i, rc, err.msg);
		assert_null(c);
	}
}

/* 5. Missing pieces: no algorithm, a length with no bytes, no error sink. */
static void missing_arguments_are_refused(void **state)
{
	const struct ipk_alg *gcm = ipk_alg_find("aes128gcm16");
	const struct ipk_alg *cbc = ipk_alg_find("aes128-sha256");
	static const uint8_t key[64];
	struct ipk_err err = { { 0 } };
	struct ipk_crypto *c;

	assert_int_equal(ipk_crypto_create(&c, NULL, true, key, 20, NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "crypto: unknown algorithm");
	assert_int_equal(ipk_crypto_create(&c, gcm, true, NULL, 20, NULL, 0, &err), -EINVAL);
	assert_string_equal(err.msg, "aes128gcm16: no key bytes given");
	assert_int_equal(ipk_crypto_create(&c, cbc, true, key, 16, NULL, 32, &err), -EINVAL);
	assert_string_equal(err.msg, "aes128-sha256: no auth-key bytes given");
	assert_int_equal(ipk_crypto_create(&c, gcm, true, key, 4, NULL, 0, NULL), -EINVAL);
	/* An empty but non-NULL auth key is what an SA with a zeroed key array passes. */
	assert_int_equal(ipk_crypto_create(&c, gcm, true, key, 20, key, 0, &err), 0);
	ipk_crypto_destroy(c);
	ipk_crypto_destroy(NULL);
}

/* Distinct, reproducible keys per algorithm. */
static void make_keys(const struct ipk_alg *a, uint8_t *enc, uint8_t *auth)
{
	for (unsigned i = 0; i < 64; i++) {
		enc[i] = (uint8_t)(0x11 * a->id + 7 * i + 1);
		auth[i] = (uint8_t)(0x35 * a->id + 3 * i + 2);
	}
}

static void create_pair(const struct ipk_alg *a, struct ipk_crypto **enc,
			struct ipk_crypto **dec)
{
	uint8_t ek[64], ak[64];
	struct ipk_err err = { { 0 } };

	make_keys(a, ek, ak);
	if (ipk_crypto_create(enc, a, true, ek, a->enc_key_len + a->salt_len, ak,
			      a->auth_key_len, &err) ||
	    ipk_crypto_create(dec, a, false, ek, a->enc_key_len + a->salt_len, ak,
			      a->auth_key_len, &err))
		fail_msg("%s: %s", a->name, err.msg);
}

/* Seals and opens one packet of @len plaintext bytes; fails naming the case. */
static void round_trip_one(const struct ipk_alg *a, struct ipk_crypto *enc,
			   struct ipk_crypto *dec, size_t len, uint64_t seq, bool esn)
{
	static uint8_t pkt[KAT_BUF_LEN], copy[KAT_BUF_LEN], plain[KAT_BUF_LEN];
	uint8_t *body = pkt + KAT_ESP_HDR_LEN + a->iv_len;
	bool hides = a->kind != IPK_ALG_NULL_HMAC && a->kind != IPK_ALG_GMAC;

	for (size_t i = 0; i < len; i++)
		plain[i] = (uint8_t)(i * 31 + len);
	memset(pkt, 0, sizeof(pkt));
	kat_put_be32(pkt, 0xc0ffee00u + a->id);
	kat_put_be32(pkt + 4, (uint32_t)seq);
	memcpy(body, plain, len);
	if (ipk_crypto_seal(enc, pkt, len, seq, esn) != 0)
		fail_msg("%s esn=%d len %zu: seal failed", a->name, esn, len);
	if (hides && memcmp(body, plain, len) == 0)
		fail_msg("%s esn=%d len %zu: plaintext left in clear", a->name, esn, len);
	/* On a copy: an AEAD wipes what it decrypted of a packet that fails. */
	memcpy(copy, pkt, sizeof(copy));
	if (a->icv_len && esn &&
	    ipk_crypto_open(dec, copy, len, seq ^ (1ull << 32), esn) != -EBADMSG)
		fail_msg("%s len %zu: wrong ESN high half accepted", a->name, len);
	if (ipk_crypto_open(dec, pkt, len, seq, esn) != 0)
		fail_msg("%s esn=%d len %zu: open failed", a->name, esn, len);
	if (memcmp(body, plain, len) != 0)
		fail_msg("%s esn=%d len %zu: plaintext not recovered", a->name, esn, len);
}

/* 6. Every algorithm, with and without ESN, every aligned plaintext length 4..1500. */
static void every_alg_round_trips(void **state)
{
	unsigned packets = 0;

	for (int id = 0; id < IPK_ALG_COUNT; id++) {
		const struct ipk_alg *a = ipk_alg_get(id);
		struct ipk_crypto *enc, *dec;

		create_pair(a, &enc, &dec);
		for (int esn = 0; esn <= 1; esn++) {
			uint64_t seq = esn ? 0x00000007fffffff0ull : 1;

			for (size_t len = a->block_size; len <= 1500; len += a->block_size) {
				round_trip_one(a, enc, dec, len, seq++, esn);
				packets++;
			}
		}
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
	/* Lengths: 375 of 4..1500 (block 4: five algorithms), 93 of 16..1488 (AES-CBC:
	 * three), 187 of 8..1496 (3DES: two); each with and without ESN. */
	assert_int_equal(packets, 2 * (375 * 5 + 93 * 3 + 187 * 2));
}

/* 7. IVs: consecutive sequence numbers give different IVs; AEAD IVs are the sequence
 * number (RFC 4106 §3.1); CBC IVs are not (RFC 3602 §3: unpredictable). */
static void ivs_follow_the_sequence_number(void **state)
{
	static const uint64_t seqs[] = { 1, 2, 0xffffffffull, 0x100000000ull,
					 0x123456789abcdefull };

	for (int id = 0; id < IPK_ALG_COUNT; id++) {
		const struct ipk_alg *a = ipk_alg_get(id);
		uint8_t pkt[2][256], seq_be[8], zero[16] = { 0 };
		struct ipk_crypto *enc, *dec;

		if (!a->iv_len)
			continue;
		create_pair(a, &enc, &dec);
		for (unsigned i = 0; i < IPK_ARRAY_SIZE(seqs); i++) {
			uint8_t *iv = pkt[i % 2] + KAT_ESP_HDR_LEN;

			memset(pkt[i % 2], 0, sizeof(pkt[0]));
			assert_int_equal(ipk_crypto_seal(enc, pkt[i % 2], 16, seqs[i], true), 0);
			kat_put_be64(seq_be, seqs[i]);
			if (i > 0 && memcmp(pkt[0] + 8, pkt[1] + 8, a->iv_len) == 0)
				fail_msg("%s: seq %u and %u share an IV", a->name, i - 1, i);
			if (a->kind == IPK_ALG_AEAD || a->kind == IPK_ALG_GMAC) {
				assert_memory_equal(iv, seq_be, 8);
				continue;
			}
			/* Neither the raw number (either half of the block) nor zeros. */
			if (memcmp(iv, seq_be, 8) == 0 ||
			    memcmp(iv + a->iv_len - 8, seq_be, 8) == 0 ||
			    memcmp(iv, zero, a->iv_len) == 0)
				fail_msg("%s: IV of seq row %u is predictable", a->name, i);
		}
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
}

/* 8. A context works in the direction it was made for only. */
static void wrong_direction_is_refused(void **state)
{
	for (int id = 0; id < IPK_ALG_COUNT; id++) {
		const struct ipk_alg *a = ipk_alg_get(id);
		uint8_t pkt[128] = { 0 }, iv[16] = { 0 };
		struct ipk_crypto *enc, *dec;

		create_pair(a, &enc, &dec);
		assert_int_equal(ipk_crypto_seal(dec, pkt, 16, 1, false), -EINVAL);
		assert_int_equal(ipk_crypto_seal_iv(dec, pkt, 16, 1, false, iv), -EINVAL);
		assert_int_equal(ipk_crypto_open(enc, pkt, 16, 1, false), -EINVAL);
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
}

/* 9. Cross-check packets (python3-cryptography): ipk_crypto_seal() with the derived IV
 * gives the packet byte for byte, twice on one context, and open gives the plaintext. */
static void crosscheck_packets(void **state)
{
	unsigned seen[IPK_ALG_COUNT][2] = { { 0 } };
	static uint8_t pkt[KAT_BUF_LEN];

	for (unsigned i = 0; i < KAT_CROSSCHECK_COUNT; i++) {
		const struct kat_esp *v = &kat_crosscheck[i];
		struct ipk_crypto *enc = kat_crypto(v, true), *dec = kat_crypto(v, false);
		size_t off = 0, len = v->plaintext.len;

		for (int round = 0; round < 2; round++) {
			off = kat_frame(pkt, v);
			if (ipk_crypto_seal(enc, pkt, len, v->seq, v->esn) != 0)
				fail_msg("%s: seal failed", v->id);
			kat_expect(v, "IV", pkt + KAT_ESP_HDR_LEN, v->iv.p, v->iv.len);
			kat_expect(v, "packet", pkt, v->esp_packet.p, v->esp_packet.len);
		}
		if (ipk_crypto_open(dec, pkt, len, v->seq, v->esn) != 0)
			fail_msg("%s: open failed", v->id);
		kat_expect(v, "plaintext", pkt + off, v->plaintext.p, len);
		seen[ipk_alg_find(v->alg)->id][v->esn]++;
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
	for (int id = 0; id < IPK_ALG_COUNT; id++)
		if (!seen[id][0] || !seen[id][1])
			fail_msg("%s lacks a cross-check with or without ESN",
				 ipk_alg_get(id)->name);
}

/* 10. No allocation on the packet path (STYLE §3.7): once a context exists, sealing,
 * opening and refusing a forged packet allocate nothing. One exception lies inside
 * libcrypto: OpenSSL 3.0's HMAC restarts by duplicating its digest state
 * (EVP_MD_CTX_copy_ex -> dupctx), two allocations per MAC; releases with the digest
 * copyctx of openssl/openssl#25726 make none. The bound below admits that and no more. */
static void packets_allocate_nothing(void **state)
{
	static uint8_t pkt[KAT_BUF_LEN];

	for (int id = 0; id < IPK_ALG_COUNT; id++) {
		const struct ipk_alg *a = ipk_alg_get(id);
		bool hmac = a->kind == IPK_ALG_CBC_HMAC || a->kind == IPK_ALG_NULL_HMAC;
		struct ipk_crypto *enc, *dec;
		size_t before, allowed = 0;

		create_pair(a, &enc, &dec);
		/* One packet first, so that lazy per-thread state is not counted. */
		assert_int_equal(ipk_crypto_seal(enc, pkt, 64, 1, true), 0);
		before = n_allocs;
		for (uint64_t seq = 2; seq < 50; seq++) {
			memset(pkt, 0, sizeof(pkt));
			assert_int_equal(ipk_crypto_seal(enc, pkt, 256, seq, true), 0);
			allowed += hmac ? 2 : 0;
			if (a->icv_len) {
				pkt[KAT_ESP_HDR_LEN + a->iv_len] ^= 1;
				assert_int_equal(ipk_crypto_open(dec, pkt, 256, seq, true),
						 -EBADMSG);
			} else {
				assert_int_equal(ipk_crypto_open(dec, pkt, 256, seq, true), 0);
			}
			allowed += hmac ? 2 : 0;
		}
		if (n_allocs - before > allowed)
			fail_msg("%s: %zu allocations for 48 packets", a->name, n_allocs - before);
		ipk_crypto_destroy(enc);
		ipk_crypto_destroy(dec);
	}
}

/* 11. Every published vector has a table, and every table a test file. */
static void every_published_vector_is_tabled(void **state)
{
	assert_int_equal(KAT_ESP_COUNT + KAT_AEAD_COUNT + KAT_HMAC_COUNT + KAT_CBC_COUNT,
			 KAT_PUBLISHED_TOTAL - KAT_SKIPPED);
	assert_int_equal(KAT_PUBLISHED_TOTAL, 75);
}

int main(void)
{
	/* Must precede libcrypto's first allocation, or it is refused. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_has_every_row),
		cmocka_unit_test(lookups_refuse_unknown),
		cmocka_unit_test(names_lists_secure_algorithms),
		cmocka_unit_test(wrong_key_lengths_are_refused),
		cmocka_unit_test(missing_arguments_are_refused),
		cmocka_unit_test(every_alg_round_trips),
		cmocka_unit_test(ivs_follow_the_sequence_number),
		cmocka_unit_test(wrong_direction_is_refused),
		cmocka_unit_test(crosscheck_packets),
		cmocka_unit_test(packets_allocate_nothing),
		cmocka_unit_test(every_published_vector_is_tabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
