// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for the engine under the QoS pipeline (src/engine/ with src/engine/hooks.c and the
 * qos/hook commands of the configuration language).
 *
 * 1. Priority under overload: one gateway decrypting inbound ESP; its single crypto unit
 *    is capped at 50 Mbit/s (of ESP bytes) while best effort is offered at 200 Mbit/s and
 *    EF at 1 Mbit/s, for IPK_OVERLOAD_TEST_MS. With examples/recommended-qos.conf (strict
 *    priority for EF at queues 1, 3 and hook 5) EF loses nothing, its p99 delay through
 *    the engine stays below 2 ms and best effort keeps at least 90% of the capacity; the
 *    coupled baseline loses EF. Delay and rate are judged only in a run the machine did
 *    not disturb (disturbed()); the test is skipped when every attempt (ATTEMPTS) was.
 * 2. Reconfiguration under traffic: IPK_OVERLOAD_TEST_PACKETS packets (one SA, two
 *    classes) through one engine while the chain at every hook is replaced 1,000 times
 *    through the configuration language: in == delivered + dropped, nothing delivered
 *    twice, each class in order, every buffer back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/engine.h"
#include "engine/hooks.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DEFAULT_MS 1000
#define DEFAULT_PACKETS 100000
#else
#define DEFAULT_MS 2000
#define DEFAULT_PACKETS 1000000
#endif

#define MS 1000000ull
#define POOL_PKTS 16384
/* Runs of the priority test until one is undisturbed. Under ThreadSanitizer every run is
 * (the engine is too slow for the load), so one run checks integrity there; elsewhere a
 * shared machine gets five chances to give a run that can judge delay and rate. */
#if defined(__SANITIZE_THREAD__)
#define ATTEMPTS 1
#else
#define ATTEMPTS 5
#endif
/* The pacing thread this late: something else held the CPUs for longer than the EF delay
 * budget (2 ms). */
#define MAX_LAG_NS (3 * MS)

static bool skipped; /* main() returns 77 when a test was skipped and none failed */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	uint64_t v = s ? strtoull(s, NULL, 10) : 0;

	return v ? v : def;
}

static void nap_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- SAs, packets ---- */

#define PEER "192.0.2.2"
#define SELF "192.0.2.1"
#define HDR_LEN 28 /* IPv4 + UDP */
#define TAG_LEN 12 /* class (4) + sequence number (8) */
#define KEY_LEN 20 /* aes128gcm16: key and salt */

static void key_of(uint32_t spi, uint8_t *key)
{
	for (int i = 0; i < KEY_LEN; i++)
		key[i] = (uint8_t)(spi * 7 + i * 13);
}

/* `sa add` + `policy add` for an inbound SA carrying 10.@net.0.0/24 -> 10.1.0.0/24. */
static size_t inbound_conf(char *buf, size_t size, const char *name, uint32_t spi,
			   unsigned net, bool replay)
{
	uint8_t key[KEY_LEN];
	char hex[2 * KEY_LEN + 1];

	key_of(spi, key);
	for (int i = 0; i < KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	return (size_t)snprintf(buf, size,
				"sa add name %s spi %u dir in mode tunnel src " PEER " dst " SELF
				" proposal aes128gcm16 key 0x%s%s\n"
				"policy add name %s dir in src 10.%u.0.0/24 dst 10.1.0.0/24 "
				"action protect sa %s\n",
				name, spi, hex, replay ? "" : " replay-window 0", name, net, name);
}

/* The peer's outbound SA matching inbound_conf(@spi). */
static struct ipk_sa *peer_sa(uint32_t spi)
{
	struct ipk_err err = { .msg = "" };
	struct ipk_sa_params p;
	struct ipk_sa *sa;

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "peer-%u", spi);
	p.spi = spi;
	p.dir = IPK_DIR_OUT;
	p.mode = IPK_MODE_TUNNEL;
	assert_int_equal(ipk_addr_parse(PEER, &p.src), 0);
	assert_int_equal(ipk_addr_parse(SELF, &p.dst), 0);
	p.alg = ipk_alg_find("aes128gcm16");
	assert_non_null(p.alg);
	key_of(spi, p.enc_key);
	p.enc_key_len = KEY_LEN;
	if (ipk_sa_create(&sa, &p, 1, &err))
		fail_msg("peer sa: %s", err.msg);
	return sa;
}

