// SPDX-License-Identifier: BSD-2-Clause
/* Tests for the decoupled engine (src/engine/: equeue, scheduler, dispatcher, unit,
 * engine, coupled). Queue rows check limits, drop counting and the chain swap with a test
 * double (in order, nothing lost, also while threads hammer the queue). Engine runs push
 * IPK_ENGINE_TEST_PACKETS packets (default 10^6, 10^5 under sanitizers) of seven classes
 * (four algorithms, a two-SA bundle, bypass, discard) through gateway A's engine and then
 * gateway B's with 1, 2 and 4 crypto units and in coupled mode (two of the runs swapping
 * QoS chains in and out of queues meanwhile): every packet is delivered intact or counted,
 * no replay drops, conservation holds, every buffer comes back. Then: bypass delay while
 * a rate-capped unit is saturated (and the coupled mode under the same load, where bypass
 * packets are lost and wait behind crypto), water marks, capability sets, shutdown with packets in
 * flight, the unit's offer rules, the crypto-context check, drops by place and reason,
 * reassembly of an ESP packet, and a shaper-like chain at every hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "engine/dispatcher.h"
#include "engine/engine.h"
#include "engine/equeue.h"
#include "engine/event.h"
#include "engine/unit.h"
#include "proto/ip.h"
#include "proto/replay.h"
#include "sa/sad.h"
#include "sa/spd.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DEFAULT_PACKETS 100000
#else
#define DEFAULT_PACKETS 1000000
#endif

#define POOL_PKTS 8192
#define WINDOW 512     /* packets in flight end to end: below every queue limit */
#define MS 1000000ull

static uint64_t test_packets(void)
{
	const char *env = getenv("IPK_ENGINE_TEST_PACKETS");
	uint64_t n = env ? strtoull(env, NULL, 10) : 0;

	return n ? n : DEFAULT_PACKETS;
}

static void nap_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- packets ---- */

#define HDR_LEN 28 /* IPv4 + UDP */
#define TAG_LEN 12 /* class (4) + index (8) */

/* An IPv4/UDP packet 10.1.0.5:1024 -> @dst:5000 carrying class, index and a pattern. */
static size_t make_udp(uint8_t *buf, const char *dst, uint32_t cls, uint64_t idx,
		       size_t payload)
{
	struct ipk_addr s, d;
	size_t len = HDR_LEN + payload;

	assert_int_equal(ipk_addr_parse("10.1.0.5", &s), 0);
	assert_int_equal(ipk_addr_parse(dst, &d), 0);
	ipk_ipv4_build(buf, &s, &d, IPK_PROTO_UDP, (uint16_t)len, 0, 64, false, (uint16_t)idx);
	buf[20] = 1024 >> 8, buf[21] = 1024 & 0xff, buf[22] = 5000 >> 8, buf[23] = 5000 & 0xff;
	buf[24] = (uint8_t)((len - 20) >> 8), buf[25] = (uint8_t)(len - 20), buf[26] = buf[27] = 0;
	memcpy(buf + HDR_LEN, &cls, 4);
	memcpy(buf + HDR_LEN + 4, &idx, 8);
	for (size_t k = TAG_LEN; k < payload; k++)
		buf[HDR_LEN + k] = (uint8_t)(idx * 7 + k);
	return len;
}

/* Checks the pattern; returns false if the packet is not what make_udp() wrote. */
static bool read_udp(struct ipk_pkt *pkt, uint32_t *cls, uint64_t *idx)
{
	const uint8_t *p = ipk_pkt_data(pkt);

	if (pkt->len < HDR_LEN + TAG_LEN || p[0] != 0x45 || p[9] != IPK_PROTO_UDP)
		return false;
	memcpy(cls, p + HDR_LEN, 4);
	memcpy(idx, p + HDR_LEN + 4, 8);
	for (size_t k = TAG_LEN; k < pkt->len - HDR_LEN; k++)
		if (p[HDR_LEN + k] != (uint8_t)(*idx * 7 + k))
			return false;
	return true;
}

static struct ipk_pkt *pkt_new(struct ipk_pool *pool, const void *bytes, size_t len)
{
	struct ipk_pkt *pkt;

	while (!(pkt = ipk_pkt_from_bytes(pool, bytes, len)))
		nap_us(50);
	return pkt;
}

/* ---- queue tests ---- */

static struct ipk_pkt *tagged(struct ipk_pool *pool, uint32_t len, uint32_t index)
{
	uint8_t bytes[2048] = { 0 };
	struct ipk_pkt *pkt = ipk_pkt_from_bytes(pool, bytes, len);

	assert_non_null(pkt);
	pkt->index = index;
	return pkt;
}

static void equeue_limits(void **state)
{
	static const struct {
		uint32_t limit_pkts;
		uint64_t limit_bytes;
		uint32_t n, len;     /* packets offered, of len bytes */
		uint32_t kept;       /* then held */
	} rows[] = {
		/* 0 */ { 4, 0, 10, 100, 4 },
		/* 1 */ { 100, 1000, 10, 100, 10 },
		/* 2 */ { 100, 999, 10, 100, 9 },
		/* 3: bytes bind before packets */
		{ 8, 450, 10, 100, 4 },
		/* 4 */ { 1, 0, 3, 64, 1 },
	};
	struct ipk_pool *pool;

	assert_int_equal(ipk_pool_create(&pool, 64, IPK_PKT_DEFAULT_ROOM), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_equeue q;
		uint32_t refused = 0;

		assert_int_equal(ipk_equeue_init(&q, "t", rows[i].limit_pkts, rows[i].limit_bytes),
				 0);
		for (uint32_t k = 0; k < rows[i].n; k++)
			refused += ipk_equeue_enqueue(&q, tagged(pool, rows[i].len, k)) ==
				   IPK_DROP_QUEUE_FULL;
		if (ipk_equeue_len(&q) != rows[i].kept || refused != rows[i].n - rows[i].kept)
			fail_msg("row %zu: %u held, %u refused", i, ipk_equeue_len(&q), refused);
		assert_int_equal(ipk_drop_read(&q.drops, IPK_DROP_QUEUE_FULL), refused);
		assert_int_equal(ipk_equeue_bytes(&q), (uint64_t)rows[i].kept * rows[i].len);
		/* FIFO order, and in == out + drops + len at every step. */
		for (uint32_t k = 0; k < rows[i].kept; k++) {
			struct ipk_pkt *pkt = ipk_equeue_dequeue(&q);

			assert_non_null(pkt);
			assert_int_equal(pkt->index, k);
			ipk_pkt_free(pkt);
			assert_int_equal(q.in, q.out + ipk_drop_total(&q.drops) + ipk_equeue_len(&q));
		}
		assert_null(ipk_equeue_dequeue(&q));
		ipk_equeue_fini(&q);
	}
	assert_int_equal(ipk_pool_available(pool), 64);
	ipk_pool_destroy(pool);
}

