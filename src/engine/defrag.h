/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine's reassembly step (RFC 4303 §3.4.1: ESP is applied to whole datagrams, so
 * the receiver reassembles before it looks for ESP), with the counts that keep the
 * engine's conservation law exact: a fragment that goes in either is dropped (counted in
 * `drops` under a frag-* reason) or is absorbed into a datagram, and each whole datagram
 * that comes out is a new packet.
 *
 *   absorbed = frag_in - (drops - whole_dropped)
 *   packets entering the rest of the path += frag_out
 *
 * Threads: one thread (the packet scheduler, or the coupled worker); the counters may be
 * read from any thread.
 */
#ifndef IPK_ENGINE_DEFRAG_H
#define IPK_ENGINE_DEFRAG_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "proto/ip.h"

struct ipk_reasm;

struct ipk_defrag {
	struct ipk_reasm *reasm;  /* NULL: fragments drop as frag-bad */
	struct ipk_drop_stats drops;
	_Atomic uint64_t frag_in;  /* fragments fed */
	_Atomic uint64_t frag_out; /* whole datagrams produced */
	_Atomic uint64_t whole_dropped; /* of those, dropped here (bad IP header) */
};

/* Datagrams are built in packets of @pool (NULL: no reassembly). Returns 0 or a negative
 * errno. */
int ipk_defrag_init(struct ipk_defrag *d, struct ipk_pool *pool);
/* Drops the sets still held (frag-timeout, counted in d->drops). */
void ipk_defrag_fini(struct ipk_defrag *d);
/* Feeds the fragment @pkt; consumes it. Returns the whole datagram (parsed again into
 * @info; owned by the caller) or NULL when the fragment was held or dropped (counted). */
struct ipk_pkt *ipk_defrag_feed(struct ipk_defrag *d, struct ipk_pkt *pkt,
				struct ipk_ip_info *info);
/* Expires old sets (frag-timeout). */
void ipk_defrag_expire(struct ipk_defrag *d);
/* Fragments absorbed into datagrams or still held. */
uint64_t ipk_defrag_absorbed(const struct ipk_defrag *d);

#endif
