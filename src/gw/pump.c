// SPDX-License-Identifier: BSD-2-Clause
#include "gw/pump.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "sa/sa.h"

#define TX_RETRY_NS 50000L

int ipk_pump_init(struct ipk_pump *p, struct ipk_engine *engine, struct ipk_pool *pool)
{
	pthread_rwlockattr_t attr;
	int ret;

	memset(p, 0, sizeof(*p));
	p->engine = engine;
	p->pool = pool;
	ret = pthread_rwlockattr_init(&attr);
	if (ret)
		return -ret;
	/* Receive threads take the read side once per burst, all the time: with glibc's
	 * default (readers first) a pause could wait for ever. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	ret = pthread_rwlock_init(&p->gate, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&p->tx_lock, NULL);
	if (ret) {
		pthread_rwlock_destroy(&p->gate);
		return -ret;
	}
	return 0;
}

void ipk_pump_fini(struct ipk_pump *p)
{
	pthread_mutex_destroy(&p->tx_lock);
	pthread_rwlock_destroy(&p->gate);
}

void ipk_pump_gate_close(struct ipk_pump *p)
{
	pthread_rwlock_wrlock(&p->gate);
}

void ipk_pump_gate_open(struct ipk_pump *p)
{
	pthread_rwlock_unlock(&p->gate);
}

void ipk_pump_link(struct ipk_pump *p, struct ipk_pump_port *pp)
{
	pthread_mutex_lock(&p->tx_lock);
	if (p->n_linked < IPK_PUMP_MAX_PORTS)
		p->linked[p->n_linked++] = pp;
	pthread_mutex_unlock(&p->tx_lock);
}

void ipk_pump_unlink(struct ipk_pump *p, struct ipk_pump_port *pp)
{
	pthread_mutex_lock(&p->tx_lock);
	for (uint32_t i = 0; i < p->n_linked; i++) {
		if (p->linked[i] != pp)
			continue;
		memmove(&p->linked[i], &p->linked[i + 1],
			(p->n_linked - i - 1) * sizeof(p->linked[0]));
		p->n_linked--;
		break;
	}
	pthread_mutex_unlock(&p->tx_lock);
}

static bool kind_is(const struct ipk_pump_port *pp, const char *kind)
{
	return strcmp(pp->io->ops->name, kind) == 0;
}

/* UDP (NAT-T, RFC 3948) or not, from the IP header the engine built (for an IPv6
 * fragment, from its Fragment header, which the engine puts right after the header). */
static bool is_udp(struct ipk_pkt *pkt)
{
	const uint8_t *d = ipk_pkt_data(pkt);

	if (pkt->len >= 20 && d[0] >> 4 == 4)
		return d[9] == 17;
	if (pkt->len >= 48 && d[0] >> 4 == 6 && d[6] == 44)
		return d[40] == 17;
	return pkt->len >= 40 && d[0] >> 4 == 6 && d[6] == 17;
}

/* True when @pp sends packets of @pkt's IP version. */
static bool sends_family(const struct ipk_pump_port *pp, const struct ipk_pkt *pkt)
{
	unsigned v = pkt->len ? pkt->buf[pkt->head] >> 4 : 0;

	return !pp->io->families || (v == 4 && (pp->io->families & 1)) ||
	       (v == 6 && (pp->io->families & 2));
}

/* The port @pkt leaves by (see pump.h), or NULL. Under tx_lock. */
static struct ipk_pump_port *route(struct ipk_pump *p, struct ipk_pkt *pkt)
{
	enum ipk_gw_side side = pkt->meta.dir == IPK_DIR_OUT ? IPK_GW_PROTECTED : IPK_GW_PLAIN;
	const char *want = NULL;
	struct ipk_pump_port *first = NULL, *of_kind = NULL;

	if (side == IPK_GW_PROTECTED)
		want = is_udp(pkt) ? "udp" : "esp";
	/* A port of the kind wanted that sends the packet's family; else one of the kind;
	 * else any port of the side (a wire port takes everything). */
	for (uint32_t i = 0; i < p->n_linked; i++) {
		struct ipk_pump_port *pp = p->linked[i];

		if (pp->side != side)
			continue;
		if (!want || kind_is(pp, want)) {
			if (sends_family(pp, pkt))
				return pp;
			if (!of_kind)
				of_kind = pp;
		}
		if (!first)
			first = pp;
	}
	return of_kind ? of_kind : first;
}

static void drop_all(struct ipk_pump *p, struct ipk_pkt **pkts, uint32_t n,
		     enum ipk_drop_reason reason)
{
	for (uint32_t i = 0; i < n; i++)
		ipk_pkt_drop(pkts[i], &p->drops, reason);
}

/* Sends @n packets by @pp: tx_burst consumes from the front and stops only when the
 * kernel queue is full; then wait a little and go on, up to IPK_PUMP_TX_RETRIES. */
static void send_run(struct ipk_pump *p, struct ipk_pump_port *pp, struct ipk_pkt **pkts,
		     uint32_t n)
{
	const struct timespec nap = { .tv_nsec = TX_RETRY_NS };
	uint32_t done = 0, tries = 0;

	while (done < n) {
		uint32_t sent = ipk_io_tx_burst(pp->io, pkts + done, n - done);

		done += sent;
		if (done == n)
			break;
		tries = sent ? 0 : tries + 1;
		if (tries > IPK_PUMP_TX_RETRIES) {
			drop_all(p, pkts + done, n - done, IPK_DROP_QUEUE_FULL);
			break;
		}
		nanosleep(&nap, NULL);
	}
}

/* Sends a burst in order: runs of consecutive packets for one port go together. */
static void send_burst(struct ipk_pump *p, struct ipk_pkt **pkts, uint32_t n)
{
	struct ipk_pump_port *dest[IPK_PUMP_BURST];
	uint32_t start = 0;

	pthread_mutex_lock(&p->tx_lock);
	for (uint32_t i = 0; i < n; i++)
		dest[i] = route(p, pkts[i]);
	while (start < n) {
		uint32_t end = start + 1;

		while (end < n && dest[end] == dest[start])
			end++;
		if (dest[start])
			send_run(p, dest[start], pkts + start, end - start);
		else
			drop_all(p, pkts + start, end - start, IPK_DROP_UNSUPPORTED);
		start = end;
	}
	pthread_mutex_unlock(&p->tx_lock);
}

static void *tx_main(void *arg)
{
	struct ipk_pump *p = arg;
	struct ipk_pkt *pkts[IPK_PUMP_BURST];

	pthread_setname_np(pthread_self(), "ipk-pump-tx");
	for (;;) {
		uint32_t n = 0;

		pkts[0] = ipk_engine_tx_dequeue(p->engine, IPK_PUMP_TX_WAIT_NS);
		if (!pkts[0]) {
			/* tx_stop comes after the engine stopped: queue 2 is then final. */
			if (atomic_load_explicit(&p->tx_stop, memory_order_acquire) &&
			    !(pkts[0] = ipk_engine_tx_dequeue(p->engine, 0)))
				break;
			if (!pkts[0])
				continue;
		}
		n = 1;
		while (n < IPK_PUMP_BURST && (pkts[n] = ipk_engine_tx_dequeue(p->engine, 0)))
			n++;
		send_burst(p, pkts, n);
	}
	return NULL;
}

int ipk_pump_tx_start(struct ipk_pump *p)
{
	int ret;

	atomic_store_explicit(&p->tx_stop, false, memory_order_relaxed);
	ret = pthread_create(&p->tx_thread, NULL, tx_main, p);
	if (ret)
		return -ret;
	p->tx_running = true;
	return 0;
}

void ipk_pump_tx_stop(struct ipk_pump *p)
{
	if (!p->tx_running)
		return;
	/* Release: pairs with the acquire load in tx_main. */
	atomic_store_explicit(&p->tx_stop, true, memory_order_release);
	pthread_join(p->tx_thread, NULL);
	p->tx_running = false;
}

/* A non-IP frame of a wire port: straight to the other side, or dropped (pump.h). */
static void non_ip(struct ipk_pump_port *pp, struct ipk_pkt *pkt)
{
	struct ipk_pump *p = pp->pump;
	struct ipk_pump_port *out = NULL;

	if (!pp->non_ip_pass) {
		ipk_pkt_drop(pkt, &p->drops, IPK_DROP_UNSUPPORTED);
		return;
	}
	pthread_mutex_lock(&p->tx_lock);
	for (uint32_t i = 0; i < p->n_linked && !out; i++)
		if (p->linked[i]->side != pp->side)
			out = p->linked[i];
	if (out)
		send_run(p, out, &pkt, 1);
	else
		ipk_pkt_drop(pkt, &p->drops, IPK_DROP_UNSUPPORTED);
	pthread_mutex_unlock(&p->tx_lock);
}

/* Hands a burst to the engine with the gate held (pump.h). ipk_engine_rx consumes each
 * packet: queued or dropped and counted at queue 1. */
static void deliver(struct ipk_pump_port *pp, struct ipk_pkt **pkts, uint32_t n)
{
	enum ipk_dir dir = pp->side == IPK_GW_PLAIN ? IPK_DIR_OUT : IPK_DIR_IN;
	struct ipk_pump *p = pp->pump;

	pthread_rwlock_rdlock(&p->gate);
	for (uint32_t i = 0; i < n; i++) {
		if (pkts[i]->meta.flags & IPK_IO_F_NOT_IP)
			non_ip(pp, pkts[i]);
		else
			ipk_engine_rx(p->engine, pkts[i], dir);
	}
	pthread_rwlock_unlock(&p->gate);
}

static void *rx_main(void *arg)
{
	struct ipk_pump_port *pp = arg;
	struct ipk_pkt *pkts[IPK_PUMP_BURST];

	pthread_setname_np(pthread_self(), "ipk-pump-rx");
	while (!atomic_load_explicit(&pp->stop, memory_order_relaxed)) {
		uint32_t n = ipk_io_rx_burst(pp->io, pp->pump->pool, pkts, IPK_PUMP_BURST,
					     IPK_PUMP_RX_WAIT_MS);

		if (n)
			deliver(pp, pkts, n);
	}
	return NULL;
}

int ipk_pump_rx_start(struct ipk_pump_port *pp)
{
	int ret;

	atomic_store_explicit(&pp->stop, false, memory_order_relaxed);
	ret = pthread_create(&pp->thread, NULL, rx_main, pp);
	if (ret)
		return -ret;
	pp->running = true;
	return 0;
}

void ipk_pump_rx_signal(struct ipk_pump_port *pp)
{
	atomic_store_explicit(&pp->stop, true, memory_order_relaxed);
}

void ipk_pump_rx_join(struct ipk_pump_port *pp)
{
	if (!pp->running)
		return;
	ipk_pump_rx_signal(pp);
	pthread_join(pp->thread, NULL);
	pp->running = false;
}
