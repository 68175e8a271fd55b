// SPDX-License-Identifier: BSD-2-Clause
/*
 * The gateway object: creation and teardown in dependency order, the port table (staged,
 * live, retired) and the pause that serialises SAD/SPD changes with the packet path.
 */
#include "gw/gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/equeue.h"
#include "engine/hooks.h"
#include "gw/gwevent.h"
#include "gw/gwcapture.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define PAUSE_POLL_NS 200000L /* 0.2 ms between looks at the engine */

enum port_state { PORT_FREE = 0, PORT_STAGED, PORT_LIVE, PORT_RETIRED };

struct gw_port {
	struct ipk_pump_port pp;
	char name[IPK_NAME_MAX];
	enum port_state state;
	const void *tag; /* staged: the command that opened it */
};

struct ipk_gateway {
	struct ipk_gw_settings settings;
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_pool *pool;
	struct ipk_engine *engine;
	struct ipk_hooks *hooks;
	struct ipk_gwevents *events;
	struct ipk_pump pump;
	bool pump_ready;
	bool started;
	struct gw_port ports[IPK_GW_MAX_PORTS];
	struct ipk_gw_stall pauses;  /* gate closed, engine drained */
	struct ipk_gw_stall holds;   /* packet scheduler parked */
	struct timespec stalled_at;  /* when the open pause or hold began */
	bool holding;                /* the open stall is a hold */
};

void ipk_gateway_settings_init(struct ipk_gw_settings *s)
{
	memset(s, 0, sizeof(*s));
	ipk_engine_config_init(&s->engine);
	s->buffers = IPK_GW_DEFAULT_BUFFERS;
}

/* n_units 0: one per online CPU (engine/engine.h), resolved here because the SAD must
 * know the count before the engine exists. */
static uint32_t resolve_units(uint32_t n)
{
	long cpus;

	if (n)
		return n;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		return 1;
	return cpus > IPK_ENGINE_MAX_UNITS ? IPK_ENGINE_MAX_UNITS : (uint32_t)cpus;
}

static int create_tables(struct ipk_gateway *gw, struct ipk_err *err)
{
	int ret;

	/* Room for as many units as CPUs, so that `engine units N` can add units at runtime
	 * (each SA holds one crypto context per unit it may meet). */
	ret = ipk_sad_create(&gw->sad, resolve_units(0) > gw->settings.engine.n_units ?
					       resolve_units(0) : gw->settings.engine.n_units);
	if (!ret)
		ret = ipk_spd_create(&gw->spd);
	if (!ret)
		ret = ipk_pool_create(&gw->pool, gw->settings.buffers, IPK_PKT_DEFAULT_ROOM);
	if (ret)
		ipk_err_set(err, ret, "gateway: cannot create the SAD, SPD or %u packet buffers: %s",
			    gw->settings.buffers, strerror(-ret));
	return ret;
}

int ipk_gateway_create(struct ipk_gateway **out, const struct ipk_gw_settings *s,
		       struct ipk_err *err)
{
	struct ipk_gateway *gw = calloc(1, sizeof(*gw));
	int ret;

	if (!gw)
		return ipk_err_set(err, -ENOMEM, "gateway: out of memory");
	gw->settings = *s;
	gw->settings.engine.n_units = resolve_units(s->engine.n_units);
	ret = create_tables(gw, err);
	if (!ret && ipk_gwevent_create(&gw->events))
		ret = ipk_err_set(err, -ENOMEM, "gateway: cannot create the event log");
	if (!ret)
		ipk_sad_set_event(gw->sad, ipk_gwevent_sa_event, gw->events);
	if (!ret)
		ret = ipk_engine_create(&gw->engine, &gw->settings.engine, gw->sad, gw->spd, err);
	if (!ret && ipk_hooks_create(&gw->hooks, gw->engine))
		ret = ipk_err_set(err, -ENOMEM, "gateway: out of memory");
	if (!ret) {
		ret = ipk_pump_init(&gw->pump, gw->engine, gw->pool);
		if (ret)
			ipk_err_set(err, ret, "gateway: %s", strerror(-ret));
		gw->pump_ready = !ret;
	}
	if (ret) {
		ipk_gateway_destroy(gw);
		return ret;
	}
	*out = gw;
	return 0;
}

