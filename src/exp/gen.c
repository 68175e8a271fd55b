// SPDX-License-Identifier: BSD-2-Clause
#include "exp/gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "proto/esp.h"
#include "proto/ip.h"

uint64_t ipk_gen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IPK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void ipk_gen_sleep_until(uint64_t t_ns)
{
	struct timespec ts = {
	    .tv_sec = (time_t)(t_ns / IPK_NSEC_PER_SEC),
	    .tv_nsec = (long)(t_ns % IPK_NSEC_PER_SEC),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int ipk_gen_init(struct ipk_gen *g, const struct ipk_gen_flow *flows, uint32_t n,
		 struct ipk_pool *pool, ipk_gen_emit_fn emit, void *arg, struct ipk_err *err)
{
	if (n > IPK_GEN_MAX_FLOWS)
		return ipk_err_set(err, -EINVAL, "gen: %u flows, at most %u", n, IPK_GEN_MAX_FLOWS);
	for (uint32_t i = 0; i < n; i++) {
		const struct ipk_gen_flow *f = &flows[i];

		if (f->size < IPK_GEN_MIN_SIZE || f->size > 1500)
			return ipk_err_set(err, -EINVAL, "gen: flow %u: size %u not in %u..1500", i,
					   f->size, IPK_GEN_MIN_SIZE);
		if (!f->rate_bps && !f->rate_pps)
			return ipk_err_set(err, -EINVAL, "gen: flow %u: no rate", i);
		if (f->dscp > 63 || f->src.family != 4 || f->dst.family != 4)
			return ipk_err_set(err, -EINVAL, "gen: flow %u: DSCP or addresses", i);
	}
	memset(g, 0, sizeof(*g));
	memcpy(g->flow, flows, n * sizeof(*flows));
	g->n_flows = n;
	g->pool = pool;
	g->emit = emit;
	g->arg = arg;
	return 0;
}

int ipk_gen_build_udp(struct ipk_pkt *pkt, const struct ipk_gen_flow *f, uint32_t flow,
		      uint32_t seq, uint64_t now_ns)
{
	uint8_t *p = ipk_pkt_put(pkt, f->size);
	uint16_t v;

	if (!p)
		return -ENOSPC;
	memset(p, 0, f->size);
	ipk_ipv4_build(p, &f->src, &f->dst, IPK_PROTO_UDP, (uint16_t)f->size,
		       (uint8_t)(f->dscp << 2), 64, true, (uint16_t)seq);
	v = htons(f->sport);
	memcpy(p + 20, &v, 2);
	v = htons(f->dport);
	memcpy(p + 22, &v, 2);
	v = htons((uint16_t)(f->size - 20));
	memcpy(p + 24, &v, 2);
	/* UDP checksum 0: allowed over IPv4 (RFC 768), and the receiver is ours. */
	memcpy(p + 28, &flow, 4);
	memcpy(p + 32, &seq, 4);
	memcpy(p + 36, &now_ns, 8);
	return 0;
}

/* Makes and emits flow @i's next packet. Returns its emitted length (0: none). */
static uint32_t send_one(struct ipk_gen *g, uint32_t i, uint64_t now)
{
	const struct ipk_gen_flow *f = &g->flow[i];
	struct ipk_gen_stats *st = &g->stats[i];
	struct ipk_pkt *pkt = ipk_pkt_alloc(g->pool);
	uint32_t len;

	if (!pkt) {
		atomic_fetch_add_explicit(&st->no_buffer, 1, memory_order_relaxed);
		return 0;
	}
	if (ipk_gen_build_udp(pkt, f, i, g->seq[i]++, now) ||
	    (f->sa && ipk_esp_encap(f->sa, pkt, f->worker))) {
		atomic_fetch_add_explicit(&st->errors, 1, memory_order_relaxed);
		ipk_pkt_free(pkt);
		return 0;
	}
	len = pkt->len;
	if (g->emit(g->arg, i, pkt)) {
		atomic_fetch_add_explicit(&st->sent, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&st->bytes, len, memory_order_relaxed);
	}
	return len;
}

/* Time one packet of @len bytes takes at flow @f's rate. */
static uint64_t cost_ns(const struct ipk_gen_flow *f, uint32_t len)
{
	if (f->rate_bps)
		return (uint64_t)len * 8u * IPK_NSEC_PER_SEC / f->rate_bps;
	return IPK_NSEC_PER_SEC / f->rate_pps;
}

static uint32_t earliest_flow(const struct ipk_gen *g)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < g->n_flows; i++)
		if (g->next_ns[i] < g->next_ns[best])
			best = i;
	return best;
}

void ipk_gen_run(struct ipk_gen *g, uint64_t start_ns, uint64_t duration_ns)
{
	g->start_ns = start_ns;
	g->end_ns = start_ns + duration_ns;
	/* Stagger the flows by a fraction of a packet so they do not start in lockstep. */
	for (uint32_t i = 0; i < g->n_flows; i++)
		g->next_ns[i] = start_ns + i * cost_ns(&g->flow[i], g->flow[i].size) / g->n_flows;
	while (g->n_flows && !atomic_load_explicit(&g->stop, memory_order_relaxed)) {
		uint32_t i = earliest_flow(g), len;
		uint64_t now, next;

		if (g->next_ns[i] >= g->end_ns)
			break;
		ipk_gen_sleep_until(g->next_ns[i]);
		now = ipk_gen_now_ns();
		len = send_one(g, i, now);
		next = g->next_ns[i] + cost_ns(&g->flow[i], len ? len : g->flow[i].size);
		/* More than one packet behind: restart from now rather than burst. */
		if (next + cost_ns(&g->flow[i], g->flow[i].size) < now) {
			atomic_fetch_add_explicit(&g->stats[i].late, 1, memory_order_relaxed);
			next = now;
		}
		g->next_ns[i] = next;
	}
}

static void *gen_thread(void *arg)
{
	struct ipk_gen *g = arg;
	const struct sched_param none = {0};

	pthread_setname_np(pthread_self(), "exp-gen");
	/* A refusal leaves the thread as it was: offered load stays, only less polite. */
	if (g->background)
		pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
	ipk_gen_run(g, g->start_ns, g->end_ns - g->start_ns);
	return NULL;
}

int ipk_gen_start(struct ipk_gen *g, uint64_t start_ns, uint64_t duration_ns)
{
	int rc;

	g->start_ns = start_ns;
	g->end_ns = start_ns + duration_ns;
	rc = pthread_create(&g->thread, NULL, gen_thread, g);
	g->started = rc == 0;
	return -rc;
}

void ipk_gen_stop(struct ipk_gen *g)
{
	atomic_store_explicit(&g->stop, true, memory_order_relaxed);
	if (g->started)
		pthread_join(g->thread, NULL);
	g->started = false;
}

void ipk_gen_totals(struct ipk_gen *g, uint64_t *sent, uint64_t *bytes, uint64_t *late,
		    uint64_t *lost)
{
	*sent = *bytes = *late = *lost = 0;
	for (uint32_t i = 0; i < g->n_flows; i++) {
		struct ipk_gen_stats *st = &g->stats[i];

		*sent += atomic_load_explicit(&st->sent, memory_order_relaxed);
		*bytes += atomic_load_explicit(&st->bytes, memory_order_relaxed);
		*late += atomic_load_explicit(&st->late, memory_order_relaxed);
		*lost += atomic_load_explicit(&st->no_buffer, memory_order_relaxed) +
			 atomic_load_explicit(&st->errors, memory_order_relaxed);
	}
}