/* An IPv4/UDP packet 10.@net.0.9 -> 10.1.0.5 of @len bytes with @dscp, tagged. */
static size_t make_inner(uint8_t *buf, unsigned net, uint8_t dscp, uint32_t cls, uint64_t seq,
			 size_t len)
{
	struct ipk_addr s, d;
	char src[16];

	snprintf(src, sizeof(src), "10.%u.0.9", net);
	assert_int_equal(ipk_addr_parse(src, &s), 0);
	assert_int_equal(ipk_addr_parse("10.1.0.5", &d), 0);
	ipk_ipv4_build(buf, &s, &d, IPK_PROTO_UDP, (uint16_t)len, (uint8_t)(dscp << 2), 64,
		       false, (uint16_t)seq);
	buf[20] = 1024 >> 8, buf[21] = 1024 & 0xff, buf[22] = 5000 >> 8, buf[23] = 5000 & 0xff;
	buf[24] = (uint8_t)((len - 20) >> 8), buf[25] = (uint8_t)(len - 20), buf[26] = buf[27] = 0;
	memcpy(buf + HDR_LEN, &cls, 4);
	memcpy(buf + HDR_LEN + 4, &seq, 8);
	for (size_t k = HDR_LEN + TAG_LEN; k < len; k++)
		buf[k] = (uint8_t)(seq + k);
	return len;
}

static bool read_tag(struct ipk_pkt *pkt, uint32_t *cls, uint64_t *seq)
{
	const uint8_t *p = ipk_pkt_data(pkt);

	if (pkt->len < HDR_LEN + TAG_LEN || p[0] != 0x45 || p[9] != IPK_PROTO_UDP)
		return false;
	memcpy(cls, p + HDR_LEN, 4);
	memcpy(seq, p + HDR_LEN + 4, 8);
	for (size_t k = HDR_LEN + TAG_LEN; k < pkt->len; k++)
		if (p[k] != (uint8_t)(*seq + k))
			return false;
	return true;
}

/* Encrypts @inner with @sa into a new packet (waits for a free buffer). */
static struct ipk_pkt *encrypt(struct ipk_pool *pool, struct ipk_sa *sa, const uint8_t *inner,
			       size_t len)
{
	struct ipk_pkt *pkt;

	while (!(pkt = ipk_pkt_from_bytes(pool, inner, len)))
		nap_us(50);
	assert_int_equal(ipk_esp_encap(sa, pkt, 0), 0);
	return pkt;
}

/* A gateway: SAD, SPD, engine and hooks, configured by @conf (SAs and policies). */
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

