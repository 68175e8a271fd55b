// SPDX-License-Identifier: BSD-2-Clause
#include "engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "engine/coupled.h"
#include "engine/dispatcher.h"
#include "engine/equeue.h"
#include "engine/event.h"
#include "engine/scheduler.h"
#include "sa/sad.h"

/* How often stop looks whether the packets in flight have arrived. */
#define DRAIN_POLL_NS (1000ull * 1000)

struct ipk_engine {
	struct ipk_engine_config cfg;
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_equeue q[4];    /* queues 1..4 */
	uint32_t n_queues;         /* initialised so far */
	struct ipk_sched sched;
	struct ipk_dispatch disp;
	struct ipk_unit *units;
	uint32_t n_units;          /* initialised so far */
	/* Drops counted by units replaced at runtime (ipk_engine_set_units), so that the
	 * conservation check still adds them up. */
	struct ipk_drop_stats retired_unit_drops;
	struct ipk_coupled coupled;
	bool sched_ready, disp_ready, coupled_ready;
	bool stopped;
	_Atomic uint64_t delivered;
};

static const uint32_t default_limits[IPK_ENGINE_QUEUES] = { 4096, 4096, 1024, 1024, 256 };
static const char *const queue_names[IPK_ENGINE_QUEUES] = {
	"incoming-main", "outgoing-main", "incoming-crypto", "outgoing-crypto", "hook5",
};

void ipk_engine_config_init(struct ipk_engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = IPK_ENGINE_DECOUPLED;
	ipk_unit_config_init(&cfg->unit);
	for (unsigned i = 0; i < IPK_ENGINE_QUEUES; i++)
		cfg->limit_pkts[i] = default_limits[i];
	cfg->natt_port = IPK_NATT_PORT;
	cfg->drain_timeout_ns = 2ull * 1000 * 1000 * 1000;
}

static uint32_t default_units(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > IPK_ENGINE_MAX_UNITS ? IPK_ENGINE_MAX_UNITS : (uint32_t)n;
}

struct crypto_check {
	uint32_t need;
	const char *short_sa;
};

static void check_sa(struct ipk_sa *sa, void *arg)
{
	struct crypto_check *c = arg;

	if (sa->rt.n_crypto < c->need && !c->short_sa)
		c->short_sa = sa->params.name;
}

/* Validates everything before anything is created (STYLE §5). */
static int config_check(const struct ipk_engine_config *cfg, uint32_t n_units,
			const struct ipk_sad *sad, struct ipk_err *err)
{
	struct crypto_check cc = { .need = n_units };
	int rc;

	if (cfg->mode != IPK_ENGINE_DECOUPLED && cfg->mode != IPK_ENGINE_COUPLED)
		return ipk_err_set(err, -EINVAL, "engine: unknown mode %d", cfg->mode);
	if (n_units > IPK_ENGINE_MAX_UNITS)
		return ipk_err_set(err, -EINVAL, "engine: %u units not in 1..%u", n_units,
				   IPK_ENGINE_MAX_UNITS);
	for (unsigned i = 0; i < IPK_ENGINE_QUEUES; i++)
		if (!cfg->limit_pkts[i])
			return ipk_err_set(err, -EINVAL, "engine: queue %u limit 0 packets", i + 1);
	for (uint32_t i = 0; cfg->mode == IPK_ENGINE_DECOUPLED && i < n_units; i++) {
		rc = ipk_unit_config_check(cfg->units ? &cfg->units[i] : &cfg->unit, err);
		if (rc)
			return rc;
	}
	if (cfg->mode == IPK_ENGINE_DECOUPLED)
		ipk_sad_foreach(sad, check_sa, &cc);
	if (cc.short_sa)
		return ipk_err_set(err, -EINVAL,
				   "engine: SA %s has fewer crypto contexts than the %u units "
				   "(create the SAD with ipk_sad_create(&sad, %u))",
				   cc.short_sa, n_units, n_units);
	return 0;
}

static int queues_init(struct ipk_engine *e)
{
	for (unsigned i = 0; i < 4; i++) {
		int rc = ipk_equeue_init(&e->q[i], queue_names[i], e->cfg.limit_pkts[i],
					 e->cfg.limit_bytes[i]);

		if (rc)
			return rc;
		e->n_queues++;
	}
	return 0;
}

/* Sets up @n units from e->cfg in a new array (*@out, *@made of them set up, even on
 * error). */
