// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/tree.c: the paper's hierarchy prio over [EF, DRR over per-user
 * queues] on a simulated 10 Mbit/s link with one greedy user (EF delay stays within one
 * packet time, the other users get equal shares within 2%); a shaped child inside a
 * strict-priority parent; meters in front of the classifier; drop-head evictions and
 * CoDel drops passing up through nested nodes with the node's counts kept exact;
 * validation messages.
 */
#include "qos_test.h"

#include "qos/tree.h"

static struct ipk_qos *node_new(const char *name, struct ipk_qos_node_cfg *cfg)
{
	struct ipk_err err = { { 0 } };
	struct ipk_qos *node = NULL;

	if (ipk_qos_node_create(&node, name, cfg, &err))
		fail_msg("%s", err.msg);
	return node;
}

/*
 *   top: prio, dscp ef -> 0, default -> 1
 *    +- fifo "ef" (limit 100)
 *    +- users: drr, user map 10.0.0.1:1,10.0.0.2:2,10.0.0.3:3
 *        +- fifo x 4 (limit 50): users 1, 2, 3 and everyone else
 */
static struct ipk_qos *paper_tree(void)
{
	struct ipk_qos *users_children[4], *top_children[2];
	struct ipk_qos_node_cfg users = {
		.classifier = qos_new("user", "map 10.0.0.1:1,10.0.0.2:2,10.0.0.3:3"),
		.children = users_children,
		.n_children = 4,
		.scheduler = qos_new("drr", "quantum 1500"),
	};
	struct ipk_qos_node_cfg top = {
		.classifier = qos_new("dscp", "ef 0 default 1"),
		.children = top_children,
		.n_children = 2,
		.scheduler = qos_new("prio", NULL),
	};

	fifos_new(users_children, 4, "limit 50");
	top_children[0] = qos_new("fifo", "limit 100");
	top_children[1] = node_new("users", &users);
	return node_new("top", &top);
}

struct source {
	const char *src;
	uint8_t dscp;
	uint64_t gap_ns;      /* between arrivals */
	uint32_t min_len, max_len;
	uint64_t next;        /* next arrival */
	uint64_t delivered;   /* bytes */
	uint64_t max_delay;
	uint64_t dropped;
};

#define LINK_BPS 10000000ull

/* Enqueues every arrival due by @now. */
static void arrivals(struct ipk_qos *top, struct ipk_pool *pool, struct source *src,
		     size_t n_src, uint64_t now, uint64_t *rng)
{
	for (size_t i = 0; i < n_src; i++) {
		for (; src[i].next <= now; src[i].next += src[i].gap_ns) {
			uint32_t len = test_rand_range(rng, src[i].min_len, src[i].max_len);
			struct ipk_pkt *pkt = pkt_dscp(pool, src[i].src, src[i].dscp, 0, len);
			struct ipk_pkt_list ev = { 0 };
			enum ipk_drop_reason why;

			pkt->index = (uint32_t)i;
			if (ipk_qos_enqueue(top, pkt, now, &ev, &why) == IPK_QOS_DROP) {
				src[i].dropped++;
				ipk_pkt_drop(pkt, NULL, why);
			}
		}
	}
}

/* The link takes the next packet; returns when it is free again. */
static uint64_t transmit(struct ipk_qos *top, struct source *src, uint64_t now)
{
	struct ipk_pkt_list dropped = { 0 };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt = ipk_qos_dequeue(top, now, &dropped, &why);
	struct source *s;
	uint64_t free_at;

	assert_non_null(pkt);
	assert_int_equal(dropped.count, 0);
	s = &src[pkt->index];
	s->delivered += pkt->len;
	if (now - pkt->meta.enq_ns > s->max_delay)
		s->max_delay = now - pkt->meta.enq_ns;
	free_at = now + pkt->len * 8 * SEC / LINK_BPS;
	ipk_pkt_free(pkt);
	return free_at;
}