static void gw_init(struct gw *g, const struct ipk_engine_config *cfg, const char *conf)
{
	struct ipk_err err = { .msg = "" };

	memset(g, 0, sizeof(*g));
	assert_int_equal(ipk_pool_create(&g->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_sad_create(&g->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&g->spd), 0);
	g->ctx.sad = g->sad;
	g->ctx.spd = g->spd;
	apply(&g->ctx, conf);
	if (ipk_engine_create(&g->e, cfg, g->sad, g->spd, &err))
		fail_msg("engine: %s", err.msg);
	assert_int_equal(ipk_hooks_create(&g->hooks, g->e), 0);
	g->ctx.hooks = g->hooks;
}

/* Destroys everything and checks that every buffer came back. */
static void gw_fini(struct gw *g)
{
	ipk_engine_stop(g->e);
	ipk_hooks_destroy(g->hooks);
	ipk_engine_destroy(g->e);
	assert_int_equal(ipk_pool_available(g->pool), POOL_PKTS);
	ipk_spd_destroy(g->spd);
	ipk_sad_destroy(g->sad);
	ipk_pool_destroy(g->pool);
}

/* ---- 1. priority under overload ---- */

#define CAP_BPS 50000000ull
#define BE_BPS 200000000ull
#define EF_BPS 1000000ull
#define BE_LEN 1400
#define EF_LEN 200
#define BE_TEMPLATES 64
#define CLS_BE 0
#define CLS_EF 1
#define GEN_NAP_US 100

/* Pre-encrypted traffic. EF: the whole series, in sequence-number order (the ICV covers
 * the number, so none can be patched later), replay protection on. BE: a few templates
 * sent over and over through an SA without replay protection; only its volume matters. */
struct traffic {
	uint8_t *ef, *be;
	uint32_t ef_len, be_len, n_ef; /* ESP lengths */
	uint64_t ms;
};

static void traffic_init(struct traffic *t, uint64_t ms)
{
	struct ipk_pool *pool;
	struct ipk_sa *ef_sa = peer_sa(0x2000), *be_sa = peer_sa(0x1000);
	uint8_t inner[2048];

	assert_int_equal(ipk_pool_create(&pool, 4, IPK_PKT_DEFAULT_ROOM), 0);
	memset(t, 0, sizeof(*t));
	t->ms = ms;
	t->n_ef = (uint32_t)(EF_BPS * ms / 1000 / (EF_LEN * 8));
	for (uint32_t i = 0; i < t->n_ef + BE_TEMPLATES; i++) {
		bool ef = i < t->n_ef;
		size_t len = ef ? make_inner(inner, 3, 46, CLS_EF, i, EF_LEN) :
			     make_inner(inner, 2, 0, CLS_BE, i - t->n_ef, BE_LEN);
		struct ipk_pkt *pkt = encrypt(pool, ef ? ef_sa : be_sa, inner, len);
		uint32_t *plen = ef ? &t->ef_len : &t->be_len;

		if (!*plen) {
			*plen = pkt->len;
			*(ef ? &t->ef : &t->be) = malloc((size_t)pkt->len *
							  (ef ? t->n_ef : BE_TEMPLATES));
		}
		assert_int_equal(pkt->len, *plen);
		memcpy(ef ? t->ef + (size_t)i * *plen : t->be + (size_t)(i - t->n_ef) * *plen,
		       ipk_pkt_data(pkt), pkt->len);
		ipk_pkt_free(pkt);
	}
	ipk_sa_put(ef_sa);
	ipk_sa_put(be_sa);
	ipk_pool_destroy(pool);
}

/*
 * Whether the machine let the test run: every STALL_PERIOD_NS the generator reads how long
 * each thread of this process waited for a CPU (/proc/self/task/N/schedstat, second field,
 * run-queue delay) and counts the periods in which some thread waited more than
 * STALL_NS. Other jobs on a shared machine show up here (and the test's own threads, when
 * they need more CPU than there is, as under ThreadSanitizer).
 */
#define STALL_PERIOD_NS (10 * MS)
#define STALL_NS (2 * MS)
#define MAX_TASKS 32

struct stalls {
	int tid[MAX_TASKS];
	uint64_t wait[MAX_TASKS];
	uint32_t n;
	uint64_t next_ns;
	uint32_t periods, stalled;
};

static void stalls_sample(struct stalls *st, uint64_t now)
{
	uint64_t worst = 0;
	struct dirent *d;
	DIR *dir;

	if (now < st->next_ns || !(dir = opendir("/proc/self/task")))
		return;
	while ((d = readdir(dir))) {
		int tid = atoi(d->d_name);
		unsigned long long run, wait = 0;
		char path[64];
		uint32_t i;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
		if (tid <= 0 || !(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%llu %llu", &run, &wait) != 2)
			wait = 0;
		fclose(f);
		for (i = 0; i < st->n && st->tid[i] != tid; i++)
			;
		if (i == st->n && st->n < MAX_TASKS)
			st->tid[st->n++] = tid, st->wait[i] = wait;
		else if (i < st->n && st->next_ns && wait - st->wait[i] > worst)
			worst = wait - st->wait[i];
		if (i < st->n)
			st->wait[i] = wait;
	}
	closedir(dir);
	st->periods += st->next_ns != 0;
	st->stalled += worst > STALL_NS;
	st->next_ns = now + STALL_PERIOD_NS;
}

struct prio_run {
	struct gw *g;
	const struct traffic *t;
	uint64_t t0, end;             /* the offered load runs in [t0, end) */
	uint64_t win_start;           /* BE goodput measured in [win_start, end) */
	/* sink */
	uint64_t *ef_tx, *ef_engine;  /* per EF packet: tx - rx_ns, queue-2 entry - rx_ns */
	uint8_t *ef_seen;
	uint32_t ef_got, ef_dup, corrupt;
	uint64_t be_in_window;
	/* generator */
	uint32_t ef_sent, ef_refused;
	uint64_t be_sent, max_lag;
	struct stalls stalls;
};

static void *prio_sink(void *arg)
{
	struct prio_run *r = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(r->g->e, UINT64_MAX))) {
		uint64_t now = ipk_clock_now_ns(), seq;
		uint32_t cls;

		if (!read_tag(pkt, &cls, &seq) || cls > CLS_EF ||
		    (cls == CLS_EF && seq >= r->t->n_ef)) {
			r->corrupt++;
		} else if (cls == CLS_EF && r->ef_seen[seq]++) {
			r->ef_dup++;
		} else if (cls == CLS_EF) {
			r->ef_tx[r->ef_got] = now - pkt->meta.rx_ns;
			r->ef_engine[r->ef_got++] = pkt->meta.enq_ns - pkt->meta.rx_ns;
		} else {
			r->be_in_window += now >= r->win_start && now < r->end;
		}
		ipk_pkt_free(pkt);
	}
	return NULL;
}

static void send_copy(struct prio_run *r, const uint8_t *bytes, uint32_t len, bool ef)
{
	struct ipk_pkt *pkt = ipk_pkt_from_bytes(r->g->pool, bytes, len);

	if (!pkt) { /* the pool is sized so that this does not happen; counted if it does */
		r->ef_refused += ef;
		return;
	}
	ipk_engine_rx(r->g->e, pkt, IPK_DIR_IN);
}

/* Paces both flows on CLOCK_MONOTONIC: each packet leaves at its slot, late ones as soon
 * as the thread runs again; max_lag is how late the oldest due packet ever was. */
static void generate(struct prio_run *r)
{
	const struct traffic *t = r->t;
	const uint64_t be_gap = (uint64_t)BE_LEN * 8 * IPK_NSEC_PER_SEC / BE_BPS;
	const uint64_t ef_gap = (uint64_t)EF_LEN * 8 * IPK_NSEC_PER_SEC / EF_BPS;
	uint64_t now;

	while ((now = ipk_clock_now_ns()) < r->end) {
		uint64_t el = now > r->t0 ? now - r->t0 : 0;
		uint64_t be_due = el / be_gap + 1, ef_due = el / ef_gap + 1;
		uint64_t lag = r->be_sent < be_due ? el - r->be_sent * be_gap : 0;

		ef_due = ef_due < t->n_ef ? ef_due : t->n_ef;

		if (r->ef_sent < ef_due && el - (uint64_t)r->ef_sent * ef_gap > lag)
			lag = el - (uint64_t)r->ef_sent * ef_gap;
		r->max_lag = lag > r->max_lag ? lag : r->max_lag;
		stalls_sample(&r->stalls, now);
		while (r->ef_sent < ef_due) {
			send_copy(r, t->ef + (size_t)r->ef_sent * t->ef_len, t->ef_len, true);
			r->ef_sent++;
		}
		for (; r->be_sent < be_due; r->be_sent++)
			send_copy(r, t->be + (r->be_sent % BE_TEMPLATES) * t->be_len, t->be_len,
				  false);
		nap_us(GEN_NAP_US);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, uint32_t n, unsigned p)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(uint64_t)(n - 1) * p / 100];
}