static void equeue_blocking(void **state)
{
	struct ipk_pool *pool;
	struct ipk_equeue q;
	uint64_t t0, waited;

	assert_int_equal(ipk_pool_create(&pool, 8, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_equeue_init(&q, "t", 1, 0), 0);
	t0 = ipk_clock_now_ns();
	assert_null(ipk_equeue_dequeue_wait(&q, 20 * MS));
	waited = ipk_clock_now_ns() - t0;
	if (waited < 19 * MS || waited > 2000 * MS)
		fail_msg("empty dequeue waited %llu ns for a 20 ms timeout",
			 (unsigned long long)waited);
	assert_int_equal(ipk_equeue_enqueue_wait(&q, tagged(pool, 60, 0), 0), 0);
	/* Full: a blocking enqueue times out and counts queue-full. */
	assert_int_equal(ipk_equeue_enqueue_wait(&q, tagged(pool, 60, 1), 10 * MS),
			 IPK_DROP_QUEUE_FULL);
	assert_int_equal(ipk_drop_read(&q.drops, IPK_DROP_QUEUE_FULL), 1);
	/* Closed: refused as hook-detached; what is held still comes out, then NULL. */
	ipk_equeue_close(&q);
	assert_int_equal(ipk_equeue_enqueue(&q, tagged(pool, 60, 2)), IPK_DROP_HOOK_DETACHED);
	ipk_pkt_free(ipk_equeue_dequeue_wait(&q, UINT64_MAX));
	assert_null(ipk_equeue_dequeue_wait(&q, UINT64_MAX));
	ipk_equeue_fini(&q);
	assert_int_equal(ipk_pool_available(pool), 8);
	ipk_pool_destroy(pool);
}

/* Test double for a QoS chain: a FIFO with its own limit that records what it saw. */
struct double_chain {
	struct ipk_pkt *head, *tail;
	uint32_t len, limit;
	uint64_t bytes;
	uint32_t seen[64];
	uint32_t n_seen;
};

static int dc_enqueue(void *priv, struct ipk_pkt *pkt, uint64_t now,
		      struct ipk_equeue_dropped *evicted)
{
	struct double_chain *c = priv;

	if (c->n_seen < 64)
		c->seen[c->n_seen++] = pkt->index;
	if (c->len >= c->limit)
		return IPK_DROP_RED; /* any reason of the chain's own */
	pkt->next = NULL;
	if (c->tail)
		c->tail->next = pkt;
	else
		c->head = pkt;
	c->tail = pkt;
	c->len++;
	c->bytes += pkt->len;
	return 0;
}

static struct ipk_pkt *dc_dequeue(void *priv, uint64_t now, struct ipk_equeue_dropped *dropped)
{
	struct double_chain *c = priv;
	struct ipk_pkt *pkt = c->head;

	if (!pkt)
		return NULL;
	c->head = pkt->next;
	if (!c->head)
		c->tail = NULL;
	c->len--;
	c->bytes -= pkt->len;
	return pkt;
}

static void dc_drain(void *priv, struct ipk_equeue_dropped *out)
{
	struct ipk_pkt *pkt;

	while ((pkt = dc_dequeue(priv, 0, NULL)))
		ipk_equeue_dropped_add(out, pkt);
}

static uint32_t dc_len(const void *priv)
{
	return ((const struct double_chain *)priv)->len;
}

static uint64_t dc_bytes(const void *priv)
{
	return ((const struct double_chain *)priv)->bytes;
}

static const struct ipk_equeue_chain_ops dc_ops = {
	.name = "double",
	.enqueue = dc_enqueue,
	.dequeue = dc_dequeue,
	.drain = dc_drain,
	.len_pkts = dc_len,
	.len_bytes = dc_bytes,
};

static void equeue_chain_swap(void **state)
{
	struct double_chain dc = { .limit = 3 };
	struct ipk_equeue_chain chain = { &dc_ops, &dc }, *old = &chain, bad = { NULL, NULL };
	struct ipk_pool *pool;
	struct ipk_equeue q;

	assert_int_equal(ipk_pool_create(&pool, 16, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_equeue_init(&q, "t", 10, 0), 0);
	assert_int_equal(ipk_equeue_attach(&q, &bad, &old), -EINVAL);
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(ipk_equeue_enqueue(&q, tagged(pool, 100, k)), 0);
	/* Held packets move in order; the two the chain refuses are counted as its reason. */
	assert_int_equal(ipk_equeue_attach(&q, &chain, &old), 0);
	assert_null(old);
	assert_int_equal(dc.n_seen, 5);
	for (uint32_t k = 0; k < 5; k++)
		assert_int_equal(dc.seen[k], k);
	assert_int_equal(ipk_equeue_len(&q), 3);
	assert_int_equal(ipk_drop_read(&q.drops, IPK_DROP_RED), 2);
	/* Hook Na is the chain's now. */
	assert_int_equal(ipk_equeue_enqueue(&q, tagged(pool, 100, 9)), IPK_DROP_RED);
	assert_int_equal(dc.seen[5], 9);
	ipk_pkt_free(ipk_equeue_dequeue(&q)); /* packet 0, through hook Nb */
	/* Detach: packets 1 and 2 go back to the default FIFO, in order. */
	assert_int_equal(ipk_equeue_attach(&q, NULL, &old), 0);
	assert_ptr_equal(old, &chain);
	assert_int_equal(dc.len, 0);
	assert_int_equal(ipk_equeue_len(&q), 2);
	for (uint32_t k = 1; k <= 2; k++) {
		struct ipk_pkt *pkt = ipk_equeue_dequeue(&q);

		assert_int_equal(pkt->index, k);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(q.in, 6);
	assert_int_equal(q.in, q.out + ipk_drop_total(&q.drops) + ipk_equeue_len(&q));
	ipk_equeue_fini(&q);
	assert_int_equal(ipk_pool_available(pool), 16);
	ipk_pool_destroy(pool);
}

/* Swaps while producers and a consumer run: every packet comes out exactly once and each
 * producer's packets stay in order (both storages are FIFOs). */
#define SWAP_PRODUCERS 2
#define SWAP_PER_PRODUCER 20000

struct swap_run {
	struct ipk_equeue q;
	struct ipk_pool *pool;
	_Atomic uint32_t producers_left;
	uint64_t got, refused_seen;
	bool disorder;
};

static void *swap_producer(void *arg)
{
	struct swap_run *r = arg;
	static _Atomic uint32_t next_id;
	uint32_t id = atomic_fetch_add(&next_id, 1) % SWAP_PRODUCERS;

	for (uint32_t k = 0; k < SWAP_PER_PRODUCER; k++) {
		struct ipk_pkt *pkt;

		while (!(pkt = ipk_pkt_alloc(r->pool)))
			nap_us(20);
		ipk_pkt_put(pkt, 64);
		pkt->index = id << 24 | k;
		ipk_equeue_enqueue_wait(&r->q, pkt, UINT64_MAX);
	}
	atomic_fetch_sub(&r->producers_left, 1);
	return NULL;
}

static void *swap_consumer(void *arg)
{
	struct swap_run *r = arg;
	int64_t last[SWAP_PRODUCERS];

	for (int i = 0; i < SWAP_PRODUCERS; i++)
		last[i] = -1;
	for (;;) {
		struct ipk_pkt *pkt = ipk_equeue_dequeue_wait(&r->q, 5 * MS);

		if (!pkt) {
			if (!atomic_load(&r->producers_left) && !ipk_equeue_len(&r->q))
				break;
			continue;
		}
		r->disorder |= (int64_t)(pkt->index & 0xffffff) <= last[pkt->index >> 24];
		last[pkt->index >> 24] = pkt->index & 0xffffff;
		r->got++;
		ipk_pkt_free(pkt);
	}
	return NULL;
}

static void equeue_swap_under_traffic(void **state)
{
	struct double_chain dc[2] = { { .limit = 1000000 }, { .limit = 1000000 } };
	struct ipk_equeue_chain chains[2] = { { &dc_ops, &dc[0] }, { &dc_ops, &dc[1] } };
	struct ipk_equeue_chain *old;
	pthread_t prod[SWAP_PRODUCERS], cons;
	struct swap_run r = { .producers_left = SWAP_PRODUCERS };
	uint32_t swaps = 0;

	assert_int_equal(ipk_pool_create(&r.pool, 1024, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_equeue_init(&r.q, "t", 256, 0), 0);
	for (int i = 0; i < SWAP_PRODUCERS; i++)
		assert_int_equal(pthread_create(&prod[i], NULL, swap_producer, &r), 0);
	assert_int_equal(pthread_create(&cons, NULL, swap_consumer, &r), 0);
	while (atomic_load(&r.producers_left)) {
		/* FIFO -> chain 0 -> chain 1 -> FIFO ... */
		struct ipk_equeue_chain *next = swaps % 3 == 2 ? NULL : &chains[swaps % 3];

		assert_int_equal(ipk_equeue_attach(&r.q, next, &old), 0);
		swaps++;
		nap_us(100);
	}
	for (int i = 0; i < SWAP_PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	pthread_join(cons, NULL);
	assert_false(r.disorder);
	assert_int_equal(r.got, SWAP_PRODUCERS * SWAP_PER_PRODUCER);
	assert_int_equal(ipk_drop_total(&r.q.drops), 0);
	assert_true(swaps > 3);
	ipk_equeue_attach(&r.q, NULL, &old);
	ipk_equeue_fini(&r.q);
	assert_int_equal(ipk_pool_available(r.pool), 1024);
	ipk_pool_destroy(r.pool);
}

/* ---- two gateways ---- */

enum kind { PROTECT, BUNDLE, BYPASS, DISCARD };

static const struct cls {
	const char *dst_host, *dst_net;
	enum kind kind;
	const char *alg;
	uint32_t spi;
} classes[] = {
	/* 0 */ { "10.2.0.9", "10.2.0.0/24", PROTECT, "aes128gcm16", 0x1000 },
	/* 1 */ { "10.3.0.9", "10.3.0.0/24", PROTECT, "chacha20poly1305", 0x1100 },
	/* 2 */ { "10.4.0.9", "10.4.0.0/24", PROTECT, "aes128-sha256", 0x1200 },
	/* 3 */ { "10.5.0.9", "10.5.0.0/24", PROTECT, "3des-sha1", 0x1300 },
	/* 4: transport end to end (GCM) inside a gateway tunnel (CBC) */
	{ "10.6.0.9", "10.6.0.0/24", BUNDLE, "aes128gcm16", 0x1400 },
	/* 5 */ { "10.9.0.9", "10.9.0.0/24", BYPASS, NULL, 0 },
	/* 6 */ { "10.66.0.9", "10.66.0.0/24", DISCARD, NULL, 0 },
};
#define N_CLS IPK_ARRAY_SIZE(classes)
#define CLS_3DES 3
#define CLS_BYPASS 5
#define CLS_DISCARD 6

/* Adds an SA whose keys derive from its SPI, so both gateways agree. */
static void sa_add(struct ipk_sad *sad, const char *name, enum ipk_dir dir, enum ipk_mode mode,
		   uint32_t spi, const char *src, const char *dst, const char *alg)
{
	struct ipk_sa_params p;
	struct ipk_err err = { .msg = "" };

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.spi = spi;
	p.dir = dir;
	p.mode = mode;
	assert_int_equal(ipk_addr_parse(src, &p.src), 0);
	assert_int_equal(ipk_addr_parse(dst, &p.dst), 0);
	p.alg = ipk_alg_find(alg);
	assert_non_null(p.alg);
	p.enc_key_len = (uint8_t)(p.alg->enc_key_len + p.alg->salt_len);
	p.auth_key_len = p.alg->auth_key_len;
	for (int i = 0; i < IPK_KEY_MAX; i++) {
		p.enc_key[i] = (uint8_t)(spi * 7 + i);
		p.auth_key[i] = (uint8_t)(spi * 13 + 3 * i);
	}
	if (ipk_sad_add(sad, &p, &err))
		fail_msg("sa %s: %s", name, err.msg);
}

static void pol_add(struct ipk_spd *spd, const char *name, enum ipk_dir dir, const char *dst,
		    enum ipk_action action, const char *sa0, const char *sa1)
{
	struct ipk_policy_params p;
	struct ipk_err err = { .msg = "" };

	ipk_policy_params_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.dir = dir;
	assert_int_equal(ipk_prefix_parse("10.1.0.0/24", &p.src), 0);
	assert_int_equal(ipk_prefix_parse(dst, &p.dst), 0);
	p.action = action;
	if (sa0)
		snprintf(p.sa_names[p.n_sa++], IPK_NAME_MAX, "%s", sa0);
	if (sa1)
		snprintf(p.sa_names[p.n_sa++], IPK_NAME_MAX, "%s", sa1);
	if (ipk_spd_add(spd, &p, &err))
		fail_msg("policy %s: %s", name, err.msg);
}

/* One gateway's SAD and SPD for every class; A protects (outbound), B verifies. */
static void gw_config(struct ipk_sad *sad, struct ipk_spd *spd, enum ipk_dir dir)
{
	for (size_t c = 0; c < N_CLS; c++) {
		const struct cls *k = &classes[c];
		char name[16], outer[16];

		snprintf(name, sizeof(name), "c%zu", c);
		snprintf(outer, sizeof(outer), "c%zu-gw", c);
		if (k->kind == PROTECT || k->kind == BUNDLE)
			sa_add(sad, name, dir, k->kind == BUNDLE ? IPK_MODE_TRANSPORT : IPK_MODE_TUNNEL,
			       k->spi, k->kind == BUNDLE ? "10.1.0.5" : "192.0.2.1",
			       k->kind == BUNDLE ? k->dst_host : "192.0.2.2", k->alg);
		if (k->kind == BUNDLE)
			sa_add(sad, outer, dir, IPK_MODE_TUNNEL, k->spi + 1, "192.0.2.1",
			       "192.0.2.2", "aes256-sha256");
		if (k->kind == DISCARD && dir == IPK_DIR_IN)
			continue;
		pol_add(spd, name, dir, k->dst_net,
			k->kind == BYPASS ? IPK_ACTION_BYPASS :
			k->kind == DISCARD ? IPK_ACTION_DISCARD : IPK_ACTION_PROTECT,
			k->kind <= BUNDLE ? name : NULL, k->kind == BUNDLE ? outer : NULL);
	}
	ipk_spd_resolve(spd, sad);
}

struct net {
	struct ipk_pool *pool;
	struct ipk_sad *sad_a, *sad_b;
	struct ipk_spd *spd_a, *spd_b;
	struct ipk_engine *a, *b;
};

static void net_init(struct net *n, const struct ipk_engine_config *cfg_a,
		     const struct ipk_engine_config *cfg_b)
{
	uint32_t workers = cfg_a->n_units > cfg_b->n_units ? cfg_a->n_units : cfg_b->n_units;
	struct ipk_err err = { .msg = "" };

	memset(n, 0, sizeof(*n));
	assert_int_equal(ipk_pool_create(&n->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&n->sad_a, workers), 0);
	assert_int_equal(ipk_sad_create(&n->sad_b, workers), 0);
	assert_int_equal(ipk_spd_create(&n->spd_a), 0);
	assert_int_equal(ipk_spd_create(&n->spd_b), 0);
	gw_config(n->sad_a, n->spd_a, IPK_DIR_OUT);
	gw_config(n->sad_b, n->spd_b, IPK_DIR_IN);
	if (ipk_engine_create(&n->a, cfg_a, n->sad_a, n->spd_a, &err))
		fail_msg("engine A: %s", err.msg);
	if (ipk_engine_create(&n->b, cfg_b, n->sad_b, n->spd_b, &err))
		fail_msg("engine B: %s", err.msg);
}

/* Destroys everything and checks that every buffer came back. */
static void net_fini(struct net *n)
{
	ipk_engine_destroy(n->a);
	ipk_engine_destroy(n->b);
	assert_int_equal(ipk_pool_available(n->pool), POOL_PKTS);
	ipk_spd_destroy(n->spd_a);
	ipk_spd_destroy(n->spd_b);
	ipk_sad_destroy(n->sad_a);
	ipk_sad_destroy(n->sad_b);
	ipk_pool_destroy(n->pool);
}

static void config(struct ipk_engine_config *cfg, enum ipk_engine_mode mode, uint32_t units)
{
	ipk_engine_config_init(cfg);
	cfg->mode = mode;
	cfg->n_units = units;
	cfg->drain_timeout_ns = 10000 * MS;
}

static uint64_t drops_of(const struct ipk_engine_stats *st, enum ipk_drop_reason r)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < st->n_queues; i++)
		n += st->queue[i].drops[r];
	for (uint32_t i = 0; i < st->n_places; i++)
		n += st->place[i].drops[r];
	for (uint32_t i = 0; i < st->n_units; i++)
		n += st->unit[i].drops[r];
	return n;
}

static void assert_balanced(struct ipk_engine *e, const char *what)
{
	struct ipk_engine_balance b;

	if (!ipk_engine_balance(e, &b) || b.in_flight)
		fail_msg("%s: in %llu != out %llu + drops %llu + absorbed %llu + in flight %llu",
			 what, (unsigned long long)b.in, (unsigned long long)b.out,
			 (unsigned long long)b.drops, (unsigned long long)b.absorbed,
			 (unsigned long long)b.in_flight);
}

/* ---- A then B: conservation, integrity, replay ---- */

struct pair_run {
	struct net *net;
	_Atomic uint64_t received;
	_Atomic uint64_t corrupt;
	uint64_t per_cls[N_CLS];
	uint64_t highest[N_CLS];  /* highest index seen per class at B's output */
	uint64_t behind[N_CLS];   /* most a packet arrived behind that highest */
	bool seen_any[N_CLS];
	uint64_t seq_high[N_CLS]; /* pump thread: highest ESP sequence number per class */
	uint64_t seq_behind;      /* most a sequence number came behind it, any SA */
	bool swap;                /* swap chains at A's queue 1 and B's hook 5 meanwhile */
	struct double_chain dc[2];
	struct ipk_equeue_chain chain[2];
	uint32_t swaps;
};

/* Every 4096 packets: A's queue 1 and B's hook 5 (coupled: B's queue 1) alternate
 * between the default FIFO and a chain (the test double), while traffic flows. */
static void swap_chains(struct pair_run *r)
{
	struct ipk_equeue *q[2] = { ipk_engine_queue(r->net->a, 1),
				    ipk_engine_queue(r->net->b, 5) };

	if (!q[1]) /* coupled: no hook 5; B's shared FIFO instead */
		q[1] = ipk_engine_queue(r->net->b, 1);
	for (int i = 0; i < 2; i++) {
		struct ipk_equeue_chain *old;

		assert_int_equal(ipk_equeue_attach(q[i], r->swaps & 1 ? NULL : &r->chain[i],
						   &old), 0);
		assert_ptr_equal(old, r->swaps & 1 ? &r->chain[i] : NULL);
	}
	r->swaps++;
}

/* Sequence-number reordering as A hands ESP packets out (what B's window sees, before
 * B's own units add theirs): per SPI, the most a number arrived behind the highest. */
static void seq_order(struct pair_run *r, struct ipk_pkt *pkt)
{
	const uint8_t *d = ipk_pkt_data(pkt);
	uint32_t spi, seq;

	if (pkt->len < 28 || d[0] != 0x45 || d[9] != IPK_PROTO_ESP)
		return;
	spi = (uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23];
	seq = (uint32_t)d[24] << 24 | (uint32_t)d[25] << 16 | (uint32_t)d[26] << 8 | d[27];
	for (size_t c = 0; c < N_CLS; c++) {
		if (classes[c].spi != spi && classes[c].spi + 1 != spi)
			continue;
		if (seq < r->seq_high[c] && r->seq_high[c] - seq > r->seq_behind)
			r->seq_behind = r->seq_high[c] - seq;
		if (seq > r->seq_high[c] && classes[c].spi + (classes[c].kind == BUNDLE) == spi)
			r->seq_high[c] = seq;
	}
}

static void *pump_thread(void *arg)
{
	struct pair_run *r = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(r->net->a, UINT64_MAX))) {
		seq_order(r, pkt);
		ipk_engine_rx_wait(r->net->b, pkt, IPK_DIR_IN, UINT64_MAX);
	}
	return NULL;
}

static void sink_one(struct pair_run *r, struct ipk_pkt *pkt)
{
	uint32_t cls;
	uint64_t idx;

	if (!read_udp(pkt, &cls, &idx) || cls >= N_CLS) {
		atomic_fetch_add(&r->corrupt, 1);
		return;
	}
	r->per_cls[cls]++;
	if (r->seen_any[cls] && idx < r->highest[cls]) {
		if (r->highest[cls] - idx > r->behind[cls])
			r->behind[cls] = r->highest[cls] - idx;
	} else {
		r->highest[cls] = idx;
		r->seen_any[cls] = true;
	}
}

static void *sink_thread(void *arg)
{
	struct pair_run *r = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(r->net->b, UINT64_MAX))) {
		sink_one(r, pkt);
		ipk_pkt_free(pkt);
		atomic_fetch_add_explicit(&r->received, 1, memory_order_release);
	}
	return NULL;
}

