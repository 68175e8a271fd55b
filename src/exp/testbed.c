// SPDX-License-Identifier: BSD-2-Clause
#include "exp/testbed.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/clock.h"
#include "crypto/alg.h"
#include "ctl/config.h"
#include "ctl/ctl.h"
#include "engine/engine.h"
#include "engine/hooks.h"
#include "exp/gen.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define GW_ADDR "192.0.2.254"
#define PROBER_ADDR "192.0.2.100"
#define SINK_ADDR "10.9.0.1"
#define SPI_HOST 0x1000u
#define SPI_PROBE_IN 0x2000u  /* prober -> gateway */
#define SPI_PROBE_OUT 0x2001u /* gateway -> prober */
/* Packets in the pool: every link, queue and class queue full at once fits. */
#define POOL_PKTS 16384
/* Queue 1 and 2 bounds: wide, since the scheduler drains them at memory speed. */
#define MAIN_QUEUE_PKTS 2048
#define HOOK5_PKTS 32
/* EF class queues (decoupled + QoS): a few packets suffice, EF is served first. */
#define EF_PKTS 64

enum { L_PROBER, L_GW_PROBER, L_GW_SINK, L_SINK_GW, L_HOST0 };
_Static_assert(L_HOST0 + IPK_TB_MAX_HOSTS <= IPK_NET_MAX_LINKS &&
		       IPK_TB_MAX_HOSTS <= IPK_GEN_MAX_FLOWS,
	       "every host needs its own link and generator flow");

struct ipk_testbed {
	struct ipk_tb_config cfg;
	struct ipk_pool *pool;
	struct ipk_sad *sad, *client_sad;
	struct ipk_spd *spd;
	struct ipk_engine *engine;
	struct ipk_hooks *hooks;
	struct ipk_net net;
	struct ipk_link *link[L_HOST0 + IPK_TB_MAX_HOSTS];
	struct ipk_gen gen;
	struct ipk_prober prober;
	bool net_ready, prober_ready;
	pthread_t tx_thread;
	_Atomic bool tx_stop;
	_Atomic uint64_t sink_pkts, sink_bytes, unroutable;
};

void ipk_tb_config_init(struct ipk_tb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->design = IPK_TB_QOS;
	c->probe = IPK_TB_PROBE_IPSEC;
	snprintf(c->alg, sizeof(c->alg), "aes128gcm16");
	c->n_hosts = 4;
	c->host_rate_bps = 25000000;
	c->flood_size = 1400;
	c->cap_bps = 55000000;
	c->unit_high = 1;
	c->unit_low = 1;
	c->queue_pkts = 256;
	c->link.rate_bps = 100000000;
	c->link.delay_ns = 50000;
	c->link.limit_pkts = 1024;
	c->probe_size = 84;
	c->idle_probes = 20;
	c->idle_interval_ns = 10000000;
	c->probes = 100;
	c->interval_ns = 100000000;
	c->timeout_ns = 1000000000;
	c->warmup_ns = 500000000;
}

const char *ipk_tb_design_name(enum ipk_tb_design d)
{
	static const char *const names[] = {"coupled", "decoupled", "decoupled+qos"};

	return d <= IPK_TB_QOS ? names[d] : "?";
}

/* ---- configuration text: SAs, policies, chains ---- */

/* Appends printf output to @buf (size @size, used @*len). */
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...) IPK_PRINTF(4, 5);
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len += n > 0 ? (size_t)n : 0;
}

/* Keys derived from the SPI: both ends of an SA share them; secrecy is not the point. */
static void append_keys(char *buf, size_t size, size_t *len, const struct ipk_alg *alg,
			uint32_t spi)
{
	uint32_t enc = alg->enc_key_len + alg->salt_len;

	appendf(buf, size, len, alg->auth_key_len ? " enc-key 0x" : " key 0x");
	for (uint32_t i = 0; i < enc; i++)
		appendf(buf, size, len, "%02x", (spi * 7 + i * 13) & 0xff);
	if (!alg->auth_key_len)
		return;
	appendf(buf, size, len, " auth-key 0x");
	for (uint32_t i = 0; i < alg->auth_key_len; i++)
		appendf(buf, size, len, "%02x", (spi * 11 + i * 5) & 0xff);
}