static void stop_receivers(struct ipk_gateway *gw)
{
	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++)
		if (gw->ports[i].pp.running)
			ipk_pump_rx_signal(&gw->ports[i].pp);
	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++)
		ipk_pump_rx_join(&gw->ports[i].pp);
}

static void close_port(struct ipk_gateway *gw, struct gw_port *port)
{
	ipk_pump_rx_join(&port->pp);
	if (port->state == PORT_LIVE)
		ipk_pump_unlink(&gw->pump, &port->pp);
	ipk_io_close(port->pp.io);
	memset(port, 0, sizeof(*port));
}

void ipk_gateway_destroy(struct ipk_gateway *gw)
{
	if (!gw)
		return;
	/* Captures first: their files are closed with what they hold (gw/gwcapture.h). */
	ipk_gwcapture_stop_all(gw->engine);
	/* Inputs first, then the engine drains into queue 2, then queue 2 drains into the
	 * ports, which close last. */
	stop_receivers(gw);
	if (gw->engine)
		ipk_engine_stop(gw->engine);
	if (gw->pump_ready)
		ipk_pump_tx_stop(&gw->pump);
	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++)
		if (gw->ports[i].state != PORT_FREE)
			close_port(gw, &gw->ports[i]);
	/* Chains are detached from the engine's queues before the engine goes. */
	ipk_hooks_destroy(gw->hooks);
	ipk_engine_destroy(gw->engine);
	if (gw->pump_ready)
		ipk_pump_fini(&gw->pump);
	/* Policies point at SAs; destroying the SAD wipes every key. */
	if (gw->spd)
		ipk_spd_destroy(gw->spd);
	if (gw->sad)
		ipk_sad_destroy(gw->sad);
	if (gw->pool)
		ipk_pool_destroy(gw->pool);
	ipk_gwevent_destroy(gw->events);
	free(gw);
}

void ipk_gateway_config_ctx(struct ipk_gateway *gw, struct ipk_config_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sad = gw->sad;
	ctx->spd = gw->spd;
	ctx->hooks = gw->hooks;
	ctx->gw = gw;
}

const struct ipk_gw_settings *ipk_gateway_settings(const struct ipk_gateway *gw)
{
	return &gw->settings;
}

int ipk_gateway_set_units(struct ipk_gateway *gw, uint32_t n, const struct ipk_unit_config *uc,
			  struct ipk_err *err)
{
	int ret = ipk_engine_set_units(gw->engine, n, uc, err);

	if (!ret) {
		gw->settings.engine.n_units = n;
		gw->settings.engine.unit = *uc;
	}
	return ret;
}

uint32_t ipk_gateway_max_units(const struct ipk_gateway *gw)
{
	return ipk_sad_workers(gw->sad);
}

struct ipk_engine *ipk_gateway_engine(struct ipk_gateway *gw)
{
	return gw->engine;
}

struct ipk_gwevents *ipk_gateway_events(struct ipk_gateway *gw)
{
	return gw->events;
}

const struct ipk_drop_stats *ipk_gateway_drops(const struct ipk_gateway *gw)
{
	return &gw->pump.drops;
}

int ipk_gateway_start(struct ipk_gateway *gw, struct ipk_err *err)
{
	int ret = ipk_pump_tx_start(&gw->pump);

	for (unsigned i = 0; i < IPK_GW_MAX_PORTS && !ret; i++)
		if (gw->ports[i].state == PORT_LIVE)
			ret = ipk_pump_rx_start(&gw->ports[i].pp);
	if (ret)
		return ipk_err_set(err, ret, "gateway: cannot start the I/O threads: %s",
				   strerror(-ret));
	gw->started = true;
	return 0;
}

static struct gw_port *find_port(struct ipk_gateway *gw, const char *name, enum port_state st)
{
	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++)
		if (gw->ports[i].state == st && strcmp(gw->ports[i].name, name) == 0)
			return &gw->ports[i];
	return NULL;
}

struct ipk_io_port *ipk_gateway_port(struct ipk_gateway *gw, const char *name)
{
	struct gw_port *port = find_port(gw, name, PORT_LIVE);

