// SPDX-License-Identifier: BSD-2-Clause
#include "gw/gwstats.h"

#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "core/drop.h"
#include "engine/engine.h"
#include "gw/gateway.h"
#include "io/port.h"

#define PORT_FIGURES_MAX 96
#define NAME_MAX_LEN 96

/* "PREFIX.NAME" as a counter. */
static void counter(struct ipk_stats_emit *e, const char *prefix, const char *name,
		    uint64_t v)
{
	char full[NAME_MAX_LEN];

	snprintf(full, sizeof(full), "%s.%s", prefix, name);
	ipk_stats_counter(e, full, v);
}

/* Every non-zero reason of a plain array of drop counts, as "PREFIX.drops.REASON". */
static void drops(struct ipk_stats_emit *e, const char *prefix, const uint64_t *d)
{
	char full[NAME_MAX_LEN];

	for (unsigned r = 1; r < IPK_DROP_COUNT; r++) {
		if (!d[r])
			continue;
		snprintf(full, sizeof(full), "%s.drops.%s", prefix,
			 ipk_drop_name((enum ipk_drop_reason)r));
		ipk_stats_counter(e, full, d[r]);
	}
}

static void emit_queues(struct ipk_stats_emit *e, const struct ipk_engine_stats *st)
{
	for (uint32_t i = 0; i < st->n_queues; i++) {
		const struct ipk_engine_queue_stats *q = &st->queue[i];
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "q%u", i + 1);
		counter(e, prefix, "in", q->in);
		counter(e, prefix, "out", q->out);
		counter(e, prefix, "len", q->len_pkts);
		counter(e, prefix, "max-len", q->max_len);
		drops(e, prefix, q->drops);
	}
	for (uint32_t i = 0; i < st->n_places; i++)
		drops(e, st->place[i].name, st->place[i].drops);
}

static void emit_units(struct ipk_stats_emit *e, const struct ipk_engine_stats *st)
{
	for (uint32_t i = 0; i < st->n_units; i++) {
		const struct ipk_engine_unit_stats *u = &st->unit[i];
		char prefix[16];

		snprintf(prefix, sizeof(prefix), "unit%u", i);
		counter(e, prefix, "received", u->received);
		counter(e, prefix, "processed", u->processed);
		counter(e, prefix, "bytes", u->bytes);
		counter(e, prefix, "asks", u->asks);
		counter(e, prefix, "max-occupancy", u->max_occupancy);
		drops(e, prefix, u->drops);
	}
}

static void emit_engine(void *arg, struct ipk_stats_emit *e)
{
	struct ipk_engine *engine = ipk_gateway_engine(arg);
	struct ipk_engine_stats *st;

	if (ipk_engine_stats_read(engine, &st))
		return;
	ipk_stats_counter(e, "mode", st->mode);
	ipk_stats_counter(e, "units", st->n_units);
	ipk_stats_counter(e, "in", st->balance.in);
	ipk_stats_counter(e, "out", st->balance.out);
	ipk_stats_counter(e, "drops", st->balance.drops);
	ipk_stats_counter(e, "absorbed", st->balance.absorbed);
	ipk_stats_counter(e, "in-flight", st->balance.in_flight);
	ipk_stats_counter(e, "balanced", st->balanced);
	ipk_stats_counter(e, "scheduler.bypassed", st->bypassed);
	ipk_stats_counter(e, "scheduler.to-crypto", st->to_crypto);
	ipk_stats_counter(e, "scheduler.protected", st->protected_pkts);
	ipk_stats_counter(e, "scheduler.decrypted", st->decrypted);
	ipk_stats_counter(e, "dispatcher.dispatched", st->dispatched);
	emit_queues(e, st);
	emit_units(e, st);
	ipk_engine_stats_free(st);
}

static void emit_ports(void *arg, struct ipk_stats_emit *e)
{
	struct ipk_gateway *gw = arg;
	struct ipk_io_stat fig[PORT_FIGURES_MAX];

	for (uint32_t i = 0; i < ipk_gateway_n_ports(gw); i++) {
		enum ipk_gw_side side;
		const char *name;
		struct ipk_io_port *port = ipk_gateway_port_at(gw, i, &name, &side);
		uint32_t n;

		if (!port)
			break;
		n = ipk_io_stats_read(port, fig, PORT_FIGURES_MAX);
		for (uint32_t k = 0; k < n; k++)
			counter(e, name, fig[k].name, fig[k].value);
	}
}

static void emit_gateway(void *arg, struct ipk_stats_emit *e)
{
	struct ipk_gateway *gw = arg;

	const struct ipk_gw_stall *pause = ipk_gateway_pauses(gw), *hold = ipk_gateway_holds(gw);

	ipk_stats_counter(e, "interfaces", ipk_gateway_n_ports(gw));
	/* Control requests that stalled traffic: pauses (interface changes, and SA/policy
	 * changes where a hold is not enough) and holds (SA/policy changes). */
	ipk_stats_counter(e, "pauses", pause->count);
	ipk_stats_counter(e, "pause-timeouts", pause->timeouts);
	ipk_stats_counter(e, "paused-us", pause->total_ns / 1000);
	ipk_stats_counter(e, "paused-us-max", pause->max_ns / 1000);
	ipk_stats_counter(e, "holds", hold->count);
	ipk_stats_counter(e, "hold-timeouts", hold->timeouts);
	ipk_stats_counter(e, "held-us", hold->total_ns / 1000);
	ipk_stats_counter(e, "held-us-max", hold->max_ns / 1000);
	ipk_stats_drops(e, "drops", ipk_gateway_drops(gw));
}

int ipk_gwstats_register(struct ipk_gwstats *st, struct ipk_gateway *gw)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->engine = (struct ipk_stats_provider){ .name = "engine", .emit = emit_engine,
						  .arg = gw };
	st->ports = (struct ipk_stats_provider){ .name = "ports", .emit = emit_ports, .arg = gw };
	st->gateway = (struct ipk_stats_provider){ .name = "gateway", .emit = emit_gateway,
						   .arg = gw };
	ret = ipk_stats_register(&st->engine);
	if (ret)
		return ret;
	ret = ipk_stats_register(&st->ports);
	if (ret)
		goto err_engine;
	ret = ipk_stats_register(&st->gateway);
	if (ret)
		goto err_ports;
	st->registered = true;
	return 0;
err_ports:
	ipk_stats_unregister(&st->ports);
err_engine:
	ipk_stats_unregister(&st->engine);
	return ret;
}

void ipk_gwstats_unregister(struct ipk_gwstats *st)
{
	if (!st->registered)
		return;
	ipk_stats_unregister(&st->gateway);
	ipk_stats_unregister(&st->ports);
	ipk_stats_unregister(&st->engine);
	st->registered = false;
}