/* Sends @total packets, class i % N_CLS, keeping at most WINDOW in flight so that no
 * queue overflows: then every packet must arrive except the discarded ones. Reads the
 * stats of both engines now and then while traffic flows. Returns how many were sent
 * that should arrive. */
static uint64_t produce(struct pair_run *r, uint64_t total)
{
	uint64_t expect = 0;
	uint8_t bytes[512];

	for (uint64_t i = 0; i < total; i++) {
		uint32_t cls = (uint32_t)(i % N_CLS);
		size_t len = make_udp(bytes, classes[cls].dst_host, cls, i / N_CLS,
				      TAG_LEN + (i * 37) % 300);

		while (expect - atomic_load_explicit(&r->received, memory_order_acquire) >= WINDOW)
			nap_us(20);
		ipk_engine_rx_wait(r->net->a, pkt_new(r->net->pool, bytes, len), IPK_DIR_OUT,
				   UINT64_MAX);
		expect += cls != CLS_DISCARD;
		if (r->swap && (i & 0xfff) == 0)
			swap_chains(r);
		if ((i & 0xffff) == 0) {
			struct ipk_engine_stats *st;

			assert_int_equal(ipk_engine_stats_read(r->net->a, &st), 0);
			ipk_engine_stats_free(st);
		}
	}
	for (int t = 0; t < 60000 && atomic_load(&r->received) < expect; t++)
		nap_us(1000);
	if (r->swaps & 1)
		swap_chains(r); /* back to the FIFOs: the chains live on this stack */
	return expect;
}