static int units_make(struct ipk_engine *e, uint32_t n, struct ipk_unit **out, uint32_t *made,
		      struct ipk_err *err)
{
	*made = 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct ipk_unit_config *uc = e->cfg.units ? &e->cfg.units[i] : &e->cfg.unit;
		int rc = ipk_unit_init(&(*out)[i], i, uc, e->cfg.natt_port, &e->q[3],
				       &e->disp.ev, err);

		if (rc)
			return rc;
		(*made)++;
	}
	return 0;
}

static int units_init(struct ipk_engine *e, uint32_t n, struct ipk_err *err)
{
	return units_make(e, n, &e->units, &e->n_units, err);
}

static int decoupled_init(struct ipk_engine *e, uint32_t n_units, struct ipk_err *err)
{
	struct ipk_equeue *q[4] = { &e->q[0], &e->q[1], &e->q[2], &e->q[3] };
	int rc;

	rc = ipk_sched_init(&e->sched, q, e->sad, e->spd, e->cfg.natt_port, e->cfg.reasm_pool);
	if (rc)
		return rc;
	e->sched_ready = true;
	rc = ipk_dispatch_init(&e->disp, &e->q[2], NULL, 0, e->cfg.limit_pkts[4]);
	if (rc)
		return rc;
	e->disp.hook5.limit_bytes = e->cfg.limit_bytes[4];
	e->disp_ready = true;
	rc = units_init(e, n_units, err);
	e->disp.units = e->units;
	e->disp.n_units = e->n_units;
	return rc;
}

static int threads_start(struct ipk_engine *e)
{
	int rc = 0;

	if (e->cfg.mode == IPK_ENGINE_COUPLED)
		return ipk_coupled_start(&e->coupled);
	for (uint32_t i = 0; i < e->n_units && !rc; i++)
		rc = ipk_unit_start(&e->units[i]);
	if (!rc)
		rc = ipk_dispatch_start(&e->disp);
	if (!rc)
		rc = ipk_sched_start(&e->sched);
	return rc;
}

/* Frees whatever was set up, in reverse order; threads must be stopped. */
static void teardown(struct ipk_engine *e)
{
	for (uint32_t i = e->n_units; i-- > 0;)
		ipk_unit_fini(&e->units[i]);
	free(e->units);
	if (e->disp_ready)
		ipk_dispatch_fini(&e->disp);
	if (e->sched_ready)
		ipk_sched_fini(&e->sched);
	if (e->coupled_ready)
		ipk_coupled_fini(&e->coupled);
	for (uint32_t i = e->n_queues; i-- > 0;)
		ipk_equeue_fini(&e->q[i]);
	free(e);
}