struct prio_result {
	uint32_t ef_sent, ef_got, ef_dup, ef_refused, corrupt;
	uint64_t p50, p99, max, tx_p99, tx_max; /* EF delay, ns */
	double be_mbps, be_wire_mbps;        /* BE goodput: inner bytes, ESP bytes */
	uint64_t max_lag;
	uint32_t periods, stalled;    /* STALL_PERIOD_NS periods, and those with a stall */
};

static void prio_result(struct prio_run *r, struct prio_result *o)
{
	double win_s = (double)(r->end - r->win_start) / 1e9;

	o->ef_sent = r->ef_sent;
	o->ef_got = r->ef_got;
	o->ef_dup = r->ef_dup;
	o->ef_refused = r->ef_refused;
	o->corrupt = r->corrupt;
	o->max_lag = r->max_lag;
	o->periods = r->stalls.periods;
	o->stalled = r->stalls.stalled;
	o->tx_p99 = pct(r->ef_tx, r->ef_got, 99);
	o->tx_max = r->ef_got ? r->ef_tx[r->ef_got - 1] : 0;
	o->p50 = pct(r->ef_engine, r->ef_got, 50);
	o->p99 = pct(r->ef_engine, r->ef_got, 99);
	o->max = r->ef_got ? r->ef_engine[r->ef_got - 1] : 0;
	o->be_mbps = (double)r->be_in_window * BE_LEN * 8 / win_s / 1e6;
	o->be_wire_mbps = (double)r->be_in_window * r->t->be_len * 8 / win_s / 1e6;
}

