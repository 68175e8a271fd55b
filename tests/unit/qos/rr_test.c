// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/rr.c: equal packet shares over 10^5 packets of mixed sizes with every
 * child backlogged, weighted turns, exact service order, skipping empty children, and
 * argument errors.
 */
#include "qos_test.h"

#include "qos/rr.h"

#define RR_BACKLOG 10

struct share_row {
	const char *args;
	uint32_t n;
	uint32_t weights[6];
};

static const struct share_row share_rows[] = {
	/* 1 */ { "", 4, { 1, 1, 1, 1 } },
	/* 2 */ { "", 6, { 1, 1, 1, 1, 1, 1 } },
	/* 3 */ { "weights 3,1", 2, { 3, 1 } },
	/* 4 */ { "weights 1,2,5", 3, { 1, 2, 5 } },
};

static void rr_packet_shares(void **state)
{
	struct ipk_pool *pool = test_pool(6 * RR_BACKLOG + 4);

	for (size_t r = 0; r < sizeof(share_rows) / sizeof(share_rows[0]); r++) {
		const struct share_row *row = &share_rows[r];
		struct ipk_qos *children[6];
		struct ipk_qos *rr = qos_new("rr", row->args);
		uint64_t pkts[6] = { 0 }, rng = r + 7;
		uint32_t wsum = 0, rounds;
		int idx;

		fifos_new(children, row->n, "limit 100");
		attach(rr, row->n);
		for (uint32_t i = 0; i < row->n; i++) {
			wsum += row->weights[i];
			for (int k = 0; k < RR_BACKLOG; k++)
				push_pkt(children[i],
					 pkt_len(pool, test_rand_range(&rng, 64, 1500)), 0);
		}
		/* Whole rounds, so that the shares are exact. */
		rounds = 100000 / wsum;
		for (uint32_t k = 0; k < rounds * wsum; k++) {
			struct ipk_pkt *pkt = sched_step(rr, children, row->n, 0, &idx);

			pkts[idx]++;
			ipk_pkt_free(pkt);
			push_pkt(children[idx], pkt_len(pool, test_rand_range(&rng, 64, 1500)), 0);
		}
		for (uint32_t i = 0; i < row->n; i++)
			if (pkts[i] != (uint64_t)rounds * row->weights[i])
				fail_msg("row %zu child %u: %llu packets, expected %llu", r + 1, i,
					 (unsigned long long)pkts[i],
					 (unsigned long long)rounds * row->weights[i]);
		fifos_destroy(children, row->n);
		ipk_qos_destroy(rr);
	}
	ipk_pool_destroy(pool);
}

/* Order of service with some children empty: "." marks an empty child. */
static void rr_order_skips_empty_children(void **state)
{
	static const struct {
		const char *args;
		uint32_t backlog[4];
		const char *order;
	} rows[] = {
		/* 1 */ { "", { 2, 2, 2, 2 }, "01230123" },
		/* 2 */ { "", { 3, 0, 1, 0 }, "0200" },
		/* 3 */ { "weights 2,1,1,1", { 3, 3, 0, 1 }, "0013011" },
		/* 4 */ { "", { 0, 0, 0, 2 }, "33" },
		/* 5 */ { "weights 1,1,3,1", { 2, 0, 4, 0 }, "022202" },
	};
	struct ipk_pool *pool = test_pool(16);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *children[4];
		struct ipk_qos *rr = qos_new("rr", rows[r].args);
		char got[16];
		uint32_t n = 0;
		int idx;

		fifos_new(children, 4, "limit 10");
		attach(rr, 4);
		for (uint32_t i = 0; i < 4; i++)
			for (uint32_t k = 0; k < rows[r].backlog[i]; k++)
				push_pkt(children[i], pkt_len(pool, 100), 0);
		for (struct ipk_pkt *pkt; (pkt = sched_step(rr, children, 4, 0, &idx)); n++) {
			got[n] = (char)('0' + idx);
			ipk_pkt_free(pkt);
		}
		got[n] = '\0';
		if (strcmp(got, rows[r].order))
			fail_msg("row %zu: order %s, expected %s", r + 1, got, rows[r].order);
		fifos_destroy(children, 4);
		ipk_qos_destroy(rr);
	}
	ipk_pool_destroy(pool);
}

static void rr_rejects_bad_arguments(void **state)
{
	struct ipk_qos *rr = qos_new("rr", "weights 1,1");
	struct ipk_err err;

	qos_new_fails("rr", "weights 0,1", "rr: weight 0 not in 1..1000");
	qos_new_fails("rr", "weights 1,1001", "rr: weight 1001 not in 1..1000");
	qos_new_fails("rr", "quantum 1500", "rr: unknown argument 'quantum'");
	assert_int_equal(rr->ops->attach(rr, 3, &err), -EINVAL);
	assert_string_equal(err.msg, "rr: 2 weights for 3 children");
	ipk_qos_destroy(rr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rr_packet_shares),
		cmocka_unit_test(rr_order_skips_empty_children),
		cmocka_unit_test(rr_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
