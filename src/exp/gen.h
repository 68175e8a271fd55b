/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Traffic generator for the experiments: N flows, each a stream of UDP packets of one
 * size and DSCP, sent plain or through its own outbound ESP SA (the project's
 * ipk_esp_encap: no second ESP implementation), at a rate in bits/s (of the packet as
 * sent, ESP included) or packets/s, for a given time.
 *
 * Pacing: every flow has an absolute deadline on CLOCK_MONOTONIC; the generator sleeps
 * with clock_nanosleep(TIMER_ABSTIME) until the earliest one, sends that flow's packet
 * and moves the deadline by the packet's transmission time at the flow's rate. Deadlines
 * are absolute, so sleep overshoot does not accumulate into a lower rate. A flow more
 * than one packet behind (the thread was preempted) restarts its schedule from now and
 * counts `late`: it catches up by at most one packet, never by a burst.
 *
 * Packets go to an emit callback (a virtual link, a socket) which consumes them.
 *
 * Threads: one generator thread (ipk_gen_start) runs every flow; stats are read from any
 * thread. With `background` set that thread runs under SCHED_IDLE: it gets every CPU
 * cycle the rest of the machine leaves and never delays a woken thread of the gateway it
 * floods. That is how separate hosts behave, and what a generator sharing two CPUs with
 * the system under test must do: at ten times the capacity it needs most of a CPU, and as
 * an ordinary thread it held a CPU for up to a 4 ms tick while gateway threads with an EF
 * packet waited for it (docs/experiments.md, "Platform noise"). Each flow's SA must have its crypto context `worker` used by nobody else.
 */
#ifndef IPK_EXP_GEN_H
#define IPK_EXP_GEN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/pkt.h"

struct ipk_sa;

#define IPK_GEN_MAX_FLOWS 64
/* UDP payload: flow (4), sequence number (4), send time in ns (8). */
#define IPK_GEN_STAMP_LEN 16
#define IPK_GEN_MIN_SIZE (20 + 8 + IPK_GEN_STAMP_LEN)

struct ipk_gen_flow {
	struct ipk_sa *sa;        /* outbound SA; NULL sends plain */
	unsigned worker;          /* the SA's crypto context to use */
	struct ipk_addr src, dst; /* inner IPv4 addresses */
	uint16_t sport, dport;
	uint32_t size;            /* inner IP packet bytes, IPK_GEN_MIN_SIZE..1500 */
	uint8_t dscp;
	uint64_t rate_bps;        /* bits/s of what is emitted (ESP included), or */
	uint64_t rate_pps;        /* packets/s, used when rate_bps is 0 */
};

struct ipk_gen_stats {
	_Atomic uint64_t sent, bytes; /* emitted (bytes as emitted) */
	_Atomic uint64_t late;        /* schedule restarts: more than one packet behind */
	_Atomic uint64_t no_buffer;   /* pool empty: packet not made */
	_Atomic uint64_t errors;      /* encapsulation failed */
};

/* Consumes @pkt. Returns false when it was dropped (not counted as sent). */
typedef bool (*ipk_gen_emit_fn)(void *arg, unsigned flow, struct ipk_pkt *pkt);

struct ipk_gen {
	struct ipk_gen_flow flow[IPK_GEN_MAX_FLOWS];
	struct ipk_gen_stats stats[IPK_GEN_MAX_FLOWS];
	uint64_t next_ns[IPK_GEN_MAX_FLOWS];
	uint32_t seq[IPK_GEN_MAX_FLOWS];
	uint32_t n_flows;
	struct ipk_pool *pool;
	ipk_gen_emit_fn emit;
	void *arg;
	uint64_t start_ns, end_ns;
	bool background; /* SCHED_IDLE for ipk_gen_start's thread; set before it */
	_Atomic bool stop;
	bool started;
	pthread_t thread;
};

/* Checks and copies @n flows. Returns 0 or -EINVAL with a message. */
int ipk_gen_init(struct ipk_gen *g, const struct ipk_gen_flow *flows, uint32_t n,
		 struct ipk_pool *pool, ipk_gen_emit_fn emit, void *arg, struct ipk_err *err);
/* Runs every flow from @start_ns (CLOCK_MONOTONIC) for @duration_ns in the calling
 * thread; returns early after ipk_gen_stop. */
void ipk_gen_run(struct ipk_gen *g, uint64_t start_ns, uint64_t duration_ns);
/* ipk_gen_run on a new thread. Returns 0 or a negative errno. */
int ipk_gen_start(struct ipk_gen *g, uint64_t start_ns, uint64_t duration_ns);
/* Asks the run to end and joins its thread (if started). Any time. */
void ipk_gen_stop(struct ipk_gen *g);
/* Sums of every flow's counters. */
void ipk_gen_totals(struct ipk_gen *g, uint64_t *sent, uint64_t *bytes, uint64_t *late,
		    uint64_t *lost);

/* Writes an IPv4 UDP packet of @size bytes (stamped with @flow, @seq, @now_ns) into the
 * empty @pkt. Returns 0 or -ENOSPC. */
int ipk_gen_build_udp(struct ipk_pkt *pkt, const struct ipk_gen_flow *f, uint32_t flow,
		      uint32_t seq, uint64_t now_ns);
/* CLOCK_MONOTONIC now, and an absolute sleep until @t_ns on it. */
uint64_t ipk_gen_now_ns(void);
void ipk_gen_sleep_until(uint64_t t_ns);

#endif
