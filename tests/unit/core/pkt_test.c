// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/core/pkt.c: the pool hands out each buffer once, headroom and tailroom
 * bounds are enforced, and every packet comes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "core/pkt.h"

static void pool_hands_out_every_buffer_once(void **state)
{
	struct ipk_pool *pool;
	struct ipk_pkt *pkts[16];

	assert_int_equal(ipk_pool_create(&pool, 16, IPK_PKT_DEFAULT_ROOM), 0);
	for (int i = 0; i < 16; i++) {
		pkts[i] = ipk_pkt_alloc(pool);
		assert_non_null(pkts[i]);
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(pkts[i], pkts[j]);
	}
	assert_null(ipk_pkt_alloc(pool));
	assert_int_equal(ipk_pool_available(pool), 0);
	for (int i = 0; i < 16; i++)
		ipk_pkt_free(pkts[i]);
	assert_int_equal(ipk_pool_available(pool), 16);
	ipk_pool_destroy(pool);
}

static void push_pull_put_respect_bounds(void **state)
{
	struct ipk_pool *pool;
	struct ipk_pkt *pkt;
	const uint8_t payload[4] = { 1, 2, 3, 4 };

	assert_int_equal(ipk_pool_create(&pool, 1, IPK_PKT_DEFAULT_ROOM), 0);
	pkt = ipk_pkt_from_bytes(pool, payload, sizeof(payload));
	assert_non_null(pkt);
	assert_int_equal(pkt->len, 4);
	assert_int_equal(ipk_pkt_headroom(pkt), IPK_PKT_HEADROOM);
	assert_non_null(ipk_pkt_push(pkt, IPK_PKT_HEADROOM));
	assert_null(ipk_pkt_push(pkt, 1));
	assert_non_null(ipk_pkt_pull(pkt, IPK_PKT_HEADROOM));
	assert_memory_equal(ipk_pkt_data(pkt), payload, 4);
	assert_null(ipk_pkt_pull(pkt, 5));
	assert_non_null(ipk_pkt_put(pkt, ipk_pkt_tailroom(pkt)));
	assert_null(ipk_pkt_put(pkt, 1));
	ipk_pkt_trim(pkt, 2);
	assert_int_equal(pkt->len, 2);
	ipk_pkt_free(pkt);
	ipk_pool_destroy(pool);
}

static void drop_counts_the_reason(void **state)
{
	struct ipk_pool *pool;
	struct ipk_drop_stats stats = { 0 };

	assert_int_equal(ipk_pool_create(&pool, 2, IPK_PKT_DEFAULT_ROOM), 0);
	ipk_pkt_drop(ipk_pkt_alloc(pool), &stats, IPK_DROP_BAD_ICV);
	ipk_pkt_drop(ipk_pkt_alloc(pool), &stats, IPK_DROP_BAD_ICV);
	assert_int_equal(ipk_drop_read(&stats, IPK_DROP_BAD_ICV), 2);
	assert_int_equal(ipk_drop_total(&stats), 2);
	assert_int_equal(ipk_pool_available(pool), 2);
	assert_string_equal(ipk_drop_name(IPK_DROP_REPLAY_TOO_OLD), "replay-too-old");
	ipk_pool_destroy(pool);
}

static void oversized_data_is_refused(void **state)
{
	struct ipk_pool *pool;
	static uint8_t big[4096];

	assert_int_equal(ipk_pool_create(&pool, 1, IPK_PKT_DEFAULT_ROOM), 0);
	assert_null(ipk_pkt_from_bytes(pool, big, sizeof(big)));
	assert_int_equal(ipk_pool_available(pool), 1);
	assert_int_equal(ipk_pool_create(&pool, 1, 10), -EINVAL);
	ipk_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_hands_out_every_buffer_once),
		cmocka_unit_test(push_pull_put_respect_bounds),
		cmocka_unit_test(drop_counts_the_reason),
		cmocka_unit_test(oversized_data_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
