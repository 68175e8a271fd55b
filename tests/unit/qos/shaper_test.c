// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/shaper.c, alone and as the shaper of a tree node (src/qos/tree.c):
 * conform/consume/wait sequences; a backlogged shaped queue sends at the configured rate
 * within 1% over 10 simulated seconds when woken exactly at next_ns(); the burst bound
 * bytes(window W) <= burst + rate x W holds for every window; after idle time exactly a
 * burst leaves at once; argument errors.
 */
#include "qos_test.h"

#include <stdlib.h>

#include "qos/shaper.h"
#include "qos/tree.h"

/* rate 1 Mbit/s = 125 bytes per ms, burst 3000. */
static void shaper_conform_consume_sequence(void **state)
{
	static const struct {
		uint64_t t_ns;
		uint32_t len;
		bool conform;
		uint64_t wait_ns;  /* until it would conform */
	} rows[] = {
		/* 1 */ { 0, 1500, true, 0 },        /* 3000 -> 1500 */
		/* 2 */ { 0, 1500, true, 0 },        /* -> 0 */
		/* 3 */ { 0, 1500, false, 12 * MS },
		/* 4 */ { 4 * MS, 500, true, 0 },    /* 500 -> 0 */
		/* 5 */ { 4 * MS, 125, false, 1 * MS },
		/* 6 */ { 5 * MS, 125, true, 0 },
		/* 7 */ { 5 * MS, 2000, false, 16 * MS },
		/* 8 */ { 1 * SEC, 2000, true, 0 },  /* full again: 3000 -> 1000 */
		/* 9 */ { 1 * SEC, 1000, true, 0 },
		/* 10 */ { 1 * SEC, 1, false, 8 * US },
	};
	struct ipk_qos *s = qos_new("shaper", "rate 1M burst 3000");

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		bool ok = s->ops->conform(s, rows[r].len, rows[r].t_ns);
		uint64_t wait = s->ops->wait_ns(s, rows[r].len, rows[r].t_ns);

		if (ok != rows[r].conform || wait != rows[r].wait_ns)
			fail_msg("row %zu: conform %d wait %llu, expected %d %llu", r + 1, ok,
				 (unsigned long long)wait, rows[r].conform,
				 (unsigned long long)rows[r].wait_ns);
		if (ok)
			s->ops->consume(s, rows[r].len, rows[r].t_ns);
	}
	assert_int_equal(stat_of(s, "sent-bytes"), 1500 + 1500 + 500 + 125 + 2000 + 1000);
	ipk_qos_destroy(s);
}

static struct ipk_qos *shaped_fifo(const char *shaper_args)
{
	struct ipk_qos *child = qos_new("fifo", "limit 1000");
	struct ipk_qos_node_cfg cfg = {
		.children = &child,
		.n_children = 1,
		.shaper = qos_new("shaper", shaper_args),
	};
	struct ipk_err err = { { 0 } };
	struct ipk_qos *node = NULL;

	if (ipk_qos_node_create(&node, "shaped", &cfg, &err))
		fail_msg("%s", err.msg);
	return node;
}

struct departure {
	uint64_t t;
	uint32_t len;
};

/* Largest byte count departing in any window of @w ns (two pointers). */
static uint64_t max_in_window(const struct departure *d, size_t n, uint64_t w)
{
	uint64_t sum = 0, best = 0;
	size_t lo = 0;

	for (size_t hi = 0; hi < n; hi++) {
		sum += d[hi].len;
		while (d[hi].t - d[lo].t > w)
			sum -= d[lo++].len;
		best = sum > best ? sum : best;
	}
	return best;
}

/* Keeps @node backlogged for 10 s and sends whenever next_ns() says it may, recording
 * each departure in @d; returns how many. Checks that the shaper says no a nanosecond
 * early and yes on time. */
static size_t run_backlogged(struct ipk_qos *node, struct ipk_pool *pool, uint64_t seed,
			     struct departure *d, size_t cap)
{
	struct ipk_pkt_list dropped = { 0 };
	enum ipk_drop_reason why;
	uint64_t now = 0, next, rng = seed;
	struct ipk_pkt *pkt;
	size_t n = 0;

	for (;;) {
		while (node->ops->len_pkts(node) < 100)
			push_pkt(node, pkt_len(pool, test_rand_range(&rng, 64, 1500)), now);
		next = ipk_qos_next_ns(node, now);
		if (next >= 10 * SEC)
			break;
		if (next > now + 1) {
			now = next - 1;
			assert_null(ipk_qos_dequeue(node, now, &dropped, &why));
		}
		now = next;
		pkt = ipk_qos_dequeue(node, now, &dropped, &why);
		if (!pkt)
			fail_msg("nothing at next_ns %llu", (unsigned long long)now);
		assert_true(n < cap);
		d[n++] = (struct departure){ now, pkt->len };
		ipk_pkt_free(pkt);
	}
	qos_drain(node, now);
	return n;
}