static size_t add_drops(char *buf, size_t n, size_t size, const char *place,
			const uint64_t *drops)
{
	for (int r = 0; r < IPK_DROP_COUNT; r++)
		if (drops[r] && n < size)
			n += (size_t)snprintf(buf + n, size - n, " %s %s %llu", place,
					      ipk_drop_name((enum ipk_drop_reason)r),
					      (unsigned long long)drops[r]);
	return n;
}

/* Where the engine dropped packets, by place and reason (for the report). */
static void print_drops(struct ipk_engine *e)
{
	struct ipk_engine_stats *st;
	char buf[1024] = "";
	size_t n = 0;

	assert_int_equal(ipk_engine_stats_read(e, &st), 0);
	for (uint32_t i = 0; i < st->n_queues; i++)
		n = add_drops(buf, n, sizeof(buf), st->queue[i].name, st->queue[i].drops);
	for (uint32_t i = 0; i < st->n_places; i++)
		n = add_drops(buf, n, sizeof(buf), st->place[i].name, st->place[i].drops);
	for (uint32_t i = 0; i < st->n_units; i++)
		n = add_drops(buf, n, sizeof(buf), "unit", st->unit[i].drops);
	print_message("  drops:%s\n", buf);
	ipk_engine_stats_free(st);
}

/* One run of the offered load through a fresh gateway in @mode (QoS: the recommended
 * configuration at hooks 1, 3 and 5). */
static void prio_once(const struct traffic *t, enum ipk_engine_mode mode, bool qos,
		      struct prio_result *o)
{
	struct ipk_engine_config cfg;
	struct prio_run r = { .t = t };
	char conf[1024], path[512];
	struct ipk_err err = { .msg = "" };
	struct gw g;
	pthread_t sink;
	size_t n;

	ipk_engine_config_init(&cfg);
	cfg.mode = mode;
	cfg.n_units = 1;
	cfg.unit.rate_bps = CAP_BPS;
	/* At most two packets committed to the unit ahead of an EF one (unit.h, water
	 * marks): EF waits at most about 2 x 233 us behind best effort there. */
	cfg.unit.high = 2;
	cfg.unit.low = 1;
	cfg.drain_timeout_ns = 10 * MS; /* the BE backlog left at the end is dropped */
	n = inbound_conf(conf, sizeof(conf), "be", 0x1000, 2, false);
	inbound_conf(conf + n, sizeof(conf) - n, "ef", 0x2000, 3, true);
	gw_init(&g, &cfg, conf);
	snprintf(path, sizeof(path), "%s/../examples/recommended-qos.conf", IPK_TEST_DATA_DIR);
	if (qos && ipk_config_load_file(&g.ctx, path, &err))
		fail_msg("%s: %s", path, err.msg);
	r.g = &g;
	r.ef_tx = calloc(t->n_ef, sizeof(uint64_t));
	r.ef_engine = calloc(t->n_ef, sizeof(uint64_t));
	r.ef_seen = calloc(t->n_ef, 1);
	r.t0 = ipk_clock_now_ns() + 20 * MS;
	r.end = r.t0 + t->ms * MS;
	r.win_start = r.t0 + t->ms * MS / 10; /* past the first fill of the queues */
	assert_int_equal(pthread_create(&sink, NULL, prio_sink, &r), 0);
	generate(&r);
	nap_us(200000); /* EF still in flight arrives within its delay bound */
	ipk_engine_stop(g.e);
	pthread_join(sink, NULL);
	print_drops(g.e);
	prio_result(&r, o);
	free(r.ef_tx);
	free(r.ef_engine);
	free(r.ef_seen);
	gw_fini(&g);
}

