// SPDX-License-Identifier: BSD-2-Clause
#include "exp/link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

/* Packets the delivery thread takes per pass before it releases the lock. */
#define NET_BATCH 64

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IPK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int ipk_net_init(struct ipk_net *net)
{
	pthread_condattr_t attr;
	int rc;

	memset(net, 0, sizeof(*net));
	net->wake_ns = UINT64_MAX;
	rc = pthread_mutex_init(&net->lock, NULL);
	if (rc)
		return -rc;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&net->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc)
		pthread_mutex_destroy(&net->lock);
	return -rc;
}

int ipk_net_add_link(struct ipk_net *net, struct ipk_link **out, const char *name,
		     const struct ipk_link_config *cfg, ipk_link_deliver_fn deliver, void *arg)
{
	struct ipk_link *l;

	if (net->n_links == IPK_NET_MAX_LINKS || !cfg->limit_pkts)
		return -ENOSPC;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ring = calloc(cfg->limit_pkts, sizeof(*l->ring));
	l->due_ns = calloc(cfg->limit_pkts, sizeof(*l->due_ns));
	if (!l->ring || !l->due_ns) {
		free(l->ring);
		free(l->due_ns);
		free(l);
		return -ENOMEM;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->cfg = *cfg;
	l->net = net;
	l->deliver = deliver;
	l->arg = arg;
	net->links[net->n_links++] = l;
	*out = l;
	return 0;
}

bool ipk_link_send(struct ipk_link *l, struct ipk_pkt *pkt)
{
	struct ipk_net *net = l->net;
	uint64_t now = mono_ns(), start, due;
	uint32_t len = pkt->len;

	pthread_mutex_lock(&net->lock);
	if (l->len == l->cfg.limit_pkts || net->stop) {
		pthread_mutex_unlock(&net->lock);
		ipk_pkt_drop(pkt, &l->stats.drops, IPK_DROP_QUEUE_FULL);
		return false;
	}
	/* Serialisation: the line sends one packet after the other at its rate. */
	start = l->free_ns > now ? l->free_ns : now;
	if (l->cfg.rate_bps)
		start += (uint64_t)len * 8u * IPK_NSEC_PER_SEC / l->cfg.rate_bps;
	l->free_ns = start;
	due = start + l->cfg.delay_ns;
	l->ring[(l->head + l->len) % l->cfg.limit_pkts] = pkt;
	l->due_ns[(l->head + l->len) % l->cfg.limit_pkts] = due;
	l->len++;
	/* Wake the thread only when it would otherwise sleep past this packet. */
	if (due < net->wake_ns)
		pthread_cond_signal(&net->cond);
	pthread_mutex_unlock(&net->lock);
	atomic_fetch_add_explicit(&l->stats.sent, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->stats.bytes, len, memory_order_relaxed);
	return true;
}

uint32_t ipk_link_len(struct ipk_link *l)
{
	uint32_t n;

	pthread_mutex_lock(&l->net->lock);
	n = l->len;
	pthread_mutex_unlock(&l->net->lock);
	return n;
}

/* Earliest due time over every link's head (due times grow along each link). */
static uint64_t earliest_due(const struct ipk_net *net)
{
	uint64_t t = UINT64_MAX;

	for (uint32_t i = 0; i < net->n_links; i++) {
		const struct ipk_link *l = net->links[i];

		if (l->len && l->due_ns[l->head] < t)
			t = l->due_ns[l->head];
	}
	return t;
}

/* Moves up to NET_BATCH due packets into @pkts/@links. Lock held. */
static uint32_t take_due(struct ipk_net *net, uint64_t now, struct ipk_pkt **pkts,
			 struct ipk_link **links)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < net->n_links && n < NET_BATCH; i++) {
		struct ipk_link *l = net->links[i];

		while (l->len && l->due_ns[l->head] <= now && n < NET_BATCH) {
			pkts[n] = l->ring[l->head];
			links[n++] = l;
			l->head = (l->head + 1) % l->cfg.limit_pkts;
			l->len--;
		}
	}
	return n;
}

/* Sleeps until @due or a signal; lock held. */
static void wait_until(struct ipk_net *net, uint64_t due)
{
	struct timespec ts;

	net->wake_ns = due;
	if (due == UINT64_MAX) {
		pthread_cond_wait(&net->cond, &net->lock);
	} else {
		ts.tv_sec = (time_t)(due / IPK_NSEC_PER_SEC);
		ts.tv_nsec = (long)(due % IPK_NSEC_PER_SEC);
		pthread_cond_timedwait(&net->cond, &net->lock, &ts);
	}
	net->wake_ns = UINT64_MAX;
}

static void *net_thread(void *arg)
{
	struct ipk_net *net = arg;
	struct ipk_pkt *pkts[NET_BATCH];
	struct ipk_link *links[NET_BATCH];

	pthread_setname_np(pthread_self(), "exp-links");
	pthread_mutex_lock(&net->lock);
	while (!net->stop) {
		uint64_t now = mono_ns(), due = earliest_due(net);
		uint32_t n;

		if (due > now) {
			wait_until(net, due);
			continue;
		}
		n = take_due(net, now, pkts, links);
		pthread_mutex_unlock(&net->lock);
		for (uint32_t i = 0; i < n; i++) {
			atomic_fetch_add_explicit(&links[i]->stats.delivered, 1,
						  memory_order_relaxed);
			links[i]->deliver(links[i]->arg, pkts[i], now);
		}
		pthread_mutex_lock(&net->lock);
	}
	pthread_mutex_unlock(&net->lock);
	return NULL;
}

int ipk_net_start(struct ipk_net *net)
{
	int rc = pthread_create(&net->thread, NULL, net_thread, net);

	net->started = rc == 0;
	return -rc;
}

void ipk_net_stop(struct ipk_net *net)
{
	pthread_mutex_lock(&net->lock);
	net->stop = true;
	pthread_cond_signal(&net->cond);
	pthread_mutex_unlock(&net->lock);
	if (net->started)
		pthread_join(net->thread, NULL);
	net->started = false;
	for (uint32_t i = 0; i < net->n_links; i++) {
		struct ipk_link *l = net->links[i];

		while (l->len) {
			ipk_pkt_drop(l->ring[l->head], &l->stats.drops, IPK_DROP_HOOK_DETACHED);
			l->head = (l->head + 1) % l->cfg.limit_pkts;
			l->len--;
		}
	}
}

void ipk_net_fini(struct ipk_net *net)
{
	for (uint32_t i = 0; i < net->n_links; i++) {
		free(net->links[i]->ring);
		free(net->links[i]->due_ns);
		free(net->links[i]);
	}
	net->n_links = 0;
	pthread_cond_destroy(&net->cond);
	pthread_mutex_destroy(&net->lock);
}
