// SPDX-License-Identifier: BSD-2-Clause
/*
 * Crypto units changed at runtime (ipk_engine_set_units): while a sender pushes packets
 * through an outbound SA and a receiver takes them out, the control thread switches
 * between 1, 2 and 3 units with other water marks and rate caps, CHANGES times. Every
 * packet comes out exactly once, with the sequence numbers 1..N of its SA (none skipped,
 * none twice), nothing is dropped, and the balance holds. Also: what is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/engine.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define N_PKTS 20000
#define CHANGES 30
#else
#define N_PKTS 200000
#define CHANGES 100
#endif
#define WORKERS 3
#define POOL_PKTS 4096
#define PKT_LEN 200
#define WAIT_NS (20ull * 1000 * 1000 * 1000)

static const char conf[] =
	"sa add name out spi 0x100 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "
	"proposal aes128gcm16 key 0x000102030405060708090a0b0c0d0e0f10111213\n"
	"policy add name p dir out src 10.1.0.0/24 dst 10.2.0.0/24 action protect sa out\n";

struct gw {
	struct ipk_pool *pool;
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_engine *e;
};

static void gw_init(struct gw *g, enum ipk_engine_mode mode)
{
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_engine_config cfg;
	struct ipk_err err = { .msg = "" };

	ipk_engine_config_init(&cfg);
	cfg.mode = mode;
	cfg.n_units = 1;
	assert_int_equal(ipk_pool_create(&g->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&g->sad, WORKERS), 0);
	assert_int_equal(ipk_spd_create(&g->spd), 0);
	ctx.sad = g->sad;
	ctx.spd = g->spd;
	if (ipk_config_apply(&ctx, conf, "test", &err))
		fail_msg("config: %s", err.msg);
	if (ipk_engine_create(&g->e, &cfg, g->sad, g->spd, &err))
		fail_msg("engine: %s", err.msg);
}

static void gw_fini(struct gw *g)
{
	ipk_engine_destroy(g->e);
	assert_int_equal(ipk_pool_available(g->pool), POOL_PKTS);
	ipk_spd_destroy(g->spd);
	ipk_sad_destroy(g->sad);
	ipk_pool_destroy(g->pool);
}

/* Packets in the engine at most: below every queue's limit, so that the pauses of a
 * change show up as waiting, never as queue-full drops. */
#define WINDOW 512

struct receiver {
	struct gw *g;
	uint8_t *seen;
	_Atomic uint32_t got;
	uint32_t twice, out_of_range;
};

static void *sender(void *arg)
{
	struct receiver *r = arg;
	struct gw *g = r->g;
	struct ipk_addr s, d;
	uint8_t inner[PKT_LEN] = { 0 };

	ipk_addr_parse("10.1.0.9", &s);
	ipk_addr_parse("10.2.0.5", &d);
	for (uint32_t i = 0; i < N_PKTS; i++) {
		struct ipk_pkt *pkt;

		ipk_ipv4_build(inner, &s, &d, IPK_PROTO_UDP, PKT_LEN, 0, 64, false, (uint16_t)i);
		while (i - atomic_load(&r->got) >= WINDOW ||
		       !(pkt = ipk_pkt_from_bytes(g->pool, inner, PKT_LEN)))
			nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
		if (ipk_engine_rx_wait(g->e, pkt, IPK_DIR_OUT, WAIT_NS))
			return (void *)1;
	}
	return NULL;
}

/* Takes N_PKTS out and marks each ESP sequence number in @seen (1..N_PKTS). */