	return port ? port->pp.io : NULL;
}

uint32_t ipk_gateway_n_ports(const struct ipk_gateway *gw)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++)
		n += gw->ports[i].state == PORT_LIVE;
	return n;
}

struct ipk_io_port *ipk_gateway_port_at(struct ipk_gateway *gw, uint32_t i, const char **name,
					enum ipk_gw_side *side)
{
	for (unsigned slot = 0; slot < IPK_GW_MAX_PORTS; slot++) {
		struct gw_port *port = &gw->ports[slot];

		if (port->state != PORT_LIVE || i--)
			continue;
		*name = port->name;
		*side = port->pp.side;
		return port->pp.io;
	}
	return NULL;
}

int ipk_gateway_port_stage(struct ipk_gateway *gw, const struct ipk_gw_port_spec *spec,
			   const void *tag, struct ipk_err *err)
{
	struct gw_port *port = NULL;
	int ret;

	for (unsigned i = 0; i < IPK_GW_MAX_PORTS && !port; i++)
		if (gw->ports[i].state == PORT_FREE)
			port = &gw->ports[i];
	if (!port)
		return ipk_err_set(err, -ENOSPC, "at most %d interfaces", IPK_GW_MAX_PORTS);
	/* The slot number is the port id packets carry in meta.in_port. */
	ret = ipk_io_open(&port->pp.io, spec->kind, &spec->args, (uint8_t)(port - gw->ports),
			  err);
	if (ret)
		return ret;
	port->pp.pump = &gw->pump;
	port->pp.side = spec->side;
	port->pp.non_ip_pass = spec->non_ip_pass;
	snprintf(port->name, sizeof(port->name), "%s", spec->name);
	port->tag = tag;
	port->state = PORT_STAGED;
	log_debug("interface %s: opened %s port %s", spec->name, spec->kind, port->pp.io->name);
	return 0;
}

int ipk_gateway_port_commit(struct ipk_gateway *gw, const void *tag, struct ipk_err *err)
{
	struct gw_port *port = NULL;
	int ret = 0;

	for (unsigned i = 0; i < IPK_GW_MAX_PORTS && !port; i++)
		if (gw->ports[i].state == PORT_STAGED && gw->ports[i].tag == tag)
			port = &gw->ports[i];
	if (!port)
		return ipk_err_set(err, -ENOENT, "interface: not opened in the check pass");
	if (gw->started)
		ret = ipk_pump_rx_start(&port->pp);
	if (ret)
		return ipk_err_set(err, ret, "interface %s: cannot start its thread: %s",
				   port->name, strerror(-ret));
	port->state = PORT_LIVE;
	port->tag = NULL;
	ipk_pump_link(&gw->pump, &port->pp);
	log_info("interface %s: %s port %s on the %s side", port->name, port->pp.io->ops->name,
		 port->pp.io->name, port->pp.side == IPK_GW_PLAIN ? "plain" : "protected");
	return 0;
}

int ipk_gateway_port_retire(struct ipk_gateway *gw, const char *name)
{
	struct gw_port *port = find_port(gw, name, PORT_LIVE);

	if (!port)
		return -ENOENT;
	/* Out of the tx view now; the receive thread may be waiting at the closed gate, so
	 * it is joined in batch_end, after the gate opened. */
	ipk_pump_unlink(&gw->pump, &port->pp);
	if (port->pp.running)
		ipk_pump_rx_signal(&port->pp);
	port->state = PORT_RETIRED;
	log_info("interface %s: deleted", name);
	return 0;
}

void ipk_gateway_batch_end(struct ipk_gateway *gw)
{
	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++) {
		struct gw_port *port = &gw->ports[i];

		if (port->state == PORT_STAGED || port->state == PORT_RETIRED)
			close_port(gw, port);
	}
	/* sa-added and sa-deleted events for what the batch changed (gw/gwevent.h). */
	if (ipk_gwevent_sync(gw->events, gw->sad))
		log_warnx("gateway: out of memory for the SA events of this batch");
}

/* True when every packet that entered the engine has reached queue 2 or was dropped:
 * only queue 2 (which reads neither SAD nor SPD) still holds any. */