static void shaper_rate_and_burst_over_10s(void **state)
{
	static const struct {
		const char *args;
		uint64_t rate_bps, burst;
	} rows[] = {
		/* 1 */ { "rate 1M burst 3000", 1000000, 3000 },
		/* 2 */ { "rate 10M burst 15000", 10000000, 15000 },
		/* 3 */ { "rate 100M burst 64000", 100000000, 64000 },
		/* 4 */ { "rate 2500000", 2500000, 3125 },   /* default burst: 10 ms */
	};
	static const uint64_t windows[] = { 100 * US, 1 * MS, 10 * MS, 100 * MS, 1 * SEC };
	struct ipk_pool *pool = test_pool(128);
	size_t cap = 1500000;
	struct departure *d = malloc(cap * sizeof(*d));

	assert_non_null(d);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *node = shaped_fifo(rows[r].args);
		size_t n = run_backlogged(node, pool, r + 1, d, cap);
		double want = rows[r].rate_bps / 8.0 * 10;
		uint64_t bytes = max_in_window(d, n, 10 * SEC);

		if (bytes < want * 0.99 || bytes > want * 1.01 + rows[r].burst)
			fail_msg("row %zu: %llu bytes in 10 s, expected %.0f +-1%%", r + 1,
				 (unsigned long long)bytes, want);
		for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
			uint64_t limit = rows[r].burst + rows[r].rate_bps * windows[w] / 8 / SEC;
			uint64_t got = max_in_window(d, n, windows[w]);

			if (got > limit)
				fail_msg("row %zu window %llu ns: %llu bytes, at most %llu", r + 1,
					 (unsigned long long)windows[w], (unsigned long long)got,
					 (unsigned long long)limit);
		}
		ipk_qos_destroy(node);
	}
	free(d);
	ipk_pool_destroy(pool);
}

/* After an idle second the bucket is full: exactly a burst leaves at one instant. */
static void shaper_burst_after_idle(void **state)
{
	static const struct {
		const char *args;
		uint32_t len, at_once;
	} rows[] = {
		/* 1 */ { "rate 1M burst 3000", 1000, 3 },
		/* 2 */ { "rate 1M burst 3000", 1500, 2 },
		/* 3 */ { "rate 1M burst 2999", 1000, 2 },
		/* 4 */ { "rate 1M burst 64", 1500, 1 },    /* larger than the bucket: once full */
		/* 5 */ { "rate 10M burst 100000", 1000, 100 },
	};
	struct ipk_pool *pool = test_pool(256);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *node = shaped_fifo(rows[r].args);
		struct ipk_pkt_list dropped = { 0 };
		enum ipk_drop_reason why;
		struct ipk_pkt *pkt;
		uint32_t n = 0;

		for (int i = 0; i < 200; i++)
			push_pkt(node, pkt_len(pool, rows[r].len), 0);
		while ((pkt = ipk_qos_dequeue(node, 1 * SEC, &dropped, &why))) {
			ipk_pkt_free(pkt);
			n++;
		}
		if (n != rows[r].at_once)
			fail_msg("row %zu: %u packets at once, expected %u", r + 1, n,
				 rows[r].at_once);
		assert_int_equal(ipk_qos_ready_len(node, 1 * SEC), 0);
		assert_true(ipk_qos_next_ns(node, 1 * SEC) > 1 * SEC);
		qos_drain(node, 2 * SEC);
		ipk_qos_destroy(node);
	}
	ipk_pool_destroy(pool);
}

static void shaper_rejects_bad_arguments(void **state)
{
	qos_new_fails("shaper", "burst 1500", "shaper: rate is required");
	qos_new_fails("shaper", "rate 0", "shaper: rate 0 not in 1..400000000000");
	qos_new_fails("shaper", "rate 500G", "shaper: rate 500000000000 not in 1..400000000000");
	qos_new_fails("shaper", "rate 1M burst 2G", "shaper: burst 2000000000 not in "
			       "1..1000000000");
	qos_new_fails("shaper", "rate 1M ceil 2M", "shaper: unknown argument 'ceil'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shaper_conform_consume_sequence),
		cmocka_unit_test(shaper_rate_and_burst_over_10s),
		cmocka_unit_test(shaper_burst_after_idle),
		cmocka_unit_test(shaper_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
