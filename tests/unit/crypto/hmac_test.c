// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/crypto/hmac.c: every HMAC vector (RFC 2202 MD5 and SHA-1, RFC 4231
 * SHA-256, RFC 4868 §2.7.1 PRF and §2.7.2 AUTH vectors for SHA-256/384/512), full output
 * and each ESP truncation, on one reused context per vector. Sources: kat_util.h. */
#include <errno.h>

#include "crypto/hmac.h"
#include "kat_util.h"

/* Counts in tests/vectors/esp-vectors.json: 46 HMAC vectors, 39 printing the full MAC,
 * 23 truncations (HMAC-MD5-96, HMAC-SHA1-96, HMAC-SHA-256-128/-384-192/-512-256). */
#define FULL_MACS 39
#define TRUNCATIONS 23

static void expect_mac(struct ipk_hmac *h, const struct kat_hmac *v, const struct ipk_span *in,
		       size_t n_in, const struct kat_bytes *want, const char *what)
{
	uint8_t mac[IPK_HMAC_MAX_LEN];

	memset(mac, 0xa5, sizeof(mac));
	if (ipk_hmac_compute(h, in, n_in, mac, want->len) != 0)
		fail_msg("%s: %s: compute failed", v->id, what);
	if (memcmp(mac, want->p, want->len) != 0)
		fail_msg("%s (%s): %s differs", v->id, v->source, what);
	/* Truncation writes exactly out_len bytes. */
	for (size_t i = want->len; i < sizeof(mac); i++)
		if (mac[i] != 0xa5)
			fail_msg("%s: %s: wrote past %zu bytes", v->id, what, want->len);
}

/* Checks one expected output three ways: whole input, input in two spans, and input
 * in three spans with an empty one; each on the same context. */
static void expect_all_splits(struct ipk_hmac *h, const struct kat_hmac *v,
			      const struct kat_bytes *want, const char *what)
{
	size_t cut = v->data.len / 3;
	struct ipk_span whole = { v->data.p, v->data.len };
	struct ipk_span parts[3] = {
		{ v->data.p, cut },
		{ v->data.p + cut, 0 },
		{ v->data.p + cut, v->data.len - cut },
	};

	expect_mac(h, v, &whole, 1, want, what);
	expect_mac(h, v, parts, 3, want, what);
	expect_mac(h, v, &whole, 1, want, what);
}

/* 1. Every vector, full and truncated. */
static void every_hmac_vector(void **state)
{
	unsigned full = 0, trunc = 0;

	for (unsigned i = 0; i < KAT_HMAC_COUNT; i++) {
		const struct kat_hmac *v = &kat_hmac[i];
		struct ipk_hmac h;

		if (ipk_hmac_init(&h, v->digest, v->key.p, v->key.len) != 0)
			fail_msg("%s: init failed", v->id);
		if (v->mac.len) {
			assert_int_equal(h.mac_len, v->mac.len);
			expect_all_splits(&h, v, &v->mac, "full MAC");
			full++;
		}
		for (size_t t = 0; t < v->n_trunc; t++) {
			assert_int_equal(v->trunc[t].bits, 8 * v->trunc[t].mac.len);
			expect_all_splits(&h, v, &v->trunc[t].mac, "truncated MAC");
			trunc++;
		}
		ipk_hmac_fini(&h);
	}
	assert_int_equal(KAT_HMAC_COUNT, 46);
	assert_int_equal(full, FULL_MACS);
	assert_int_equal(trunc, TRUNCATIONS);
}

/* 2. Digest output lengths, as the ESP truncations assume. */
static const struct {
	const char *digest;
	size_t mac_len;
} lengths[] = {
	/* 0 */ { "MD5", 16 },
	/* 1 */ { "SHA1", 20 },
	/* 2 */ { "SHA256", 32 },
	/* 3 */ { "SHA384", 48 },
	/* 4 */ { "SHA512", 64 },
};

static void output_lengths_and_bounds(void **state)
{
	static const uint8_t key[32] = { 1 };
	struct ipk_span in = { key, sizeof(key) };
	uint8_t mac[IPK_HMAC_MAX_LEN + 1];

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(lengths); i++) {
		struct ipk_hmac h;

		if (ipk_hmac_init(&h, lengths[i].digest, key, sizeof(key)) != 0)
			fail_msg("row %u: init failed", i);
		if (h.mac_len != lengths[i].mac_len)
			fail_msg("row %u: mac_len %zu", i, h.mac_len);
		assert_int_equal(ipk_hmac_compute(&h, &in, 1, mac, 0), -EINVAL);
		assert_int_equal(ipk_hmac_compute(&h, &in, 1, mac, h.mac_len + 1), -EINVAL);
		assert_int_equal(ipk_hmac_compute(&h, &in, 1, mac, h.mac_len), 0);
		ipk_hmac_fini(&h);
		ipk_hmac_fini(&h);
	}
}

/* 3. An unknown digest fails at init, with nothing left to free. */
static void unknown_digest_is_refused(void **state)
{
	static const uint8_t key[16];
	struct ipk_hmac h;

	assert_int_equal(ipk_hmac_init(&h, "SHA257", key, sizeof(key)), -EIO);
	assert_null(h.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_hmac_vector),
		cmocka_unit_test(output_lengths_and_bounds),
		cmocka_unit_test(unknown_digest_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
