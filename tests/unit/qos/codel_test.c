// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/codel.c against RFC 8289 on a simulated clock: no drops while the
 * sojourn time stays below target; the first drop exactly one interval after the sojourn
 * went above target; the spacing of later drops interval / sqrt(count) within 1%;
 * leaving the dropping state once a packet's sojourn falls below target, and resuming
 * the old rate on a quick return; no drops down to a single packet; argument errors.
 */
#include "qos_test.h"

#include "qos/codel.h"

#define STEP (10 * US)      /* one arrival and one departure every 10 us */
#define T0 SEC
#define MAX_DROPS 64

struct sim {
	struct ipk_pool *pool;
	struct ipk_qos *q;
	uint64_t now;
	uint64_t drop_at[MAX_DROPS];
	uint32_t drops;
	uint32_t delivered;
};

static void sim_init(struct sim *s, const char *args)
{
	memset(s, 0, sizeof(*s));
	s->pool = test_pool(4096);
	s->q = qos_new("codel", args);
	s->now = T0;
}

static void sim_fini(struct sim *s)
{
	qos_drain(s->q, s->now);
	assert_int_equal(s->q->in_pkts, s->q->out_pkts + s->q->drops);
	ipk_qos_destroy(s->q);
	assert_int_equal(ipk_pool_available(s->pool), 4096);
	ipk_pool_destroy(s->pool);
}

/* Enqueues @n packets at the current time. */
static void sim_arrive(struct sim *s, uint32_t n)
{
	while (n--)
		push_pkt(s->q, pkt_len(s->pool, 1000), s->now);
}

/* One dequeue at the current time; records drops. Returns the sojourn of the packet
 * delivered, or UINT64_MAX. */
static uint64_t sim_depart(struct sim *s)
{
	struct ipk_pkt_list dropped = { 0 };
	enum ipk_drop_reason why = IPK_DROP_NONE;
	struct ipk_pkt *pkt = ipk_qos_dequeue(s->q, s->now, &dropped, &why);
	uint64_t sojourn = UINT64_MAX;

	if (dropped.count)
		assert_int_equal(why, IPK_DROP_CODEL);
	for (uint32_t i = 0; i < dropped.count; i++, s->drops++)
		if (s->drops < MAX_DROPS)
			s->drop_at[s->drops] = s->now;
	list_free(&dropped);
	if (pkt) {
		sojourn = s->now - pkt->meta.enq_ns;
		s->delivered++;
		ipk_pkt_free(pkt);
	}
	return sojourn;
}

/* Newton's method: the tests link no libm either. */
static double newton_sqrt(double x)
{
	double r = x > 1 ? x / 2 : 1;

	for (int i = 0; i < 100; i++)
		r = (r + x / r) / 2;
	return r;
}

/* Builds a standing queue of @delay: one packet per STEP for @delay. */
static void sim_standing_queue(struct sim *s, uint64_t delay)
{
	for (uint64_t t = 0; t < delay; t += STEP) {
		sim_arrive(s, 1);
		s->now += STEP;
	}
}

static void run_until_drops(struct sim *s, uint32_t drops)
{
	while (s->drops < drops) {
		sim_arrive(s, 1);
		sim_depart(s);
		s->now += STEP;
	}
}

/* A standing queue of 4.9 ms for 10 s: the sojourn never reaches target. */
static void codel_no_drops_below_target(void **state)
{
	struct sim s;

	sim_init(&s, "limit 4000");
	sim_standing_queue(&s, 4900 * US);
	for (uint64_t end = s.now + 10 * SEC; s.now < end; s.now += STEP) {
		sim_arrive(&s, 1);
		assert_int_equal(sim_depart(&s), 4900 * US);
	}
	assert_int_equal(s.drops, 0);
	assert_int_equal(stat_of(s.q, "dropping"), 0);
	sim_fini(&s);
}

/* A standing queue of 10 ms: the first drop comes when the sojourn has been above target
 * for an interval; the n-th gap is interval / sqrt(n); the count grows by one per drop. */
static void codel_drop_schedule(void **state)
{
	static const struct {
		const char *args;
		uint64_t interval;
	} rows[] = {
		/* 1 */ { "limit 4000", 100 * MS },
		/* 2 */ { "limit 4000 target 2ms interval 50ms", 50 * MS },
		/* 3 */ { "limit 4000 target 5ms interval 200ms", 200 * MS },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint64_t start;
		struct sim s;

		sim_init(&s, rows[r].args);
		sim_standing_queue(&s, 10 * MS);
		start = s.now;
		run_until_drops(&s, 30);
		/* Above target from the first dequeue at start: drop at start + interval. */
		assert_int_equal(s.drop_at[0], start + rows[r].interval);
		for (uint32_t n = 1; n < 30; n++) {
			double gap = (double)(s.drop_at[n] - s.drop_at[n - 1]);
			double want = (double)rows[r].interval / newton_sqrt((double)n);

			if (gap < want * 0.99 || gap > want * 1.01)
				fail_msg("row %zu gap %u: %.0f ns, expected %.0f +-1%%", r + 1, n,
					 gap, want);
		}
		assert_int_equal(stat_of(s.q, "count"), 30);
		assert_int_equal(stat_of(s.q, "dropping"), 1);
		assert_int_equal(stat_of(s.q, "codel-drops"), 30);
		sim_fini(&s);
	}
}