int ipk_engine_create(struct ipk_engine **out, const struct ipk_engine_config *cfg,
		      struct ipk_sad *sad, struct ipk_spd *spd, struct ipk_err *err)
{
	uint32_t n_units = cfg->n_units ? cfg->n_units : default_units();
	struct ipk_engine *e;
	int rc = config_check(cfg, n_units, sad, err);

	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->sad = sad;
	e->spd = spd;
	rc = queues_init(e);
	if (!rc && cfg->mode == IPK_ENGINE_COUPLED) {
		rc = ipk_coupled_init(&e->coupled, &e->q[0], &e->q[1], sad, spd, cfg->natt_port,
				      cfg->reasm_pool);
		ipk_pace_init(&e->coupled.pace, cfg->unit.rate_pps, cfg->unit.rate_bps);
		e->coupled_ready = rc == 0;
	} else if (!rc) {
		rc = decoupled_init(e, n_units, err);
	}
	if (!rc)
		rc = threads_start(e);
	if (rc) {
		ipk_engine_stop(e);
		teardown(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* Everything that entered and has left the path, read before `in` (both only grow, so
 * equality means nothing was in flight when `left` was read). */
static uint64_t left_path(struct ipk_engine *e)
{
	struct ipk_engine_balance b;

	ipk_engine_balance(e, &b);
	return atomic_load_explicit(&e->q[1].in, memory_order_relaxed) +
	       (b.drops - ipk_drop_total(&e->q[1].drops)) + b.absorbed;
}

/* The path-MTU context of the thread that processes packets (engine/mtu.h). */
static const struct ipk_mtu *mtu_of(const struct ipk_engine *e)
{
	return e->cfg.mode == IPK_ENGINE_COUPLED ? &e->coupled.ctx.mtu : &e->sched.mtu;
}

/* Received, plus what the path made itself: reassembled datagrams, ICMP errors and
 * fragments (engine/mtu.h). */
static uint64_t entered_path(struct ipk_engine *e)
{
	const struct ipk_defrag *d = e->cfg.mode == IPK_ENGINE_COUPLED ? &e->coupled.defrag :
									 &e->sched.defrag;

	return atomic_load_explicit(&e->q[0].in, memory_order_relaxed) +
	       atomic_load_explicit(&d->frag_out, memory_order_relaxed) +
	       ipk_mtu_generated(mtu_of(e));
}

/* Waits until every packet that entered has reached queue 2 or was dropped; twice in a
 * row, since the terms are read one by one. Returns false on timeout. */
static bool wait_drained(struct ipk_engine *e)
{
	uint64_t start = ipk_event_mono_ns();
	struct timespec nap = { .tv_nsec = (long)DRAIN_POLL_NS };
	int calm = 0;

	while (calm < 2) {
		uint64_t left = left_path(e);

		calm = left == entered_path(e) ? calm + 1 : 0;
		if (ipk_event_mono_ns() - start > e->cfg.drain_timeout_ns)
			return false;
		nanosleep(&nap, NULL);
	}
	return true;
}

static void decoupled_stop(struct ipk_engine *e)
{
	wait_drained(e);
	ipk_sched_stop(&e->sched);
	ipk_dispatch_stop(&e->disp);
	/* A unit may be blocked handing a packet to queue 4: closing it lets it go. */
	ipk_equeue_close(&e->q[2]);
	ipk_equeue_close(&e->q[3]);
	for (uint32_t i = 0; i < e->n_units; i++)
		ipk_unit_stop(&e->units[i]);
	ipk_equeue_flush(&e->q[0], IPK_DROP_HOOK_DETACHED);
	ipk_equeue_flush(&e->q[2], IPK_DROP_HOOK_DETACHED);
	ipk_equeue_flush(&e->q[3], IPK_DROP_HOOK_DETACHED);
	ipk_dispatch_flush(&e->disp);
	for (uint32_t i = 0; i < e->n_units; i++)
		ipk_unit_flush(&e->units[i]);
}

void ipk_engine_stop(struct ipk_engine *e)
{
	if (e->stopped)
		return;
	e->stopped = true;
	if (e->n_queues > 0)
		ipk_equeue_close(&e->q[0]);
	if (e->cfg.mode == IPK_ENGINE_COUPLED && e->coupled_ready)
		ipk_coupled_stop(&e->coupled); /* drains the shared FIFO, then exits */
	else if (e->cfg.mode == IPK_ENGINE_DECOUPLED && e->disp_ready)
		decoupled_stop(e);
	if (e->n_queues > 1)
		ipk_equeue_close(&e->q[1]);
}

void ipk_engine_destroy(struct ipk_engine *e)
{
	if (!e)
		return;
	ipk_engine_stop(e);
	teardown(e);
}

int ipk_engine_rx(struct ipk_engine *e, struct ipk_pkt *pkt, enum ipk_dir dir)
{
	pkt->meta.dir = (uint8_t)dir;
	pkt->meta.rx_ns = ipk_clock_now_ns();
	return ipk_equeue_enqueue(&e->q[0], pkt);
}

int ipk_engine_rx_wait(struct ipk_engine *e, struct ipk_pkt *pkt, enum ipk_dir dir,
		       uint64_t timeout_ns)
{
	pkt->meta.dir = (uint8_t)dir;
	pkt->meta.rx_ns = ipk_clock_now_ns();
	return ipk_equeue_enqueue_wait(&e->q[0], pkt, timeout_ns);
}

struct ipk_pkt *ipk_engine_tx_dequeue(struct ipk_engine *e, uint64_t timeout_ns)
{
	struct ipk_pkt *pkt;

	if (timeout_ns)
		pkt = ipk_equeue_dequeue_wait(&e->q[1], timeout_ns);
	else
		pkt = ipk_equeue_dequeue(&e->q[1]);
	if (pkt)
		atomic_fetch_add_explicit(&e->delivered, 1, memory_order_relaxed);
	return pkt;
}

struct ipk_equeue *ipk_engine_queue(struct ipk_engine *e, unsigned n)
{
	if (n < 1 || n > IPK_ENGINE_QUEUES)
		return NULL;
	if (e->cfg.mode == IPK_ENGINE_COUPLED && n > 2)
		return NULL;
	return n == 5 ? &e->disp.hook5 : &e->q[n - 1];
}

/* After the dispatcher stopped: waits until every unit finished what it was given. */
static bool units_idle(struct ipk_engine *e)
{
	const struct timespec nap = { .tv_nsec = 100000 };
	uint64_t start = ipk_event_mono_ns();

	for (;;) {
		uint32_t held = 0;

		for (uint32_t i = 0; i < e->n_units; i++)
			held += ipk_unit_occupancy(&e->units[i]);
		if (!held)
			return true;
		if (ipk_event_mono_ns() - start > e->cfg.drain_timeout_ns)
			return false;
		nanosleep(&nap, NULL);
	}
}

/* Stops and frees the running units; their drop counts move to retired_unit_drops. */
static void units_retire(struct ipk_engine *e)
{
	for (uint32_t i = 0; i < e->n_units; i++)
		ipk_unit_stop(&e->units[i]);
	for (uint32_t i = 0; i < e->n_units; i++) {
		for (unsigned r = 0; r < IPK_DROP_COUNT; r++) {
			uint64_t n = ipk_drop_read(&e->units[i].drops, (enum ipk_drop_reason)r);

			atomic_fetch_add_explicit(&e->retired_unit_drops.count[r], n,
						  memory_order_relaxed);
		}
		ipk_unit_fini(&e->units[i]);
	}
	free(e->units);
}

static void units_free(struct ipk_unit *units, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		ipk_unit_fini(&units[i]);
	free(units);
}

static int set_units_check(struct ipk_engine *e, const struct ipk_engine_config *cfg,
			   struct ipk_err *err)
{
	if (e->cfg.mode != IPK_ENGINE_DECOUPLED)
		return ipk_err_set(err, -EOPNOTSUPP, "engine: the coupled baseline has no crypto "
				   "units to change");
	if (e->stopped)
		return ipk_err_set(err, -ESHUTDOWN, "engine: stopped");
	if (cfg->n_units < 1 || cfg->n_units > ipk_sad_workers(e->sad))
		return ipk_err_set(err, -EINVAL, "engine: units %u not in 1..%u (each SA holds "
				   "crypto contexts for %u units)", cfg->n_units,
				   ipk_sad_workers(e->sad), ipk_sad_workers(e->sad));
	return config_check(cfg, cfg->n_units, e->sad, err);
}

/*
 * New units are set up before anything stops, so a failure changes nothing. Then the
 * dispatcher stops (no unit gets more work), the old units finish what they hold (a few
 * packets: their high water marks), stop, and the new ones start with the same worker
 * indices, hence the same per-SA crypto contexts; the dispatcher starts again over them.
 * Packets wait in queue 3 and hook 5 meanwhile; none is dropped.
 */
int ipk_engine_set_units(struct ipk_engine *e, uint32_t n, const struct ipk_unit_config *uc,
			 struct ipk_err *err)
{
	struct ipk_engine_config old = e->cfg;
	struct ipk_unit *units;
	uint32_t made;
	int rc;

	e->cfg.n_units = n;
	e->cfg.unit = *uc;
	e->cfg.units = NULL;
	rc = set_units_check(e, &e->cfg, err);
	if (rc) {
		e->cfg = old;
		return rc;
	}
	rc = units_make(e, n, &units, &made, err);
	if (rc) {
		e->cfg = old;
		units_free(units, made);
		return rc == -ENOMEM ? ipk_err_set(err, rc, "engine: out of memory") : rc;
	}
	ipk_dispatch_stop(&e->disp);
	if (!units_idle(e)) {
		e->cfg = old;
		units_free(units, made);
		ipk_dispatch_start(&e->disp);
		return ipk_err_set(err, -EBUSY, "engine: crypto units still busy; nothing changed");
	}
	units_retire(e);
	e->units = units;
	e->n_units = n;
	e->disp.units = units;
	e->disp.n_units = n;
	for (uint32_t i = 0; i < n && !rc; i++)
		rc = ipk_unit_start(&units[i]);
	if (!rc)
		rc = ipk_dispatch_start(&e->disp);
	return rc ? ipk_err_set(err, rc, "engine: cannot start a thread: %s", strerror(-rc)) : 0;
}

int ipk_engine_hold_lookups(struct ipk_engine *e, uint64_t timeout_ns)
{
	if (e->cfg.mode == IPK_ENGINE_COUPLED)
		return -EOPNOTSUPP;
	return ipk_sched_hold(&e->sched, timeout_ns);
}

void ipk_engine_release_lookups(struct ipk_engine *e)
{
	if (e->cfg.mode != IPK_ENGINE_COUPLED)
		ipk_sched_release(&e->sched);
}

uint32_t ipk_engine_n_units(const struct ipk_engine *e)
{
	return e->n_units;
}

enum ipk_engine_mode ipk_engine_mode(const struct ipk_engine *e)
{
	return e->cfg.mode;
}

/* Every place that counts drops, with its name. Returns how many. */
static uint32_t drop_places(struct ipk_engine *e, const struct ipk_drop_stats **st,
			    const char **name, uint32_t max)
{
	uint32_t n = 0;

#define PLACE(s, nm)                                   \
	do {                                           \
		if (n < max) {                         \
			st[n] = (s);                   \
			name[n] = (nm);                \
		}                                      \
		n++;                                   \
	} while (0)
	for (uint32_t i = 0; i < e->n_queues; i++)
		PLACE(&e->q[i].drops, queue_names[i]);
	if (e->cfg.mode == IPK_ENGINE_COUPLED) {
		PLACE(&e->coupled.ctx.drops, "inline");
		PLACE(&e->coupled.defrag.drops, "reassembly");
		return n;
	}
	PLACE(&e->disp.hook5.drops, queue_names[4]);
	PLACE(&e->sched.drops, "scheduler");
	PLACE(&e->sched.defrag.drops, "reassembly");
	PLACE(&e->disp.drops, "dispatcher");
	for (uint32_t i = 0; i < e->n_units; i++)
		PLACE(&e->units[i].drops, "unit");
	PLACE(&e->retired_unit_drops, "retired");
#undef PLACE
	return n;
}

static uint64_t in_flight(struct ipk_engine *e)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < e->n_queues; i++)
		n += ipk_equeue_len(&e->q[i]);
	if (e->cfg.mode == IPK_ENGINE_COUPLED)
		return n + atomic_load_explicit(&e->coupled.busy, memory_order_relaxed);
	n += ipk_dispatch_held(&e->disp);
	for (uint32_t i = 0; i < e->n_units; i++)
		n += ipk_unit_occupancy(&e->units[i]);
	return n;
}

bool ipk_engine_balance(struct ipk_engine *e, struct ipk_engine_balance *b)
{
	const struct ipk_drop_stats *st[IPK_ENGINE_MAX_UNITS + 16];
	const char *name[IPK_ENGINE_MAX_UNITS + 16];
	const struct ipk_defrag *d = e->cfg.mode == IPK_ENGINE_COUPLED ? &e->coupled.defrag :
									 &e->sched.defrag;
	uint32_t n = drop_places(e, st, name, IPK_ENGINE_MAX_UNITS + 16);

	memset(b, 0, sizeof(*b));
	b->out = atomic_load_explicit(&e->delivered, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++)
		b->drops += ipk_drop_total(st[i]);
	/* A packet split into fragments left the path as that packet. */
	b->absorbed = ipk_defrag_absorbed(d) + ipk_mtu_consumed(mtu_of(e));
	b->in_flight = in_flight(e);
	b->in = entered_path(e);
	return b->in == b->out + b->drops + b->absorbed + b->in_flight;
}

static void read_drops(const struct ipk_drop_stats *st, uint64_t *out)
{
	for (unsigned r = 0; r < IPK_DROP_COUNT; r++)
		out[r] = ipk_drop_read(st, (enum ipk_drop_reason)r);
}

static void read_queue(const struct ipk_equeue *q, struct ipk_engine_queue_stats *qs)
{
	snprintf(qs->name, sizeof(qs->name), "%s", q->name);
	qs->in = atomic_load_explicit(&q->in, memory_order_relaxed);
	qs->out = atomic_load_explicit(&q->out, memory_order_relaxed);
	qs->len_pkts = ipk_equeue_len(q);
	qs->len_bytes = ipk_equeue_bytes(q);
	qs->max_len = atomic_load_explicit(&q->max_len, memory_order_relaxed);
	qs->limit_pkts = q->limit_pkts;
	read_drops(&q->drops, qs->drops);
}

static void read_unit(const struct ipk_unit *u, struct ipk_engine_unit_stats *us)
{
	us->worker = u->worker;
	us->caps = u->cfg.caps;
	us->low = u->cfg.low;
	us->high = u->cfg.high;
	us->occupancy = ipk_unit_occupancy(u);
	us->max_occupancy = atomic_load_explicit(&u->stats.max_occupancy, memory_order_relaxed);
	us->received = atomic_load_explicit(&u->stats.received, memory_order_relaxed);
	us->bytes = atomic_load_explicit(&u->stats.bytes, memory_order_relaxed);
	us->asks = atomic_load_explicit(&u->stats.asks, memory_order_relaxed);
	for (unsigned a = 0; a < IPK_ALG_COUNT; a++) {
		us->by_alg[a] = atomic_load_explicit(&u->stats.processed[a], memory_order_relaxed);
		us->processed += us->by_alg[a];
	}
	read_drops(&u->drops, us->drops);
}

struct sa_reader {
	struct ipk_engine_stats *st;
	uint32_t max;
};

static void read_sa(struct ipk_sa *sa, void *arg)
{
	struct sa_reader *r = arg;
	struct ipk_engine_sa_stats *s;

	if (r->st->n_sas >= r->max)
		return;
	s = &r->st->sa[r->st->n_sas++];
	snprintf(s->name, sizeof(s->name), "%s", sa->params.name);
	s->spi = sa->params.spi;
	s->dir = (uint8_t)sa->params.dir;
	s->packets = atomic_load_explicit(&sa->stats.packets, memory_order_relaxed);
	s->bytes = atomic_load_explicit(&sa->stats.bytes, memory_order_relaxed);
	read_drops(&sa->stats.drops, s->drops);
}

static void read_places(struct ipk_engine *e, struct ipk_engine_stats *st)
{
	const struct ipk_drop_stats *ds[IPK_ENGINE_MAX_UNITS + 16];
	const char *name[IPK_ENGINE_MAX_UNITS + 16];
	uint32_t n = drop_places(e, ds, name, IPK_ENGINE_MAX_UNITS + 16);

	/* Queues and units have their own entries; the rest are places of their own. */
	for (uint32_t i = 0; i < n && st->n_places < IPK_ARRAY_SIZE(st->place); i++) {
		if (!strcmp(name[i], "unit") || strchr(name[i], '-') || !strcmp(name[i], "hook5"))
			continue;
		snprintf(st->place[st->n_places].name, sizeof(st->place[0].name), "%s", name[i]);
		read_drops(ds[i], st->place[st->n_places++].drops);
	}
}

static void read_engine(struct ipk_engine *e, struct ipk_engine_stats *st)
{
	const struct ipk_sched_stats *s = &e->sched.stats;

	st->mode = e->cfg.mode;
	st->balanced = ipk_engine_balance(e, &st->balance);
	for (uint32_t i = 0; i < e->n_queues; i++)
		read_queue(&e->q[i], &st->queue[st->n_queues++]);
	if (e->disp_ready)
		read_queue(&e->disp.hook5, &st->queue[st->n_queues++]);
	read_places(e, st);
	st->from_main = atomic_load_explicit(&s->from_main, memory_order_relaxed);
	st->from_crypto = atomic_load_explicit(&s->from_crypto, memory_order_relaxed);
	st->bypassed = atomic_load_explicit(&s->bypassed, memory_order_relaxed);
	st->to_crypto = atomic_load_explicit(&s->to_crypto, memory_order_relaxed);
	st->protected_pkts = atomic_load_explicit(&s->protected_pkts, memory_order_relaxed);
	st->decrypted = atomic_load_explicit(&s->decrypted, memory_order_relaxed);
	st->dispatched = atomic_load_explicit(&e->disp.dispatched, memory_order_relaxed);
	st->dispatcher_waits = atomic_load_explicit(&e->disp.waits, memory_order_relaxed);
	st->pending = atomic_load_explicit(&e->disp.n_pending, memory_order_relaxed);
	for (uint32_t i = 0; i < st->n_units; i++)
		read_unit(&e->units[i], &st->unit[i]);
}

int ipk_engine_stats_read(struct ipk_engine *e, struct ipk_engine_stats **out)
{
	struct ipk_engine_stats *st = calloc(1, sizeof(*st));
	uint32_t n_sas = ipk_sad_count(e->sad);
	struct sa_reader r = { .st = st, .max = n_sas };

	if (!st)
		return -ENOMEM;
	st->n_units = e->n_units;
	st->unit = calloc(e->n_units ? e->n_units : 1, sizeof(*st->unit));
	st->sa = calloc(n_sas ? n_sas : 1, sizeof(*st->sa));
	if (!st->unit || !st->sa) {
		ipk_engine_stats_free(st);
		return -ENOMEM;
	}
	read_engine(e, st);
	ipk_sad_foreach(e->sad, read_sa, &r);
	*out = st;
	return 0;
}

void ipk_engine_stats_free(struct ipk_engine_stats *st)
{
	if (!st)
		return;
	free(st->unit);
	free(st->sa);
	free(st);
}
