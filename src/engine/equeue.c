// SPDX-License-Identifier: BSD-2-Clause
#include "engine/equeue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "engine/event.h"


void ipk_equeue_dropped_add(struct ipk_equeue_dropped *l, struct ipk_pkt *pkt)
{
	pkt->next = NULL;
	if (l->tail)
		l->tail->next = pkt;
	else
		l->head = pkt;
	l->tail = pkt;
	l->count++;
}

static void drop_all(struct ipk_equeue *q, struct ipk_equeue_dropped *l)
{
	struct ipk_pkt *pkt = l->head;

	while (pkt) {
		struct ipk_pkt *next = pkt->next;

		ipk_pkt_drop(pkt, &q->drops, l->why);
		pkt = next;
	}
	memset(l, 0, sizeof(*l));
}

int ipk_equeue_init(struct ipk_equeue *q, const char *name, uint32_t limit_pkts,
		    uint64_t limit_bytes)
{
	int rc;

	if (limit_pkts == 0)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->limit_pkts = limit_pkts;
	q->limit_bytes = limit_bytes;
	rc = -pthread_mutex_init(&q->lock, NULL);
	if (rc)
		return rc;
	rc = ipk_event_cond_init(&q->not_empty);
	if (rc)
		goto err_mutex;
	rc = ipk_event_cond_init(&q->not_full);
	if (rc)
		goto err_not_empty;
	return 0;

err_not_empty:
	pthread_cond_destroy(&q->not_empty);
err_mutex:
	pthread_mutex_destroy(&q->lock);
	return rc;
}

void ipk_equeue_fini(struct ipk_equeue *q)
{
	ipk_equeue_flush(q, IPK_DROP_HOOK_DETACHED);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
}

void ipk_equeue_set_waker(struct ipk_equeue *q, struct ipk_event *ev)
{
	pthread_mutex_lock(&q->lock);
	q->waker = ev;
	pthread_mutex_unlock(&q->lock);
}

static uint32_t len_locked(const struct ipk_equeue *q)
{
	return q->chain ? q->chain->ops->len_pkts(q->chain->priv) : q->fifo.count;
}

static uint64_t bytes_locked(const struct ipk_equeue *q)
{
	return q->chain ? q->chain->ops->len_bytes(q->chain->priv) : q->fifo.bytes;
}

/* Mirrors the lengths into the atomics that stats read without the lock. */
static void publish_len(struct ipk_equeue *q)
{
	uint32_t len = len_locked(q);

	atomic_store_explicit(&q->len, len, memory_order_relaxed);
	atomic_store_explicit(&q->bytes, bytes_locked(q), memory_order_relaxed);
	if (len > atomic_load_explicit(&q->max_len, memory_order_relaxed))
		atomic_store_explicit(&q->max_len, len, memory_order_relaxed);
}

/* The default FIFO's limits; an attached chain admits or refuses by itself (equeue.h). */
static bool full_locked(const struct ipk_equeue *q, uint32_t len)
{
	if (q->chain)
		return false;
	if (len_locked(q) >= q->limit_pkts)
		return true;
	return q->limit_bytes && bytes_locked(q) + len > q->limit_bytes;
}

/* Stores @pkt in the FIFO or the chain (hook Na). Returns 0 or the reason to drop @pkt;
 * evicted packets are left in @evicted for the caller to drop after unlock. */
static int store_locked(struct ipk_equeue *q, struct ipk_pkt *pkt, uint64_t now,
			struct ipk_equeue_dropped *evicted)
{
	if (!q->chain) {
		ipk_pkt_list_push(&q->fifo, pkt);
		return 0;
	}
	return q->chain->ops->enqueue(q->chain->priv, pkt, now, evicted);
}

/* Enqueue under the lock; wakes a blocked consumer, and sets *ring to the waker to ring
 * after unlock when the queue turned non-empty. Returns 0 or the reason @pkt must be
 * dropped (by the caller, after unlock). */
static int put_locked(struct ipk_equeue *q, struct ipk_pkt *pkt,
		      struct ipk_equeue_dropped *evicted, struct ipk_event **ring)
{
	uint64_t now = ipk_clock_now_ns();
	bool was_empty = len_locked(q) == 0;
	int rc;

	atomic_fetch_add_explicit(&q->in, 1, memory_order_relaxed);
	if (q->closed)
		return IPK_DROP_HOOK_DETACHED;
	if (full_locked(q, pkt->len))
		return IPK_DROP_QUEUE_FULL;
	pkt->meta.enq_ns = now;
	rc = store_locked(q, pkt, now, evicted);
	publish_len(q);
	if (len_locked(q) > 0 && q->sleeping_get)
		pthread_cond_signal(&q->not_empty);
	*ring = was_empty && len_locked(q) > 0 ? q->waker : NULL;
	return rc;
}

/* Drops what put_locked() refused or evicted, and rings the waker it chose; after
 * unlock. */