static void paper_tree_protects_ef_and_shares_fairly(void **state)
{
	struct source src[] = {
		/* EF: 200 bytes every 2 ms = 0.8 Mbit/s */
		{ "10.0.0.9", 46, 2 * MS, 200, 200, 0, 0, 0, 0 },
		/* user 1, greedy: ~780 bytes every 0.3 ms = ~21 Mbit/s */
		{ "10.0.0.1", 0, 300 * US, 64, 1500, 0, 0, 0, 0 },
		/* users 2 and 3: ~5 Mbit/s each, more than their fair share */
		{ "10.0.0.2", 0, 1250 * US, 64, 1500, 0, 0, 0, 0 },
		{ "10.0.0.3", 0, 1250 * US, 64, 1500, 0, 0, 0, 0 },
	};
	const size_t n_src = sizeof(src) / sizeof(src[0]);
	struct ipk_pool *pool = test_pool(400);
	struct ipk_qos *top = paper_tree();
	uint64_t now = 0, link_free = 0, rng = 5, be_bytes = 0;

	while (now < 10 * SEC) {
		arrivals(top, pool, src, n_src, now, &rng);
		if (link_free <= now && top->ops->len_pkts(top))
			link_free = transmit(top, src, now);
		now = link_free > now ? link_free : UINT64_MAX;
		for (size_t i = 0; i < n_src; i++)
			now = src[i].next < now ? src[i].next : now;
	}
	/* EF: nothing lost, waits at most for one 1500-byte packet on the wire (1.2 ms). */
	assert_int_equal(src[0].dropped, 0);
	if (src[0].max_delay > 1200 * US)
		fail_msg("EF max delay %llu ns", (unsigned long long)src[0].max_delay);
	assert_true(src[0].delivered >= 200ull * 4999);
	/* The users split what EF leaves in three equal parts, the greedy one included. */
	for (size_t i = 1; i < n_src; i++)
		be_bytes += src[i].delivered;
	for (size_t i = 1; i < n_src; i++) {
		double share = (double)src[i].delivered / (double)be_bytes;

		if (share < (1 / 3.0) * 0.98 || share > (1 / 3.0) * 1.02)
			fail_msg("user %zu: share %.4f of %llu bytes, expected 1/3 +-2%%", i, share,
				 (unsigned long long)be_bytes);
	}
	assert_true(src[1].dropped > src[2].dropped);
	/* The link was never idle while packets waited: 10 s at 10 Mbit/s, give or take. */
	assert_true(src[0].delivered + be_bytes > LINK_BPS / 8 * 10 * 99 / 100);
	assert_int_equal(top->in_pkts, top->out_pkts + top->drops + top->ops->len_pkts(top));
	qos_drain(top, now);
	ipk_qos_destroy(top);
	assert_int_equal(ipk_pool_available(pool), 400);
	ipk_pool_destroy(pool);
}

/* prio over [EF shaped to 1 Mbit/s, BE]: while EF is held back BE is served, so the
 * parent stays work-conserving; EF gets its rate, not more. */
static void shaped_child_does_not_block_parent(void **state)
{
	struct ipk_pool *pool = test_pool(64);
	struct ipk_qos *ef_child = qos_new("fifo", "limit 20");
	struct ipk_qos_node_cfg ef_cfg = {
		.children = &ef_child,
		.n_children = 1,
		.shaper = qos_new("shaper", "rate 1M burst 1500"),
	};
	struct ipk_qos *children[2] = { node_new("ef", &ef_cfg), qos_new("fifo", "limit 20") };
	struct ipk_qos_node_cfg cfg = {
		.classifier = qos_new("dscp", "ef 0 default 1"),
		.children = children,
		.n_children = 2,
		.scheduler = qos_new("prio", NULL),
	};
	struct ipk_qos *top = node_new("top", &cfg);
	uint64_t ef_bytes = 0, be_bytes = 0;

	/* Every 100 us: top up both classes, send one packet. */
	for (uint64_t now = 0; now < 1 * SEC; now += 100 * US) {
		struct ipk_pkt_list dropped = { 0 };
		enum ipk_drop_reason why;
		struct ipk_pkt *pkt;

		while (children[0]->ops->len_pkts(children[0]) < 10)
			push_pkt(top, pkt_dscp(pool, "192.0.2.1", 46, 0, 1000), now);
		while (children[1]->ops->len_pkts(children[1]) < 10)
			push_pkt(top, pkt_dscp(pool, "192.0.2.1", 0, 0, 1000), now);
		assert_int_equal(ipk_qos_ready_len(top, now), 1000);
		pkt = ipk_qos_dequeue(top, now, &dropped, &why);
		assert_non_null(pkt);
		if (ipk_dscp_of(pkt) == 46)
			ef_bytes += pkt->len;
		else
			be_bytes += pkt->len;
		ipk_pkt_free(pkt);
	}
	/* 1 Mbit/s for 1 s plus the burst: 125,000 + 1500 bytes at most, 124,000 at least */
	assert_true(ef_bytes <= 126500 && ef_bytes >= 124000);
	assert_int_equal(ef_bytes + be_bytes, 10000 * 1000);
	qos_drain(top, 2 * SEC);
	ipk_qos_destroy(top);
	assert_int_equal(ipk_pool_available(pool), 64);
	ipk_pool_destroy(pool);
}

