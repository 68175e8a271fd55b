// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/registry.c, and checks every registered kind must pass: each kind is
 * found by its name with the right kind and data ops; each refuses an unknown argument;
 * every queue (and a node of queues) conserves packets under 10^5 random operations
 * (in = out + drops + queued at every step, every buffer back in the pool at the end);
 * every meter passes or drops each packet it sees.
 */
#include "qos_test.h"

#include "qos/tree.h"

static void every_kind_is_registered(void **state)
{
	static const struct {
		const char *name;
		enum ipk_qos_kind kind;
	} rows[] = {
		/* 1 */ { "dscp", IPK_QOS_CLASSIFIER }, /* 2 */ { "fivetuple", IPK_QOS_CLASSIFIER },
		/* 3 */ { "ipsec", IPK_QOS_CLASSIFIER }, /* 4 */ { "user", IPK_QOS_CLASSIFIER },
		/* 5 */ { "tb", IPK_QOS_METER }, /* 6 */ { "srtcm", IPK_QOS_METER },
		/* 7 */ { "trtcm", IPK_QOS_METER }, /* 8 */ { "fifo", IPK_QOS_QUEUE },
		/* 9 */ { "red", IPK_QOS_QUEUE }, /* 10 */ { "wred", IPK_QOS_QUEUE },
		/* 11 */ { "codel", IPK_QOS_QUEUE }, /* 12 */ { "rr", IPK_QOS_SCHEDULER },
		/* 13 */ { "prio", IPK_QOS_SCHEDULER }, /* 14 */ { "drr", IPK_QOS_SCHEDULER },
		/* 15 */ { "shaper", IPK_QOS_SHAPER },
	};
	uint32_t n;
	const struct ipk_qos_ops *const *kinds = ipk_qos_kinds(&n);

	assert_int_equal(n, sizeof(rows) / sizeof(rows[0]));
	for (size_t r = 0; r < n; r++) {
		const struct ipk_qos_ops *ops = ipk_qos_find(rows[r].name);

		if (!ops || ops->kind != rows[r].kind || strcmp(ops->name, rows[r].name))
			fail_msg("row %zu: %s not registered as kind %d", r + 1, rows[r].name,
				 rows[r].kind);
		assert_ptr_equal(kinds[r], ops);
		assert_non_null(ops->parse);
		assert_non_null(ops->stats);
		switch (ops->kind) {
		case IPK_QOS_CLASSIFIER:
			assert_true(ops->classify && ops->n_classes);
			break;
		case IPK_QOS_METER:
			assert_non_null(ops->meter);
			break;
		case IPK_QOS_QUEUE:
			assert_true(ops->enqueue && ops->dequeue && ops->peek && ops->len_pkts &&
				    ops->len_bytes);
			break;
		case IPK_QOS_SCHEDULER:
			assert_true(ops->select && ops->attach);
			break;
		case IPK_QOS_SHAPER:
			assert_true(ops->conform && ops->consume && ops->wait_ns);
			break;
		}
	}
	assert_null(ipk_qos_find("wfq"));
	assert_null(ipk_qos_find("node"));  /* built by ipk_qos_node_create, not by name */
	qos_new_fails("wfq", "", "unknown QoS component 'wfq'");
}

static void every_kind_refuses_unknown_arguments(void **state)
{
	uint32_t n;
	const struct ipk_qos_ops *const *kinds = ipk_qos_kinds(&n);

	for (uint32_t i = 0; i < n; i++) {
		char msg[128];

		if (strcmp(kinds[i]->name, "dscp") == 0)
			snprintf(msg, sizeof(msg), "dscp: 'bogus' is not a DSCP name or number "
				 "0..63");
		else
			snprintf(msg, sizeof(msg), "%s: unknown argument 'bogus'", kinds[i]->name);
		qos_new_fails(kinds[i]->name, "bogus 1", msg);
	}
}

static const char *const queue_rows[][2] = {
	/* 1 */ { "fifo", "limit 20" },
	/* 2 */ { "fifo", "limit 20 limit-bytes 15000 drop head" },
	/* 3 */ { "red", "limit 30 min-th 5 max-th 15 weight 0.1 seed 1" },
	/* 4 */ { "wred", "limit 30 weight 0.1 seed 2 green 10,20,0.1 red 2,8,0.5" },
	/* 5 */ { "codel", "limit 30 target 1ms interval 10ms" },
	/* 6 */ { "node", NULL },
};

/* dscp ef -> drop-head fifo, af41 -> codel, default -> red; drr; srtcm in front. */
static struct ipk_qos *node_of_queues(void)
{
	struct ipk_qos *children[3] = { qos_new("fifo", "limit 10 drop head"),
					qos_new("codel", "limit 20 target 1ms interval 10ms"),
					qos_new("red", "limit 20 min-th 3 max-th 10 seed 5") };
	struct ipk_qos_node_cfg cfg = {
		.meters = { qos_new("srtcm", "cir 8M cbs 3000 ebs 3000 red remark:be") },
		.n_meters = 1,
		.classifier = qos_new("dscp", "ef 0 af41 1 default 2"),
		.children = children,
		.n_children = 3,
		.scheduler = qos_new("drr", "quantum 500 weights 1,2,3"),
	};
	struct ipk_err err = { { 0 } };
	struct ipk_qos *node = NULL;

