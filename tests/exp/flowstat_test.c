// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for exp/flowstat.c: the send-time window, per-flow and per-group counts, delay
 * percentiles from the histogram, packets that are not the generator's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "exp/flowstat.h"
#include "exp/gen.h"

#define MS 1000000ull

/* A generator packet of flow @flow sent at @sent_ns, as exp/gen.c builds it. */
static uint32_t make(uint8_t *buf, uint32_t flow, uint64_t sent_ns)
{
	struct ipk_gen_flow f = {.size = 200};
	struct ipk_pool *pool;
	struct ipk_pkt *pkt;
	uint32_t len;

	ipk_addr_parse("10.1.1.1", &f.src);
	ipk_addr_parse("10.9.0.1", &f.dst);
	assert_int_equal(ipk_pool_create(&pool, 1, IPK_PKT_DEFAULT_ROOM), 0);
	pkt = ipk_pkt_alloc(pool);
	assert_int_equal(ipk_gen_build_udp(pkt, &f, flow, 7, sent_ns), 0);
	len = pkt->len;
	memcpy(buf, ipk_pkt_data(pkt), len);
	ipk_pkt_free(pkt);
	ipk_pool_destroy(pool);
	return len;
}

/* Window [100 ms, 200 ms) of send times; flows 0, 1 in group 0, flow 2 in group 1. */
static void window_and_counts(void **state)
{
	static const struct {
		uint32_t flow;
		uint64_t sent_ms, delay_us;
		int counted; /* 1: inside the window */
	} rows[] = {
	    {0, 99, 500, 0},   /* 1: before the window */
	    {0, 100, 500, 1},  /* 2: its first instant */
	    {1, 150, 900, 1},  /* 3 */
	    {2, 199, 3000, 1}, /* 4: arrives after the window closed, still counts */
	    {2, 200, 100, 0},  /* 5: at the close: out */
	    {5, 150, 100, 0},  /* 6: no such flow (foreign) */
	};
	static const uint8_t group[3] = {0, 0, 1};
	struct ipk_flowstat *fs = calloc(1, sizeof(*fs));
	uint8_t buf[256];

	assert_int_equal(ipk_flowstat_init(fs, 3, group), 0);
	fs->t0_ns = 100 * MS;
	atomic_store(&fs->from_ns, 100 * MS);
	atomic_store(&fs->until_ns, 200 * MS);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t sent = rows[i].sent_ms * MS;
		uint32_t len = make(buf, rows[i].flow, sent);
		uint64_t before = fs->group_pkts[0] + fs->group_pkts[1];

		ipk_flowstat_record(fs, buf, len, sent + rows[i].delay_us * 1000);
		if (fs->group_pkts[0] + fs->group_pkts[1] - before != (uint64_t)rows[i].counted)
			fail_msg(
			    "row %u: counted %llu, expected %d", i + 1,
			    (unsigned long long)(fs->group_pkts[0] + fs->group_pkts[1] - before),
			    rows[i].counted);
	}
	assert_int_equal(fs->pkts[0], 1);
	assert_int_equal(fs->pkts[1], 1);
	assert_int_equal(fs->pkts[2], 1);
	assert_int_equal(fs->bytes[2], 200);
	assert_int_equal(fs->foreign, 1);
	ipk_flowstat_record(fs, buf, 30, 0); /* too short for the stamp */
	assert_int_equal(fs->foreign, 2);
	/* Group 0 holds 500 us and 900 us: bins of 20 us, centre of the bin. */
	assert_true(ipk_flowstat_delay_ms(fs, 0, 50) > 0.509 &&
		    ipk_flowstat_delay_ms(fs, 0, 50) < 0.511);
	assert_true(ipk_flowstat_delay_ms(fs, 0, 99) > 0.909 &&
		    ipk_flowstat_delay_ms(fs, 0, 99) < 0.911);
	assert_true(ipk_flowstat_delay_ms(fs, 1, 50) > 3.009 &&
		    ipk_flowstat_delay_ms(fs, 1, 50) < 3.011);
	assert_true(ipk_flowstat_delay_ms(fs, 2, 50) == 0);
	ipk_flowstat_fini(fs);
	free(fs);
}

/* Offered and delivered rates over the window from the generator's snapshots. */
static void rates(void **state)
{
	static const uint8_t group[2] = {0, 0};
	struct ipk_flowstat *fs = calloc(1, sizeof(*fs));
	struct ipk_gen *g = calloc(1, sizeof(*g));

	assert_int_equal(ipk_flowstat_init(fs, 2, group), 0);
	g->n_flows = 2;
	atomic_store(&g->stats[0].sent, 10);
	atomic_store(&g->stats[0].bytes, 10000);
	ipk_flowstat_open(fs, g, 1000 * MS);
	/* 100 packets of 1000 bytes in 1 s: 800 kbit/s offered; 75 delivered. */
	atomic_store(&g->stats[0].sent, 110);
	atomic_store(&g->stats[0].bytes, 110000);
	fs->pkts[0] = 75;
	ipk_flowstat_close(fs, g, 2000 * MS);
	assert_int_equal(fs->sent[0], 100);
	assert_int_equal(fs->sent_bytes[0], 100000);
	assert_true(ipk_flowstat_offered_bps(fs, 0) > 799999 &&
		    ipk_flowstat_offered_bps(fs, 0) < 800001);
	assert_true(ipk_flowstat_delivered_bps(fs, 0) > 599999 &&
		    ipk_flowstat_delivered_bps(fs, 0) < 600001);
	assert_true(ipk_flowstat_offered_bps(fs, 1) == 0 && ipk_flowstat_delivered_bps(fs, 1) == 0);
	ipk_flowstat_fini(fs);
	free(fs);
	free(g);
}

static void refuses(void **state)
{
	static const uint8_t bad[1] = {IPK_FLOWSTAT_GROUPS};
	struct ipk_flowstat *fs = calloc(1, sizeof(*fs));

	assert_int_equal(ipk_flowstat_init(fs, 0, bad), -EINVAL);
	assert_int_equal(ipk_flowstat_init(fs, 1, bad), -EINVAL);
	assert_int_equal(ipk_flowstat_init(fs, IPK_GEN_MAX_FLOWS + 1, bad), -EINVAL);
	free(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(window_and_counts),
	    cmocka_unit_test(rates),
	    cmocka_unit_test(refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