static bool engine_quiet(struct ipk_gateway *gw)
{
	struct ipk_engine_balance b;
	bool balanced = ipk_engine_balance(gw->engine, &b);
	struct ipk_equeue *q2 = ipk_engine_queue(gw->engine, 2);

	if (!balanced || b.in_flight != (q2 ? ipk_equeue_len(q2) : 0))
		return false;
	/* The counters are relaxed reads. Every packet's path ends under one of two locks:
	 * queue 2's (enqueued) or the pool's (dropped: freed). Taking both after seeing the
	 * counts orders the engine threads' last SAD/SPD reads before the changes to come
	 * (their unlock -> this lock). */
	if (q2)
		ipk_equeue_full(q2, 0);
	ipk_pool_available(gw->pool);
	return true;
}

/* Adds the stall that just ended (traffic moves again), begun at gw->stalled_at. */
static void count_stall(struct ipk_gateway *gw, struct ipk_gw_stall *st, bool timed_out)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - gw->stalled_at.tv_sec) * 1000000000ull +
	     (uint64_t)now.tv_nsec - (uint64_t)gw->stalled_at.tv_nsec;
	st->count++;
	st->timeouts += timed_out;
	st->total_ns += ns;
	if (ns > st->max_ns)
		st->max_ns = ns;
}

int ipk_gateway_pause(struct ipk_gateway *gw, struct ipk_err *err)
{
	const struct timespec nap = { .tv_nsec = PAUSE_POLL_NS };
	struct timespec start, now;
	int calm = 0;

	if (!gw->started)
		return 0;
	ipk_pump_gate_close(&gw->pump);
	clock_gettime(CLOCK_MONOTONIC, &start);
	gw->stalled_at = start;
	/* Twice in a row: the terms are read one by one while queue 2 drains. */
	while (calm < 2) {
		calm = engine_quiet(gw) ? calm + 1 : 0;
		if (calm == 2)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((uint64_t)(now.tv_sec - start.tv_sec) * 1000000000ull + (uint64_t)now.tv_nsec -
			    (uint64_t)start.tv_nsec > IPK_GW_PAUSE_TIMEOUT_NS) {
			ipk_pump_gate_open(&gw->pump);
			count_stall(gw, &gw->pauses, true);
			return ipk_err_set(err, -EBUSY, "gateway: packets still in the engine "
					   "after %llu ms; nothing changed, try again",
					   IPK_GW_PAUSE_TIMEOUT_NS / 1000000ull);
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

void ipk_gateway_resume(struct ipk_gateway *gw)
{
	if (gw->started) {
		ipk_pump_gate_open(&gw->pump);
		count_stall(gw, &gw->pauses, false);
	}
}

int ipk_gateway_hold_tables(struct ipk_gateway *gw, struct ipk_err *err)
{
	int rc;

	if (!gw->started)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &gw->stalled_at);
	rc = ipk_engine_hold_lookups(gw->engine, IPK_GW_PAUSE_TIMEOUT_NS);
	if (rc == 0) {
		gw->holding = true;
		return 0;
	}
	if (rc == -ETIMEDOUT) {
		count_stall(gw, &gw->holds, true);
		return ipk_err_set(err, -EBUSY, "gateway: the packet scheduler did not stop "
				   "within %llu ms; nothing changed, try again",
				   IPK_GW_PAUSE_TIMEOUT_NS / 1000000ull);
	}
	/* -EOPNOTSUPP, the coupled baseline: drain it instead. */
	return ipk_gateway_pause(gw, err);
}

void ipk_gateway_release_tables(struct ipk_gateway *gw)
{
	if (!gw->holding) {
		ipk_gateway_resume(gw);
		return;
	}
	ipk_engine_release_lookups(gw->engine);
	gw->holding = false;
	count_stall(gw, &gw->holds, false);
}

const struct ipk_gw_stall *ipk_gateway_pauses(const struct ipk_gateway *gw)
{
	return &gw->pauses;
}

const struct ipk_gw_stall *ipk_gateway_holds(const struct ipk_gateway *gw)
{
	return &gw->holds;
}
