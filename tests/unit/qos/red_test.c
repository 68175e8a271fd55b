// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/red.c: the measured drop fraction at fixed average queue lengths
 * (weight 1 holds avg at the queue length) against p_b = max-p (avg - min-th) /
 * (max-th - min-th) within +-0.02 over 10^5 arrivals, none below min-th, all from max-th
 * on (or the gentle ramp); evenly spread drops; the EWMA and its idle-time correction;
 * WRED's per-colour profiles; the hard limit; argument errors.
 */
#include "qos_test.h"

#include "qos/red.h"

#define TRIALS 100000

/* Holds the queue at @len packets (reachable: at most max-th, or 2 max-th when gentle)
 * and offers TRIALS arrivals, each followed by one departure when accepted. Returns the fraction dropped; *max_gap gets the longest run of
 * accepted packets between two drops. */
static double drop_fraction(struct ipk_qos *q, struct ipk_pool *pool, uint32_t len,
			    uint8_t color, uint32_t *max_gap)
{
	struct ipk_pkt_list ev = { 0 };
	enum ipk_drop_reason why;
	uint32_t drops = 0, gap = 0;

	*max_gap = 0;
	while (q->ops->len_pkts(q) < len) {
		struct ipk_pkt *pkt = pkt_len(pool, 500);

		if (ipk_qos_enqueue(q, pkt, 0, &ev, &why) == IPK_QOS_DROP)
			ipk_pkt_free(pkt);
	}
	for (uint32_t i = 0; i < TRIALS; i++) {
		struct ipk_pkt *pkt = pkt_len(pool, 500);

		pkt->meta.color = color;
		if (ipk_qos_enqueue(q, pkt, 0, &ev, &why) == IPK_QOS_DROP) {
			assert_int_equal(why, IPK_DROP_RED);
			ipk_pkt_drop(pkt, NULL, why);
			drops++;
			gap = 0;
			continue;
		}
		*max_gap = ++gap > *max_gap ? gap : *max_gap;
		ipk_pkt_free(ipk_qos_dequeue(q, 0, &ev, &why));
	}
	assert_int_equal(q->ops->len_pkts(q), len);
	assert_int_equal(ev.count, 0);
	return (double)drops / TRIALS;
}

struct prob_row {
	const char *args;
	uint32_t len;    /* the queue length = avg */
	double want;
};

static const struct prob_row prob_rows[] = {
	/* min-th 10, max-th 30, max-p 0.1 */
	/* 1 */ { "min-th 10 max-th 30 max-p 0.1", 0, 0 },
	/* 2 */ { "min-th 10 max-th 30 max-p 0.1", 9, 0 },
	/* 3 */ { "min-th 10 max-th 30 max-p 0.1", 10, 0 },
	/* 4 */ { "min-th 10 max-th 30 max-p 0.1", 15, 0.025 },
	/* 5 */ { "min-th 10 max-th 30 max-p 0.1", 20, 0.05 },
	/* 6 */ { "min-th 10 max-th 30 max-p 0.1", 29, 0.095 },
	/* 7 */ { "min-th 10 max-th 30 max-p 0.1", 30, 1 },
	/* max-p 0.5: high probabilities too */
	/* 8 */ { "min-th 5 max-th 25 max-p 0.5", 10, 0.125 },
	/* 9 */ { "min-th 5 max-th 25 max-p 0.5", 20, 0.375 },
	/* 10 */ { "min-th 5 max-th 25 max-p 0.5", 24, 0.475 },
	/* max-p 1 */
	/* 11 */ { "min-th 0 max-th 10 max-p 1", 5, 0.5 },
	/* gentle: max-p at max-th rising to 1 at 2 max-th */
	/* 12 */ { "min-th 10 max-th 30 max-p 0.1 gentle on", 20, 0.05 },
	/* 13 */ { "min-th 10 max-th 30 max-p 0.1 gentle on", 30, 0.1 },
	/* 14 */ { "min-th 10 max-th 30 max-p 0.1 gentle on", 45, 0.55 },
	/* 15 */ { "min-th 10 max-th 30 max-p 0.1 gentle on", 60, 1 },
};