/* Meters run before the classifier; a meter drop ends the enqueue with reason meter. */
static void meters_run_first(void **state)
{
	struct ipk_pool *pool = test_pool(16);
	struct ipk_qos *children[2];
	struct ipk_qos_node_cfg cfg = {
		.meters = { qos_new("srtcm", "cir 8000 cbs 1000 ebs 1000 yellow remark:af13") },
		.n_meters = 1,
		.classifier = qos_new("dscp", "af13 1 default 0"),
		.children = children,
		.n_children = 2,
		.scheduler = qos_new("prio", NULL),
	};
	struct ipk_qos *top;
	struct ipk_pkt_list ev = { 0 };
	enum ipk_drop_reason why;
	static const struct {
		enum ipk_qos_verdict v;
		uint32_t child;    /* where it went when passed */
	} rows[] = {
		/* 1 */ { IPK_QOS_PASS, 0 },   /* green, DSCP 0 */
		/* 2 */ { IPK_QOS_PASS, 1 },   /* yellow, remarked af13 -> class 1 */
		/* 3 */ { IPK_QOS_DROP, 0 },   /* red: dropped by the meter */
	};

	fifos_new(children, 2, "limit 10");
	top = node_new("top", &cfg);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_pkt *pkt = pkt_dscp(pool, "192.0.2.1", 0, 0, 1000);
		uint32_t before = children[rows[r].child]->ops->len_pkts(children[rows[r].child]);

		assert_int_equal(ipk_qos_enqueue(top, pkt, 0, &ev, &why), rows[r].v);
		if (rows[r].v == IPK_QOS_DROP) {
			assert_int_equal(why, IPK_DROP_METER);
			ipk_pkt_drop(pkt, NULL, why);
		} else {
			assert_int_equal(
				children[rows[r].child]->ops->len_pkts(children[rows[r].child]),
				before + 1);
		}
	}
	assert_int_equal(top->ops->len_pkts(top), 2);
	assert_int_equal(top->ops->len_bytes(top), 2000);
	assert_int_equal(top->drops, 1);
	qos_drain(top, 0);
	ipk_qos_destroy(top);
	ipk_pool_destroy(pool);
}

/* Drop-head evictions and CoDel drops pass up through two levels of nodes; the nodes'
 * packet and byte counts stay equal to the sum over their leaves. */
static void drops_pass_through_nested_nodes(void **state)
{
	struct ipk_pool *pool = test_pool(256);
	struct ipk_qos *leaves[2] = { qos_new("fifo", "limit 5 drop head"),
				      qos_new("codel", "limit 100") };
	struct ipk_qos_node_cfg inner_cfg = {
		.classifier = qos_new("dscp", "ef 0 default 1"),
		.children = leaves,
		.n_children = 2,
		.scheduler = qos_new("rr", NULL),
	};
	struct ipk_qos *inner = node_new("inner", &inner_cfg);
	struct ipk_qos_node_cfg outer_cfg = { .children = &inner, .n_children = 1 };
	struct ipk_qos *outer = node_new("outer", &outer_cfg);
	struct ipk_pkt_list ev = { 0 }, dropped = { 0 };
	enum ipk_drop_reason why = IPK_DROP_NONE;
	uint64_t now = 0, rng = 3;
	uint32_t delivered = 0, evicted = 0, codel = 0;

	for (int i = 0; i < 100000; i++, now += 100 * US) {
		uint32_t sum_pkts = leaves[0]->ops->len_pkts(leaves[0]) +
				    leaves[1]->ops->len_pkts(leaves[1]);
		uint64_t sum_bytes = leaves[0]->ops->len_bytes(leaves[0]) +
				     leaves[1]->ops->len_bytes(leaves[1]);

		assert_int_equal(outer->ops->len_pkts(outer), sum_pkts);
		assert_int_equal(inner->ops->len_pkts(inner), sum_pkts);
		assert_int_equal(outer->ops->len_bytes(outer), sum_bytes);
		/* Arrivals at 1.1 times the service rate: queues build, CoDel and the
		 * drop-head FIFO both drop. */
		if (test_rand(&rng) % 100 < 55) {
			uint8_t dscp = test_rand(&rng) % 2 ? 46 : 0;
			struct ipk_pkt *pkt = pkt_dscp(pool, "192.0.2.1", dscp, 0,
						       test_rand_range(&rng, 64, 1500));

			if (ipk_qos_enqueue(outer, pkt, now, &ev, &why) == IPK_QOS_DROP)
				ipk_pkt_drop(pkt, NULL, why);
			if (ev.count)
				assert_int_equal(why, IPK_DROP_QUEUE_FULL);
			evicted += list_free(&ev);
			continue;
		}
		struct ipk_pkt *pkt = ipk_qos_dequeue(outer, now, &dropped, &why);

		if (dropped.count)
			assert_int_equal(why, IPK_DROP_CODEL);
		codel += list_free(&dropped);
		if (pkt) {
			delivered++;
			ipk_pkt_free(pkt);
		}
	}
	assert_true(evicted > 100);
	assert_true(codel > 100);
	assert_int_equal(outer->in_pkts, outer->out_pkts + outer->drops +
					 outer->ops->len_pkts(outer));
	assert_int_equal(outer->out_pkts, delivered);
	assert_int_equal(leaves[0]->drops + leaves[1]->drops, outer->drops);
	qos_drain(outer, now);
	ipk_qos_destroy(outer);
	assert_int_equal(ipk_pool_available(pool), 256);
	ipk_pool_destroy(pool);
}

