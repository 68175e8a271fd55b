// SPDX-License-Identifier: BSD-2-Clause
#include "engine/unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/equeue.h"
#include "engine/event.h"
#include "engine/pace.h"
#include "proto/esp.h"
#include "sa/sa.h"

void ipk_unit_config_init(struct ipk_unit_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->caps = IPK_UNIT_ALL_ALGS;
	cfg->high = IPK_UNIT_DEFAULT_HIGH;
	cfg->low = IPK_UNIT_DEFAULT_LOW;
}

int ipk_unit_config_check(const struct ipk_unit_config *cfg, struct ipk_err *err)
{
	if (cfg->high < 1 || cfg->high > IPK_UNIT_MAX_HIGH)
		return ipk_err_set(err, -EINVAL, "unit: high water mark %u not in 1..%u",
				   cfg->high, IPK_UNIT_MAX_HIGH);
	if (cfg->low < 1 || cfg->low > cfg->high)
		return ipk_err_set(err, -EINVAL, "unit: low water mark %u not in 1..%u",
				   cfg->low, cfg->high);
	if (cfg->caps & ~IPK_UNIT_ALL_ALGS)
		return ipk_err_set(err, -EINVAL, "unit: capability set 0x%x names unknown algorithms",
				   cfg->caps);
	return 0;
}

int ipk_unit_init(struct ipk_unit *u, unsigned worker, const struct ipk_unit_config *cfg,
		  uint16_t natt_port, struct ipk_equeue *out, struct ipk_event *ask,
		  struct ipk_err *err)
{
	int rc = ipk_unit_config_check(cfg, err);

	if (rc)
		return rc;
	memset(u, 0, sizeof(*u));
	u->worker = worker;
	u->cfg = *cfg;
	if (!u->cfg.caps)
		u->cfg.caps = IPK_UNIT_ALL_ALGS;
	u->natt_port = natt_port;
	u->out = out;
	u->ask = ask;
	u->wanting = true; /* a new unit is empty: it wants work */
	ipk_pace_init(&u->pace, cfg->rate_pps, cfg->rate_bps);
	u->ring = calloc(cfg->high, sizeof(*u->ring));
	if (!u->ring)
		return -ENOMEM;
	rc = -pthread_mutex_init(&u->lock, NULL);
	if (!rc)
		rc = ipk_event_cond_init(&u->cond);
	if (rc)
		free(u->ring);
	return rc;
}

/* True when the unit asked for work and has room below high. Under u->lock. */
static bool room_locked(struct ipk_unit *u)
{
	if (u->wanting && u->waiting + u->busy < u->cfg.high)
		return true;
	/* Asked, but still full with the packet in process (low == high): the unit must
	 * ring again when that one is done, or the dispatcher sleeps forever. */
	u->refused = u->wanting;
	return false;
}

bool ipk_unit_wants(struct ipk_unit *u)
{
	bool room;

	pthread_mutex_lock(&u->lock);
	room = room_locked(u);
	pthread_mutex_unlock(&u->lock);
	return room;
}

bool ipk_unit_offer(struct ipk_unit *u, struct ipk_pkt *pkt)
{
	uint32_t occ;

	if (!ipk_unit_can(u, pkt->meta.sa->rt.alg->id))
		return false;
	pthread_mutex_lock(&u->lock);
	if (!room_locked(u)) {
		pthread_mutex_unlock(&u->lock);
		return false;
	}
	u->ring[(u->ring_head + u->waiting) % u->cfg.high] = pkt;
	u->waiting++;
	occ = u->waiting + u->busy;
	if (occ >= u->cfg.high)
		u->wanting = false;
	atomic_store_explicit(&u->stats.occupancy, occ, memory_order_relaxed);
	if (occ > atomic_load_explicit(&u->stats.max_occupancy, memory_order_relaxed))
		atomic_store_explicit(&u->stats.max_occupancy, occ, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->stats.received, 1, memory_order_relaxed);
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
	return true;
}

uint32_t ipk_unit_occupancy(const struct ipk_unit *u)
{
	return atomic_load_explicit(&u->stats.occupancy, memory_order_relaxed);
}

/* Takes the next packet to process, or NULL when stopped. Asks for work when
 * fewer than `low` are left waiting (under the lock; the ring is done after unlock). */
static struct ipk_pkt *take(struct ipk_unit *u, bool *ask)
{
	struct ipk_pkt *pkt = NULL;