	if (ipk_qos_node_create(&node, "n", &cfg, &err))
		fail_msg("%s", err.msg);
	return node;
}

struct load {
	uint64_t rng, now, offered, delivered, dropped;
};

/* One random arrival (53%) or departure, each some 0..400 us after the last; every
 * packet the queue gives back as dropped is counted and freed. */
static void random_op(struct ipk_qos *q, struct ipk_pool *pool, struct load *l)
{
	static const uint8_t dscps[] = { 46, 34, 0 };
	struct ipk_pkt_list list = { 0 };
	enum ipk_drop_reason why = IPK_DROP_NONE;
	struct ipk_pkt *pkt;

	l->now += test_rand_range(&l->rng, 0, 400) * US;
	if (test_rand(&l->rng) % 100 < 53) {
		pkt = pkt_dscp(pool, "192.0.2.1", dscps[test_rand(&l->rng) % 3], 0,
			       test_rand_range(&l->rng, 64, 1500));
		l->offered++;
		if (ipk_qos_enqueue(q, pkt, l->now, &list, &why) == IPK_QOS_DROP) {
			assert_int_not_equal(why, IPK_DROP_NONE);
			ipk_pkt_drop(pkt, NULL, why);
			l->dropped++;
		}
	} else {
		pkt = ipk_qos_dequeue(q, l->now, &list, &why);
		if (pkt) {
			ipk_pkt_free(pkt);
			l->delivered++;
		}
	}
	if (list.count)
		assert_int_not_equal(why, IPK_DROP_NONE);
	l->dropped += list_free(&list);
}

static void every_queue_conserves_packets(void **state)
{
	for (size_t r = 0; r < sizeof(queue_rows) / sizeof(queue_rows[0]); r++) {
		struct ipk_pool *pool = test_pool(128);
		struct ipk_qos *q = queue_rows[r][1] ? qos_new(queue_rows[r][0], queue_rows[r][1]) :
						       node_of_queues();
		struct load l = { .rng = r + 11 };

		for (uint32_t op = 0; op < 100000; op++) {
			random_op(q, pool, &l);
			if (q->in_pkts != q->out_pkts + q->drops + q->ops->len_pkts(q) ||
			    q->in_pkts != l.offered || q->out_pkts != l.delivered ||
			    q->drops != l.dropped)
				fail_msg("row %zu op %u: in %llu out %llu drops %llu len %u", r + 1,
					 op, (unsigned long long)q->in_pkts,
					 (unsigned long long)q->out_pkts,
					 (unsigned long long)q->drops, q->ops->len_pkts(q));
		}
		/* The load made every queue drop. */
		assert_true(l.dropped > 0);
		qos_drain(q, l.now);
		assert_int_equal(q->ops->len_bytes(q), 0);
		ipk_qos_destroy(q);
		assert_int_equal(ipk_pool_available(pool), 128);
		ipk_pool_destroy(pool);
	}
}

static void every_meter_passes_or_drops(void **state)
{
	static const char *const rows[][2] = {
		/* 1 */ { "tb", "rate 2M burst 3000" },
		/* 2 */ { "srtcm", "cir 1M cbs 2000 ebs 3000" },
		/* 3 */ { "srtcm", "cir 1M cbs 2000 ebs 3000 mode aware yellow drop" },
		/* 4 */ { "trtcm", "pir 2M pbs 3000 cir 1M cbs 1500" },
		/* 5 */ { "trtcm", "pir 2M pbs 3000 cir 1M cbs 1500 mode aware" },
	};
	struct ipk_pool *pool = test_pool(4);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *m = qos_new(rows[r][0], rows[r][1]);
		uint64_t now = 0, rng = r + 1, passed = 0, dropped = 0, colors[3] = { 0 };

		for (int i = 0; i < 100000; i++) {
			struct ipk_pkt *pkt = pkt_len(pool, test_rand_range(&rng, 64, 1500));
			enum ipk_drop_reason why = IPK_DROP_NONE;

			now += test_rand_range(&rng, 0, 8) * MS;
			pkt->meta.color = (uint8_t)(test_rand(&rng) % 3);
			if (ipk_qos_meter(m, pkt, now, &why) == IPK_QOS_PASS) {
				passed++;
			} else {
				assert_int_equal(why, IPK_DROP_METER);
				dropped++;
			}
			assert_true(pkt->meta.color < 3);
			colors[pkt->meta.color]++;
			ipk_pkt_free(pkt);
		}
		assert_int_equal(m->in_pkts, 100000);
		assert_int_equal(m->out_pkts, passed);
		assert_int_equal(m->drops, dropped);
		assert_true(passed > 0 && dropped > 0);
		ipk_qos_destroy(m);
	}
	ipk_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_is_registered),
		cmocka_unit_test(every_kind_refuses_unknown_arguments),
		cmocka_unit_test(every_queue_conserves_packets),
		cmocka_unit_test(every_meter_passes_or_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
