// SPDX-License-Identifier: BSD-2-Clause
#include "engine/scheduler.h"

#include <errno.h>
#include <string.h>

#include "engine/equeue.h"
#include "engine/lookup.h"
#include "engine/mtu.h"
#include "proto/esp.h"
#include "sa/sa.h"
#include "sa/spd.h"

/* How often an idle scheduler expires fragment sets when it holds some. */
#define EXPIRE_NS (1000ull * 1000 * 1000)

/*
 * Bundle state that does not fit the packet metadata lives in the packet's SA record
 * (core/pkt.h, struct ipk_pkt_sa_refs), each SA with a reference. Outbound: every SA of
 * the bundle, taken from the policy at the first pass, so that later passes read neither
 * the policy nor the SPD (which may change meanwhile: scheduler.h, "Holding the
 * lookups"). Inbound: the SAs whose ESP layers were removed before the current one, for
 * the policy check. The encapsulation of the whole bundle must leave the record untouched:
 * checked before it is written (refs_fit). Decapsulation only shrinks data.
 */
_Static_assert(IPK_PKT_SA_REFS_MAX >= IPK_BUNDLE_MAX, "a bundle's SAs fit the record");

static bool refs_fit(const struct ipk_pkt *pkt, uint32_t growth)
{
	return (uint64_t)pkt->head + pkt->len + growth + sizeof(struct ipk_pkt_sa_refs) <=
	       pkt->room;
}

/* Adds @sa (with a reference) at place @pos of @r. */
static void refs_set(struct ipk_pkt_sa_refs *r, uint32_t pos, struct ipk_sa *sa)
{
	if (sa)
		ipk_sa_get(sa);
	r->sa[pos] = sa;
	if (r->n <= pos)
		r->n = pos + 1;
}

static void count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void drop(struct ipk_sched *s, struct ipk_pkt *pkt, int reason)
{
	ipk_pkt_drop(pkt, &s->drops, (enum ipk_drop_reason)reason);
}

/* The packet holds a reference on the SA it is being processed with (STYLE §3.6). */
static void set_sa(struct ipk_pkt *pkt, struct ipk_sa *sa)
{
	if (pkt->meta.sa)
		ipk_sa_put(pkt->meta.sa);
	if (sa)
		ipk_sa_get(sa);
	pkt->meta.sa = sa;
}

static void to_main(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	set_sa(pkt, NULL);
	ipk_pkt_sa_refs_put(pkt);
	ipk_equeue_enqueue(s->q_main_out, pkt);
}

static void to_crypto(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	count(&s->stats.to_crypto);
	ipk_equeue_enqueue(s->q_crypto_in, pkt);
}

/* Worst growth of the data end when the whole bundle is applied. */
static uint32_t bundle_growth(const struct ipk_policy *pol)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < pol->params.n_sa; i++)
		if (pol->sa[i])
			sum += ipk_esp_overhead(pol->sa[i]);
	return sum;
}

/* RFC 4301 §8.1, RFC 1191: a packet the SA's path cannot carry whole and must not be
 * fragmented is dropped, the sender told (engine/mtu.h). The error needs no SA and goes
 * toward the plaintext side. Returns true when @pkt was dropped. */
static bool too_big(struct ipk_sched *s, const struct ipk_sa *sa, struct ipk_pkt *pkt)
{
	struct ipk_pkt *reply;
	int rc = ipk_mtu_check(&s->mtu, sa, pkt, &reply);

	if (!rc)
		return false;
	drop(s, pkt, rc);
	if (reply)
		ipk_equeue_enqueue(s->q_main_out, reply);
	return true;
}

/* RFC 4301 §8.1: the ESP packet longer than the last SA's path MTU leaves in fragments. */
static void out_last(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	struct ipk_pkt_list frags = { 0 };
	uint32_t mtu = pkt->meta.sa ? pkt->meta.sa->params.mtu : 0;

	if (pkt->len > mtu && mtu) {
		/* The pieces carry no SA reference; the packet gives its own up first. */
		set_sa(pkt, NULL);
		if (ipk_mtu_fragment(&s->mtu, mtu, pkt, &frags, &s->drops))
			return;
		while ((pkt = ipk_pkt_list_pop(&frags)))
			to_main(s, pkt);
		return;
	}
	to_main(s, pkt);
}

static void out_first(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	struct ipk_policy *pol;
	struct ipk_sa *sa;
	int rc = ipk_lookup_out(s->spd, pkt, &pol);

	if (rc)
		return drop(s, pkt, rc);
	if (pol->params.action == IPK_ACTION_BYPASS) {
		count(&s->stats.bypassed);
		return to_main(s, pkt);
	}
	rc = ipk_lookup_first_sa(pol, pkt, &sa);
	if (rc)
		return drop(s, pkt, rc);
	if (too_big(s, sa, pkt))
		return;
	if (pol->params.n_sa > 1) {
		struct ipk_pkt_sa_refs r = { .n = 0 };

		if (!refs_fit(pkt, bundle_growth(pol)))
			return drop(s, pkt, IPK_DROP_TOO_BIG);
		for (uint32_t i = 0; i < pol->params.n_sa; i++)
			refs_set(&r, i, pol->sa[i]);
		ipk_pkt_sa_refs_write(pkt, &r);
	}
	set_sa(pkt, sa);
	pkt->meta.bundle_pos = 0;
	to_crypto(s, pkt);
}