static void node_validation(void **state)
{
	struct ipk_qos *fifo2[2];
	struct ipk_qos *bad_child[2];
	struct ipk_qos *cls2 = qos_new("dscp", "ef 0 default 1");
	struct ipk_qos *cls3 = qos_new("dscp", "ef 0 af41 1 default 2");
	struct ipk_qos *prio = qos_new("prio", NULL);
	struct ipk_qos *drr3 = qos_new("drr", "weights 1,2,3");
	struct ipk_qos *tb = qos_new("tb", "rate 1M");
	const struct {
		struct ipk_qos_node_cfg cfg;
		const char *msg;
	} rows[] = {
		/* 1 */ { { .children = fifo2, .n_children = 0 },
			  "node n: 0 children not in 1..8192" },
		/* 2 */ { { .children = fifo2, .n_children = 2, .scheduler = prio },
			  "node n: 2 children need a classifier and a scheduler" },
		/* 3 */ { { .children = fifo2, .n_children = 2, .classifier = cls3,
			    .scheduler = prio },
			  "node n: classifier dscp has 3 classes for 2 children" },
		/* 4 */ { { .children = fifo2, .n_children = 2, .classifier = cls2,
			    .scheduler = drr3 },
			  "drr: 3 weights for 2 children" },
		/* 5 */ { { .children = bad_child, .n_children = 2, .classifier = cls2,
			    .scheduler = prio },
			  "node n: child 1 is not a queue" },
		/* 6 */ { { .children = fifo2, .n_children = 2, .classifier = cls2,
			    .scheduler = tb },
			  "node n: scheduler 'tb' is not a scheduler" },
		/* 7 */ { { .children = fifo2, .n_children = 2, .classifier = prio,
			    .scheduler = prio },
			  "node n: classifier 'prio' is not a classifier" },
		/* 8 */ { { .meters = { prio }, .n_meters = 1, .children = fifo2, .n_children = 1 },
			  "node n: meter 0 is not a meter" },
		/* 9 */ { { .children = fifo2, .n_children = 1, .shaper = tb },
			  "node n: shaper 'tb' is not a shaper" },
		/* 10 */ { { .children = fifo2, .n_children = 1, .n_meters = 5 },
			   "node n: 5 meters, at most 4" },
	};

	fifos_new(fifo2, 2, "limit 1");
	bad_child[0] = fifo2[0];
	bad_child[1] = cls2;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_err err = { { 0 } };
		struct ipk_qos *node = NULL;
		int rc = ipk_qos_node_create(&node, "n", &rows[r].cfg, &err);

		if (rc != -EINVAL || strcmp(err.msg, rows[r].msg))
			fail_msg("row %zu: rc %d \"%s\", expected \"%s\"", r + 1, rc, err.msg,
				 rows[r].msg);
	}
	/* Failures left every component with the caller. */
	fifos_destroy(fifo2, 2);
	ipk_qos_destroy(cls2);
	ipk_qos_destroy(cls3);
	ipk_qos_destroy(prio);
	ipk_qos_destroy(drr3);
	ipk_qos_destroy(tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paper_tree_protects_ef_and_shares_fairly),
		cmocka_unit_test(shaped_child_does_not_block_parent),
		cmocka_unit_test(meters_run_first),
		cmocka_unit_test(drops_pass_through_nested_nodes),
		cmocka_unit_test(node_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
