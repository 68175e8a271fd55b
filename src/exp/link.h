/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Virtual links for the in-process testbed (exp/testbed.h): a one-way link is a bounded
 * FIFO with a line rate and a propagation delay. A packet sent at time t starts its
 * serialisation when the link is free (the end of the previous packet's), takes
 * len * 8 / rate_bps, and is delivered `delay_ns` after that, in order. A packet that
 * finds `limit_pkts` packets on the link is dropped (queue-full, counted on the link):
 * a switch port's drop-tail buffer.
 *
 * One delivery thread per network (struct ipk_net) sleeps until the earliest due packet
 * of all its links (clock_nanosleep-precise condition wait on CLOCK_MONOTONIC) and calls
 * each link's deliver callback without holding the network lock, so a callback may send
 * on another link (a responder answering).
 *
 * Threads: ipk_link_send from any thread; callbacks run on the network's thread;
 * create/start/stop/destroy from the control thread.
 */
#ifndef IPK_EXP_LINK_H
#define IPK_EXP_LINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"

#define IPK_NET_MAX_LINKS 64

struct ipk_link;

/* Receives a delivered packet; consumes @pkt. @now_ns is the delivery time. */
typedef void (*ipk_link_deliver_fn)(void *arg, struct ipk_pkt *pkt, uint64_t now_ns);

struct ipk_link_config {
	uint64_t rate_bps;   /* line rate; 0: infinitely fast */
	uint64_t delay_ns;   /* propagation delay */
	uint32_t limit_pkts; /* packets on the link at most (queued + in flight) */
};

struct ipk_link_stats {
	_Atomic uint64_t sent, delivered, bytes;
	struct ipk_drop_stats drops;
};

struct ipk_link {
	char name[24];
	struct ipk_link_config cfg;
	struct ipk_net *net;
	ipk_link_deliver_fn deliver;
	void *arg;
	struct ipk_pkt **ring; /* limit_pkts slots, guarded by the network lock */
	uint64_t *due_ns;      /* delivery time of each slot */
	uint32_t head, len;
	uint64_t free_ns;      /* when the line finishes the last packet */
	struct ipk_link_stats stats;
};

struct ipk_net {
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* CLOCK_MONOTONIC: a packet due earlier, or stop */
	struct ipk_link *links[IPK_NET_MAX_LINKS];
	uint32_t n_links;
	uint64_t wake_ns;      /* when the thread means to wake; UINT64_MAX: idle */
	bool stop, started;
	pthread_t thread;
};

/* Returns 0 or a negative errno. */
int ipk_net_init(struct ipk_net *net);
/* Adds a link delivering to @deliver(@arg). Before start. Returns 0, -ENOSPC or -ENOMEM. */
int ipk_net_add_link(struct ipk_net *net, struct ipk_link **out, const char *name,
		     const struct ipk_link_config *cfg, ipk_link_deliver_fn deliver, void *arg);
int ipk_net_start(struct ipk_net *net);
/* Stops the thread; packets still on links are dropped (hook-detached, counted). */
void ipk_net_stop(struct ipk_net *net);
void ipk_net_fini(struct ipk_net *net);

/* Puts @pkt on the link (consumes it: queued, or dropped and counted as queue-full).
 * Returns true when queued. Any thread. */
bool ipk_link_send(struct ipk_link *link, struct ipk_pkt *pkt);
/* Packets on the link now. */
uint32_t ipk_link_len(struct ipk_link *link);

#endif