static void print_result(const char *what, const struct prio_result *o)
{
	print_message("%s: EF sent %u delivered %u, delay p50 %llu us p99 %llu us max %llu us "
		      "(to tx: p99 %llu us max %llu us); BE goodput %.1f Mbit/s (%.1f Mbit/s of "
		      "ESP), capacity %llu Mbit/s; pacing late by up to %llu us; CPU stalls in %u "
		      "of %u periods\n", what, o->ef_sent, o->ef_got,
		      (unsigned long long)o->p50 / 1000, (unsigned long long)o->p99 / 1000,
		      (unsigned long long)o->max / 1000,
		      (unsigned long long)o->tx_p99 / 1000, (unsigned long long)o->tx_max / 1000,
		      o->be_mbps, o->be_wire_mbps, (unsigned long long)(CAP_BPS / 1000000),
		      (unsigned long long)o->max_lag / 1000, o->stalled, o->periods);
}

/* EF is never lost. */
static void check_ef_kept(const struct traffic *t, const struct prio_result *o)
{
	assert_int_equal(o->ef_refused, 0);
	assert_int_equal(o->ef_sent, t->n_ef);
	assert_int_equal(o->ef_got, o->ef_sent);
}

/* Another job held the CPUs long enough to spoil this run's delay and rate figures. */
static bool disturbed(const struct prio_result *o)
{
	return o->max_lag > MAX_LAG_NS || o->stalled * 50 > o->periods;
}

/*
 * Decoupled with the recommended QoS configuration: EF is served first at every queue it
 * crosses and at most `high` (2) packets are committed to the unit ahead of it, so by
 * design it waits about 3 x 233 us (the rest of the packet in hand, the one waiting, and
 * the pacing slot booked for it) behind best effort. The machine is shared: in a run that
 * was disturbed (see disturbed()) the threads may not run for tens of milliseconds, so
 * only integrity is judged; it is retried, and the test is skipped when every attempt
 * was. Under ThreadSanitizer the engine itself is too slow for this load, so every
 * attempt is disturbed there.
 */
static void ef_first_under_overload(void **state)
{
	struct traffic t;
	struct prio_result o;
	int attempt;

	traffic_init(&t, env_u64("IPK_OVERLOAD_TEST_MS", DEFAULT_MS));
	for (attempt = 1; attempt <= ATTEMPTS; attempt++) {
		prio_once(&t, IPK_ENGINE_DECOUPLED, true, &o);
		print_result("decoupled + QoS", &o);
		/* Whatever the machine does: nothing duplicated or corrupted. */
		assert_int_equal(o.corrupt, 0);
		assert_int_equal(o.ef_dup, 0);
		if (!disturbed(&o))
			break;
		print_message("attempt %d disturbed: pacing %llu us late, CPU stalls in %u of %u "
			      "periods\n", attempt, (unsigned long long)o.max_lag / 1000,
			      o.stalled, o.periods);
	}
	free(t.ef);
	free(t.be);
	if (attempt > ATTEMPTS) {
		skipped = true;
		skip();
	}
	check_ef_kept(&t, &o);
	if (o.p99 >= 2 * MS)
		fail_msg("EF p99 %llu us >= 2 ms", (unsigned long long)o.p99 / 1000);
	if (o.be_wire_mbps < 0.9 * CAP_BPS / 1e6)
		fail_msg("BE goodput %.1f Mbit/s < 90%% of capacity", o.be_wire_mbps);
}

/* The coupled baseline under the same load and cap: one shared drop-tail FIFO, so EF is
 * lost with best effort. */
static void coupled_loses_ef(void **state)
{
	struct traffic t;
	struct prio_result o;

	traffic_init(&t, env_u64("IPK_OVERLOAD_TEST_MS", DEFAULT_MS));
	prio_once(&t, IPK_ENGINE_COUPLED, false, &o);
	print_result("coupled", &o);
	free(t.ef);
	free(t.be);
	/* A late generator may not have sent the last EF packets before the end. */
	assert_int_equal(o.corrupt, 0);
	assert_true(o.ef_sent * 10 >= t.n_ef * 9);
	assert_true(o.ef_got < o.ef_sent);
}

