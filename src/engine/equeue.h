/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Engine queue: queues 1-4 of the packet path (DESIGN.md "The packet path") and the
 * dispatcher's hook 5. A bounded FIFO (limits in packets and bytes) with two hooks: the
 * enqueue side `Na` and the dequeue side `Nb`. With nothing attached the queue is its own
 * FIFO. A chain (struct ipk_equeue_chain: a QoS tree of classifier, class queues and a
 * dequeue discipline) replaces that FIFO: its enqueue op runs at hook Na, its dequeue op
 * at hook Nb, and together they look like one queue.
 *
 * Limits: limit_pkts and limit_bytes bound the default FIFO. Over the limit, a
 * non-blocking enqueue drops the packet (queue-full); a blocking one sleeps until there is
 * room. An attached chain owns admission instead: its class queues are each bounded (every
 * QoS queue has a limit) and it decides which class loses when they fill. Were the
 * queue's own limit checked first, a flood of one class could fill it and an EF packet
 * would be refused before the classifier saw it. The packet pool bounds the sum.
 *
 * Drops: every packet refused or evicted at Na, or discarded by a chain at Nb, is dropped
 * with ipk_pkt_drop() into this queue's `drops`, per reason, after the lock is released
 * (STYLE §3.4). For every queue: in == out + drops + len.
 *
 * Attaching, detaching and replacing a chain: the queue lock that serialises enqueue and
 * dequeue also serialises ipk_equeue_attach(), so a swap is atomic with respect to
 * packets: no packet is ever enqueued to the old chain after the swap, nor dequeued from
 * it. Under that lock the packets the old chain still holds are taken out in its service
 * order (ops->drain) and enqueued to the new one in that order. This is as sound as
 * publishing with RCU and a grace period, and simpler: the price is that a swap holds the
 * lock for the length of the handover (a few microseconds per held packet), while RCU
 * would let traffic flow through the new chain during it. docs/engine.md has the argument.
 *
 * Threads: multi-producer, multi-consumer; one mutex and two condition variables per
 * queue. Idle callers sleep (blocking calls) and never spin. ipk_equeue_attach() may be
 * called from any thread (the control plane) while traffic flows. Chain ops run under the
 * queue lock, so a chain sees one caller at a time.
 */
#ifndef IPK_ENGINE_EQUEUE_H
#define IPK_ENGINE_EQUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "engine/tap.h"

struct ipk_event;

/* Shortest sleep ipk_equeue_wait_ns() suggests: a chain whose next_ns says "now" but whose
 * dequeue still returns nothing must not make a poller spin. */
#define IPK_EQUEUE_MIN_WAIT_NS 10000ull
/* Sleep suggested for a chain that holds packets back and cannot say until when. */
#define IPK_EQUEUE_SHAPER_POLL_NS 1000000ull

/* Packets a chain hands back to be dropped, linked through pkt->next, all for one reason. */
struct ipk_equeue_dropped {
	struct ipk_pkt *head;
	struct ipk_pkt *tail;
	uint32_t count;
	enum ipk_drop_reason why;
};

/* Appends @pkt (for chain implementations). */
void ipk_equeue_dropped_add(struct ipk_equeue_dropped *l, struct ipk_pkt *pkt);

/*
 * What a chain provides. Every op is called with the queue lock held, so never from two
 * threads at once. A chain never frees a packet (STYLE §3.2).
 */
struct ipk_equeue_chain_ops {
	const char *name;
	/* Hook Na. Returns 0 when the chain now owns @pkt, or a drop reason (@pkt stays with
	 * the caller, who drops it). Packets evicted to make room go to @evicted. */
	int (*enqueue)(void *priv, struct ipk_pkt *pkt, uint64_t now,
		       struct ipk_equeue_dropped *evicted);
	/* Hook Nb. The next packet to leave (the caller owns it) or NULL. Packets discarded
	 * on the way (CoDel) go to @dropped. NULL with len_pkts > 0 means "not yet" (shaper). */
	struct ipk_pkt *(*dequeue)(void *priv, uint64_t now, struct ipk_equeue_dropped *dropped);
	/* Removes every held packet, in service order, ignoring shapers: the handover of a
	 * swap and the flush at shutdown. Appends them to @out (its `why` is unused). */
	void (*drain)(void *priv, struct ipk_equeue_dropped *out);
	uint32_t (*len_pkts)(const void *priv);
	uint64_t (*len_bytes)(const void *priv);
	/* Optional: earliest time >= @now at which dequeue may return a packet. */
	uint64_t (*next_ns)(void *priv, uint64_t now);
};

struct ipk_equeue_chain {
	const struct ipk_equeue_chain_ops *ops;
	void *priv;
};

