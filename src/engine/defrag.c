// SPDX-License-Identifier: BSD-2-Clause
#include "engine/defrag.h"

#include <string.h>

#include "proto/reasm.h"

int ipk_defrag_init(struct ipk_defrag *d, struct ipk_pool *pool)
{
	memset(d, 0, sizeof(*d));
	if (!pool)
		return 0;
	return ipk_reasm_create(&d->reasm, NULL, pool);
}

void ipk_defrag_fini(struct ipk_defrag *d)
{
	if (d->reasm)
		ipk_reasm_destroy(d->reasm, &d->drops);
	d->reasm = NULL;
}

struct ipk_pkt *ipk_defrag_feed(struct ipk_defrag *d, struct ipk_pkt *pkt,
				struct ipk_ip_info *info)
{
	atomic_fetch_add_explicit(&d->frag_in, 1, memory_order_relaxed);
	if (!d->reasm) {
		ipk_pkt_drop(pkt, &d->drops, IPK_DROP_FRAG_BAD);
		return NULL;
	}
	pkt = ipk_reasm_feed(d->reasm, pkt, &d->drops);
	if (!pkt)
		return NULL;
	atomic_fetch_add_explicit(&d->frag_out, 1, memory_order_relaxed);
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, info)) {
		/* A drop of the datagram (which entered as frag_out), not of a fragment. */
		ipk_pkt_drop(pkt, &d->drops, IPK_DROP_FRAG_BAD);
		atomic_fetch_add_explicit(&d->whole_dropped, 1, memory_order_relaxed);
		return NULL;
	}
	return pkt;
}

void ipk_defrag_expire(struct ipk_defrag *d)
{
	if (d->reasm)
		ipk_reasm_expire(d->reasm, &d->drops);
}

uint64_t ipk_defrag_absorbed(const struct ipk_defrag *d)
{
	return atomic_load_explicit(&d->frag_in, memory_order_relaxed) -
	       (ipk_drop_total(&d->drops) -
		atomic_load_explicit(&d->whole_dropped, memory_order_relaxed));
}
