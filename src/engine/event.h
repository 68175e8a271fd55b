/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A doorbell for an engine thread that waits on more than one source (the packet scheduler
 * waits on queues 1 and 4, the crypto dispatcher on queue 3 and on units asking for
 * work). A source rings it; the waiter sleeps on a condition variable, never spins.
 *
 * No lost wake-ups: the waiter reads ipk_event_seq() BEFORE it polls its sources, and
 * passes that value to ipk_event_wait(), which returns at once if anything rang since.
 *
 * Threads: any number of ringers, one or more waiters.
 */
#ifndef IPK_ENGINE_EVENT_H
#define IPK_ENGINE_EVENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ipk_event {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	_Atomic uint64_t seq; /* rings so far; written under lock, read without */
};

/* Returns 0 or a negative errno from pthreads. */
int ipk_event_init(struct ipk_event *ev);
void ipk_event_fini(struct ipk_event *ev);
/* Wakes every waiter. Any thread. */
void ipk_event_ring(struct ipk_event *ev);
/* The ring count now; read it before polling the sources. */
uint64_t ipk_event_seq(struct ipk_event *ev);
/* Sleeps until the ring count differs from @seen or @timeout_ns passed (UINT64_MAX:
 * no limit). Returns true if it rang. */
bool ipk_event_wait(struct ipk_event *ev, uint64_t seen, uint64_t timeout_ns);

/* Absolute CLOCK_MONOTONIC deadline @timeout_ns from now, for pthread_cond_timedwait on a
 * condition variable created by ipk_event_cond_init(). */
void ipk_event_deadline(struct timespec *ts, uint64_t timeout_ns);
/* Initialises @cond on CLOCK_MONOTONIC. Returns 0 or a negative errno. */
int ipk_event_cond_init(pthread_cond_t *cond);
/* CLOCK_MONOTONIC in ns (real time even when core/clock.h runs on a fake clock: threads
 * sleep in real time). */
uint64_t ipk_event_mono_ns(void);

#endif
