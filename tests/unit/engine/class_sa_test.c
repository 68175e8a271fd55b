// SPDX-License-Identifier: BSD-2-Clause
/*
 * Per-class SAs (RFC 4301 §4.1) through two engines: why they exist, in numbers.
 *
 * Gateway A encrypts N packets, one EF packet in every EF_EVERY, the rest best effort.
 * Gateway B decrypts them with one crypto unit slower than the arrival rate and strict
 * priority for EF at queue 3 and the dispatcher, so EF packets overtake hundreds of queued
 * best-effort ones. With one SA for both classes the receiver's replay window (32 packets)
 * has moved past the overtaken best-effort packets by the time they are decrypted: they
 * are dropped as replay-too-old although nothing was replayed. With EF on its own SA
 * (`class-sa ef:...`) each SA's packets stay in order and nothing is lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/engine.h"
#include "engine/hooks.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define N_PKTS 3000
#define EF_EVERY 10
#define PKT_LEN 400
#define POOL_PKTS 8192
#define B_RATE_PPS 30000 /* N_PKTS arrive in a few ms and take 100 ms to decrypt */
#define WAIT_NS (10ull * 1000 * 1000 * 1000)

#define KEY_BE "0x000102030405060708090a0b0c0d0e0f10111213"
#define KEY_EF "0x202122232425262728292a2b2c2d2e2f30313233"
#define SA(name, spi, dir, src, dst, key)                                                   \
	"sa add name " name " spi " spi " dir " dir " mode tunnel src " src " dst " dst      \
	" proposal aes128gcm16 replay-window 32 key " key "\n"

static const char sender_sas[] = SA("be", "0x100", "out", "192.0.2.1", "192.0.2.2", KEY_BE)
	SA("ef", "0x101", "out", "192.0.2.1", "192.0.2.2", KEY_EF);
static const char receiver_sas[] = SA("be", "0x100", "in", "192.0.2.1", "192.0.2.2", KEY_BE)
	SA("ef", "0x101", "in", "192.0.2.1", "192.0.2.2", KEY_EF);

/* EF first at queue 3 and at the dispatcher; queues long enough that nothing is refused. */
static const char receiver_qos[] =
	"qos add name c3 kind dscp ef 0 default 1\n"
	"qos add name e3 kind fifo limit 4096\n"
	"qos add name b3 kind fifo limit 4096\n"
	"qos add name p3 kind prio\n"
	"qos node name q3 classify c3 children e3,b3 schedule p3\n"
	"hook attach 3 q3\n"
	"qos add name c5 kind dscp ef 0 default 1\n"
	"qos add name e5 kind fifo limit 4096\n"
	"qos add name b5 kind fifo limit 4096\n"
	"qos add name p5 kind prio\n"
	"qos node name q5 classify c5 children e5,b5 schedule p5\n"
	"hook attach 5 q5\n";

struct gw {
	struct ipk_pool *pool;
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_engine *e;
	struct ipk_hooks *hooks;
	struct ipk_config_ctx ctx;
};

static void apply(struct ipk_config_ctx *ctx, const char *text)
{
	struct ipk_err err = { .msg = "" };

	if (ipk_config_apply(ctx, text, "test", &err))
		fail_msg("config: %s", err.msg);
}

static void gw_init(struct gw *g, uint64_t rate_pps, const char *conf)
{
	struct ipk_engine_config cfg;
	struct ipk_err err = { .msg = "" };

	memset(g, 0, sizeof(*g));
	ipk_engine_config_init(&cfg);
	cfg.n_units = 1;
	cfg.unit.rate_pps = rate_pps;
	cfg.limit_pkts[0] = cfg.limit_pkts[2] = cfg.limit_pkts[1] = POOL_PKTS;
	assert_int_equal(ipk_pool_create(&g->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&g->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&g->spd), 0);
	g->ctx.sad = g->sad;
	g->ctx.spd = g->spd;
	apply(&g->ctx, conf);
	if (ipk_engine_create(&g->e, &cfg, g->sad, g->spd, &err))
		fail_msg("engine: %s", err.msg);
	assert_int_equal(ipk_hooks_create(&g->hooks, g->e), 0);
	g->ctx.hooks = g->hooks;
}

