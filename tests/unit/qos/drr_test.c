// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/drr.c: byte shares follow quantum x weight within 2% over 10^5
 * packets of random sizes 64..1500 with every child backlogged, for quanta above and
 * below the packet size; idle children neither take a share nor bank credit; the attach
 * check of the weight count; argument errors.
 */
#include "qos_test.h"

#include <stdlib.h>

#include "qos/drr.h"

#define DRR_MAX_CHILDREN 8
#define DRR_BACKLOG 20
#define DRR_ROUNDS 100000

struct share_row {
	const char *args;
	uint32_t n;
	uint32_t weights[DRR_MAX_CHILDREN];
};

static const struct share_row share_rows[] = {
	/* 1 */ { "", 3, { 1, 1, 1 } },
	/* 2 */ { "weights 4,2,1", 3, { 4, 2, 1 } },
	/* 3 */ { "quantum 500 weights 1,3", 2, { 1, 3 } },
	/* 4 */ { "quantum 64 weights 2,1,1,1", 4, { 2, 1, 1, 1 } },
	/* 5 */ { "quantum 9000 weights 1,2,3,4,5,6,7,8", 8, { 1, 2, 3, 4, 5, 6, 7, 8 } },
};

static void top_up(struct ipk_pool *pool, struct ipk_qos *child, uint64_t *rng)
{
	while (child->ops->len_pkts(child) < DRR_BACKLOG)
		push_pkt(child, pkt_len(pool, test_rand_range(rng, 64, 1500)), 0);
}

static void drr_byte_shares_follow_weights(void **state)
{
	struct ipk_pool *pool = test_pool(DRR_MAX_CHILDREN * DRR_BACKLOG + 8);

	for (size_t r = 0; r < sizeof(share_rows) / sizeof(share_rows[0]); r++) {
		const struct share_row *row = &share_rows[r];
		struct ipk_qos *children[DRR_MAX_CHILDREN];
		struct ipk_qos *drr = qos_new("drr", row->args);
		uint64_t bytes[DRR_MAX_CHILDREN] = { 0 }, total = 0, rng = r + 1;
		uint32_t wsum = 0;
		int idx;

		fifos_new(children, row->n, "limit 100");
		attach(drr, row->n);
		for (uint32_t i = 0; i < row->n; i++) {
			top_up(pool, children[i], &rng);
			wsum += row->weights[i];
		}
		for (uint32_t k = 0; k < DRR_ROUNDS; k++) {
			struct ipk_pkt *pkt = sched_step(drr, children, row->n, 0, &idx);

			assert_non_null(pkt);
			bytes[idx] += pkt->len;
			total += pkt->len;
			ipk_pkt_free(pkt);
			top_up(pool, children[idx], &rng);
		}
		for (uint32_t i = 0; i < row->n; i++) {
			double want = (double)row->weights[i] / wsum;
			double got = (double)bytes[i] / (double)total;

			if (got < want * 0.98 || got > want * 1.02)
				fail_msg("row %zu child %u: share %.4f, expected %.4f +-2%%", r + 1,
					 i, got, want);
		}
		fifos_destroy(children, row->n);
		ipk_qos_destroy(drr);
	}
	ipk_pool_destroy(pool);
}

/* An empty child is skipped; when it comes back it starts from a zero deficit, so a long
 * idle time does not turn into a burst. */
static void drr_idle_child_banks_no_credit(void **state)
{
	struct ipk_pool *pool = test_pool(64);
	struct ipk_qos *children[2];
	struct ipk_qos *drr = qos_new("drr", "quantum 1000");
	uint32_t served[2] = { 0 };
	int idx;

	fifos_new(children, 2, "limit 100");
	attach(drr, 2);
	for (int i = 0; i < 20; i++)
		push_pkt(children[0], pkt_len(pool, 1000), 0);
	/* Child 1 idle: child 0 gets every turn. */
	for (int i = 0; i < 10; i++) {
		ipk_pkt_free(sched_step(drr, children, 2, 0, &idx));
		assert_int_equal(idx, 0);
	}
	for (int i = 0; i < 10; i++)
		push_pkt(children[1], pkt_len(pool, 1000), 0);
	/* Now strictly alternating, one 1000-byte packet per quantum each. */
	for (int i = 0; i < 20; i++) {
		ipk_pkt_free(sched_step(drr, children, 2, 0, &idx));
		served[idx]++;
		assert_true(abs((int)served[0] - (int)served[1]) <= 1);
	}
	assert_int_equal(served[0], 10);
	assert_int_equal(served[1], 10);
	assert_int_equal(drr->ops->select(drr, children, 2, 0), -1);
	fifos_destroy(children, 2);
	ipk_qos_destroy(drr);
	ipk_pool_destroy(pool);
}

/* With a quantum of 500 a 1500-byte packet waits for its third visit while the other
 * child sends 500 bytes per visit. */
static void drr_small_quantum_takes_several_rounds(void **state)
{
	static const struct {
		uint32_t len0, len1;
		const char *order;  /* children served, in order */
	} rows[] = {
		/* 1 */ { 1500, 250, "1111011" },
		/* 2 */ { 500, 500, "0101010" },
		/* 3 */ { 1000, 500, "1011011" },
	};
	struct ipk_pool *pool = test_pool(64);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *children[2];
		struct ipk_qos *drr = qos_new("drr", "quantum 500");
		char got[8];
		int idx;

		fifos_new(children, 2, "limit 100");
		attach(drr, 2);
		for (int i = 0; i < 10; i++) {
			push_pkt(children[0], pkt_len(pool, rows[r].len0), 0);
			push_pkt(children[1], pkt_len(pool, rows[r].len1), 0);
		}
		for (int i = 0; i < 7; i++) {
			ipk_pkt_free(sched_step(drr, children, 2, 0, &idx));
			got[i] = (char)('0' + idx);
		}
		got[7] = '\0';
		if (strcmp(got, rows[r].order))
			fail_msg("row %zu: order %s, expected %s", r + 1, got, rows[r].order);
		fifos_destroy(children, 2);
		ipk_qos_destroy(drr);
	}
	ipk_pool_destroy(pool);
}

static void drr_rejects_bad_arguments(void **state)
{
	struct ipk_qos *drr = qos_new("drr", "weights 1,2,3");
	struct ipk_err err;

	qos_new_fails("drr", "quantum 0", "drr: quantum 0 not in 1..65535");
	qos_new_fails("drr", "quantum 70000", "drr: quantum 70000 not in 1..65535");
	qos_new_fails("drr", "weights 1,0,2", "drr: weight 0 not in 1..1000");
	qos_new_fails("drr", "weights 1,,2", "drr: weight '1,,2': bad list");
	qos_new_fails("drr", "weights 1,x", "drr: weight 'x' is not a number");
	qos_new_fails("drr", "rate 5", "drr: unknown argument 'rate'");
	assert_int_equal(drr->ops->attach(drr, 2, &err), -EINVAL);
	assert_string_equal(err.msg, "drr: 3 weights for 2 children");
	assert_int_equal(drr->ops->attach(drr, 3, &err), 0);
	assert_int_equal(stat_of(drr, "children"), 3);
	ipk_qos_destroy(drr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(drr_byte_shares_follow_weights),
		cmocka_unit_test(drr_idle_child_banks_no_credit),
		cmocka_unit_test(drr_small_quantum_takes_several_rounds),
		cmocka_unit_test(drr_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