static void out_next(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	uint32_t pos = pkt->meta.bundle_pos + 1u;
	struct ipk_pkt_sa_refs r;
	struct ipk_sa *sa;
	int rc;

	if (pkt->meta.flags & IPK_PKT_F_SA_REFS) {
		ipk_pkt_sa_refs_read(pkt, &r);
		if (pos < r.n) {
			sa = r.sa[pos];
			rc = ipk_lookup_sa_usable(sa);
			if (rc)
				return drop(s, pkt, rc);
			set_sa(pkt, sa);
			pkt->meta.bundle_pos = (uint16_t)pos;
			return to_crypto(s, pkt);
		}
		ipk_pkt_sa_refs_put(pkt); /* the pieces of out_last() must not inherit them */
	}
	count(&s->stats.protected_pkts);
	out_last(s, pkt);
}

static void in_first(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	uint32_t esp_off;
	struct ipk_sa *sa;
	int rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info);

	if (rc)
		return drop(s, pkt, rc);
	if (info.is_fragment) {
		pkt = ipk_defrag_feed(&s->defrag, pkt, &info);
		if (!pkt)
			return;
	}
	if (!ipk_lookup_is_esp(s->natt_port, pkt)) {
		rc = ipk_lookup_in_plain(s->spd, pkt);
		if (rc)
			return drop(s, pkt, rc);
		count(&s->stats.bypassed);
		return to_main(s, pkt);
	}
	rc = ipk_lookup_in_sa(s->sad, s->natt_port, pkt, &info, &sa, &esp_off);
	if (rc)
		return drop(s, pkt, rc);
	set_sa(pkt, sa);
	pkt->meta.bundle_pos = 0;
	to_crypto(s, pkt);
}

/* Another layer of ours inside: remember the SA just removed, go round again. */
static void in_again(struct ipk_sched *s, struct ipk_pkt *pkt, struct ipk_sa *next)
{
	uint32_t pos = pkt->meta.bundle_pos;
	struct ipk_pkt_sa_refs r = { .n = 0 };

	if (pkt->meta.flags & IPK_PKT_F_SA_REFS)
		ipk_pkt_sa_refs_read(pkt, &r);
	else if (!refs_fit(pkt, 0))
		return drop(s, pkt, IPK_DROP_TOO_BIG);
	refs_set(&r, pos, pkt->meta.sa);
	ipk_pkt_sa_refs_write(pkt, &r);
	set_sa(pkt, next);
	pkt->meta.bundle_pos = (uint16_t)(pos + 1);
	to_crypto(s, pkt);
}

static void in_next(struct ipk_sched *s, struct ipk_pkt *pkt)
{
	uint32_t pos = pkt->meta.bundle_pos, esp_off;
	struct ipk_ip_info info;
	struct ipk_flow flow;
	struct ipk_pkt_sa_refs r = { .n = 0 };
	struct ipk_sa *sa;

	if (ipk_lookup_parse_flow(pkt, &info, &flow))
		return drop(s, pkt, IPK_DROP_INNER_MISMATCH);
	/* Only ESP for one of our inbound SAs is another layer of a bundle; anything else (a
	 * host's own UDP 4500 traffic, someone else's ESP) is payload, as in inline.c. */
	if (pos + 1 < IPK_BUNDLE_MAX &&
	    !ipk_lookup_in_sa(s->sad, s->natt_port, pkt, &info, &sa, &esp_off))
		return in_again(s, pkt, sa);
	if (pkt->meta.flags & IPK_PKT_F_SA_REFS)
		ipk_pkt_sa_refs_read(pkt, &r);
	r.sa[pos] = pkt->meta.sa; /* the packet's own reference covers it */
	if (!ipk_lookup_in_allowed(s->spd, &flow, r.sa, pos + 1))
		return drop(s, pkt, IPK_DROP_POLICY_MISMATCH);
	count(&s->stats.decrypted);
	to_main(s, pkt);
}

