// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/prio.c: over 10^5 operations with random arrivals, every dequeue
 * serves the lowest-index non-empty child (checked at each step against the queue
 * lengths), lower children are served only when all higher ones are empty, and argument
 * errors.
 */
#include "qos_test.h"

#include "qos/prio.h"

#define PRIO_N 4
#define PRIO_OPS 100000

static void prio_never_serves_lower_while_higher_backlogged(void **state)
{
	struct ipk_pool *pool = test_pool(PRIO_N * 64 + 4);
	struct ipk_qos *children[PRIO_N];
	struct ipk_qos *prio = qos_new("prio", NULL);
	uint64_t served[PRIO_N] = { 0 }, rng = 42, dequeues = 0;
	int idx;

	fifos_new(children, PRIO_N, "limit 64");
	attach(prio, PRIO_N);
	for (uint32_t op = 0; op < PRIO_OPS; op++) {
		/* Arrivals slightly outpace service, heavier on the low classes, so every
		 * class is sometimes backlogged and sometimes empty. */
		if (test_rand(&rng) % 100 < 52) {
			uint32_t c = test_rand_range(&rng, 0, 9);
			struct ipk_qos *child = children[c < 1 ? 0 : c < 3 ? 1 : c < 6 ? 2 : 3];
			struct ipk_pkt_list ev = { 0 };
			enum ipk_drop_reason why;
			struct ipk_pkt *pkt = pkt_len(pool, test_rand_range(&rng, 64, 1500));

			if (ipk_qos_enqueue(child, pkt, op, &ev, &why) == IPK_QOS_DROP)
				ipk_pkt_drop(pkt, NULL, why);
			continue;
		}
		int want = -1;

		for (int i = PRIO_N - 1; i >= 0; i--)
			if (children[i]->ops->len_pkts(children[i]))
				want = i;
		struct ipk_pkt *pkt = sched_step(prio, children, PRIO_N, op, &idx);

		if (idx != want)
			fail_msg("op %u: served %d while %d is the highest backlogged", op, idx,
				 want);
		if (pkt) {
			served[idx]++;
			dequeues++;
			ipk_pkt_free(pkt);
		}
	}
	/* The load reached every class. */
	for (int i = 0; i < PRIO_N; i++)
		assert_true(served[i] > 100);
	assert_true(dequeues > PRIO_OPS / 3);
	fifos_destroy(children, PRIO_N);
	ipk_qos_destroy(prio);
	ipk_pool_destroy(pool);
}

static void prio_rejects_bad_arguments(void **state)
{
	qos_new_fails("prio", "bands 3", "prio: unknown argument 'bands'");
	qos_new_fails("prio", "weights 1,2", "prio: unknown argument 'weights'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prio_never_serves_lower_while_higher_backlogged),
		cmocka_unit_test(prio_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