static void append_sa(char *buf, size_t size, size_t *len, const struct ipk_alg *alg,
		      const char *name, uint32_t spi, const char *dir, const char *src,
		      const char *dst)
{
	appendf(buf, size, len,
		"sa add name %s spi 0x%x dir %s mode tunnel src %s dst %s "
		"proposal %s",
		name, spi, dir, src, dst, alg->name);
	append_keys(buf, size, len, alg, spi);
	appendf(buf, size, len, "\n");
}

/* The gateway's SAs and policies (@client false) or the hosts' and prober's SAs. */
static void sa_text(const struct ipk_tb_config *c, const struct ipk_alg *alg, bool client,
		    char *buf, size_t size)
{
	const char *in = client ? "out" : "in", *out = client ? "in" : "out";
	size_t len = 0;
	char src[32];

	buf[0] = 0;
	for (uint32_t i = 1; i <= c->n_hosts; i++) {
		char name[32];

		snprintf(name, sizeof(name), "h%u", i);
		snprintf(src, sizeof(src), "192.0.2.%u", i);
		append_sa(buf, size, &len, alg, name, SPI_HOST + i, in, src, GW_ADDR);
		if (!client)
			appendf(buf, size, &len,
				"policy add name h%u dir in src 10.1.%u.0/24 "
				"dst 10.9.0.0/24 action protect sa h%u\n",
				i, i, i);
	}
	append_sa(buf, size, &len, alg, "p-in", SPI_PROBE_IN, in, PROBER_ADDR, GW_ADDR);
	append_sa(buf, size, &len, alg, "p-out", SPI_PROBE_OUT, out, GW_ADDR, PROBER_ADDR);
	if (client)
		return;
	appendf(
	    buf, size, &len,
	    "policy add name p-in dir in src 10.1.100.0/24 dst 10.9.0.0/24 action protect sa p-in\n"
	    "policy add name p-out dir out src 10.9.0.0/24 dst 10.1.100.0/24 action protect sa "
	    "p-out\n"
	    "policy add name plain-in dir in src " PROBER_ADDR "/32 dst 10.9.0.0/24 action bypass\n"
	    "policy add name plain-out dir out src 10.9.0.0/24 dst " PROBER_ADDR
	    "/32 action bypass\n");
}

/* Strict priority for EF in front of queue @hook's FIFO of @be packets
 * (examples/recommended-qos.conf with best effort as one class). */
static void append_prio(char *buf, size_t size, size_t *len, unsigned hook, uint32_t be)
{
	appendf(buf, size, len,
		"qos add name c%u kind dscp ef 0 default 1\n"
		"qos add name ef%u kind fifo limit %u\n"
		"qos add name be%u kind fifo limit %u\n"
		"qos add name sp%u kind prio\n"
		"qos node name n%u classify c%u children ef%u,be%u schedule sp%u\n"
		"hook attach %u n%u\n",
		hook, hook, EF_PKTS, hook, be, hook, hook, hook, hook, hook, hook, hook, hook);
}

static void chain_text(const struct ipk_tb_config *c, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	if (c->qos_text && c->design == IPK_TB_DECOUPLED)
		appendf(buf, size, &len, "%s", c->qos_text);
	if (c->design == IPK_TB_QOS) {
		append_prio(buf, size, &len, 1, MAIN_QUEUE_PKTS);
		append_prio(buf, size, &len, 3, c->queue_pkts);
		append_prio(buf, size, &len, 5, HOOK5_PKTS);
	}
}

/* ---- the hosts behind and before the gateway ---- */

static void to_engine_in(void *arg, struct ipk_pkt *pkt, uint64_t now)
{
	struct ipk_testbed *tb = arg;

	ipk_engine_rx(tb->engine, pkt, IPK_DIR_IN);
}