struct ipk_equeue {
	char name[16];
	pthread_mutex_t lock;
	pthread_cond_t not_empty;     /* CLOCK_MONOTONIC */
	pthread_cond_t not_full;
	struct ipk_pkt_list fifo;     /* the default FIFO; empty while a chain is attached */
	uint32_t limit_pkts;          /* >= 1; the default FIFO's */
	uint64_t limit_bytes;         /* 0: no byte limit */
	struct ipk_equeue_chain *chain; /* NULL: the default FIFO */
	struct ipk_event *waker;      /* rung when the queue turns non-empty; may be NULL */
	bool closed;
	uint32_t sleeping_get, sleeping_put;
	/* Read without the lock by stats (relaxed); written under the lock. */
	_Atomic uint64_t in;          /* every enqueue attempt */
	_Atomic uint64_t out;         /* every packet dequeued */
	_Atomic uint32_t len;         /* packets held now */
	_Atomic uint64_t bytes;       /* bytes held now */
	_Atomic uint32_t max_len;     /* most packets ever held */
	struct ipk_drop_stats drops;
	struct ipk_tap_point tap[2];  /* capture at Na, Nb (engine/tap.h) */
};

/* Sets up an empty queue named @name. Returns 0, -EINVAL (limit_pkts 0) or an errno from
 * pthreads. Control plane. */
int ipk_equeue_init(struct ipk_equeue *q, const char *name, uint32_t limit_pkts,
		    uint64_t limit_bytes);
/* Drops what is still held (hook-detached, counted) and frees the locks. No other thread
 * may use the queue any more. */
void ipk_equeue_fini(struct ipk_equeue *q);
/* @ev is rung whenever the queue turns non-empty (set before traffic starts). */
void ipk_equeue_set_waker(struct ipk_equeue *q, struct ipk_event *ev);

/* Non-blocking enqueue. Consumes @pkt: queued, or dropped and counted here. Returns 0 or
 * the drop reason (queue-full, hook-detached after close, or the chain's). Any thread. */
int ipk_equeue_enqueue(struct ipk_equeue *q, struct ipk_pkt *pkt);
/* Blocking enqueue: sleeps while the default FIFO is at its limit (an attached chain
 * admits or refuses at once), at most @timeout_ns
 * (UINT64_MAX: until there is room or the queue closes). Consumes @pkt as above. */
int ipk_equeue_enqueue_wait(struct ipk_equeue *q, struct ipk_pkt *pkt, uint64_t timeout_ns);
/* Non-blocking dequeue: the next packet (the caller owns it) or NULL. Any thread. */
struct ipk_pkt *ipk_equeue_dequeue(struct ipk_equeue *q);
/* Blocking dequeue: sleeps while empty, at most @timeout_ns (UINT64_MAX: until a packet
 * comes or the queue is closed and empty). NULL on timeout or close. */
struct ipk_pkt *ipk_equeue_dequeue_wait(struct ipk_equeue *q, uint64_t timeout_ns);

/* Packets and bytes held now (relaxed reads; exact when no other thread is using it). */
uint32_t ipk_equeue_len(const struct ipk_equeue *q);
uint64_t ipk_equeue_bytes(const struct ipk_equeue *q);
/* For a thread that polls this queue among others and sleeps on an event: how long it may
 * sleep before this queue could hand out a packet without a new enqueue ringing it.
 * UINT64_MAX when empty; for a chain that holds packets back (a shaper), the time until
 * its next_ns (at least IPK_EQUEUE_MIN_WAIT_NS; IPK_EQUEUE_SHAPER_POLL_NS without
 * next_ns). Any thread. */
uint64_t ipk_equeue_wait_ns(struct ipk_equeue *q);
/* True when a packet of @len bytes would be refused as queue-full now. */
bool ipk_equeue_full(struct ipk_equeue *q, uint32_t len);

/*
 * Attaches @chain at hooks Na/Nb (NULL: back to the default FIFO) and returns the chain it
 * replaced in *@old (NULL: it was the default FIFO). Under the queue lock the held
 * packets move, in order, from the old storage to the new; those the new chain refuses
 * are dropped and counted under its reason. The old chain is empty afterwards and belongs
 * to the caller again. Any thread, while traffic flows. Returns 0, or -EINVAL when @chain
 * lacks a mandatory op.
 */
int ipk_equeue_attach(struct ipk_equeue *q, struct ipk_equeue_chain *chain,
		      struct ipk_equeue_chain **old);

/* Runs @fn(@arg) under the queue lock: what reads an attached chain's state (its
 * components' counters and lengths, which the packet path changes under that lock) sees
 * it whole. @fn must not call back into the queue. Any thread. */
void ipk_equeue_locked(struct ipk_equeue *q, void (*fn)(void *arg), void *arg);

/* Refuses new packets (they drop as hook-detached) and wakes every sleeper; packets held
 * can still be dequeued. */
void ipk_equeue_close(struct ipk_equeue *q);
/* Drops every held packet under @reason (counted here). Returns how many. */
uint32_t ipk_equeue_flush(struct ipk_equeue *q, enum ipk_drop_reason reason);

#endif