static void gw_fini(struct gw *g)
{
	struct ipk_engine_balance b;

	ipk_engine_stop(g->e);
	assert_true(ipk_engine_balance(g->e, &b));
	ipk_hooks_destroy(g->hooks);
	ipk_engine_destroy(g->e);
	assert_int_equal(ipk_pool_available(g->pool), POOL_PKTS);
	ipk_spd_destroy(g->spd);
	ipk_sad_destroy(g->sad);
	ipk_pool_destroy(g->pool);
}

static uint64_t sa_drops(struct gw *g, const char *name, enum ipk_drop_reason reason)
{
	return ipk_drop_read(&ipk_sad_find(g->sad, name)->stats.drops, reason);
}

static uint64_t sa_packets(struct gw *g, const char *name)
{
	return atomic_load(&ipk_sad_find(g->sad, name)->stats.packets);
}

/* Packet @i: 10.1.0.9 -> 10.2.0.5, UDP, EF when i % EF_EVERY == 0. */
static void make_inner(uint8_t *buf, uint32_t i)
{
	struct ipk_addr s, d;
	uint8_t dscp = i % EF_EVERY == 0 ? 46 : 0;

	assert_int_equal(ipk_addr_parse("10.1.0.9", &s), 0);
	assert_int_equal(ipk_addr_parse("10.2.0.5", &d), 0);
	ipk_ipv4_build(buf, &s, &d, IPK_PROTO_UDP, PKT_LEN, (uint8_t)(dscp << 2), 64, false,
		       (uint16_t)i);
	memset(buf + 20, 0, 8);
	buf[24] = (PKT_LEN - 20) >> 8;
	buf[25] = (PKT_LEN - 20) & 0xff;
	for (uint32_t k = 28; k < PKT_LEN; k++)
		buf[k] = (uint8_t)(i + k);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Takes packets out of @g until @want came or nothing is left in flight (at most WAIT_NS
 * in all); feeds each to @fn (which owns it). Returns how many. */
static uint32_t drain(struct gw *g, uint32_t want, void (*fn)(struct ipk_pkt *, void *),
		      void *arg)
{
	uint64_t end = now_ns() + WAIT_NS;
	struct ipk_engine_balance bal;
	uint32_t n = 0;

	while (n < want && now_ns() < end) {
		struct ipk_pkt *pkt = ipk_engine_tx_dequeue(g->e, 50000000ull);

		if (pkt)
			fn(pkt, arg), n++;
		else if (ipk_engine_balance(g->e, &bal) && bal.in_flight == 0)
			break;
	}
	return n;
}

struct esp_out {
	uint8_t *bytes;
	uint32_t len[N_PKTS];
	uint32_t n;
};

static void keep_esp(struct ipk_pkt *pkt, void *arg)
{
	struct esp_out *o = arg;

	assert_true(pkt->len <= 2 * PKT_LEN);
	memcpy(o->bytes + (size_t)o->n * 2 * PKT_LEN, ipk_pkt_data(pkt), pkt->len);
	o->len[o->n++] = pkt->len;
	ipk_pkt_free(pkt);
}

/* Gateway A: N_PKTS through @policy, in order (one unit, no chain). */
static void encrypt_all(const char *policy, struct esp_out *o)
{
	uint8_t inner[PKT_LEN];
	char conf[1024];
	struct gw a;

	snprintf(conf, sizeof(conf), "%s%s", sender_sas, policy);
	gw_init(&a, 0, conf);
	o->n = 0;
	for (uint32_t i = 0; i < N_PKTS; i++) {
		struct ipk_pkt *pkt;

		make_inner(inner, i);
		assert_non_null(pkt = ipk_pkt_from_bytes(a.pool, inner, PKT_LEN));
		assert_int_equal(ipk_engine_rx_wait(a.e, pkt, IPK_DIR_OUT, WAIT_NS), 0);
	}
	assert_int_equal(drain(&a, N_PKTS, keep_esp, o), N_PKTS);
	print_message("sender: be sa %llu packets, ef sa %llu packets\n",
		      (unsigned long long)sa_packets(&a, "be"),
		      (unsigned long long)sa_packets(&a, "ef"));
	gw_fini(&a);
}

static void free_pkt(struct ipk_pkt *pkt, void *arg)
{
	(*(uint32_t *)arg)++;
	ipk_pkt_free(pkt);
}

struct result {
	uint32_t delivered;
	uint64_t too_old, ef_packets;
};

/* Gateway B: decrypts everything @o holds, slower than it arrives, EF first. */
static void decrypt_all(const char *policy, const struct esp_out *o, struct result *r)
{
	char conf[1024];
	uint32_t sink = 0;
	struct gw b;

	snprintf(conf, sizeof(conf), "%s%s", receiver_sas, policy);
	gw_init(&b, B_RATE_PPS, conf);
	apply(&b.ctx, receiver_qos);
	for (uint32_t i = 0; i < o->n; i++) {
		struct ipk_pkt *pkt = ipk_pkt_from_bytes(b.pool, o->bytes + (size_t)i * 2 * PKT_LEN,
							 o->len[i]);

		assert_non_null(pkt);
		assert_int_equal(ipk_engine_rx_wait(b.e, pkt, IPK_DIR_IN, WAIT_NS), 0);
	}
	r->too_old = 0;
	r->delivered = drain(&b, o->n, free_pkt, &sink);
	r->too_old = sa_drops(&b, "be", IPK_DROP_REPLAY_TOO_OLD) +
		     sa_drops(&b, "ef", IPK_DROP_REPLAY_TOO_OLD);
	r->ef_packets = sa_packets(&b, "ef");
	gw_fini(&b);
}

static void one_sa_loses_best_effort(void **state)
{
	struct esp_out *o = *state;
	struct result r;

	encrypt_all("policy add name p dir out src 10.1.0.0/24 dst 10.2.0.0/24 "
		    "action protect sa be\n", o);
	decrypt_all("policy add name p dir in src 10.1.0.0/24 dst 10.2.0.0/24 "
		    "action protect sa be\n", o, &r);
	print_message("one SA: %u of %u delivered, %llu replay-too-old\n", r.delivered, N_PKTS,
		      (unsigned long long)r.too_old);
	assert_true(r.too_old > 0);
	assert_int_equal(r.delivered + r.too_old, N_PKTS);
	assert_int_equal(r.ef_packets, 0);
}

static void class_sas_lose_nothing(void **state)
{
	struct esp_out *o = *state;
	struct result r;

	encrypt_all("policy add name p dir out src 10.1.0.0/24 dst 10.2.0.0/24 "
		    "action protect sa be class-sa ef:ef\n", o);
	decrypt_all("policy add name p dir in src 10.1.0.0/24 dst 10.2.0.0/24 "
		    "action protect sa be class-sa ef:ef\n", o, &r);
	print_message("per-class SAs: %u of %u delivered, %llu replay-too-old, %llu on the EF "
		      "SA\n", r.delivered, N_PKTS, (unsigned long long)r.too_old,
		      (unsigned long long)r.ef_packets);
	assert_int_equal(r.too_old, 0);
	assert_int_equal(r.delivered, N_PKTS);
	assert_int_equal(r.ef_packets, N_PKTS / EF_EVERY);
}

static int setup(void **state)
{
	struct esp_out *o = calloc(1, sizeof(*o));

	if (!o || !(o->bytes = malloc((size_t)N_PKTS * 2 * PKT_LEN)))
		return -1;
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	struct esp_out *o = *state;

	free(o->bytes);
	free(o);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_sa_loses_best_effort),
		cmocka_unit_test(class_sas_lose_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