static void to_engine_out(void *arg, struct ipk_pkt *pkt, uint64_t now)
{
	struct ipk_testbed *tb = arg;

	ipk_engine_rx(tb->engine, pkt, IPK_DIR_OUT);
}

/* The plaintext side: a responder for probes and a sink for the flood. */
static void at_sink(void *arg, struct ipk_pkt *pkt, uint64_t now)
{
	struct ipk_testbed *tb = arg;

	if (ipk_prober_reflect(ipk_pkt_data(pkt), pkt->len)) {
		ipk_link_send(tb->link[L_SINK_GW], pkt);
		return;
	}
	atomic_fetch_add_explicit(&tb->sink_pkts, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&tb->sink_bytes, pkt->len, memory_order_relaxed);
	if (tb->cfg.obs.sink)
		tb->cfg.obs.sink(tb->cfg.obs.arg, ipk_pkt_data(pkt), pkt->len, now);
	ipk_pkt_free(pkt);
}

static void at_prober(void *arg, struct ipk_pkt *pkt, uint64_t now)
{
	struct ipk_testbed *tb = arg;

	ipk_prober_receive(&tb->prober, pkt, now);
	ipk_pkt_free(pkt);
}

static bool host_emit(void *arg, unsigned flow, struct ipk_pkt *pkt)
{
	struct ipk_testbed *tb = arg;

	return ipk_link_send(tb->link[L_HOST0 + flow], pkt);
}

static bool prober_emit(void *arg, struct ipk_pkt *pkt)
{
	struct ipk_testbed *tb = arg;

	return ipk_link_send(tb->link[L_PROBER], pkt);
}

/* The gateway's transmit side: protected-side packets go to the prober (the only host
 * that gets answers), plaintext-side ones to the sink. */
static void *tx_thread(void *arg)
{
	struct ipk_testbed *tb = arg;
	struct ipk_addr prober;

	pthread_setname_np(pthread_self(), "exp-gw-tx");
	ipk_addr_parse(PROBER_ADDR, &prober);
	while (!atomic_load_explicit(&tb->tx_stop, memory_order_relaxed)) {
		struct ipk_pkt *pkt = ipk_engine_tx_dequeue(tb->engine, 20000000);
		uint8_t *ip;

		if (!pkt)
			continue;
		ip = ipk_pkt_data(pkt);
		if (pkt->meta.dir == IPK_DIR_IN) {
			ipk_link_send(tb->link[L_GW_SINK], pkt);
		} else if (pkt->len >= 20 && !memcmp(ip + 16, prober.bytes, 4)) {
			ipk_link_send(tb->link[L_GW_PROBER], pkt);
		} else {
			atomic_fetch_add_explicit(&tb->unroutable, 1, memory_order_relaxed);
			ipk_pkt_free(pkt);
		}
	}
	return NULL;
}

/* ---- set-up ---- */

static int make_links(struct ipk_testbed *tb)
{
	static const char *const names[] = {"prober>gw", "gw>prober", "gw>sink", "sink>gw"};
	static const ipk_link_deliver_fn fns[] = {to_engine_in, at_prober, at_sink, to_engine_out};
	int rc = ipk_net_init(&tb->net);

	if (rc)
		return rc;
	tb->net_ready = true;
	for (unsigned i = 0; i < L_HOST0 && !rc; i++)
		rc = ipk_net_add_link(&tb->net, &tb->link[i], names[i], &tb->cfg.link, fns[i], tb);
	for (unsigned i = 0; i < tb->cfg.n_hosts && !rc; i++) {
		char name[24];

		snprintf(name, sizeof(name), "host%u>gw", i + 1);
		rc = ipk_net_add_link(&tb->net, &tb->link[L_HOST0 + i], name, &tb->cfg.link,
				      to_engine_in, tb);
	}
	return rc;
}