	pthread_mutex_lock(&u->lock);
	while (!u->waiting && !u->stop)
		pthread_cond_wait(&u->cond, &u->lock);
	if (u->waiting && !u->stop) {
		pkt = u->ring[u->ring_head];
		u->ring_head = (u->ring_head + 1) % u->cfg.high;
		u->waiting--;
		u->busy = true;
	}
	*ask = pkt && u->waiting < u->cfg.low && !u->wanting;
	if (*ask)
		u->wanting = true;
	pthread_mutex_unlock(&u->lock);
	return pkt;
}

static void done(struct ipk_unit *u)
{
	bool ring;

	pthread_mutex_lock(&u->lock);
	u->busy = false;
	ring = u->refused;
	u->refused = false;
	atomic_store_explicit(&u->stats.occupancy, u->waiting, memory_order_relaxed);
	pthread_mutex_unlock(&u->lock);
	if (ring)
		ipk_event_ring(u->ask);
}

/* Rate cap: sleeps (woken early only by stop) until the packet may be processed. */
static void pace(struct ipk_unit *u, const struct ipk_pkt *pkt)
{
	uint64_t now, start, end;
	struct timespec ts;

	if (!ipk_pace_on(&u->pace))
		return;
	now = ipk_event_mono_ns();
	ipk_pace_book(&u->pace, pkt->len, now, &start, &end);
	if (start <= now)
		return;
	ipk_event_deadline(&ts, start - now);
	pthread_mutex_lock(&u->lock);
	while (!u->stop && ipk_event_mono_ns() < start)
		if (pthread_cond_timedwait(&u->cond, &u->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&u->lock);
}

/* One ESP layer. Returns 0 or a drop reason. */
static int transform(struct ipk_unit *u, struct ipk_pkt *pkt)
{
	struct ipk_sa *sa = pkt->meta.sa;
	struct ipk_ip_info info;
	uint32_t esp_off, spi;
	int rc;

	/* Two units sharing an SA's crypto context would race on it. */
	if (unlikely(u->worker >= sa->rt.n_crypto))
		return IPK_DROP_CRYPTO_ERROR;
	if (pkt->meta.dir == IPK_DIR_OUT)
		return ipk_esp_encap(sa, pkt, u->worker);
	rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info);
	if (!rc)
		rc = ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, &info, u->natt_port, &esp_off,
				    &spi);
	if (!rc)
		rc = ipk_esp_decap(sa, pkt, esp_off, u->worker);
	return rc;
}

static void process(struct ipk_unit *u, struct ipk_pkt *pkt)
{
	enum ipk_alg_id alg = pkt->meta.sa->rt.alg->id;
	int rc;

	pace(u, pkt);
	rc = transform(u, pkt);
	if (unlikely(rc)) {
		ipk_pkt_drop(pkt, &u->drops, (enum ipk_drop_reason)rc);
		return;
	}
	atomic_fetch_add_explicit(&u->stats.processed[alg], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->stats.bytes, pkt->len, memory_order_relaxed);
	/* Blocking is safe: queue 4's only consumer, the scheduler, never blocks on an
	 * enqueue (docs/engine.md, "Why nothing deadlocks"). */
	ipk_equeue_enqueue_wait(u->out, pkt, UINT64_MAX);
}

static void *unit_thread(void *arg)
{
	struct ipk_unit *u = arg;
	struct ipk_pkt *pkt;
	bool ask;
	char name[16];

	snprintf(name, sizeof(name), "ipk-unit%u", u->worker);
	pthread_setname_np(pthread_self(), name);
	while ((pkt = take(u, &ask))) {
		if (ask) {
			atomic_fetch_add_explicit(&u->stats.asks, 1, memory_order_relaxed);
			ipk_event_ring(u->ask);
		}
		process(u, pkt);
		done(u);
	}
	return NULL;
}

int ipk_unit_start(struct ipk_unit *u)
{
	int rc = pthread_create(&u->thread, NULL, unit_thread, u);

	u->started = rc == 0;
	return -rc;
}

void ipk_unit_stop(struct ipk_unit *u)
{
	if (!u->started)
		return;
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	u->started = false;
}

uint32_t ipk_unit_flush(struct ipk_unit *u)
{
	uint32_t n = u->waiting;

	while (u->waiting) {
		ipk_pkt_drop(u->ring[u->ring_head], &u->drops, IPK_DROP_HOOK_DETACHED);
		u->ring_head = (u->ring_head + 1) % u->cfg.high;
		u->waiting--;
	}
	atomic_store_explicit(&u->stats.occupancy, 0, memory_order_relaxed);
	return n;
}

void ipk_unit_fini(struct ipk_unit *u)
{
	ipk_unit_flush(u);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u->ring);
}