/* ---- 2. reconfiguration under traffic ---- */

#define RECONF_OPS 1000
#define WINDOW 512   /* packets in flight: below every queue and class limit */
#define EF_EVERY 8   /* one packet in 8 is EF */
#define RECONF_SPI 0x3000

struct reconf_run {
	struct gw *g;
	uint64_t total;
	_Atomic uint64_t sent;
	_Atomic bool done;
	/* sink */
	uint8_t *seen;
	uint64_t delivered, dup, disorder, corrupt;
	int64_t last[2];
};

static void *reconf_sink(void *arg)
{
	struct reconf_run *r = arg;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_engine_tx_dequeue(r->g->e, UINT64_MAX))) {
		uint64_t seq;
		uint32_t cls;

		if (!read_tag(pkt, &cls, &seq) || cls > CLS_EF || seq >= r->total ||
		    (seq % EF_EVERY == 0) != (cls == CLS_EF)) {
			r->corrupt++;
		} else {
			r->dup += r->seen[seq]++ != 0;
			r->disorder += (int64_t)seq <= r->last[cls];
			r->last[cls] = (int64_t)seq;
		}
		r->delivered++;
		ipk_pkt_free(pkt);
	}
	return NULL;
}

/* The peer: encrypts packet after packet in order, keeping at most WINDOW in flight. */
static void *reconf_producer(void *arg)
{
	struct reconf_run *r = arg;
	struct ipk_sa *sa = peer_sa(RECONF_SPI);
	struct ipk_engine_balance b;
	uint8_t inner[256];

	for (uint64_t i = 0; i < r->total; i++) {
		bool ef = i % EF_EVERY == 0;
		size_t len = make_inner(inner, 2, ef ? 46 : 0, ef ? CLS_EF : CLS_BE, i,
					HDR_LEN + TAG_LEN + i % 160);
		struct ipk_pkt *pkt = encrypt(r->g->pool, sa, inner, len);

		while ((i & 31) == 0 && (ipk_engine_balance(r->g->e, &b), b.in_flight > WINDOW))
			nap_us(20);
		ipk_engine_rx_wait(r->g->e, pkt, IPK_DIR_IN, UINT64_MAX);
		atomic_store_explicit(&r->sent, i + 1, memory_order_relaxed);
	}
	ipk_sa_put(sa);
	atomic_store(&r->done, true);
	return NULL;
}

/* Chain shapes for hook @hook named after @op: EF/BE by DSCP under strict priority, or one
 * FIFO. Both keep each class in order. Each class may fill the engine queue's own limit
 * (the outer bound), so a handover never has to refuse a packet for lack of room. */
static void reconf_text(char *buf, size_t size, unsigned op, unsigned hook, uint32_t limit)
{
	if ((op / IPK_HOOKS_COUNT) % 2) {
		snprintf(buf, size, "qos add name r%u kind fifo limit %u\nhook attach %u r%u\n",
			 op, limit, hook, op);
		return;
	}
	snprintf(buf, size,
		 "qos add name r%u-ef kind fifo limit %u\n"
		 "qos add name r%u-be kind fifo limit %u\n"
		 "qos add name r%u-cls kind dscp ef 0 default 1\n"
		 "qos add name r%u-sp kind prio\n"
		 "qos node name r%u classify r%u-cls children r%u-ef,r%u-be schedule r%u-sp\n"
		 "hook attach %u r%u\n",
		 op, limit, op, limit, op, op, op, op, op, op, op, hook, op);
}

/* Replaces the chain at hook op % 5 + 1 for op = 0..RECONF_OPS-1, each one once the
 * producer has sent its share, and detaches a hook every seventh time. Returns how many
 * replacements happened while the producer was still sending. */