static int make_engine(struct ipk_testbed *tb, struct ipk_err *err)
{
	const struct ipk_tb_config *c = &tb->cfg;
	struct ipk_engine_config ec;
	uint32_t ef;

	ipk_engine_config_init(&ec);
	ec.mode = c->design == IPK_TB_DECOUPLED || c->design == IPK_TB_QOS ? IPK_ENGINE_DECOUPLED
									   : IPK_ENGINE_COUPLED;
	ec.n_units = 1;
	ec.unit.rate_bps = c->cap_bps;
	ec.unit.high = c->unit_high;
	ec.unit.low = c->unit_low;
	/* A queue's own limit bounds its plain FIFO (the designs without QoS); an attached
	 * chain's class queues bound it instead (engine/equeue.h). Hook 5's limit also says
	 * how far the dispatcher pulls from queue 3: room for EF's class on top of best
	 * effort's. */
	ef = c->design == IPK_TB_QOS ? EF_PKTS : 0;
	ec.limit_pkts[0] = c->design == IPK_TB_COUPLED ? c->queue_pkts : MAIN_QUEUE_PKTS + ef;
	ec.limit_pkts[1] = MAIN_QUEUE_PKTS;
	ec.limit_pkts[2] = c->queue_pkts + ef;
	ec.limit_pkts[3] = c->queue_pkts;
	ec.limit_pkts[4] = HOOK5_PKTS + ef;
	ec.drain_timeout_ns = 500000000;
	return ipk_engine_create(&tb->engine, &ec, tb->sad, tb->spd, err);
}

static int apply(struct ipk_sad *sad, struct ipk_spd *spd, struct ipk_hooks *hooks,
		 const char *text, const char *origin, struct ipk_err *err)
{
	struct ipk_config_ctx ctx = {.sad = sad, .spd = spd, .hooks = hooks};

	return ipk_config_apply(&ctx, text, origin, err);
}

static int make_gateway(struct ipk_testbed *tb, const struct ipk_alg *alg, struct ipk_err *err)
{
	char *text = malloc(65536);
	int rc = -ENOMEM;

	if (!text)
		return rc;
	rc = ipk_sad_create(&tb->sad, 1);
	if (!rc)
		rc = ipk_spd_create(&tb->spd);
	if (!rc)
		rc = ipk_sad_create(&tb->client_sad, 1);
	if (rc)
		goto out;
	sa_text(&tb->cfg, alg, false, text, 65536);
	rc = apply(tb->sad, tb->spd, NULL, text, "gateway", err);
	sa_text(&tb->cfg, alg, true, text, 65536);
	if (!rc)
		rc = apply(tb->client_sad, NULL, NULL, text, "hosts", err);
	if (!rc)
		rc = make_engine(tb, err);
	if (!rc)
		rc = ipk_hooks_create(&tb->hooks, tb->engine);
	chain_text(&tb->cfg, text, 65536);
	if (!rc && text[0])
		rc = apply(tb->sad, tb->spd, tb->hooks, text, "qos", err);
out:
	free(text);
	return rc;
}

static int make_hosts(struct ipk_testbed *tb, struct ipk_err *err)
{
	const struct ipk_tb_config *c = &tb->cfg;
	struct ipk_gen_flow flows[IPK_TB_MAX_HOSTS];
	struct ipk_prober_config pc = {0};
	bool ipsec = c->probe == IPK_TB_PROBE_IPSEC;
	int rc;

	memset(flows, 0, sizeof(flows));
	for (uint32_t i = 0; i < c->n_hosts; i++) {
		char name[32];

		snprintf(name, sizeof(name), "h%u", i + 1);
		flows[i].sa = ipk_sad_find(tb->client_sad, name);
		snprintf(name, sizeof(name), "10.1.%u.1", i + 1);
		ipk_addr_parse(name, &flows[i].src);
		ipk_addr_parse(SINK_ADDR, &flows[i].dst);
		flows[i].sport = (uint16_t)(5000 + i);
		flows[i].dport = 9;
		flows[i].size = c->flood_size;
		flows[i].rate_bps = c->host[i].rate_bps ? c->host[i].rate_bps : c->host_rate_bps;
		flows[i].dscp = c->host[i].dscp;
	}
	rc = ipk_gen_init(&tb->gen, flows, c->n_hosts, tb->pool, host_emit, tb, err);
	if (rc)
		return rc;
	tb->gen.background = true; /* the flood hosts are other machines */
	pc.kind = IPK_PROBE_ICMP;
	ipk_addr_parse(ipsec ? "10.1.100.1" : PROBER_ADDR, &pc.src);
	ipk_addr_parse(SINK_ADDR, &pc.dst);
	pc.ident = 0x1b5e;
	pc.dscp = IPK_DSCP_EF;
	pc.size = c->probe_size;
	pc.count = c->idle_probes + c->probes;
	pc.timeout_ns = c->timeout_ns;
	pc.sa_out = ipsec ? ipk_sad_find(tb->client_sad, "p-in") : NULL;
	pc.sa_in = ipsec ? ipk_sad_find(tb->client_sad, "p-out") : NULL;
	rc = ipk_prober_init(&tb->prober, &pc, err);
	tb->prober_ready = rc == 0;
	return rc;
}

