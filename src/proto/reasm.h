/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reassembly of fragmented outer IPv4/IPv6 packets before ESP processing
 * (RFC 4303 §3.4.1: "ESP is applied only to whole IP datagrams"; the receiver reassembles
 * before it looks at ESP). Shared by every I/O back end.
 *
 * Memory is bounded: at most `max_sets` fragment sets in progress, at most `max_bytes`
 * of fragment data held, a reassembled datagram of at most `max_datagram` bytes. A set
 * not complete after `timeout_ns` is dropped (reason frag-timeout). Overlapping fragments
 * (RFC 5722 for IPv6; treated the same way for IPv4) drop the whole set (frag-overlap).
 *
 * Threads: one reassembly context per receiving thread; not thread-safe.
 */
#ifndef IPK_PROTO_REASM_H
#define IPK_PROTO_REASM_H

#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"

struct ipk_reasm_config {
	uint32_t max_sets;      /* fragment sets in progress; default 256 */
	uint32_t max_bytes;     /* fragment payload bytes held in total; default 4 MiB */
	uint32_t max_datagram;  /* largest reassembled datagram; default 65535 */
	uint64_t timeout_ns;    /* default 30 s (RFC 791 suggests 15 s up to 2 min) */
};

struct ipk_reasm_stats {
	uint64_t fragments_in;
	uint64_t datagrams_out;
	uint64_t sets_in_progress;
	uint64_t bytes_held;
};

struct ipk_reasm;

/* Creates a context. Reassembled datagrams are built in packets from @out_pool, which
 * must have room for max_datagram bytes plus headroom. @cfg may be NULL for defaults.
 * Returns 0, -EINVAL or -ENOMEM. */
int ipk_reasm_create(struct ipk_reasm **out, const struct ipk_reasm_config *cfg,
		     struct ipk_pool *out_pool);
/* Drops every set still held (counted as frag-timeout in @drops) and frees the context. */
void ipk_reasm_destroy(struct ipk_reasm *r, struct ipk_drop_stats *drops);

/* True if the IP packet at ipk_pkt_data(pkt) is a fragment (IPv4 MF or offset != 0, or an
 * IPv6 Fragment header). */
bool ipk_reasm_is_fragment(struct ipk_pkt *pkt);

/*
 * Feeds one fragment. Consumes @pkt: it is either held, dropped (counted in @drops under a
 * frag-* reason) or, when it completes its set, freed together with the other fragments.
 * Returns the whole datagram (a new packet from out_pool, owned by the caller, IP header
 * with total length / payload length fixed and no fragment information) when this
 * fragment completed a set, otherwise NULL.
 */
struct ipk_pkt *ipk_reasm_feed(struct ipk_reasm *r, struct ipk_pkt *pkt,
			       struct ipk_drop_stats *drops);
/* Drops the sets older than the timeout (counted as frag-timeout). Call it now and then
 * (each feed also expires old sets). */
void ipk_reasm_expire(struct ipk_reasm *r, struct ipk_drop_stats *drops);
void ipk_reasm_get_stats(const struct ipk_reasm *r, struct ipk_reasm_stats *stats);

#endif
