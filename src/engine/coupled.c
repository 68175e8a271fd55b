// SPDX-License-Identifier: BSD-2-Clause
#include "engine/coupled.h"

#include <string.h>
#include <time.h>

#include "engine/equeue.h"
#include "engine/event.h"
#include "proto/ip.h"
#include "sa/sa.h"

int ipk_coupled_init(struct ipk_coupled *c, struct ipk_equeue *in, struct ipk_equeue *out,
		     struct ipk_sad *sad, struct ipk_spd *spd, uint16_t natt_port,
		     struct ipk_pool *reasm_pool)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->in = in;
	c->out = out;
	/* No reassembly inside the inline context: the defrag step does it, counted. */
	rc = ipk_inline_init(&c->ctx, sad, spd, NULL);
	if (rc)
		return rc;
	c->ctx.natt_port = natt_port;
	c->ctx.worker = 0;
	rc = ipk_defrag_init(&c->defrag, reasm_pool);
	if (rc)
		ipk_inline_fini(&c->ctx);
	return rc;
}

static bool is_fragment(struct ipk_pkt *pkt, struct ipk_ip_info *info)
{
	return !ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, info) && info->is_fragment;
}

/* The rate cap: the packet just protected or decrypted kept the processor busy. */
static void pace(struct ipk_coupled *c, uint32_t len)
{
	uint64_t now = ipk_event_mono_ns(), start, end;
	struct timespec ts;

	ipk_pace_book(&c->pace, len, now, &start, &end);
	if (end <= now || atomic_load_explicit(&c->hurry, memory_order_relaxed))
		return;
	ts.tv_sec = (time_t)((end - now) / 1000000000ull);
	ts.tv_nsec = (long)((end - now) % 1000000000ull);
	nanosleep(&ts, NULL);
}

static void process(struct ipk_coupled *c, struct ipk_pkt *pkt)
{
	enum ipk_inline_result res;
	enum ipk_drop_reason why;
	struct ipk_ip_info info;
	struct ipk_pkt *out = NULL;

	if (pkt->meta.dir == IPK_DIR_OUT) {
		res = ipk_inline_outbound(&c->ctx, pkt, &out, &why);
	} else {
		if (is_fragment(pkt, &info)) {
			pkt = ipk_defrag_feed(&c->defrag, pkt, &info);
			if (!pkt)
				return;
		}
		res = ipk_inline_inbound(&c->ctx, pkt, &out, &why);
	}
	if (out && ipk_pace_on(&c->pace) &&
	    (res == IPK_INLINE_PROTECTED || res == IPK_INLINE_DECRYPTED))
		pace(c, out->len);
	if (out)
		ipk_equeue_enqueue(c->out, out);
	/* Further fragments and ICMP errors (engine/mtu.h). */
	while ((out = ipk_inline_next(&c->ctx)))
		ipk_equeue_enqueue(c->out, out);
}

static void *coupled_thread(void *arg)
{
	struct ipk_coupled *c = arg;
	struct ipk_pkt *pkt;

	pthread_setname_np(pthread_self(), "ipk-coupled");
	while ((pkt = ipk_equeue_dequeue_wait(c->in, UINT64_MAX))) {
		atomic_store_explicit(&c->busy, true, memory_order_relaxed);
		process(c, pkt);
		atomic_store_explicit(&c->busy, false, memory_order_relaxed);
	}
	return NULL;
}

int ipk_coupled_start(struct ipk_coupled *c)
{
	int rc = pthread_create(&c->thread, NULL, coupled_thread, c);

	c->started = rc == 0;
	return -rc;
}

void ipk_coupled_stop(struct ipk_coupled *c)
{
	if (!c->started)
		return;
	atomic_store_explicit(&c->hurry, true, memory_order_relaxed);
	pthread_join(c->thread, NULL);
	c->started = false;
}

void ipk_coupled_fini(struct ipk_coupled *c)
{
	ipk_defrag_fini(&c->defrag);
	ipk_inline_fini(&c->ctx);
}