static int check_config(const struct ipk_tb_config *c, const struct ipk_alg **alg,
			struct ipk_err *err)
{
	*alg = ipk_alg_find(c->alg);
	if (!*alg || (*alg)->insecure)
		return ipk_err_set(err, -EINVAL,
				   "testbed: unknown algorithm '%s' (expected one "
				   "of %s)",
				   c->alg, ipk_alg_names());
	if (!c->n_hosts || c->n_hosts > IPK_TB_MAX_HOSTS || !c->cap_bps || !c->queue_pkts)
		return ipk_err_set(err, -EINVAL, "testbed: hosts 1..%u, cap and queue non-zero",
				   IPK_TB_MAX_HOSTS);
	if (!c->probes || !c->interval_ns || c->design > IPK_TB_QOS)
		return ipk_err_set(err, -EINVAL, "testbed: probes, interval or design");
	return 0;
}

/*
 * The testbed stands for hardware that answers within microseconds, with seven threads
 * on what may be two busy CPUs. Two requests any process may make: timer slack 1 ns
 * (50 us by default would stretch every paced sleep) and, where the kernel's EEVDF
 * scheduler knows it (Linux 6.12+), a short time slice, so that a thread woken by a
 * packet preempts a CPU-bound process instead of waiting for its 3 ms slice to end.
 * Threads created afterwards inherit both; a refusal changes nothing else.
 */
static void ask_for_low_latency(void)
{
	/* struct sched_attr, version 0 (48 bytes): the kernel ABI of sched_setattr(2). */
	struct {
		uint32_t size, sched_policy;
		uint64_t sched_flags;
		int32_t sched_nice;
		uint32_t sched_priority;
		uint64_t sched_runtime, sched_deadline, sched_period;
	} attr = {
	    .size = sizeof(attr),
	    .sched_policy = SCHED_OTHER,
	    .sched_runtime = 100000, /* ns: the slice EEVDF gives the thread */
	};

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	syscall(SYS_sched_setattr, 0, &attr, 0);
}

int ipk_testbed_create(struct ipk_testbed **out, const struct ipk_tb_config *cfg,
		       struct ipk_err *err)
{
	const struct ipk_alg *alg;
	struct ipk_testbed *tb;
	int rc = check_config(cfg, &alg, err);

	if (rc)
		return rc;
	tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->cfg = *cfg;
	ask_for_low_latency();
	rc = ipk_pool_create(&tb->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM);
	if (!rc)
		rc = make_links(tb);
	if (!rc)
		rc = make_gateway(tb, alg, err);
	if (!rc)
		rc = make_hosts(tb, err);
	if (rc) {
		if (!err->msg[0])
			ipk_err_set(err, rc, "testbed: set-up failed: %s", strerror(-rc));
		ipk_testbed_destroy(tb);
		return rc;
	}
	*out = tb;
	return 0;
}

