// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/srtcm.c against RFC 2697: CIR 1 Mbit/s (125 bytes per ms), CBS 2000,
 * EBS 3000, 1500-byte packets at t = 0, 0, 0, ... and after refill times whose token
 * counts are worked out in the comments; colour-blind and colour-aware; the colour
 * actions (drop, remark); argument errors.
 */
#include "qos_test.h"

#include "qos/srtcm.h"

struct color_row {
	uint64_t t_ns;
	uint32_t len;
	char pre;     /* pre-colour (aware mode): G, Y, R */
	char expect;  /* G, Y, R */
};

static uint8_t color_of(char c)
{
	return c == 'G' ? IPK_QOS_GREEN : c == 'Y' ? IPK_QOS_YELLOW : IPK_QOS_RED;
}

static void run_rows(const char *args, const struct color_row *rows, size_t n,
		     const char *name)
{
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *m = qos_new("srtcm", args);
	uint64_t count[3] = { 0 };

	for (size_t r = 0; r < n; r++) {
		struct ipk_pkt *pkt = pkt_len(pool, rows[r].len);
		enum ipk_drop_reason why = IPK_DROP_NONE;
		enum ipk_qos_verdict v;

		pkt->meta.color = color_of(rows[r].pre);
		v = ipk_qos_meter(m, pkt, rows[r].t_ns, &why);
		if (pkt->meta.color != color_of(rows[r].expect))
			fail_msg("%s row %zu: colour %u, expected %c", name, r + 1, pkt->meta.color,
				 rows[r].expect);
		/* default actions: green and yellow pass, red drops */
		assert_int_equal(v, rows[r].expect == 'R' ? IPK_QOS_DROP : IPK_QOS_PASS);
		if (v == IPK_QOS_DROP)
			assert_int_equal(why, IPK_DROP_METER);
		count[pkt->meta.color]++;
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(m, "green"), count[0]);
	assert_int_equal(stat_of(m, "yellow"), count[1]);
	assert_int_equal(stat_of(m, "red"), count[2]);
	ipk_qos_destroy(m);
	ipk_pool_destroy(pool);
}

static void srtcm_color_blind(void **state)
{
	static const struct color_row rows[] = {
		/* Tc 2000, Te 3000 */
		/* 1 */ { 0, 1500, 'G', 'G' },         /* Tc 500 */
		/* 2 */ { 0, 1500, 'G', 'Y' },         /* Te 1500 */
		/* 3 */ { 0, 1500, 'G', 'Y' },         /* Te 0 */
		/* 4 */ { 0, 1500, 'G', 'R' },
		/* 5 */ { 0, 500, 'G', 'G' },          /* Tc 0: packets are measured in bytes */
		/* 12 ms: +1500 -> Tc 1500 (C first) */
		/* 6 */ { 12 * MS, 1500, 'G', 'G' },   /* Tc 0 */
		/* 7 */ { 12 * MS, 1500, 'G', 'R' },   /* Te still 0 */
		/* 52 ms: +5000 -> Tc 2000 (full), overflow 3000 -> Te 3000 */
		/* 8 */ { 52 * MS, 1500, 'G', 'G' },   /* Tc 500 */
		/* 9 */ { 52 * MS, 1500, 'G', 'Y' },   /* Te 1500 */
		/* 10 */ { 52 * MS, 1500, 'G', 'Y' },  /* Te 0 */
		/* 11 */ { 52 * MS, 1500, 'G', 'R' },
		/* 60 ms: +1000 -> Tc 1500: C fills before E sees any */
		/* 12 */ { 60 * MS, 1500, 'G', 'G' },
		/* 13 */ { 60 * MS, 64, 'G', 'R' },
		/* pre-colours are ignored in blind mode */
		/* 14 */ { 100 * MS, 1500, 'R', 'G' },  /* +5000 -> Tc 2000, Te 3000 */
		/* 15 */ { 100 * MS, 1500, 'Y', 'Y' },
	};

	run_rows("cir 1M cbs 2000 ebs 3000", rows, sizeof(rows) / sizeof(rows[0]), "blind");
}

