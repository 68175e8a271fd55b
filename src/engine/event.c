// SPDX-License-Identifier: BSD-2-Clause
#include "engine/event.h"

#include <errno.h>
#include <time.h>

uint64_t ipk_event_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ipk_event_deadline(struct timespec *ts, uint64_t timeout_ns)
{
	uint64_t at;

	/* Far enough to mean "no limit" without overflowing time_t arithmetic. */
	if (timeout_ns > 100000ull * 1000000000ull)
		timeout_ns = 100000ull * 1000000000ull;
	at = ipk_event_mono_ns() + timeout_ns;
	ts->tv_sec = (time_t)(at / 1000000000ull);
	ts->tv_nsec = (long)(at % 1000000000ull);
}

int ipk_event_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	rc = pthread_condattr_init(&attr);
	if (rc)
		return -rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -rc;
}

int ipk_event_init(struct ipk_event *ev)
{
	int rc = pthread_mutex_init(&ev->lock, NULL);

	if (rc)
		return -rc;
	atomic_init(&ev->seq, 0);
	rc = ipk_event_cond_init(&ev->cond);
	if (rc)
		pthread_mutex_destroy(&ev->lock);
	return rc;
}

void ipk_event_fini(struct ipk_event *ev)
{
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->lock);
}

void ipk_event_ring(struct ipk_event *ev)
{
	/* Under the lock, so that a waiter between its check and its sleep cannot miss it. */
	pthread_mutex_lock(&ev->lock);
	/* Release: pairs with the acquire load in ipk_event_seq(); what the ringer published
	 * before ringing (a packet in a queue) is visible to a poller that sees the ring. */
	atomic_fetch_add_explicit(&ev->seq, 1, memory_order_release);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->lock);
}

uint64_t ipk_event_seq(struct ipk_event *ev)
{
	/* Lock-free: the poller reads it once per round. Acquire: pairs with the release in
	 * ipk_event_ring(). */
	return atomic_load_explicit(&ev->seq, memory_order_acquire);
}

bool ipk_event_wait(struct ipk_event *ev, uint64_t seen, uint64_t timeout_ns)
{
	struct timespec ts;
	bool rang;
	int rc = 0;

	ipk_event_deadline(&ts, timeout_ns);
	pthread_mutex_lock(&ev->lock);
	while (atomic_load_explicit(&ev->seq, memory_order_relaxed) == seen && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
	rang = atomic_load_explicit(&ev->seq, memory_order_relaxed) != seen;
	pthread_mutex_unlock(&ev->lock);
	return rang;
}
