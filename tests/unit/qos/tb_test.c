// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/tb.c (and the bucket arithmetic of src/qos/bucket.c and the actions of
 * src/qos/mark.c): conform/exceed sequences at 1 Mbit/s with a 3000-byte bucket on a
 * simulated clock, long-run conforming rate, remarking that keeps ECN and the IPv4
 * checksum, and argument errors.
 */
#include "qos_test.h"

#include "qos/bucket.h"
#include "qos/tb.h"

struct seq_row {
	uint64_t t_ns;
	uint32_t len;
	char expect;  /* 'G' conform (pass), 'R' exceed */
};

/* rate 1 Mbit/s = 125 bytes per ms, burst 3000 bytes, starting full. */
static void tb_conform_exceed_sequence(void **state)
{
	static const struct seq_row rows[] = {
		/* 1 */ { 0, 1500, 'G' },           /* 3000 -> 1500 */
		/* 2 */ { 0, 1500, 'G' },           /* 1500 -> 0 */
		/* 3 */ { 0, 1500, 'R' },           /* an exceeding packet takes nothing */
		/* 4 */ { 6 * MS, 1500, 'R' },      /* 750 */
		/* 5 */ { 6 * MS, 700, 'G' },       /* 750 -> 50 */
		/* 6 */ { 17 * MS, 1500, 'R' },     /* 50 + 1375 = 1425 */
		/* 7 */ { 17600 * US, 1500, 'G' },  /* 1425 + 75 = 1500 -> 0 */
		/* 8 */ { 17600 * US, 64, 'R' },    /* 0 */
		/* 9 */ { 117600 * US, 1500, 'G' }, /* 12500 capped at 3000 -> 1500 */
		/* 10 */ { 117600 * US, 1500, 'G' },
		/* 11 */ { 117600 * US, 1, 'R' },
		/* 12 */ { 117608 * US, 1, 'G' },   /* 8 us = exactly 1 byte */
	};
	struct ipk_pool *pool = test_pool(4);
	struct ipk_qos *tb = qos_new("tb", "rate 1M burst 3000");

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_pkt *pkt = pkt_len(pool, rows[r].len);
		enum ipk_drop_reason why = IPK_DROP_NONE;
		enum ipk_qos_verdict v = ipk_qos_meter(tb, pkt, rows[r].t_ns, &why);
		char got = v == IPK_QOS_PASS ? 'G' : 'R';

		if (got != rows[r].expect)
			fail_msg("row %zu: %c, expected %c", r + 1, got, rows[r].expect);
		assert_int_equal(pkt->meta.color, got == 'G' ? IPK_QOS_GREEN : IPK_QOS_RED);
		if (v == IPK_QOS_DROP)
			assert_int_equal(why, IPK_DROP_METER);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(tb, "conform"), 7);
	assert_int_equal(stat_of(tb, "exceed"), 5);
	assert_int_equal(tb->drops, 5);
	ipk_qos_destroy(tb);
	ipk_pool_destroy(pool);
}

/* Offered at twice the rate for 10 s, the conforming bytes are rate x 10 s + burst. */
static void tb_long_run_rate(void **state)
{
	static const struct {
		const char *args;
		uint64_t rate_bps, burst;
		uint32_t len;
	} rows[] = {
		/* 1 */ { "rate 1M burst 3000", 1000000, 3000, 1500 },
		/* 2 */ { "rate 10M burst 15000", 10000000, 15000, 1000 },
		/* 3 */ { "rate 64k burst 1500", 64000, 1500, 64 },
	};
	struct ipk_pool *pool = test_pool(2);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *tb = qos_new("tb", rows[r].args);
		uint64_t gap = rows[r].len * 8ull * SEC / (2 * rows[r].rate_bps), green = 0;
		double want = rows[r].rate_bps / 8.0 * 10 + rows[r].burst;

		for (uint64_t t = 0; t <= 10 * SEC; t += gap) {
			struct ipk_pkt *pkt = pkt_len(pool, rows[r].len);
			enum ipk_drop_reason why;

			if (ipk_qos_meter(tb, pkt, t, &why) == IPK_QOS_PASS)
				green += rows[r].len;
			ipk_pkt_free(pkt);
		}
		if (green > want + rows[r].len || green < want - rows[r].len)
			fail_msg("row %zu: %llu bytes conformed, expected %.0f", r + 1,
				 (unsigned long long)green, want);
		ipk_qos_destroy(tb);
	}
	ipk_pool_destroy(pool);
}