static void srtcm_color_aware(void **state)
{
	static const struct color_row rows[] = {
		/* Tc 2000, Te 3000 */
		/* 1 */ { 0, 1500, 'G', 'G' },         /* Tc 500 */
		/* 2 */ { 0, 1500, 'Y', 'Y' },         /* yellow skips C: Te 1500 */
		/* 3 */ { 0, 1500, 'R', 'R' },         /* red stays red, takes nothing */
		/* 4 */ { 0, 1500, 'G', 'Y' },         /* Tc 500 too little: Te 0 */
		/* 5 */ { 0, 500, 'Y', 'R' },          /* Te 0, Tc 500 not for yellow */
		/* 6 */ { 0, 500, 'G', 'G' },          /* Tc 0 */
		/* 16 ms: +2000 -> Tc 2000, Te 0 */
		/* 7 */ { 16 * MS, 500, 'Y', 'R' },
		/* 20 ms: +500 -> Te 500 */
		/* 8 */ { 20 * MS, 500, 'Y', 'Y' },    /* Te 0 */
		/* 9 */ { 20 * MS, 1500, 'G', 'G' },   /* Tc 500 */
		/* 10 */ { 20 * MS, 64, 'R', 'R' },
	};

	run_rows("cir 1M cbs 2000 ebs 3000 mode aware", rows, sizeof(rows) / sizeof(rows[0]),
		 "aware");
}

/* A bucket of size 0 never holds a packet: with cbs 0 everything is yellow or red. */
static void srtcm_zero_cbs(void **state)
{
	static const struct color_row rows[] = {
		/* 1 */ { 0, 1500, 'G', 'Y' },
		/* 2 */ { 0, 1500, 'G', 'R' },
		/* 3 */ { 12 * MS, 1500, 'G', 'Y' },  /* all 1500 tokens overflow into E */
	};

	run_rows("cir 1M cbs 0 ebs 1500", rows, sizeof(rows) / sizeof(rows[0]), "cbs0");
}

static void srtcm_actions_remark_per_color(void **state)
{
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *m = qos_new("srtcm", "cir 1M cbs 1500 ebs 1500 green remark:af11 "
					     "yellow remark:af12 red remark:af13");
	static const uint8_t want[4] = { 10, 12, 14, 14 };

	for (int i = 0; i < 4; i++) {
		struct ipk_pkt *pkt = pkt_dscp(pool, "192.0.2.1", 46, IPK_ECN_ECT0, 1500);
		struct ipk_ip_info info;
		enum ipk_drop_reason why;

		assert_int_equal(ipk_qos_meter(m, pkt, 0, &why), IPK_QOS_PASS);
		assert_int_equal(ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info), 0);
		if (info.dscp != want[i] || info.ecn != IPK_ECN_ECT0)
			fail_msg("packet %d: dscp %u ecn %u, expected %u", i + 1, info.dscp,
				 info.ecn, want[i]);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(m, "remarked"), 4);
	ipk_qos_destroy(m);
	ipk_pool_destroy(pool);
}

static void srtcm_rejects_bad_arguments(void **state)
{
	qos_new_fails("srtcm", "cbs 2000", "srtcm: cir is required");
	qos_new_fails("srtcm", "cir 1M cbs 0 ebs 0", "srtcm: cbs and ebs are both 0");
	qos_new_fails("srtcm", "cir 1M mode colorful", "srtcm: mode 'colorful' is not blind or "
			       "aware");
	qos_new_fails("srtcm", "cir 1M yellow slow", "srtcm: yellow 'slow' is not pass, drop "
			       "or remark:<dscp>");
	qos_new_fails("srtcm", "cir 1M pir 2M", "srtcm: unknown argument 'pir'");
	qos_new_fails("srtcm", "cir 1M ebs 2000000000", "srtcm: ebs 2000000000 not in "
			       "0..1000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(srtcm_color_blind),
		cmocka_unit_test(srtcm_color_aware),
		cmocka_unit_test(srtcm_zero_cbs),
		cmocka_unit_test(srtcm_actions_remark_per_color),
		cmocka_unit_test(srtcm_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
