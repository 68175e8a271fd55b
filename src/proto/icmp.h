/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP "packet too big" errors for path MTU discovery: ICMPv4 Destination Unreachable,
 * code 4 "fragmentation needed and DF set" with the next-hop MTU (RFC 792, RFC 1191 §4)
 * and ICMPv6 Packet Too Big (RFC 4443 §3.2, RFC 8201).
 *
 * Pure functions on byte buffers and one packet; any thread. Rate limiting and where the
 * reply goes are the caller's (engine/mtu.h).
 */
#ifndef IPK_PROTO_ICMP_H
#define IPK_PROTO_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/pkt.h"
#include "proto/ip.h"

#define IPK_ICMP_DEST_UNREACH 3
#define IPK_ICMP_FRAG_NEEDED 4    /* code of DEST_UNREACH */
#define IPK_ICMPV6_PKT_TOO_BIG 2
#define IPK_ICMP_TTL 64           /* TTL / hop limit of the errors sent */
#define IPK_ICMP_TOS 0xc0         /* DSCP CS6 (network control, RFC 4594), Not-ECT */
/* Largest error: RFC 1812 §4.3.2.3 (IPv4: 576 bytes), RFC 4443 §2.4(c) (IPv6: the
 * minimum MTU, 1280 bytes). */
#define IPK_ICMP_MAX_V4 576
#define IPK_ICMP_MAX_V6 1280
#define IPK_IPV6_MIN_MTU 1280

/*
 * True when @data (@len bytes, parsed in @info) may be answered with an ICMP error: it is
 * not itself an ICMP error (RFC 1122 §3.2.2, RFC 4443 §2.4(e)), not a fragment other than
 * the first, and its source is a unicast address (not unspecified, multicast, limited
 * broadcast or loopback).
 */
bool ipk_icmp_may_answer(const uint8_t *data, size_t len, const struct ipk_ip_info *info);

/*
 * Writes into the empty packet @reply the "too big" error for @data (@len bytes of the
 * dropped packet, parsed in @info), from @src to the packet's source. IPv4: MTU field =
 * @mtu (at most 65535), the dropped packet quoted up to 576 bytes in all. IPv6: MTU field
 * = max(1280, @mtu), quoted up to 1280 bytes in all, checksum over the pseudo-header.
 * @id is the IPv4 identification. @src must be of the packet's family.
 * Ownership: @reply stays with the caller. Returns 0, or -EINVAL when @src is of the other
 * family or @reply has too little room.
 */
int ipk_icmp_too_big(struct ipk_pkt *reply, const uint8_t *data, size_t len,
		     const struct ipk_ip_info *info, const struct ipk_addr *src, uint32_t mtu,
		     uint16_t id);

#endif
