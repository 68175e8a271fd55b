// SPDX-License-Identifier: BSD-2-Clause
#include "engine/dispatcher.h"

#include <string.h>

#include "engine/unit.h"
#include "sa/sa.h"

int ipk_dispatch_init(struct ipk_dispatch *d, struct ipk_equeue *q_crypto_in,
		      struct ipk_unit *units, uint32_t n_units, uint32_t hook5_limit)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->q_crypto_in = q_crypto_in;
	d->units = units;
	d->n_units = n_units;
	rc = ipk_event_init(&d->ev);
	if (rc)
		return rc;
	rc = ipk_equeue_init(&d->hook5, "hook5", hook5_limit, 0);
	if (rc) {
		ipk_event_fini(&d->ev);
		return rc;
	}
	ipk_equeue_set_waker(q_crypto_in, &d->ev);
	return 0;
}

/* Moves packets from queue 3 into hook 5a while it has room. Returns how many. Only this
 * thread enqueues into hook 5, so room seen stays room. */
static uint32_t refill(struct ipk_dispatch *d)
{
	uint32_t n = 0;

	while (n < IPK_DISPATCH_BATCH && ipk_equeue_len(&d->hook5) < d->hook5.limit_pkts) {
		struct ipk_pkt *pkt = ipk_equeue_dequeue(d->q_crypto_in);

		if (!pkt)
			break;
		ipk_equeue_enqueue(&d->hook5, pkt);
		n++;
	}
	return n;
}

/* Offers @pkt to the units, round robin from d->rr. */
static bool give(struct ipk_dispatch *d, struct ipk_pkt *pkt)
{
	for (uint32_t i = 0; i < d->n_units; i++) {
		uint32_t k = (d->rr + i) % d->n_units;

		if (ipk_unit_offer(&d->units[k], pkt)) {
			d->rr = (k + 1) % d->n_units;
			atomic_fetch_add_explicit(&d->dispatched, 1, memory_order_relaxed);
			return true;
		}
	}
	return false;
}

static void set_pending(struct ipk_dispatch *d, struct ipk_pkt *pkt)
{
	d->pending = pkt;
	atomic_store_explicit(&d->n_pending, pkt != NULL, memory_order_relaxed);
}

/* True when some unit would take a packet now. */
static bool any_unit_wants(struct ipk_dispatch *d)
{
	for (uint32_t i = 0; i < d->n_units; i++)
		if (ipk_unit_wants(&d->units[i]))
			return true;
	return false;
}

/* Hands packets from hook 5b to units until none can take the next one. Returns how many
 * packets left the dispatcher (given or dropped).
 *
 * A packet leaves hook 5b only when a unit wants work: taken out earlier, it would wait
 * here, outside the QoS chain, and an EF packet arriving meanwhile would queue behind it.
 * A packet is held (pending) only when the units that want work cannot apply its
 * algorithm. */
static uint32_t hand_out(struct ipk_dispatch *d)
{
	uint32_t n = 0;

	for (;;) {
		struct ipk_pkt *pkt;
		enum ipk_alg_id alg;

		if (!d->pending && !any_unit_wants(d))
			break;
		pkt = d->pending ? d->pending : ipk_equeue_dequeue(&d->hook5);
		if (!pkt)
			break;
		alg = pkt->meta.sa->rt.alg->id;
		if (!((d->caps_any >> alg) & 1u)) {
			set_pending(d, NULL);
			ipk_pkt_drop(pkt, &d->drops, IPK_DROP_UNSUPPORTED);
		} else if (give(d, pkt)) {
			set_pending(d, NULL);
		} else {
			set_pending(d, pkt);
			break;
		}
		n++;
	}
	return n;
}

/* How long to sleep when nothing moved: until a chain that holds packets back (a shaper at
 * hook 3b or 5b) may release one. Packets ready at 5b wait for a unit to ask, which rings
 * us; so do packets ready at 3b while hook 5 is full. */
static uint64_t idle_timeout(struct ipk_dispatch *d)
{
	uint64_t t3 = UINT64_MAX, t5 = UINT64_MAX;

	if (ipk_equeue_len(&d->hook5) < d->hook5.limit_pkts)
		t3 = ipk_equeue_wait_ns(d->q_crypto_in);
	if (!d->pending && any_unit_wants(d))
		t5 = ipk_equeue_wait_ns(&d->hook5);
	return t3 < t5 ? t3 : t5;
}

static void *dispatch_thread(void *arg)
{
	struct ipk_dispatch *d = arg;

	pthread_setname_np(pthread_self(), "ipk-dispatch");
	/* Acquire: pairs with the release store in ipk_dispatch_stop(). */
	while (!atomic_load_explicit(&d->stop, memory_order_acquire)) {
		uint64_t seen = ipk_event_seq(&d->ev);
		uint32_t moved = refill(d);

		if (hand_out(d) + moved)
			continue;
		atomic_fetch_add_explicit(&d->waits, 1, memory_order_relaxed);
		ipk_event_wait(&d->ev, seen, idle_timeout(d));
	}
	return NULL;
}

int ipk_dispatch_start(struct ipk_dispatch *d)
{
	int rc;

	d->caps_any = 0;
	atomic_store_explicit(&d->stop, false, memory_order_relaxed);
	for (uint32_t i = 0; i < d->n_units; i++)
		d->caps_any |= d->units[i].cfg.caps;
	rc = pthread_create(&d->thread, NULL, dispatch_thread, d);
	d->started = rc == 0;
	return -rc;
}

void ipk_dispatch_stop(struct ipk_dispatch *d)
{
	if (!d->started)
		return;
	atomic_store_explicit(&d->stop, true, memory_order_release);
	ipk_event_ring(&d->ev);
	pthread_join(d->thread, NULL);
	d->started = false;
}

uint32_t ipk_dispatch_flush(struct ipk_dispatch *d)
{
	uint32_t n = d->pending != NULL;

	if (d->pending)
		ipk_pkt_drop(d->pending, &d->drops, IPK_DROP_HOOK_DETACHED);
	set_pending(d, NULL);
	return n + ipk_equeue_flush(&d->hook5, IPK_DROP_HOOK_DETACHED);
}

void ipk_dispatch_fini(struct ipk_dispatch *d)
{
	ipk_dispatch_flush(d);
	ipk_equeue_set_waker(d->q_crypto_in, NULL);
	ipk_equeue_fini(&d->hook5);
	ipk_event_fini(&d->ev);
}

uint32_t ipk_dispatch_held(const struct ipk_dispatch *d)
{
	return ipk_equeue_len(&d->hook5) + atomic_load_explicit(&d->n_pending,
							     memory_order_relaxed);
}