/* Drained below target, the queue leaves the dropping state and drops no more while the
 * sojourn stays below target. Back above target within 16 intervals of the last drop it
 * resumes at count - lastcount drops, after a longer quiet time at 1 (RFC 8289 §5.6). */
static void codel_leaves_and_resumes_dropping(void **state)
{
	static const struct {
		uint64_t quiet_ns;
		bool resumes;
	} rows[] = {
		/* 1 */ { 200 * MS, true },
		/* 2 */ { 1 * SEC, true },
		/* 3 */ { 2 * SEC, false },
		/* 4 */ { 5 * SEC, false },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint64_t count;
		uint32_t drops;
		struct sim s;

		sim_init(&s, "limit 4000");
		sim_standing_queue(&s, 10 * MS);
		run_until_drops(&s, 10);
		/* Serve without arrivals until a packet below target comes out. */
		while (sim_depart(&s) >= 5 * MS)
			;
		assert_int_equal(stat_of(s.q, "dropping"), 0);
		count = stat_of(s.q, "count");
		assert_true(count >= 10);
		/* A standing queue of 3 ms: below target, no drops. */
		drops = s.drops;
		while (s.q->ops->len_pkts(s.q) > 300)
			sim_depart(&s);
		for (uint64_t end = s.now + rows[r].quiet_ns; s.now < end; s.now += STEP) {
			sim_arrive(&s, 1);
			assert_true(sim_depart(&s) < 5 * MS);
		}
		assert_int_equal(s.drops, drops);
		/* Above target again: 10 ms of standing queue until the next drop. */
		sim_standing_queue(&s, 7 * MS);
		run_until_drops(&s, drops + 1);
		assert_int_equal(stat_of(s.q, "dropping"), 1);
		if (stat_of(s.q, "count") != (rows[r].resumes ? count - 1 : 1))
			fail_msg("row %zu: count %llu after re-entry, expected %llu", r + 1,
				 (unsigned long long)stat_of(s.q, "count"),
				 rows[r].resumes ? (unsigned long long)count - 1 : 1ull);
		sim_fini(&s);
	}
}

/* RFC 8289 §5.5: nothing is dropped while at most one maximal packet is queued. */
static void codel_keeps_the_last_packet(void **state)
{
	struct sim s;

	sim_init(&s, NULL);
	for (int i = 0; i < 20; i++) {
		sim_arrive(&s, 1);
		s.now += 300 * MS;
		assert_int_equal(sim_depart(&s), 300 * MS);
	}
	assert_int_equal(s.drops, 0);
	sim_fini(&s);
}

static void codel_spacing_is_interval_over_sqrt_count(void **state)
{
	static const struct {
		uint32_t count;
		double want_ns;
	} rows[] = {
		/* 1 */ { 0, 100e6 },  /* treated as 1 */
		/* 2 */ { 1, 100e6 },
		/* 3 */ { 2, 70710678.1 },
		/* 4 */ { 3, 57735026.9 },
		/* 5 */ { 4, 50e6 },
		/* 6 */ { 100, 10e6 },
		/* 7 */ { 12345, 900035.1 },
		/* 8 */ { 1000000, 100e3 },
		/* 9 */ { UINT32_MAX, 1525.9 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		double got = (double)ipk_codel_spacing_ns(100 * MS, rows[r].count);

		/* 1e-4 relative, plus the truncation to whole nanoseconds */
		double tol = rows[r].want_ns * 1e-4 + 1;

		if (got < rows[r].want_ns - tol || got > rows[r].want_ns + tol)
			fail_msg("row %zu: %.1f ns, expected %.1f", r + 1, got, rows[r].want_ns);
	}
}

static void codel_hard_limit(void **state)
{
	struct sim s;
	struct ipk_pkt_list ev = { 0 };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt;

	sim_init(&s, "limit 3");
	sim_arrive(&s, 3);
	pkt = pkt_len(s.pool, 100);
	assert_int_equal(ipk_qos_enqueue(s.q, pkt, s.now, &ev, &why), IPK_QOS_DROP);
	assert_int_equal(why, IPK_DROP_QUEUE_FULL);
	ipk_pkt_free(pkt);
	assert_int_equal(stat_of(s.q, "limit-drops"), 1);
	sim_fini(&s);
}

static void codel_rejects_bad_arguments(void **state)
{
	qos_new_fails("codel", "target 5", "codel: target '5' is not a time with a unit (ns, us, "
			       "ms, s)");
	qos_new_fails("codel", "target 0ms", "codel: target 0ms not in 1000ns..1000000000ns");
	qos_new_fails("codel", "interval 20s", "codel: interval 20s not in "
			       "1000000ns..10000000000ns");
	qos_new_fails("codel", "target 200ms", "codel: target 200000us not below interval "
			       "100000us");
	qos_new_fails("codel", "limit 0", "codel: limit 0 not in 1..1000000");
	qos_new_fails("codel", "ecn on", "codel: unknown argument 'ecn'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(codel_no_drops_below_target),
		cmocka_unit_test(codel_drop_schedule),
		cmocka_unit_test(codel_leaves_and_resumes_dropping),
		cmocka_unit_test(codel_keeps_the_last_packet),
		cmocka_unit_test(codel_spacing_is_interval_over_sqrt_count),
		cmocka_unit_test(codel_hard_limit),
		cmocka_unit_test(codel_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