static void check_pair_stats(struct net *n, uint64_t total, uint64_t expect)
{
	struct ipk_engine_stats *sa_, *sb;
	uint64_t discards = total - expect;

	assert_int_equal(ipk_engine_stats_read(n->a, &sa_), 0);
	assert_int_equal(ipk_engine_stats_read(n->b, &sb), 0);
	assert_true(sa_->balanced && sb->balanced);
	assert_int_equal(sa_->balance.in, total);
	assert_int_equal(sa_->balance.out, expect);
	assert_int_equal(sa_->balance.drops, discards);
	assert_int_equal(drops_of(sa_, IPK_DROP_POLICY_DISCARD), discards);
	assert_int_equal(sb->balance.in, expect);
	assert_int_equal(sb->balance.out, expect);
	assert_int_equal(sb->balance.drops, 0);
	assert_int_equal(drops_of(sb, IPK_DROP_REPLAY_TOO_OLD), 0);
	assert_int_equal(drops_of(sb, IPK_DROP_REPLAY_DUPLICATE), 0);
	for (uint32_t i = 0; i < sb->n_sas; i++) {
		assert_int_equal(sb->sa[i].drops[IPK_DROP_REPLAY_TOO_OLD], 0);
		assert_int_equal(sb->sa[i].drops[IPK_DROP_REPLAY_DUPLICATE], 0);
	}
	for (uint32_t i = 0; i < sa_->n_units; i++)
		assert_true(sa_->unit[i].max_occupancy <= sa_->unit[i].high);
	ipk_engine_stats_free(sa_);
	ipk_engine_stats_free(sb);
}

static void run_pair(enum ipk_engine_mode mode, uint32_t units, bool swap)
{
	struct ipk_engine_config cfg;
	struct pair_run r = { .swap = swap };
	struct net n;
	pthread_t pump, sink;
	uint64_t total = test_packets(), expect, worst = 0;

	for (int i = 0; i < 2; i++) {
		r.dc[i].limit = 1000000;
		r.chain[i] = (struct ipk_equeue_chain){ &dc_ops, &r.dc[i] };
	}
	config(&cfg, mode, units);
	net_init(&n, &cfg, &cfg);
	r.net = &n;
	assert_int_equal(pthread_create(&pump, NULL, pump_thread, &r), 0);
	assert_int_equal(pthread_create(&sink, NULL, sink_thread, &r), 0);
	expect = produce(&r, total);
	ipk_engine_stop(n.a);
	pthread_join(pump, NULL);
	ipk_engine_stop(n.b);
	pthread_join(sink, NULL);
	assert_int_equal(atomic_load(&r.corrupt), 0);
	assert_int_equal(atomic_load(&r.received), expect);
	for (size_t c = 0; c < N_CLS; c++) {
		uint64_t want = total / N_CLS + (c < total % N_CLS);

		assert_int_equal(r.per_cls[c], c == CLS_DISCARD ? 0 : want);
		worst = r.behind[c] > worst ? r.behind[c] : worst;
	}
	/* RFC 4303 §3.4.3: the sequence numbers several units reorder must fit the default
	 * window (and B counted no replay drop, below). The original order (worst) may be
	 * off by more: numbers are taken after dispatch, so the window never sees that. */
	assert_true(r.seq_behind < IPK_REPLAY_DEFAULT);
	check_pair_stats(&n, total, expect);
	assert_balanced(n.a, "A");
	assert_balanced(n.b, "B");
	print_message("%s, %u unit(s): %llu packets; most reordering within an SA: %llu by "
		      "original order at B, %llu by sequence number out of A; %u chain swaps\n",
		      mode == IPK_ENGINE_COUPLED ? "coupled" : "decoupled", units,
		      (unsigned long long)total, (unsigned long long)worst,
		      (unsigned long long)r.seq_behind, r.swaps);
	net_fini(&n);
}