static void red_drop_probability_at_fixed_average(void **state)
{
	struct ipk_pool *pool = test_pool(80);

	for (size_t r = 0; r < sizeof(prob_rows) / sizeof(prob_rows[0]); r++) {
		char args[128];
		struct ipk_qos *q;
		uint32_t max_gap;
		double got;

		snprintf(args, sizeof(args), "%s limit 70 weight 1 seed %zu", prob_rows[r].args,
			 r + 1);
		q = qos_new("red", args);
		got = drop_fraction(q, pool, prob_rows[r].len, 0, &max_gap);
		if (got < prob_rows[r].want - 0.02 || got > prob_rows[r].want + 0.02 ||
		    (prob_rows[r].want == 0 && got != 0) || (prob_rows[r].want == 1 && got != 1))
			fail_msg("row %zu: drop fraction %.4f, expected %.4f", r + 1, got,
				 prob_rows[r].want);
		/* Floyd's "wait" correction: never more than 2 / p_b between drops. */
		if (prob_rows[r].want > 0 && prob_rows[r].want < 1)
			assert_true(max_gap <= (uint32_t)(2 / prob_rows[r].want) + 1);
		qos_drain(q, 0);
		ipk_qos_destroy(q);
	}
	ipk_pool_destroy(pool);
}

/* avg after n arrivals at queue length L from 0: L (1 - (1 - w)^n). */
static void red_average_is_an_ewma(void **state)
{
	struct ipk_pool *pool = test_pool(40);
	struct ipk_qos *q = qos_new("red", "min-th 50 max-th 100 limit 200 weight 0.002");
	struct ipk_pkt_list ev = { 0 };
	enum ipk_drop_reason why;
	double want = 0;

	/* Arrivals 1..20 see lengths 0..19. */
	for (uint32_t i = 0; i < 20; i++) {
		push_pkt(q, pkt_len(pool, 100), 0);
		want = 0.998 * want + 0.002 * i;
	}
	assert_float_equal(ipk_red_avg(q), want, 1e-12);
	for (uint32_t i = 0; i < 5000; i++) {
		push_pkt(q, pkt_len(pool, 100), 0);
		ipk_pkt_free(ipk_qos_dequeue(q, 0, &ev, &why));
		want = 0.998 * want + 0.002 * 20;
	}
	assert_float_equal(ipk_red_avg(q), want, 1e-9);
	assert_float_equal(ipk_red_avg(q), 20, 0.01);
	assert_int_equal(stat_of(q, "avg-milli"), (uint64_t)(want * 1000));
	qos_drain(q, 0);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

/* While the queue is idle for m packet times, avg decays by (1 - w)^m (Floyd & Jacobson
 * §4): the queue could have sent m packets meanwhile. */
static void red_idle_time_correction(void **state)
{
	static const struct {
		uint64_t idle_ns;
		uint32_t m;
	} rows[] = {
		/* 1 */ { 0, 0 }, /* 2 */ { 999 * US, 0 }, /* 3 */ { 1 * MS, 1 },
		/* 4 */ { 3500 * US, 3 }, /* 5 */ { 10 * MS, 10 }, /* 6 */ { 10 * SEC, 10000 },
	};
	struct ipk_pool *pool = test_pool(16);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *q = qos_new("red", "min-th 50 max-th 100 weight 0.5 pkt-time 1ms");
		double before, want;

		for (int i = 0; i < 10; i++)
			push_pkt(q, pkt_len(pool, 100), 0);
		before = ipk_red_avg(q);
		assert_true(before > 8);
		assert_int_equal(qos_drain(q, 1 * SEC), 10);   /* idle from 1 s */
		push_pkt(q, pkt_len(pool, 100), 1 * SEC + rows[r].idle_ns);
		want = before;
		for (uint32_t k = 0; k < rows[r].m; k++)
			want *= 0.5;
		if (ipk_red_avg(q) != want)
			fail_msg("row %zu: avg %g, expected %g", r + 1, ipk_red_avg(q), want);
		qos_drain(q, 2 * SEC);
		ipk_qos_destroy(q);
	}
	ipk_pool_destroy(pool);
}

/* One average, a profile per colour. At avg 15: green below its min-th, yellow at
 * 0.2 (15 - 10) / 20 = 0.05, red above its max-th. */