static int put_finish(struct ipk_equeue *q, struct ipk_pkt *pkt, int rc,
		      struct ipk_equeue_dropped *evicted, struct ipk_event *ring)
{
	if (rc)
		ipk_pkt_drop(pkt, &q->drops, (enum ipk_drop_reason)rc);
	drop_all(q, evicted);
	if (ring)
		ipk_event_ring(ring);
	return rc;
}

int ipk_equeue_enqueue(struct ipk_equeue *q, struct ipk_pkt *pkt)
{
	struct ipk_equeue_dropped evicted = { 0 };
	struct ipk_event *ring = NULL;
	int rc;

	ipk_tap_hook(&q->tap[IPK_TAP_NA], pkt);
	pthread_mutex_lock(&q->lock);
	rc = put_locked(q, pkt, &evicted, &ring);
	pthread_mutex_unlock(&q->lock);
	return put_finish(q, pkt, rc, &evicted, ring);
}

int ipk_equeue_enqueue_wait(struct ipk_equeue *q, struct ipk_pkt *pkt, uint64_t timeout_ns)
{
	struct ipk_equeue_dropped evicted = { 0 };
	struct timespec deadline;
	struct ipk_event *ring = NULL;
	int rc = 0;

	ipk_tap_hook(&q->tap[IPK_TAP_NA], pkt);
	ipk_event_deadline(&deadline, timeout_ns);
	pthread_mutex_lock(&q->lock);
	while (!q->closed && full_locked(q, pkt->len) && rc != ETIMEDOUT) {
		q->sleeping_put++;
		rc = pthread_cond_timedwait(&q->not_full, &q->lock, &deadline);
		q->sleeping_put--;
	}
	rc = put_locked(q, pkt, &evicted, &ring);
	pthread_mutex_unlock(&q->lock);
	return put_finish(q, pkt, rc, &evicted, ring);
}

/* Takes the next packet (hook Nb); discarded ones land in @dropped. */
static struct ipk_pkt *get_locked(struct ipk_equeue *q, struct ipk_equeue_dropped *dropped)
{
	struct ipk_pkt *pkt;

	if (q->chain)
		pkt = q->chain->ops->dequeue(q->chain->priv, ipk_clock_now_ns(), dropped);
	else
		pkt = ipk_pkt_list_pop(&q->fifo);
	if (pkt)
		atomic_fetch_add_explicit(&q->out, 1, memory_order_relaxed);
	if ((pkt || dropped->count) && q->sleeping_put)
		pthread_cond_broadcast(&q->not_full);
	publish_len(q);
	return pkt;
}

struct ipk_pkt *ipk_equeue_dequeue(struct ipk_equeue *q)
{
	struct ipk_equeue_dropped dropped = { 0 };
	struct ipk_pkt *pkt;

	pthread_mutex_lock(&q->lock);
	pkt = get_locked(q, &dropped);
	pthread_mutex_unlock(&q->lock);
	ipk_tap_hook(&q->tap[IPK_TAP_NB], pkt);
	drop_all(q, &dropped);
	return pkt;
}

/* How long to sleep for a packet: the deadline, or sooner when a shaper holds one. */
static void get_deadline(struct ipk_equeue *q, const struct timespec *deadline,
			 struct timespec *ts)
{
	uint64_t wait_ns = IPK_EQUEUE_SHAPER_POLL_NS;
	struct timespec soon;

	*ts = *deadline;
	if (len_locked(q) == 0)
		return;
	if (q->chain->ops->next_ns) {
		uint64_t now = ipk_clock_now_ns();
		uint64_t next = q->chain->ops->next_ns(q->chain->priv, now);

		wait_ns = next > now ? next - now : 0;
	}
	ipk_event_deadline(&soon, wait_ns);
	if (soon.tv_sec < ts->tv_sec || (soon.tv_sec == ts->tv_sec && soon.tv_nsec < ts->tv_nsec))
		*ts = soon;
}

struct ipk_pkt *ipk_equeue_dequeue_wait(struct ipk_equeue *q, uint64_t timeout_ns)
{
	struct ipk_equeue_dropped dropped = { 0 };
	struct timespec deadline, ts;
	struct ipk_pkt *pkt;
	int rc = 0;

	ipk_event_deadline(&deadline, timeout_ns);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		pkt = get_locked(q, &dropped);
		if (pkt || rc == ETIMEDOUT || (q->closed && len_locked(q) == 0))
			break;
		get_deadline(q, &deadline, &ts);
		q->sleeping_get++;
		rc = pthread_cond_timedwait(&q->not_empty, &q->lock, &ts);
		q->sleeping_get--;
		if (rc == ETIMEDOUT && memcmp(&ts, &deadline, sizeof(ts)))
			rc = 0; /* woke for the shaper, not the caller's deadline */
	}
	pthread_mutex_unlock(&q->lock);
	ipk_tap_hook(&q->tap[IPK_TAP_NB], pkt);
	drop_all(q, &dropped);
	return pkt;
}

