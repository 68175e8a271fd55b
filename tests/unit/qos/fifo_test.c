// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/fifo.c: packet and byte limits, drop-tail against drop-head (which
 * evicts the oldest packets into the enqueue's evicted list), FIFO order, enqueue time
 * stamps and the counters.
 */
#include "qos_test.h"

#include "qos/fifo.h"

struct fifo_row {
	const char *args;
	uint32_t lens[8];       /* packets offered, in order (0 ends) */
	const char *verdicts;   /* P (pass) or D (drop) per packet */
	const char *evicted;    /* indices evicted by drop-head, in order */
	const char *left;       /* indices dequeued afterwards, in order */
};

static const struct fifo_row fifo_rows[] = {
	/* 1 */ { "limit 3", { 100, 100, 100, 100, 100 }, "PPPDD", "", "012" },
	/* 2 */ { "limit 3 drop head", { 100, 100, 100, 100, 100 }, "PPPPP", "01", "234" },
	/* 3 */ { "limit 10 limit-bytes 1000", { 400, 400, 400, 200, 100 }, "PPDPD", "", "013" },
	/* 4 */ { "limit 10 limit-bytes 1000 drop head", { 400, 400, 400, 200, 1001 }, "PPPPD",
		  "0", "123" },
	/* 5 */ { "limit 10 limit-bytes 1000 drop head", { 100, 100, 100, 900 }, "PPPP", "01",
		  "23" },
	/* 6 */ { "limit 10 limit-bytes 1000 drop head", { 100, 100, 100, 950 }, "PPPP", "012",
		  "3" },
	/* 7 */ { "limit 1", { 64, 1500 }, "PD", "", "0" },
	/* 8 */ { "limit 1 drop head", { 64, 1500, 64 }, "PPP", "01", "2" },
	/* 9 */ { "limit-bytes 1500", { 1500, 1 }, "PD", "", "0" },
	/* 10 */ { "drop tail", { 1, 2, 3 }, "PPP", "", "012" },
};

static void list_indices(struct ipk_pkt_list *l, char *out)
{
	struct ipk_pkt *pkt;

	while ((pkt = ipk_pkt_list_pop(l))) {
		*out++ = (char)('0' + pkt->index);
		ipk_pkt_free(pkt);
	}
	*out = '\0';
}

static void fifo_table(void **state)
{
	struct ipk_pool *pool = test_pool(16);

	for (size_t r = 0; r < sizeof(fifo_rows) / sizeof(fifo_rows[0]); r++) {
		const struct fifo_row *row = &fifo_rows[r];
		struct ipk_qos *q = qos_new("fifo", row->args);
		struct ipk_pkt_list evicted = { 0 }, out = { 0 };
		enum ipk_drop_reason why = IPK_DROP_NONE;
		char got[16];
		uint32_t i;

		for (i = 0; row->lens[i]; i++) {
			struct ipk_pkt *pkt = pkt_len(pool, row->lens[i]);
			enum ipk_qos_verdict v;

			pkt->index = i;
			v = ipk_qos_enqueue(q, pkt, 1000 + i, &evicted, &why);
			got[i] = v == IPK_QOS_PASS ? 'P' : 'D';
			if (v == IPK_QOS_DROP) {
				assert_int_equal(why, IPK_DROP_QUEUE_FULL);
				ipk_pkt_drop(pkt, NULL, why);
			}
		}
		got[i] = '\0';
		if (strcmp(got, row->verdicts))
			fail_msg("row %zu: verdicts %s, expected %s", r + 1, got, row->verdicts);
		list_indices(&evicted, got);
		if (strcmp(got, row->evicted))
			fail_msg("row %zu: evicted %s, expected %s", r + 1, got, row->evicted);
		assert_int_equal(q->ops->len_pkts(q), strlen(row->left));
		while (q->ops->len_pkts(q)) {
			struct ipk_pkt *pkt = ipk_qos_dequeue(q, 5000, &out, &why);

			assert_non_null(pkt);
			assert_int_equal(pkt->meta.enq_ns, 1000 + pkt->index);
			ipk_pkt_list_push(&evicted, pkt);
		}
		assert_int_equal(out.count, 0);
		assert_null(ipk_qos_dequeue(q, 5000, &out, &why));
		list_indices(&evicted, got);
		if (strcmp(got, row->left))
			fail_msg("row %zu: dequeued %s, expected %s", r + 1, got, row->left);
		/* in = out + drops (+ 0 queued) */
		assert_int_equal(q->in_pkts, q->out_pkts + q->drops);
		assert_int_equal(q->out_pkts, strlen(row->left));
		ipk_qos_destroy(q);
	}
	assert_int_equal(ipk_pool_available(pool), 16);
	ipk_pool_destroy(pool);
}

static void fifo_counts_bytes_and_drops(void **state)
{
	struct ipk_pool *pool = test_pool(8);
	struct ipk_qos *q = qos_new("fifo", "limit 4 limit-bytes 3000 drop head");
	struct ipk_pkt_list evicted = { 0 };
	enum ipk_drop_reason why;
	uint32_t lens[] = { 1000, 1000, 1000, 1000, 500 };

	for (size_t i = 0; i < 5; i++)
		assert_int_equal(ipk_qos_enqueue(q, pkt_len(pool, lens[i]), 0, &evicted, &why),
				 IPK_QOS_PASS);
	/* 1000 + 1000 + 1000 then +1000 evicts one, +500 evicts one more. */
	assert_int_equal(evicted.count, 2);
	assert_int_equal(q->ops->len_pkts(q), 3);
	assert_int_equal(q->ops->len_bytes(q), 2500);
	assert_int_equal(stat_of(q, "head-drops"), 2);
	assert_int_equal(stat_of(q, "tail-drops"), 0);
	assert_int_equal(stat_of(q, "drops"), 2);
	assert_int_equal(stat_of(q, "bytes"), 2500);
	assert_int_equal(ipk_qos_ready_len(q, 0), 1000);
	list_free(&evicted);
	assert_int_equal(qos_drain(q, 0), 3);
	assert_int_equal(q->ops->len_bytes(q), 0);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void fifo_rejects_bad_arguments(void **state)
{
	qos_new_fails("fifo", "limit 0", "fifo: limit 0 not in 1..1000000");
	qos_new_fails("fifo", "limit 2000000", "fifo: limit 2000000 not in 1..1000000");
	qos_new_fails("fifo", "limit ten", "fifo: limit 'ten' is not a number");
	qos_new_fails("fifo", "drop middle", "fifo: drop 'middle' is not tail or head");
	qos_new_fails("fifo", "size 3", "fifo: unknown argument 'size'");
	qos_new_fails("fifo", "limit 3 limit 4", "fifo: 'limit' given twice");
	qos_new_fails("fifo", "limit", "fifo: 'limit' has no value");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fifo_table),
		cmocka_unit_test(fifo_counts_bytes_and_drops),
		cmocka_unit_test(fifo_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
