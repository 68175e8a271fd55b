// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/trtcm.c against RFC 2698: PIR 2 Mbit/s (250 bytes per ms), PBS 3000,
 * CIR 1 Mbit/s (125 bytes per ms), CBS 1500; sequences with the token counts worked out
 * in the comments, colour-blind and colour-aware; actions; argument errors.
 */
#include "qos_test.h"

#include "qos/trtcm.h"

struct color_row {
	uint64_t t_ns;
	uint32_t len;
	char pre;     /* pre-colour (aware mode) */
	char expect;
};

static uint8_t color_of(char c)
{
	return c == 'G' ? IPK_QOS_GREEN : c == 'Y' ? IPK_QOS_YELLOW : IPK_QOS_RED;
}

static void run_rows(const char *args, const struct color_row *rows, size_t n,
		     const char *name)
{
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *m = qos_new("trtcm", args);

	for (size_t r = 0; r < n; r++) {
		struct ipk_pkt *pkt = pkt_len(pool, rows[r].len);
		enum ipk_drop_reason why = IPK_DROP_NONE;
		enum ipk_qos_verdict v;

		pkt->meta.color = color_of(rows[r].pre);
		v = ipk_qos_meter(m, pkt, rows[r].t_ns, &why);
		if (pkt->meta.color != color_of(rows[r].expect))
			fail_msg("%s row %zu: colour %u, expected %c", name, r + 1, pkt->meta.color,
				 rows[r].expect);
		assert_int_equal(v, rows[r].expect == 'R' ? IPK_QOS_DROP : IPK_QOS_PASS);
		ipk_pkt_free(pkt);
	}
	ipk_qos_destroy(m);
	ipk_pool_destroy(pool);
}

static void trtcm_color_blind(void **state)
{
	static const struct color_row rows[] = {
		/* Tp 3000, Tc 1500 */
		/* 1 */ { 0, 1500, 'G', 'G' },        /* Tp 1500, Tc 0 */
		/* 2 */ { 0, 1500, 'G', 'Y' },        /* Tp 0 */
		/* 3 */ { 0, 1500, 'G', 'R' },        /* takes nothing */
		/* 6 ms: Tp +1500 = 1500, Tc +750 = 750 */
		/* 4 */ { 6 * MS, 1500, 'G', 'Y' },   /* Tp 0 */
		/* 5 */ { 6 * MS, 700, 'G', 'R' },
		/* 18 ms: Tp +3000 = 3000 (full), Tc +1500 -> 1500 (full) */
		/* 6 */ { 18 * MS, 1500, 'G', 'G' },  /* Tp 1500, Tc 0 */
		/* 7 */ { 18 * MS, 1500, 'G', 'Y' },  /* Tp 0 */
		/* 8 */ { 18 * MS, 64, 'G', 'R' },
		/* 20 ms: Tp 500, Tc 250: the smaller bucket decides green */
		/* 9 */ { 20 * MS, 250, 'G', 'G' },   /* Tp 250, Tc 0 */
		/* 10 */ { 20 * MS, 250, 'G', 'Y' },  /* Tp 0 */
		/* pre-colours are ignored in blind mode */
		/* 11 */ { 40 * MS, 1500, 'R', 'G' },
	};

	run_rows("pir 2M pbs 3000 cir 1M cbs 1500", rows, sizeof(rows) / sizeof(rows[0]),
		 "blind");
}

static void trtcm_color_aware(void **state)
{
	static const struct color_row rows[] = {
		/* Tp 3000, Tc 1500 */
		/* 1 */ { 0, 1500, 'Y', 'Y' },        /* Tp 1500 */
		/* 2 */ { 0, 1500, 'G', 'G' },        /* Tp 0, Tc 0 */
		/* 3 */ { 0, 1500, 'R', 'R' },
		/* 12 ms: Tp 3000, Tc 1500 */
		/* 4 */ { 12 * MS, 1500, 'R', 'R' },  /* red takes nothing */
		/* 5 */ { 12 * MS, 1500, 'G', 'G' },  /* Tp 1500, Tc 0 */
		/* 6 */ { 12 * MS, 1500, 'G', 'Y' },  /* Tc 0: yellow, Tp 0 */
		/* 7 */ { 12 * MS, 64, 'Y', 'R' },    /* Tp 0 */
		/* 14 ms: Tp 500, Tc 250 */
		/* 8 */ { 14 * MS, 200, 'Y', 'Y' },   /* yellow never takes from C: Tp 300 */
		/* 9 */ { 14 * MS, 250, 'G', 'G' },   /* Tp 50, Tc 0 */
	};

	run_rows("pir 2M pbs 3000 cir 1M cbs 1500 mode aware", rows,
		 sizeof(rows) / sizeof(rows[0]), "aware");
}

static void trtcm_actions(void **state)
{
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *m = qos_new("trtcm", "pir 2M pbs 3000 cir 1M cbs 1500 yellow drop "
					     "red remark:cs1");
	static const struct {
		enum ipk_qos_verdict v;
		uint8_t dscp;
	} want[3] = { { IPK_QOS_PASS, 46 }, { IPK_QOS_DROP, 46 }, { IPK_QOS_PASS, 8 } };

	for (int i = 0; i < 3; i++) {
		struct ipk_pkt *pkt = pkt_dscp(pool, "2001:db8::1", 46, IPK_ECN_CE, 1500);
		struct ipk_ip_info info;
		enum ipk_drop_reason why;

		assert_int_equal(ipk_qos_meter(m, pkt, 0, &why), want[i].v);
		assert_int_equal(ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info), 0);
		assert_int_equal(info.dscp, want[i].dscp);
		assert_int_equal(info.ecn, IPK_ECN_CE);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(m, "green"), 1);
	assert_int_equal(stat_of(m, "yellow"), 1);
	assert_int_equal(stat_of(m, "red"), 1);
	assert_int_equal(m->drops, 1);
	ipk_qos_destroy(m);
	ipk_pool_destroy(pool);
}

static void trtcm_rejects_bad_arguments(void **state)
{
	qos_new_fails("trtcm", "cir 1M", "trtcm: pir and cir are required");
	qos_new_fails("trtcm", "pir 1M cir 2M", "trtcm: pir 1000000 below cir 2000000");
	qos_new_fails("trtcm", "pir 2M cir 1M pbs 0", "trtcm: pbs 0 not in 1..1000000000");
	qos_new_fails("trtcm", "pir 2M cir 1M mode both", "trtcm: mode 'both' is not blind or "
			       "aware");
	qos_new_fails("trtcm", "pir 2M cir 1M ebs 5", "trtcm: unknown argument 'ebs'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trtcm_color_blind),
		cmocka_unit_test(trtcm_color_aware),
		cmocka_unit_test(trtcm_actions),
		cmocka_unit_test(trtcm_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