uint32_t ipk_equeue_len(const struct ipk_equeue *q)
{
	return atomic_load_explicit(&q->len, memory_order_relaxed);
}

uint64_t ipk_equeue_bytes(const struct ipk_equeue *q)
{
	return atomic_load_explicit(&q->bytes, memory_order_relaxed);
}

uint64_t ipk_equeue_wait_ns(struct ipk_equeue *q)
{
	uint64_t wait = UINT64_MAX;

	pthread_mutex_lock(&q->lock);
	if (len_locked(q) > 0) {
		wait = IPK_EQUEUE_SHAPER_POLL_NS;
		if (q->chain && q->chain->ops->next_ns) {
			uint64_t now = ipk_clock_now_ns();
			uint64_t next = q->chain->ops->next_ns(q->chain->priv, now);

			wait = next > now ? next - now : 0;
		}
		if (wait < IPK_EQUEUE_MIN_WAIT_NS)
			wait = IPK_EQUEUE_MIN_WAIT_NS;
	}
	pthread_mutex_unlock(&q->lock);
	return wait;
}

bool ipk_equeue_full(struct ipk_equeue *q, uint32_t len)
{
	bool full;

	pthread_mutex_lock(&q->lock);
	full = full_locked(q, len);
	pthread_mutex_unlock(&q->lock);
	return full;
}

/* Takes every held packet out of the current storage, in service order. */
static void take_all_locked(struct ipk_equeue *q, struct ipk_equeue_dropped *out)
{
	struct ipk_pkt *pkt;

	if (q->chain) {
		q->chain->ops->drain(q->chain->priv, out);
		return;
	}
	while ((pkt = ipk_pkt_list_pop(&q->fifo)))
		ipk_equeue_dropped_add(out, pkt);
}

static bool chain_valid(const struct ipk_equeue_chain *chain)
{
	const struct ipk_equeue_chain_ops *ops = chain->ops;

	return ops && ops->enqueue && ops->dequeue && ops->drain && ops->len_pkts &&
	       ops->len_bytes;
}

/* Stores the handed-over packets in order; refused ones (already counted) go to
 * @refused, evicted ones to @evicted. */
static void hand_over_locked(struct ipk_equeue *q, struct ipk_equeue_dropped *held,
			     struct ipk_equeue_dropped *refused, struct ipk_equeue_dropped *evicted)
{
	uint64_t now = ipk_clock_now_ns();
	struct ipk_pkt *pkt = held->head;

	while (pkt) {
		struct ipk_pkt *next = pkt->next;
		int rc = store_locked(q, pkt, now, evicted);

		if (rc) {
			/* Counted now, under each packet's own reason; freed after unlock. */
			ipk_drop_count(&q->drops, (enum ipk_drop_reason)rc);
			ipk_equeue_dropped_add(refused, pkt);
		}
		pkt = next;
	}
}

int ipk_equeue_attach(struct ipk_equeue *q, struct ipk_equeue_chain *chain,
		      struct ipk_equeue_chain **old)
{
	struct ipk_equeue_dropped held = { 0 }, refused = { 0 }, evicted = { 0 };
	struct ipk_event *waker;

	if (chain && !chain_valid(chain))
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	waker = q->waker;
	take_all_locked(q, &held);
	*old = q->chain;
	q->chain = chain;
	hand_over_locked(q, &held, &refused, &evicted);
	publish_len(q);
	if (q->sleeping_put)
		pthread_cond_broadcast(&q->not_full);
	if (q->sleeping_get)
		pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	while (refused.head) {
		struct ipk_pkt *pkt = refused.head;

		refused.head = pkt->next;
		ipk_pkt_drop(pkt, NULL, IPK_DROP_NONE); /* counted in hand_over_locked() */
	}
	drop_all(q, &evicted);
	/* The new chain may hand out what the old one held back: let the poller look. */
	if (waker)
		ipk_event_ring(waker);
	return 0;
}

void ipk_equeue_close(struct ipk_equeue *q)
{
	struct ipk_event *waker;

	pthread_mutex_lock(&q->lock);
	q->closed = true;
	waker = q->waker;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	if (waker)
		ipk_event_ring(waker);
}

uint32_t ipk_equeue_flush(struct ipk_equeue *q, enum ipk_drop_reason reason)
{
	struct ipk_equeue_dropped held = { 0 };
	uint32_t n;

	pthread_mutex_lock(&q->lock);
	take_all_locked(q, &held);
	publish_len(q);
	if (q->sleeping_put)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	held.why = reason;
	n = held.count;
	drop_all(q, &held);
	return n;
}

void ipk_equeue_locked(struct ipk_equeue *q, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&q->lock);
	fn(arg);
	pthread_mutex_unlock(&q->lock);
}