static unsigned reconfigure(struct reconf_run *r, const uint32_t *limits)
{
	/* QoS commands only: with the SAD and SPD in the context, every batch would also
	 * re-resolve the policies' SA pointers while the scheduler reads them. */
	struct ipk_config_ctx ctx = { .hooks = r->g->hooks };
	bool attached[IPK_HOOKS_COUNT + 1] = { false };
	unsigned live = 0;
	char text[1024];

	for (unsigned op = 0; op < RECONF_OPS; op++) {
		unsigned hook = op % IPK_HOOKS_COUNT + 1;
		uint64_t due = r->total * op / RECONF_OPS;

		while (atomic_load_explicit(&r->sent, memory_order_relaxed) < due &&
		       !atomic_load(&r->done))
			nap_us(50);
		live += !atomic_load(&r->done);
		reconf_text(text, sizeof(text), op, hook, limits[hook - 1]);
		apply(&ctx, text);
		attached[hook] = true;
		if (op % 7 == 6) {
			unsigned other = (op + 2) % IPK_HOOKS_COUNT + 1;

			if (attached[other]) {
				snprintf(text, sizeof(text), "hook detach %u\n", other);
				apply(&ctx, text);
				attached[other] = false;
			}
		}
	}
	return live;
}

static void reconfiguration_under_traffic(void **state)
{
	struct ipk_engine_config cfg;
	struct reconf_run r = { .last = { -1, -1 } };
	struct ipk_engine_balance b;
	pthread_t prod, sink;
	unsigned live;
	char conf[512];
	struct gw g;

	r.total = env_u64("IPK_OVERLOAD_TEST_PACKETS", DEFAULT_PACKETS);
	r.seen = calloc(r.total, 1);
	ipk_engine_config_init(&cfg);
	/* One unit: several would reorder packets of one class among themselves. */
	cfg.n_units = 1;
	cfg.drain_timeout_ns = 10000 * MS;
	inbound_conf(conf, sizeof(conf), "in", RECONF_SPI, 2, false);
	gw_init(&g, &cfg, conf);
	r.g = &g;
	assert_int_equal(pthread_create(&sink, NULL, reconf_sink, &r), 0);
	assert_int_equal(pthread_create(&prod, NULL, reconf_producer, &r), 0);
	live = reconfigure(&r, cfg.limit_pkts);
	pthread_join(prod, NULL);
	for (int t = 0; t < 30000 && (ipk_engine_balance(g.e, &b), b.in_flight); t++)
		nap_us(1000);
	ipk_engine_stop(g.e);
	pthread_join(sink, NULL);
	print_message("%llu packets, %u chain replacements (%u while sending): %llu delivered, "
		      "%llu dropped\n", (unsigned long long)r.total, RECONF_OPS, live,
		      (unsigned long long)r.delivered, (unsigned long long)(r.total - r.delivered));
	assert_true(ipk_engine_balance(g.e, &b));
	assert_int_equal(b.in, r.total);
	assert_int_equal(b.out, r.delivered);
	assert_int_equal(b.in_flight, 0);
	assert_int_equal(b.absorbed, 0);
	assert_int_equal(b.in, b.out + b.drops);
	/* Fewer packets in flight than any queue or class holds, and every handover finds
	 * room: nothing is even dropped. */
	assert_int_equal(b.drops, 0);
	assert_int_equal(r.corrupt, 0);
	assert_int_equal(r.dup, 0);
	assert_int_equal(r.disorder, 0);
	assert_true(live * 10 >= RECONF_OPS * 9);
	free(r.seen);
	gw_fini(&g);
}

/* argv[1] "priority" or "reconf" runs one group (each is its own meson test, so that a
 * skipped priority run does not hide the other); none runs both. Returns 77 (skipped)
 * when a test was skipped and none failed. */
int main(int argc, char **argv)
{
	const struct CMUnitTest priority[] = {
		cmocka_unit_test(ef_first_under_overload),
		cmocka_unit_test(coupled_loses_ef),
	};
	const struct CMUnitTest reconf[] = {
		cmocka_unit_test(reconfiguration_under_traffic),
	};
	const char *only = argc > 1 ? argv[1] : "";
	int failed = 0;

	if (strcmp(only, "reconf"))
		failed += cmocka_run_group_tests_name("priority", priority, NULL, NULL);
	if (strcmp(only, "priority"))
		failed += cmocka_run_group_tests_name("reconf", reconf, NULL, NULL);
	return !failed && skipped ? 77 : failed;
}