static void wred_profile_per_color(void **state)
{
	static const struct {
		uint8_t color;
		double want;
	} rows[] = {
		/* 1 */ { IPK_QOS_GREEN, 0 },
		/* 2 */ { IPK_QOS_YELLOW, 0.05 },
		/* 3 */ { IPK_QOS_RED, 1 },
		/* 4 */ { 7, 1 },   /* an unknown colour gets the red profile */
	};
	struct ipk_pool *pool = test_pool(40);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *q = qos_new("wred", "limit 50 weight 1 seed 3 green 20,40,0.1 "
						    "yellow 10,30,0.2 red 0,10,0.5");
		uint32_t max_gap;
		double got = drop_fraction(q, pool, 15, rows[r].color, &max_gap);

		if (got < rows[r].want - 0.02 || got > rows[r].want + 0.02)
			fail_msg("row %zu: drop fraction %.4f, expected %.4f", r + 1, got,
				 rows[r].want);
		qos_drain(q, 0);
		ipk_qos_destroy(q);
	}
	ipk_pool_destroy(pool);
}

/* Without colour profiles wred is red with the shared thresholds. */
static void wred_defaults_to_red_thresholds(void **state)
{
	struct ipk_pool *pool = test_pool(40);
	struct ipk_qos *q = qos_new("wred", "min-th 10 max-th 30 max-p 0.1 weight 1 seed 9");
	uint32_t max_gap;

	assert_float_equal(drop_fraction(q, pool, 20, IPK_QOS_YELLOW, &max_gap), 0.05, 0.02);
	qos_drain(q, 0);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void red_hard_limit(void **state)
{
	struct ipk_pool *pool = test_pool(8);
	struct ipk_qos *q = qos_new("red", "limit 5 min-th 3 max-th 5 weight 0.000001");
	struct ipk_pkt_list ev = { 0 };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt;

	for (int i = 0; i < 5; i++)
		push_pkt(q, pkt_len(pool, 100), 0);
	pkt = pkt_len(pool, 100);
	assert_int_equal(ipk_qos_enqueue(q, pkt, 0, &ev, &why), IPK_QOS_DROP);
	assert_int_equal(why, IPK_DROP_QUEUE_FULL);
	ipk_pkt_free(pkt);
	assert_int_equal(stat_of(q, "limit-drops"), 1);
	assert_int_equal(stat_of(q, "early-drops"), 0);
	assert_int_equal(q->in_pkts, 6);
	assert_int_equal(q->drops, 1);
	assert_int_equal(qos_drain(q, 0), 5);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void red_rejects_bad_arguments(void **state)
{
	qos_new_fails("red", "min-th 20 max-th 10", "red: min-th 20 not below max-th 10");
	qos_new_fails("red", "limit 10 max-th 20", "red: max-th 20 above limit 10");
	qos_new_fails("red", "max-p 1.5", "red: max-p 1.5 not in 0..1");
	qos_new_fails("red", "weight 0", "red: weight 0 not in 1e-06..1");
	qos_new_fails("red", "weight x", "red: weight 'x' is not a number");
	qos_new_fails("red", "pkt-time 5", "red: pkt-time '5' is not a time with a unit (ns, "
			     "us, ms, s)");
	qos_new_fails("red", "gentle yes", "red: gentle 'yes' is not on or off");
	qos_new_fails("red", "green 1,2,0.1", "red: unknown argument 'green'");
	qos_new_fails("wred", "green 10,20", "wred: green '10,20' is not <min-th>,<max-th>,"
			      "<max-p>");
	qos_new_fails("wred", "yellow 30,20,0.1", "wred: yellow min-th 30 not below max-th 20");
	qos_new_fails("wred", "red 1,2,3", "wred: red max-p 3 not in 0..1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(red_drop_probability_at_fixed_average),
		cmocka_unit_test(red_average_is_an_ewma),
		cmocka_unit_test(red_idle_time_correction),
		cmocka_unit_test(wred_profile_per_color),
		cmocka_unit_test(wred_defaults_to_red_thresholds),
		cmocka_unit_test(red_hard_limit),
		cmocka_unit_test(red_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