void ipk_testbed_destroy(struct ipk_testbed *tb)
{
	if (!tb)
		return;
	if (tb->hooks)
		ipk_hooks_destroy(tb->hooks);
	if (tb->engine)
		ipk_engine_destroy(tb->engine);
	if (tb->net_ready) {
		ipk_net_stop(&tb->net);
		ipk_net_fini(&tb->net);
	}
	if (tb->prober_ready)
		ipk_prober_fini(&tb->prober);
	if (tb->pool)
		ipk_pool_destroy(tb->pool);
	if (tb->spd)
		ipk_spd_destroy(tb->spd);
	if (tb->sad)
		ipk_sad_destroy(tb->sad);
	if (tb->client_sad)
		ipk_sad_destroy(tb->client_sad);
	free(tb);
}

/* ---- one run ---- */

struct snapshot {
	uint64_t t_ns, sink_pkts, sink_bytes, gen_sent, gen_bytes;
};

static void snap(struct ipk_testbed *tb, struct snapshot *s)
{
	uint64_t late, lost;

	s->t_ns = ipk_gen_now_ns();
	s->sink_pkts = atomic_load_explicit(&tb->sink_pkts, memory_order_relaxed);
	s->sink_bytes = atomic_load_explicit(&tb->sink_bytes, memory_order_relaxed);
	ipk_gen_totals(&tb->gen, &s->gen_sent, &s->gen_bytes, &late, &lost);
}

static double bps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8.0 * 1e9 / (double)ns : 0;
}

/* Goodput and offered load between two snapshots of the loaded phase. The sink sees
 * inner packets; their ESP size is the generator's (every flood packet is alike). */
static void rates(const struct snapshot *a, const struct snapshot *b, struct ipk_tb_result *res)
{
	uint64_t dt = b->t_ns - a->t_ns, sent = b->gen_sent - a->gen_sent;
	double esp_len = sent ? (double)(b->gen_bytes - a->gen_bytes) / (double)sent : 0;

	res->offered_bps = bps(b->gen_bytes - a->gen_bytes, dt);
	res->goodput_bps = dt ? (double)(b->sink_pkts - a->sink_pkts) * esp_len * 8e9 / dt : 0;
	res->goodput_inner_bps = bps(b->sink_bytes - a->sink_bytes, dt);
}

static void engine_counts(struct ipk_testbed *tb, struct ipk_tb_result *res)
{
	struct ipk_engine_stats *st;

	if (ipk_engine_stats_read(tb->engine, &st))
		return;
	res->balanced = st->balanced;
	res->engine_drops = st->balance.drops;
	for (uint32_t q = 0; q < st->n_queues && q < 5; q++)
		for (unsigned r = 0; r < IPK_DROP_COUNT; r++)
			res->queue_drops[q] += st->queue[q].drops[r];
	for (uint32_t u = 0; u < st->n_units; u++)
		res->unit_bytes += st->unit[u].bytes;
	ipk_engine_stats_free(st);
}

/* Stops traffic: transmit thread, engine (drains what is in flight), network. */
static void shut_down(struct ipk_testbed *tb, struct ipk_tb_result *res)
{
	struct ipk_pkt *pkt;

	atomic_store_explicit(&tb->tx_stop, true, memory_order_relaxed);
	pthread_join(tb->tx_thread, NULL);
	ipk_engine_stop(tb->engine);
	while ((pkt = ipk_engine_tx_dequeue(tb->engine, 0)))
		ipk_pkt_free(pkt);
	ipk_net_stop(&tb->net);
	for (uint32_t i = 0; i < tb->net.n_links; i++)
		res->link_drops += ipk_drop_total(&tb->net.links[i]->stats.drops);
	engine_counts(tb, res);
}

static void observe(struct ipk_testbed *tb, enum ipk_tb_phase ph, uint64_t now)
{
	if (tb->cfg.obs.phase)
		tb->cfg.obs.phase(tb->cfg.obs.arg, tb, ph, now);
}