static void pair_1_unit(void **state)
{
	run_pair(IPK_ENGINE_DECOUPLED, 1, false);
}

static void pair_2_units(void **state)
{
	run_pair(IPK_ENGINE_DECOUPLED, 2, true);
}

static void pair_4_units(void **state)
{
	run_pair(IPK_ENGINE_DECOUPLED, 4, false);
}

static void pair_coupled(void **state)
{
	run_pair(IPK_ENGINE_COUPLED, 1, true);
}

/* ---- one engine, driven directly ---- */

struct solo {
	struct ipk_pool *pool;
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_engine *e;
};

static void solo_init(struct solo *s, const struct ipk_engine_config *cfg)
{
	struct ipk_err err = { .msg = "" };

	memset(s, 0, sizeof(*s));
	assert_int_equal(ipk_pool_create(&s->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&s->sad, cfg->n_units ? cfg->n_units : 64), 0);
	assert_int_equal(ipk_spd_create(&s->spd), 0);
	gw_config(s->sad, s->spd, IPK_DIR_OUT);
	if (ipk_engine_create(&s->e, cfg, s->sad, s->spd, &err))
		fail_msg("engine: %s", err.msg);
}

static void solo_fini(struct solo *s)
{
	ipk_engine_destroy(s->e);
	assert_int_equal(ipk_pool_available(s->pool), POOL_PKTS);
	ipk_spd_destroy(s->spd);
	ipk_sad_destroy(s->sad);
	ipk_pool_destroy(s->pool);
}

static int send_cls(struct solo *s, uint32_t cls, uint64_t idx)
{
	uint8_t bytes[256];
	size_t len = make_udp(bytes, classes[cls].dst_host, cls, idx, 100);
	struct ipk_pkt *pkt = pkt_new(s->pool, bytes, len);

	pkt->index = cls; /* the engine leaves it alone: the sink reads the class there */
	return ipk_engine_rx(s->e, pkt, IPK_DIR_OUT);
}

/* Delay of each delivered packet through the engine, by class. */
struct delays {
	struct solo *s;
	uint64_t *ns[N_CLS];
	uint32_t n[N_CLS], cap;
};

static void *delay_sink(void *arg)
{
	struct delays *d = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(d->s->e, UINT64_MAX))) {
		uint32_t c = pkt->index;

		/* Time through the engine, to the moment the packet was ready in queue 2
		 * (meta.enq_ns): this thread's own wake-up latency is not the engine's. */
		if (c < N_CLS && d->n[c] < d->cap)
			d->ns[c][d->n[c]++] = pkt->meta.enq_ns - pkt->meta.rx_ns;
		ipk_pkt_free(pkt);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(uint64_t *v, uint32_t n, unsigned pct)
{
	assert_true(n > 0);
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(uint64_t)(n - 1) * pct / 100];
}

struct overload {
	uint32_t sent_bypass, got_bypass, got_protect;
	uint64_t p50_bypass, p99_bypass, p50_protect, p99_protect;
	uint64_t q1_full, q3_full;
};

/* Crypto capped at 2000 packets/s (a unit, or the coupled worker), offered four times
 * that in protect traffic for 0.8 s, with a bypass packet every millisecond. */
static void overload(enum ipk_engine_mode mode, struct overload *o)
{
	struct ipk_engine_config cfg;
	struct delays d = { .cap = 20000 };
	struct ipk_engine_stats *st;
	struct solo s;
	pthread_t sink;

	memset(o, 0, sizeof(*o));
	config(&cfg, mode, 1);
	cfg.unit.rate_pps = 2000;
	/* The queue crypto waits in: at 2000/s about 512 ms of protect backlog. */
	cfg.limit_pkts[mode == IPK_ENGINE_COUPLED ? 0 : 2] = 1024;
	cfg.limit_pkts[4] = 8;
	cfg.drain_timeout_ns = 10 * MS;
	solo_init(&s, &cfg);
	d.s = &s;
	for (size_t c = 0; c < N_CLS; c++)
		d.ns[c] = calloc(d.cap, sizeof(uint64_t));
	assert_int_equal(pthread_create(&sink, NULL, delay_sink, &d), 0);
	for (uint32_t ms = 0; ms < 800; ms++) {
		for (uint32_t k = 0; k < 8; k++)
			send_cls(&s, 0, ms * 8 + k);
		send_cls(&s, CLS_BYPASS, ms);
		o->sent_bypass++;
		nap_us(1000);
	}
	/* Let more of the backlog through, then stop (the rest drops as hook-detached). */
	nap_us(100000);
	ipk_engine_stop(s.e);
	pthread_join(sink, NULL);
	assert_int_equal(ipk_engine_stats_read(s.e, &st), 0);
	assert_true(st->balanced);
	for (uint32_t u = 0; u < st->n_units; u++)
		assert_true(st->unit[u].max_occupancy <= st->unit[u].high);
	o->q1_full = st->queue[0].drops[IPK_DROP_QUEUE_FULL];
	o->q3_full = st->n_queues > 2 ? st->queue[2].drops[IPK_DROP_QUEUE_FULL] : 0;
	o->got_bypass = d.n[CLS_BYPASS];
	o->got_protect = d.n[0];
	o->p50_bypass = percentile(d.ns[CLS_BYPASS], d.n[CLS_BYPASS], 50);
	o->p99_bypass = percentile(d.ns[CLS_BYPASS], d.n[CLS_BYPASS], 99);
	o->p50_protect = percentile(d.ns[0], d.n[0], 50);
	o->p99_protect = percentile(d.ns[0], d.n[0], 99);
	print_message("%s: bypass %u/%u delivered, p50 %llu us, p99 %llu us; protect %u "
		      "delivered, p50 %llu us, p99 %llu us\n",
		      mode == IPK_ENGINE_COUPLED ? "coupled" : "decoupled", o->got_bypass,
		      o->sent_bypass, (unsigned long long)o->p50_bypass / 1000,
		      (unsigned long long)o->p99_bypass / 1000, o->got_protect,
		      (unsigned long long)o->p50_protect / 1000,
		      (unsigned long long)o->p99_protect / 1000);
	ipk_engine_stats_free(st);
	for (size_t c = 0; c < N_CLS; c++)
		free(d.ns[c]);
	solo_fini(&s);
}

/* Decoupled: protect traffic overflows queue 3 while every bypass packet goes through,
 * its p99 delay far below the protect packets'. */
static void bypass_beside_saturated_crypto(void **state)
{
	struct overload o;

	overload(IPK_ENGINE_DECOUPLED, &o);
	assert_true(o.q3_full > 0);
	assert_int_equal(o.q1_full, 0);
	assert_int_equal(o.got_bypass, o.sent_bypass);
	assert_true(o.p99_bypass * 10 < o.p99_protect);
	assert_true(o.p50_bypass * 10 < o.p50_protect);
}

/* Coupled, the same load: the shared FIFO is full, bypass packets are lost with the rest
 * (drop-tail) and the ones that get through wait behind crypto like protect packets. */