bool ipk_sched_step(struct ipk_sched *s)
{
	struct ipk_pkt *pkt = ipk_equeue_dequeue(s->q_crypto_out);

	if (pkt) {
		count(&s->stats.from_crypto);
		if (pkt->meta.dir == IPK_DIR_OUT)
			out_next(s, pkt);
		else
			in_next(s, pkt);
		return true;
	}
	pkt = ipk_equeue_dequeue(s->q_main_in);
	if (!pkt)
		return false;
	count(&s->stats.from_main);
	if (pkt->meta.dir == IPK_DIR_OUT)
		out_first(s, pkt);
	else
		in_first(s, pkt);
	return true;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* How long to sleep when both queues gave nothing: until a chain that holds packets back
 * (a shaper at hook 1b or 4b) may release one, or the next fragment expiry. */
static uint64_t idle_timeout(struct ipk_sched *s)
{
	uint64_t t = min_u64(ipk_equeue_wait_ns(s->q_crypto_out),
			     ipk_equeue_wait_ns(s->q_main_in));

	return s->defrag.reasm ? min_u64(t, EXPIRE_NS) : t;
}

/* Parks until the hold is released (or stop). Between two packets: nothing of the SAD or
 * SPD is in hand. The lock orders this thread's last reads of the tables before the
 * control plane's changes, and those changes before the next reads. */
static void park(struct ipk_sched *s)
{
	pthread_mutex_lock(&s->hold_lock);
	s->held = true;
	pthread_cond_broadcast(&s->hold_cond);
	while (atomic_load_explicit(&s->hold_req, memory_order_relaxed) &&
	       !atomic_load_explicit(&s->stop, memory_order_relaxed))
		pthread_cond_wait(&s->hold_cond, &s->hold_lock);
	s->held = false;
	pthread_mutex_unlock(&s->hold_lock);
}

int ipk_sched_hold(struct ipk_sched *s, uint64_t timeout_ns)
{
	struct timespec deadline;
	int rc = 0;

	if (!s->started)
		return 0;
	ipk_event_deadline(&deadline, timeout_ns);
	pthread_mutex_lock(&s->hold_lock);
	atomic_store_explicit(&s->hold_req, true, memory_order_relaxed);
	pthread_mutex_unlock(&s->hold_lock);
	ipk_event_ring(&s->ev); /* it may be asleep waiting for packets */
	pthread_mutex_lock(&s->hold_lock);
	while (!s->held && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->hold_cond, &s->hold_lock, &deadline);
	if (!s->held) {
		atomic_store_explicit(&s->hold_req, false, memory_order_relaxed);
		pthread_cond_broadcast(&s->hold_cond);
	}
	rc = s->held ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&s->hold_lock);
	return rc;
}

void ipk_sched_release(struct ipk_sched *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->hold_lock);
	atomic_store_explicit(&s->hold_req, false, memory_order_relaxed);
	pthread_cond_broadcast(&s->hold_cond);
	pthread_mutex_unlock(&s->hold_lock);
}

static void *sched_thread(void *arg)
{
	struct ipk_sched *s = arg;

	pthread_setname_np(pthread_self(), "ipk-sched");
	/* Acquire: pairs with the release store in ipk_sched_stop(). */
	while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
		uint64_t seen = ipk_event_seq(&s->ev);

		if (atomic_load_explicit(&s->hold_req, memory_order_relaxed)) {
			park(s);
			continue;
		}
		if (ipk_sched_step(s))
			continue;
		if (!ipk_event_wait(&s->ev, seen, idle_timeout(s)))
			ipk_defrag_expire(&s->defrag);
	}
	return NULL;
}

int ipk_sched_init(struct ipk_sched *s, struct ipk_equeue *const q[4], const struct ipk_sad *sad,
		   const struct ipk_spd *spd, uint16_t natt_port, struct ipk_pool *reasm_pool)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->q_main_in = q[0];
	s->q_main_out = q[1];
	s->q_crypto_in = q[2];
	s->q_crypto_out = q[3];
	s->sad = sad;
	s->spd = spd;
	s->natt_port = natt_port;
	ipk_mtu_init(&s->mtu, IPK_MTU_ICMP_RATE, IPK_MTU_ICMP_BURST);
	rc = ipk_event_init(&s->ev);
	if (rc)
		return rc;
	rc = ipk_defrag_init(&s->defrag, reasm_pool);
	if (rc) {
		ipk_event_fini(&s->ev);
		return rc;
	}
	pthread_mutex_init(&s->hold_lock, NULL);
	rc = ipk_event_cond_init(&s->hold_cond);
	if (rc) {
		pthread_mutex_destroy(&s->hold_lock);
		ipk_defrag_fini(&s->defrag);
		ipk_event_fini(&s->ev);
		return rc;
	}
	ipk_equeue_set_waker(s->q_main_in, &s->ev);
	ipk_equeue_set_waker(s->q_crypto_out, &s->ev);
	return 0;
}

int ipk_sched_start(struct ipk_sched *s)
{
	int rc = pthread_create(&s->thread, NULL, sched_thread, s);

	s->started = rc == 0;
	return -rc;
}

void ipk_sched_stop(struct ipk_sched *s)
{
	if (!s->started)
		return;
	atomic_store_explicit(&s->stop, true, memory_order_release);
	ipk_event_ring(&s->ev);
	pthread_mutex_lock(&s->hold_lock); /* a parked thread sees stop too */
	pthread_cond_broadcast(&s->hold_cond);
	pthread_mutex_unlock(&s->hold_lock);
	pthread_join(s->thread, NULL);
	s->started = false;
}

void ipk_sched_fini(struct ipk_sched *s)
{
	ipk_equeue_set_waker(s->q_main_in, NULL);
	ipk_equeue_set_waker(s->q_crypto_out, NULL);
	ipk_defrag_fini(&s->defrag);
	pthread_cond_destroy(&s->hold_cond);
	pthread_mutex_destroy(&s->hold_lock);
	ipk_event_fini(&s->ev);
}