/* Remarking rewrites the DSCP, keeps ECN, keeps the IPv4 header checksum valid. */
static void tb_remark_keeps_ecn_and_checksum(void **state)
{
	static const struct {
		const char *src;
		uint8_t dscp, ecn, want_dscp;
	} rows[] = {
		/* 1 */ { "192.0.2.1", 34, IPK_ECN_ECT0, 14 },  /* af41 -> af13 */
		/* 2 */ { "192.0.2.1", 46, IPK_ECN_CE, 14 },
		/* 3 */ { "2001:db8::1", 34, IPK_ECN_ECT1, 14 },
		/* 4 */ { "2001:db8::1", 0, IPK_ECN_NOT_ECT, 14 },
	};
	struct ipk_pool *pool = test_pool(4);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *tb = qos_new("tb", "rate 8000 burst 100 exceed remark:af13");
		struct ipk_pkt *pkt = pkt_dscp(pool, rows[r].src, rows[r].dscp, rows[r].ecn, 200);
		struct ipk_ip_info info;
		enum ipk_drop_reason why;

		assert_int_equal(ipk_qos_meter(tb, pkt, 0, &why), IPK_QOS_PASS);
		assert_int_equal(ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info), 0);
		if (info.dscp != rows[r].want_dscp || info.ecn != rows[r].ecn)
			fail_msg("row %zu: dscp %u ecn %u, expected %u %u", r + 1, info.dscp,
				 info.ecn, rows[r].want_dscp, rows[r].ecn);
		assert_int_equal(pkt->meta.color, IPK_QOS_RED);
		assert_int_equal(stat_of(tb, "remarked"), 1);
		ipk_pkt_free(pkt);
		ipk_qos_destroy(tb);
	}
	ipk_pool_destroy(pool);
}

/* Exceed "pass" colours red and passes; a packet larger than the bucket never conforms;
 * a non-IP packet is not remarked. */
static void tb_exceed_pass_and_non_ip(void **state)
{
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *pass = qos_new("tb", "rate 8000 burst 10 exceed pass");
	struct ipk_qos *mark = qos_new("tb", "rate 8000 burst 10 exceed remark:ef");
	struct ipk_pkt *pkt = pkt_len(pool, 100);
	enum ipk_drop_reason why;

	assert_int_equal(ipk_qos_meter(pass, pkt, 0, &why), IPK_QOS_PASS);
	assert_int_equal(pkt->meta.color, IPK_QOS_RED);
	assert_int_equal(ipk_qos_meter(mark, pkt, 0, &why), IPK_QOS_PASS);
	assert_int_equal(stat_of(mark, "remarked"), 0);
	assert_int_equal(ipk_pkt_data(pkt)[1], 0);
	ipk_pkt_free(pkt);
	ipk_qos_destroy(pass);
	ipk_qos_destroy(mark);
	ipk_pool_destroy(pool);
}

static void bucket_survives_long_idle_and_backwards_time(void **state)
{
	struct ipk_bucket b;

	ipk_bucket_init(&b, 400000000000ull, 1000000000ull, 0);
	assert_true(ipk_bucket_take(&b, 60000));
	ipk_bucket_refill(&b, UINT64_MAX / 2);  /* an overflowing product if not capped */
	assert_int_equal(b.tokens, b.size);
	assert_true(ipk_bucket_take(&b, 1500));
	ipk_bucket_refill(&b, 5);               /* time going back earns nothing */
	assert_int_equal(b.tokens, b.size - ipk_bucket_units(1500));
	ipk_bucket_init(&b, 1000000, 1500, 0);
	ipk_bucket_charge(&b, 3000);            /* into debt: 1500 bytes = 12 ms */
	assert_int_equal(ipk_bucket_wait_ns(&b, 1500), 24 * MS);
	assert_int_equal(ipk_bucket_wait_ns(&b, 0), 12 * MS);
}

static void tb_rejects_bad_arguments(void **state)
{
	qos_new_fails("tb", "burst 3000", "tb: rate is required");
	qos_new_fails("tb", "rate 0", "tb: rate 0 not in 1..400000000000");
	qos_new_fails("tb", "rate 1X", "tb: rate '1X' is not a number");
	qos_new_fails("tb", "rate 1M burst 0", "tb: burst 0 not in 1..1000000000");
	qos_new_fails("tb", "rate 1M exceed mark", "tb: exceed 'mark' is not pass, drop or "
			    "remark:<dscp>");
	qos_new_fails("tb", "rate 1M exceed remark:af55", "tb: exceed 'remark:af55' is not "
			    "pass, drop or remark:<dscp>");
	qos_new_fails("tb", "rate 1M cir 5", "tb: unknown argument 'cir'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tb_conform_exceed_sequence),
		cmocka_unit_test(tb_long_run_rate),
		cmocka_unit_test(tb_remark_keeps_ecn_and_checksum),
		cmocka_unit_test(tb_exceed_pass_and_non_ip),
		cmocka_unit_test(bucket_survives_long_idle_and_backwards_time),
		cmocka_unit_test(tb_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