static void *receiver(void *arg)
{
	struct receiver *r = arg;
	struct ipk_pkt *pkt;

	while (r->got < N_PKTS && (pkt = ipk_engine_tx_dequeue(r->g->e, WAIT_NS))) {
		const uint8_t *p = ipk_pkt_data(pkt);
		uint32_t seq = (uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 | p[26] << 8 | p[27];

		if (seq < 1 || seq > N_PKTS)
			r->out_of_range++;
		else if (r->seen[seq - 1]++)
			r->twice++;
		ipk_pkt_free(pkt);
		atomic_fetch_add(&r->got, 1);
	}
	return NULL;
}

static void units_change_under_traffic(void **state)
{
	static const struct {
		uint32_t n, high, low;
		uint64_t pps;
	} steps[] = { { 2, 4, 1, 0 }, { 3, 8, 4, 0 }, { 1, 2, 2, 0 }, { 2, 4, 1, 200000 } };
	struct receiver r = { 0 };
	pthread_t ts, tr;
	void *send_rc;
	struct gw g;

	(void)state;
	gw_init(&g, IPK_ENGINE_DECOUPLED);
	r.g = &g;
	r.seen = calloc(N_PKTS, 1);
	assert_non_null(r.seen);
	assert_int_equal(pthread_create(&tr, NULL, receiver, &r), 0);
	assert_int_equal(pthread_create(&ts, NULL, sender, &r), 0);
	for (uint32_t c = 0; c < CHANGES; c++) {
		struct ipk_unit_config uc;
		struct ipk_err err = { .msg = "" };
		uint32_t k = c % 4;

		ipk_unit_config_init(&uc);
		uc.high = steps[k].high;
		uc.low = steps[k].low;
		uc.rate_pps = steps[k].pps;
		if (ipk_engine_set_units(g.e, steps[k].n, &uc, &err))
			fail_msg("change %u: %s", c, err.msg);
		assert_int_equal(ipk_engine_n_units(g.e), steps[k].n);
		/* Spread the changes over the whole run. */
		while (atomic_load(&r.got) < (uint64_t)(c + 1) * N_PKTS / (CHANGES + 1))
			nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
	}
	pthread_join(ts, &send_rc);
	pthread_join(tr, NULL);
	assert_null(send_rc);
	print_message("%u changes: %u of %u out, %u twice, %u out of range\n", CHANGES,
		      atomic_load(&r.got), N_PKTS, r.twice, r.out_of_range);
	assert_int_equal(atomic_load(&r.got), N_PKTS);
	assert_int_equal(r.twice, 0);
	assert_int_equal(r.out_of_range, 0);
	for (uint32_t i = 0; i < N_PKTS; i++)
		assert_int_equal(r.seen[i], 1);
	{
		struct ipk_engine_balance b;

		ipk_engine_stop(g.e);
		assert_true(ipk_engine_balance(g.e, &b));
		assert_int_equal(b.drops, 0);
		assert_int_equal(b.out, N_PKTS);
	}
	free(r.seen);
	gw_fini(&g);
}

static void refused_changes_change_nothing(void **state)
{
	struct ipk_engine_stats *st;
	struct ipk_unit_config uc;
	struct ipk_err err = { .msg = "" };
	struct gw g, c;

	(void)state;
	gw_init(&g, IPK_ENGINE_DECOUPLED);
	ipk_unit_config_init(&uc);
	assert_int_equal(ipk_engine_set_units(g.e, WORKERS + 1, &uc, &err), -EINVAL);
	assert_string_equal(err.msg, "engine: units 4 not in 1..3 (each SA holds crypto "
				     "contexts for 3 units)");
	assert_int_equal(ipk_engine_set_units(g.e, 0, &uc, &err), -EINVAL);
	uc.low = 5;
	assert_int_equal(ipk_engine_set_units(g.e, 2, &uc, &err), -EINVAL);
	assert_int_equal(ipk_engine_n_units(g.e), 1);
	ipk_unit_config_init(&uc);
	uc.high = 7;
	assert_int_equal(ipk_engine_set_units(g.e, 3, &uc, &err), 0);
	assert_int_equal(ipk_engine_stats_read(g.e, &st), 0);
	assert_int_equal(st->n_units, 3);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(st->unit[i].worker, i);
		assert_int_equal(st->unit[i].high, 7);
	}
	ipk_engine_stats_free(st);
	gw_fini(&g);

	gw_init(&c, IPK_ENGINE_COUPLED);
	assert_int_equal(ipk_engine_set_units(c.e, 2, &uc, &err), -EOPNOTSUPP);
	gw_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(units_change_under_traffic),
		cmocka_unit_test(refused_changes_change_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