static void coupled_bypass_waits_behind_crypto(void **state)
{
	struct overload o;

	overload(IPK_ENGINE_COUPLED, &o);
	assert_true(o.q1_full > 0);
	assert_true(o.got_bypass * 10 < o.sent_bypass * 9);
	assert_true(o.p50_bypass * 2 > o.p50_protect);
	assert_true(o.p50_bypass > 100 * MS);
}

/* Drains the engine's output in the background. */
static void *drop_sink(void *arg)
{
	struct ipk_engine *e = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(e, UINT64_MAX)))
		ipk_pkt_free(pkt);
	return NULL;
}

/* Feeds @n packets of @cls_a / @cls_b alternately, with back-pressure, then stops. */
static void feed_and_stop(struct solo *s, uint32_t cls_a, uint32_t cls_b, uint32_t n)
{
	struct ipk_engine_balance b;
	uint8_t bytes[512];
	pthread_t sink;

	assert_int_equal(pthread_create(&sink, NULL, drop_sink, s->e), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t cls = i & 1 ? cls_b : cls_a;
		size_t len = make_udp(bytes, classes[cls].dst_host, cls, i, 64 + i % 200);

		/* Keep queue 3 below its limit: every packet must reach a unit. */
		while (ipk_engine_balance(s->e, &b), b.in_flight > 512)
			nap_us(50);
		ipk_engine_rx_wait(s->e, pkt_new(s->pool, bytes, len), IPK_DIR_OUT, UINT64_MAX);
	}
	ipk_engine_stop(s->e);
	pthread_join(sink, NULL);
}

/* Rows: water marks per unit. Under load every unit fills up to exactly its high mark,
 * never past it, and everything it received it handed on. */
static void water_marks(void **state)
{
	static const struct {
		uint32_t units, high, low;
		uint64_t rate_pps;
	} rows[] = {
		/* 0: the defaults */
		{ 2, IPK_UNIT_DEFAULT_HIGH, IPK_UNIT_DEFAULT_LOW, 20000 },
		/* 1 */ { 3, 8, 3, 20000 },
		/* 2 */ { 1, 1, 1, 20000 },
		/* 3: uncapped */ { 2, 4, 2, 0 },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_engine_config cfg;
		struct ipk_engine_stats *st;
		struct solo s;
		uint32_t reached = 0;

		config(&cfg, IPK_ENGINE_DECOUPLED, rows[i].units);
		cfg.unit.high = rows[i].high;
		cfg.unit.low = rows[i].low;
		cfg.unit.rate_pps = rows[i].rate_pps;
		solo_init(&s, &cfg);
		feed_and_stop(&s, 0, 2, 4000);
		assert_int_equal(ipk_engine_stats_read(s.e, &st), 0);
		for (uint32_t u = 0; u < st->n_units; u++) {
			const struct ipk_engine_unit_stats *us = &st->unit[u];

			if (us->max_occupancy > rows[i].high)
				fail_msg("row %zu unit %u: held %u > high %u", i, u,
					 us->max_occupancy, rows[i].high);
			reached += us->max_occupancy == rows[i].high;
			assert_int_equal(us->received, us->processed);
			assert_int_equal(us->occupancy, 0);
		}
		/* Rate-capped units are always behind: each one fills to its high mark. */
		if (rows[i].rate_pps)
			assert_int_equal(reached, rows[i].units);
		assert_int_equal(st->balance.out, 4000);
		assert_true(st->balanced);
		ipk_engine_stats_free(st);
		solo_fini(&s);
	}
}

/* Rows: capability sets. A unit without 3DES never receives a 3DES packet; with no unit
 * able to, 3DES packets are dropped as unsupported at the dispatcher. */
static void capability_sets(void **state)
{
	const uint32_t no3des = IPK_UNIT_ALL_ALGS & ~(1u << IPK_ALG_DES3_SHA1 |
						      1u << IPK_ALG_DES3_MD5);
	const struct {
		uint32_t caps[2];
		uint64_t des_by[2];   /* 3DES packets each unit should apply */
		uint64_t unsupported;
	} rows[] = {
		/* 0 */ { { no3des, IPK_UNIT_ALL_ALGS }, { 0, 1000 }, 0 },
		/* 1 */ { { IPK_UNIT_ALL_ALGS, no3des }, { 1000, 0 }, 0 },
		/* 2 */ { { no3des, no3des }, { 0, 0 }, 1000 },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_unit_config units[2];
		struct ipk_engine_config cfg;
		struct ipk_engine_stats *st;
		struct solo s;

		config(&cfg, IPK_ENGINE_DECOUPLED, 2);
		for (int u = 0; u < 2; u++) {
			ipk_unit_config_init(&units[u]);
			units[u].caps = rows[i].caps[u];
		}
		cfg.units = units;
		solo_init(&s, &cfg);
		feed_and_stop(&s, 0, CLS_3DES, 2000);
		assert_int_equal(ipk_engine_stats_read(s.e, &st), 0);
		for (int u = 0; u < 2; u++)
			if (st->unit[u].by_alg[IPK_ALG_DES3_SHA1] != rows[i].des_by[u])
				fail_msg("row %zu unit %d: %llu 3des packets, want %llu", i, u,
					 (unsigned long long)st->unit[u].by_alg[IPK_ALG_DES3_SHA1],
					 (unsigned long long)rows[i].des_by[u]);
		/* The GCM half went through, whichever unit was free. */
		assert_int_equal(st->unit[0].by_alg[IPK_ALG_AES128GCM16] +
				 st->unit[1].by_alg[IPK_ALG_AES128GCM16], 1000);
		assert_int_equal(drops_of(st, IPK_DROP_UNSUPPORTED), rows[i].unsupported);
		assert_int_equal(st->balance.out, 2000 - rows[i].unsupported);
		assert_true(st->balanced);
		ipk_engine_stats_free(st);
		solo_fini(&s);
	}
}

/* Stop with a backlog behind a slow unit: the drain times out, the rest is counted as
 * hook-detached where it was, and the books balance with nothing in flight. */
static void shutdown_counts_everything(void **state)
{
	struct ipk_engine_config cfg;
	struct ipk_engine_stats *st;
	struct ipk_engine_balance b;
	struct solo s;
	uint64_t delivered = 0;
	struct ipk_pkt *pkt;

	config(&cfg, IPK_ENGINE_DECOUPLED, 1);
	cfg.unit.rate_pps = 100;
	cfg.drain_timeout_ns = 30 * MS;
	solo_init(&s, &cfg);
	for (uint32_t i = 0; i < 300; i++)
		send_cls(&s, i % 3 ? 0 : CLS_BYPASS, i);
	/* The 100 bypass packets reach queue 2 whatever the unit does. */
	for (int t = 0; t < 5000 && ipk_equeue_len(ipk_engine_queue(s.e, 2)) < 100; t++)
		nap_us(1000);
	ipk_engine_stop(s.e);
	/* After stop: more rx is refused and counted. */
	assert_int_equal(send_cls(&s, 0, 999), IPK_DROP_HOOK_DETACHED);
	while ((pkt = ipk_engine_tx_dequeue(s.e, 0))) {
		delivered++;
		ipk_pkt_free(pkt);
	}
	assert_null(ipk_engine_tx_dequeue(s.e, UINT64_MAX)); /* stopped and empty: no wait */
	assert_true(ipk_engine_balance(s.e, &b));
	assert_int_equal(b.in, 301);
	assert_int_equal(b.out, delivered);
	assert_int_equal(b.in_flight, 0);
	assert_int_equal(ipk_engine_stats_read(s.e, &st), 0);
	assert_true(drops_of(st, IPK_DROP_HOOK_DETACHED) > 100);
	assert_true(delivered >= 100); /* every bypass packet, at least */
	assert_int_equal(b.out + b.drops, 301);
	ipk_engine_stats_free(st);
	solo_fini(&s);
}

