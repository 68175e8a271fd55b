/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fragmentation of an IP packet that this gateway originates (the outer ESP packet,
 * RFC 4301 §8.1 "post-encapsulation fragmentation"): IPv4 fragments (RFC 791 §3.2) or
 * IPv6 Fragment headers (RFC 8200 §4.5). The receiving gateway reassembles them before
 * it looks at ESP (RFC 4303 §3.4.1, proto/reasm.h).
 *
 * IPv4: DF is cleared in every fragment (the sender of the outer packet is this gateway,
 * which chose to fragment), options without the copy bit go in the first fragment only,
 * every fragment gets its header checksum. A packet that is already a fragment is split
 * further (offsets relative to the original datagram, its MF kept on the last piece).
 * IPv6: the unfragmentable part (the header, Hop-by-Hop, Routing and the Destination
 * Options before a Routing header) is repeated, a Fragment header follows it. A packet
 * that already carries a Fragment header is not split again (unsupported).
 *
 * Pure function: no state of its own; the caller gives the identification (a per-engine
 * counter) and the pool the fragments come from. Any thread.
 */
#ifndef IPK_PROTO_FRAG_H
#define IPK_PROTO_FRAG_H

#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"

/* Smallest MTU accepted: the IPv4 minimum (RFC 791: every host takes 576-byte datagrams;
 * 68 is the absolute floor, but no path of an ESP gateway is that narrow). */
#define IPK_FRAG_MIN_MTU 576

/*
 * Splits the IP packet in @pkt so that no piece is longer than @mtu bytes. A packet that
 * fits is appended to @out untouched. Otherwise the fragments (new packets from @pool,
 * their metadata copied from @pkt without the SA reference) are appended to @out in
 * offset order and @pkt is freed. @id is the identification: its low 16 bits for IPv4,
 * all 32 for IPv6.
 *
 * Ownership: consumes @pkt. On failure nothing is appended, the fragments made so far are
 * freed, and @pkt is dropped in @drops (may be NULL) under the reason returned.
 * Returns 0, or a drop reason: no-buffer (@pool ran dry), unsupported (IPv6 packet that
 * is a fragment already), frag-bad (@mtu leaves no room for 8 bytes of data), or a parse
 * error of ipk_ip_parse().
 */
int ipk_frag_split(struct ipk_pkt *pkt, uint32_t mtu, uint32_t id, struct ipk_pool *pool,
		   struct ipk_pkt_list *out, struct ipk_drop_stats *drops);

#endif