/* The flood, and the loaded probes in two series when an event splits them. */
static void loaded_phase(struct ipk_testbed *tb, struct ipk_tb_result *res)
{
	const struct ipk_tb_config *c = &tb->cfg;
	uint64_t flood_start = ipk_gen_now_ns(), len = c->flood_ns;
	uint32_t first = c->event_probe && c->event_probe < c->probes ? c->event_probe : c->probes;
	struct snapshot a, b;

	if (!len)
		len = c->warmup_ns + (c->probes + 1) * c->interval_ns;
	ipk_gen_start(&tb->gen, flood_start, len);
	ipk_gen_sleep_until(flood_start + c->warmup_ns);
	snap(tb, &a);
	observe(tb, IPK_TB_PHASE_LOADED, a.t_ns);
	ipk_prober_send_series(&tb->prober, tb->pool, c->idle_probes, first, a.t_ns,
			       c->interval_ns, prober_emit, tb);
	if (first < c->probes) {
		ipk_gen_sleep_until(a.t_ns + first * c->interval_ns);
		observe(tb, IPK_TB_PHASE_EVENT, ipk_gen_now_ns());
		ipk_prober_send_series(&tb->prober, tb->pool, c->idle_probes + first,
				       c->probes - first, a.t_ns + first * c->interval_ns,
				       c->interval_ns, prober_emit, tb);
	}
	ipk_gen_sleep_until(a.t_ns + c->probes * c->interval_ns);
	snap(tb, &b);
	observe(tb, IPK_TB_PHASE_END, b.t_ns);
	ipk_gen_stop(&tb->gen);
	rates(&a, &b, res);
}

int ipk_testbed_run(struct ipk_testbed *tb, struct ipk_tb_result *res, struct ipk_err *err)
{
	const struct ipk_tb_config *c = &tb->cfg;
	uint64_t begin = ipk_gen_now_ns(), bytes;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = ipk_net_start(&tb->net);
	if (!rc)
		rc = -pthread_create(&tb->tx_thread, NULL, tx_thread, tb);
	if (rc)
		return ipk_err_set(err, rc, "testbed: cannot start threads: %s", strerror(-rc));
	/* Unloaded RTT first, then wait for the last reply before the flood starts. */
	ipk_prober_send_series(&tb->prober, tb->pool, 0, c->idle_probes, begin + 1000000,
			       c->idle_interval_ns, prober_emit, tb);
	ipk_gen_sleep_until(ipk_gen_now_ns() + 50000000);
	loaded_phase(tb, res);
	/* Replies still in flight count until the timeout, as ping waits for them. */
	ipk_gen_sleep_until(ipk_gen_now_ns() + c->timeout_ns);
	shut_down(tb, res);
	ipk_prober_summarize(&tb->prober, 0, c->idle_probes, &res->idle);
	ipk_prober_summarize(&tb->prober, c->idle_probes, c->probes, &res->loaded);
	ipk_gen_totals(&tb->gen, &res->gen_sent, &bytes, &res->gen_late, &res->gen_lost);
	res->capacity_bps = (double)c->cap_bps;
	res->seconds = (double)(ipk_gen_now_ns() - begin) / 1e9;
	return 0;
}

void ipk_testbed_write_series(const struct ipk_testbed *tb, FILE *f)
{
	ipk_prober_write_series(&tb->prober, tb->cfg.idle_probes, tb->cfg.probes, f);
}

struct ipk_engine *ipk_testbed_engine(struct ipk_testbed *tb)
{
	return tb->engine;
}

const struct ipk_gen *ipk_testbed_gen(const struct ipk_testbed *tb)
{
	return &tb->gen;
}

const struct ipk_prober *ipk_testbed_prober(const struct ipk_testbed *tb)
{
	return &tb->prober;
}

int ipk_testbed_ctl(struct ipk_testbed *tb, const char *text, struct ipk_err *err)
{
	struct ipk_config_ctx ctx = {.sad = tb->sad, .spd = tb->spd, .hooks = tb->hooks};
	struct ipk_outbuf out;
	int rc;

	ipk_out_init(&out, 65536);
	rc = ipk_ctl_execute(&ctx, text, false, &out, err);
	ipk_out_fini(&out);
	return rc;
}