/* Rows: what ipk_unit_offer() accepts, on a unit whose thread is not running. */
static void unit_offer_rules(void **state)
{
	static const struct {
		uint32_t high, low;
		bool gcm_capable;
		uint32_t offered, taken;
	} rows[] = {
		/* 0: fills to high, then refuses */ { 4, 1, true, 6, 4 },
		/* 1 */ { 1, 1, true, 3, 1 },
		/* 2 */ { 8, 2, true, 8, 8 },
		/* 3: not in the capability set */ { 4, 1, false, 3, 0 },
	};
	struct ipk_pool *pool;
	struct ipk_sad *sad;
	struct ipk_sa *sa;
	struct ipk_event ev;
	struct ipk_equeue q4;

	assert_int_equal(ipk_pool_create(&pool, 16, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	sa_add(sad, "gcm", IPK_DIR_OUT, IPK_MODE_TUNNEL, 0x777, "192.0.2.1", "192.0.2.2",
	       "aes128gcm16");
	sa = ipk_sad_find(sad, "gcm");
	assert_int_equal(ipk_event_init(&ev), 0);
	assert_int_equal(ipk_equeue_init(&q4, "q4", 16, 0), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_unit_config uc;
		struct ipk_err err;
		struct ipk_unit u;
		uint32_t taken = 0;

		ipk_unit_config_init(&uc);
		uc.high = rows[i].high;
		uc.low = rows[i].low;
		if (!rows[i].gcm_capable)
			uc.caps = IPK_UNIT_ALL_ALGS & ~(1u << IPK_ALG_AES128GCM16);
		assert_int_equal(ipk_unit_init(&u, 0, &uc, 0, &q4, &ev, &err), 0);
		assert_int_equal(ipk_unit_can(&u, IPK_ALG_AES128GCM16), rows[i].gcm_capable);
		for (uint32_t k = 0; k < rows[i].offered; k++) {
			struct ipk_pkt *pkt = tagged(pool, 64, k);

			ipk_sa_get(sa);
			pkt->meta.sa = sa;
			if (ipk_unit_offer(&u, pkt))
				taken++;
			else
				ipk_pkt_free(pkt);
		}
		if (taken != rows[i].taken || ipk_unit_occupancy(&u) != rows[i].taken)
			fail_msg("row %zu: took %u, holds %u, want %u", i, taken,
				 ipk_unit_occupancy(&u), rows[i].taken);
		/* Full: it no longer wants work until it drops below low. */
		assert_int_equal(u.wanting, taken < rows[i].high);
		assert_int_equal(ipk_unit_flush(&u), taken);
		assert_int_equal(ipk_drop_read(&u.drops, IPK_DROP_HOOK_DETACHED), taken);
		ipk_unit_fini(&u);
	}
	/* Bad water marks are refused with a message. */
	{
		struct ipk_unit_config uc;
		struct ipk_err err = { .msg = "" };

		ipk_unit_config_init(&uc);
		uc.low = 5;
		assert_int_equal(ipk_unit_config_check(&uc, &err), -EINVAL);
		assert_string_equal(err.msg, "unit: low water mark 5 not in 1..4");
	}
	ipk_equeue_fini(&q4);
	ipk_event_fini(&ev);
	ipk_sad_destroy(sad);
	assert_int_equal(ipk_pool_available(pool), 16);
	ipk_pool_destroy(pool);
}

/* The engine refuses an SAD whose SAs have fewer crypto contexts than it has units. */
static void too_few_crypto_contexts(void **state)
{
	struct ipk_engine_config cfg;
	struct ipk_err err = { .msg = "" };
	struct ipk_engine *e = NULL;
	struct ipk_sad *sad;
	struct ipk_spd *spd;

	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	assert_int_equal(ipk_spd_create(&spd), 0);
	gw_config(sad, spd, IPK_DIR_OUT);
	config(&cfg, IPK_ENGINE_DECOUPLED, 2);
	assert_int_equal(ipk_engine_create(&e, &cfg, sad, spd, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fewer crypto contexts than the 2 units"));
	/* One unit is fine, and so is the coupled mode. */
	cfg.n_units = 1;
	assert_int_equal(ipk_engine_create(&e, &cfg, sad, spd, &err), 0);
	assert_int_equal(ipk_engine_n_units(e), 1);
	assert_null(ipk_engine_queue(e, 6));
	assert_non_null(ipk_engine_queue(e, 5));
	ipk_engine_destroy(e);
	config(&cfg, IPK_ENGINE_COUPLED, 2);
	assert_int_equal(ipk_engine_create(&e, &cfg, sad, spd, &err), 0);
	assert_null(ipk_engine_queue(e, 3));
	ipk_engine_destroy(e);
	ipk_spd_destroy(spd);
	ipk_sad_destroy(sad);
}

/* Drops at the place named @place ("unit": all units; a queue by its name). */
static uint64_t place_drops(struct ipk_engine *e, const char *place, enum ipk_drop_reason r)
{
	struct ipk_engine_stats *st;
	uint64_t n = 0;

	assert_int_equal(ipk_engine_stats_read(e, &st), 0);
	for (uint32_t i = 0; i < st->n_places; i++)
		n += strcmp(st->place[i].name, place) ? 0 : st->place[i].drops[r];
	for (uint32_t i = 0; i < st->n_queues; i++)
		n += strcmp(st->queue[i].name, place) ? 0 : st->queue[i].drops[r];
	for (uint32_t i = 0; !strcmp(place, "unit") && i < st->n_units; i++)
		n += st->unit[i].drops[r];
	ipk_engine_stats_free(st);
	return n;
}

/* A's output for one packet of @cls (an ESP packet for the protect classes). */
static struct ipk_pkt *through_a(struct net *n, uint32_t cls, uint64_t idx)
{
	uint8_t bytes[256];
	size_t len = make_udp(bytes, classes[cls].dst_host, cls, idx, 100);
	struct ipk_pkt *pkt;

	assert_int_equal(ipk_engine_rx(n->a, pkt_new(n->pool, bytes, len), IPK_DIR_OUT), 0);
	pkt = ipk_engine_tx_dequeue(n->a, 5000 * MS);
	assert_non_null(pkt);
	return pkt;
}

enum mangle { AS_IS, PLAIN_TO_B, BAD_VERSION, UNKNOWN_SPI, FLIP_LAST, REPLAY };

/* Rows: one packet each, into A (and its output into B); delivered, or dropped with the
 * reason at the place. Sequence matters only for the replay row (it resends row 0's). */
static void drops_by_place_and_reason(void **state)
{
	static const struct {
		const char *dst;  /* NULL: class 0 through A */
		enum mangle how;
		enum ipk_drop_reason why;
		const char *engine, *place;
	} rows[] = {
		/* 0 */ { NULL, AS_IS, IPK_DROP_NONE, "B", NULL },
		/* 1 */ { "10.66.0.9", AS_IS, IPK_DROP_POLICY_DISCARD, "A", "scheduler" },
		/* 2 */ { "10.200.0.9", AS_IS, IPK_DROP_NO_POLICY, "A", "scheduler" },
		/* 3 */ { "10.2.0.9", BAD_VERSION, IPK_DROP_BAD_IP_VERSION, "A", "scheduler" },
		/* 4: plaintext where B has a protect policy */
		{ "10.2.0.9", PLAIN_TO_B, IPK_DROP_NOT_PROTECTED, "B", "scheduler" },
		/* 5 */ { NULL, UNKNOWN_SPI, IPK_DROP_UNKNOWN_SPI, "B", "scheduler" },
		/* 6 */ { NULL, FLIP_LAST, IPK_DROP_BAD_ICV, "B", "unit" },
		/* 7 */ { NULL, REPLAY, IPK_DROP_REPLAY_DUPLICATE, "B", "unit" },
		/* 8: bypass at both ends */
		{ "10.9.0.9", PLAIN_TO_B, IPK_DROP_NONE, "B", NULL },
	};
	struct ipk_engine_config cfg;
	uint8_t first[2048];
	uint32_t first_len = 0;
	struct net n;

	config(&cfg, IPK_ENGINE_DECOUPLED, 1);
	net_init(&n, &cfg, &cfg);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_engine *e = !strcmp(rows[i].engine, "A") ? n.a : n.b;
		uint64_t before = rows[i].place ? place_drops(e, rows[i].place, rows[i].why) : 0;
		struct ipk_pkt *pkt, *out;
		uint8_t bytes[256];

		if (rows[i].how == REPLAY) {
			pkt = pkt_new(n.pool, first, first_len);
		} else if (!rows[i].dst) {
			pkt = through_a(&n, 0, i);
		} else {
			size_t len = make_udp(bytes, rows[i].dst, 0, i, 40);

			pkt = pkt_new(n.pool, bytes, len);
		}
		if (i == 0) {
			first_len = pkt->len;
			memcpy(first, ipk_pkt_data(pkt), pkt->len);
		}
		if (rows[i].how == BAD_VERSION)
			ipk_pkt_data(pkt)[0] = 0x55;
		if (rows[i].how == UNKNOWN_SPI)
			ipk_pkt_data(pkt)[20] ^= 0x40; /* first byte of the SPI */
		if (rows[i].how == FLIP_LAST)
			ipk_pkt_data(pkt)[pkt->len - 1] ^= 1;
		ipk_engine_rx(e, pkt, e == n.a ? IPK_DIR_OUT : IPK_DIR_IN);
		out = ipk_engine_tx_dequeue(e, rows[i].place ? 50 * MS : 5000 * MS);
		if (!rows[i].place != !!out)
			fail_msg("row %zu: %s", i, out ? "delivered" : "not delivered");
		if (out)
			ipk_pkt_free(out);
		if (rows[i].place && place_drops(e, rows[i].place, rows[i].why) != before + 1)
			fail_msg("row %zu: no %s drop counted at %s %s", i,
				 ipk_drop_name(rows[i].why), rows[i].engine, rows[i].place);
	}
	ipk_engine_stop(n.a);
	ipk_engine_stop(n.b);
	assert_balanced(n.a, "A");
	assert_balanced(n.b, "B");
	net_fini(&n);
}

/* An ESP packet cut into two IPv4 fragments reaches B's engine: reassembled, decrypted,
 * delivered; both fragments counted as absorbed, the datagram as entering. */
static void fragments_reassembled(void **state)
{
	struct ipk_engine_config cfg_a, cfg_b;
	struct ipk_engine_balance b;
	struct ipk_pool *reasm_pool;
	struct ipk_pkt *esp, *f1, *f2, *out;
	uint32_t cls, off = 64;
	uint64_t idx;
	struct net n;
	uint8_t *d;

	assert_int_equal(ipk_pool_create(&reasm_pool, 4, IPK_PKT_HEADROOM + 65535 +
					  IPK_PKT_TAILROOM), 0);
	config(&cfg_a, IPK_ENGINE_DECOUPLED, 1);
	cfg_b = cfg_a;
	cfg_b.reasm_pool = reasm_pool;
	net_init(&n, &cfg_a, &cfg_b);
	esp = through_a(&n, 0, 42);
	d = ipk_pkt_data(esp);
	assert_int_equal(d[0], 0x45);
	/* Fragment 1: header + the first 64 payload bytes, MF; fragment 2: the rest. */
	f1 = pkt_new(n.pool, d, 20 + off);
	f2 = pkt_new(n.pool, d, 20);
	memcpy(ipk_pkt_put(f2, esp->len - 20 - off), d + 20 + off, esp->len - 20 - off);
	ipk_pkt_free(esp);
	d = ipk_pkt_data(f1);
	d[2] = (uint8_t)(f1->len >> 8), d[3] = (uint8_t)f1->len, d[6] = 0x20, d[7] = 0;
	ipk_ipv4_set_checksum(d);
	d = ipk_pkt_data(f2);
	d[2] = (uint8_t)(f2->len >> 8), d[3] = (uint8_t)f2->len;
	d[6] = (uint8_t)((off / 8) >> 8), d[7] = (uint8_t)(off / 8);
	ipk_ipv4_set_checksum(d);
	assert_int_equal(ipk_engine_rx(n.b, f2, IPK_DIR_IN), 0);
	assert_int_equal(ipk_engine_rx(n.b, f1, IPK_DIR_IN), 0);
	out = ipk_engine_tx_dequeue(n.b, 5000 * MS);
	assert_non_null(out);
	assert_true(read_udp(out, &cls, &idx));
	assert_int_equal(cls, 0);
	assert_int_equal(idx, 42);
	ipk_pkt_free(out);
	ipk_engine_stop(n.b);
	assert_true(ipk_engine_balance(n.b, &b));
	assert_int_equal(b.in, 3);
	assert_int_equal(b.out, 1);
	assert_int_equal(b.absorbed, 2);
	assert_int_equal(b.drops, 0);
	net_fini(&n);
	assert_int_equal(ipk_pool_available(reasm_pool), 4);
	ipk_pool_destroy(reasm_pool);
}

/* Test double for a shaper: holds each packet for HOLD_NS after it was enqueued. */
#define HOLD_NS (20 * MS)

static struct ipk_pkt *hold_dequeue(void *priv, uint64_t now,
				    struct ipk_equeue_dropped *dropped)
{
	struct double_chain *c = priv;

	if (!c->head || now < c->head->meta.enq_ns + HOLD_NS)
		return NULL;
	return dc_dequeue(priv, now, dropped);
}

static uint64_t hold_next_ns(void *priv, uint64_t now)
{
	struct double_chain *c = priv;

	return c->head ? c->head->meta.enq_ns + HOLD_NS : UINT64_MAX;
}

static const struct ipk_equeue_chain_ops hold_ops = {
	.name = "hold",
	.enqueue = dc_enqueue,
	.dequeue = hold_dequeue,
	.drain = dc_drain,
	.len_pkts = dc_len,
	.len_bytes = dc_bytes,
	.next_ns = hold_next_ns,
};

/* Rows: a chain that holds packets back, at the dequeue hook of queue 1, 3, 4 or hook 5.
 * The thread that polls that queue must wake up when the packet may leave, without any
 * other packet ringing it. */
static void shaper_at_hooks(void **state)
{
	static const struct {
		unsigned queue;
		uint32_t cls;
	} rows[] = {
		/* 0 */ { 1, CLS_BYPASS },
		/* 1 */ { 3, 0 },
		/* 2 */ { 4, 0 },
		/* 3 */ { 5, 0 },
		/* 4: the tx side blocks in its own dequeue */ { 2, CLS_BYPASS },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct double_chain dc = { .limit = 100 };
		struct ipk_equeue_chain chain = { &hold_ops, &dc }, *old;
		struct ipk_engine_config cfg;
		struct ipk_pkt *out;
		struct solo s;
		uint64_t t0, waited;

		config(&cfg, IPK_ENGINE_DECOUPLED, 1);
		solo_init(&s, &cfg);
		assert_int_equal(ipk_equeue_attach(ipk_engine_queue(s.e, rows[i].queue), &chain,
						   &old), 0);
		t0 = ipk_clock_now_ns();
		assert_int_equal(send_cls(&s, rows[i].cls, i), 0);
		out = ipk_engine_tx_dequeue(s.e, 2000 * MS);
		waited = ipk_clock_now_ns() - t0;
		if (!out || waited < HOLD_NS || waited > 1000 * MS)
			fail_msg("row %zu: %s after %llu us", i, out ? "delivered" : "nothing",
				 (unsigned long long)waited / 1000);
		ipk_pkt_free(out);
		assert_int_equal(ipk_equeue_attach(ipk_engine_queue(s.e, rows[i].queue), NULL,
						   &old), 0);
		solo_fini(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equeue_limits),
		cmocka_unit_test(equeue_blocking),
		cmocka_unit_test(equeue_chain_swap),
		cmocka_unit_test(equeue_swap_under_traffic),
		cmocka_unit_test(unit_offer_rules),
		cmocka_unit_test(too_few_crypto_contexts),
		cmocka_unit_test(pair_1_unit),
		cmocka_unit_test(pair_2_units),
		cmocka_unit_test(pair_4_units),
		cmocka_unit_test(pair_coupled),
		cmocka_unit_test(bypass_beside_saturated_crypto),
		cmocka_unit_test(coupled_bypass_waits_behind_crypto),
		cmocka_unit_test(water_marks),
		cmocka_unit_test(capability_sets),
		cmocka_unit_test(shutdown_counts_everything),
		cmocka_unit_test(drops_by_place_and_reason),
		cmocka_unit_test(fragments_reassembled),
		cmocka_unit_test(shaper_at_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
