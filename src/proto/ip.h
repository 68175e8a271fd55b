/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 and IPv6 headers: parsing with every length checked, building outer headers,
 * checksums, DSCP and ECN (RFC 6040) handling.
 *
 * Pure functions on byte buffers; any thread.
 */
#ifndef IPK_PROTO_IP_H
#define IPK_PROTO_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/drop.h"

#define IPK_IPV4_HDR_LEN 20
#define IPK_IPV6_HDR_LEN 40
#define IPK_UDP_HDR_LEN 8
#define IPK_PROTO_ICMP 1
#define IPK_PROTO_IPIP 4
#define IPK_PROTO_TCP 6
#define IPK_PROTO_UDP 17
#define IPK_PROTO_IPV6 41
#define IPK_PROTO_IPV6_FRAG 44
#define IPK_PROTO_ESP 50
#define IPK_PROTO_AH 51
#define IPK_PROTO_ICMPV6 58
#define IPK_PROTO_NONE 59

/* ECN code points (RFC 3168). */
#define IPK_ECN_NOT_ECT 0
#define IPK_ECN_ECT1 1
#define IPK_ECN_ECT0 2
#define IPK_ECN_CE 3

struct ipk_ip_info {
	uint8_t version;     /* 4 or 6 */
	uint8_t proto;       /* upper-layer protocol: after IPv6 extension headers */
	uint8_t dscp;
	uint8_t ecn;
	uint16_t hdr_len;    /* bytes up to the upper-layer header (IPv6: with ext headers) */
	uint16_t proto_off;  /* offset of the byte that holds `proto` (IPv4: 9) */
	uint32_t total_len;  /* datagram length the header announces */
	/* Fragment information (IPv4 flags/offset, IPv6 Fragment header). */
	bool is_fragment;
	bool more_fragments;
	uint16_t frag_offset;   /* bytes */
	uint32_t frag_id;
	uint16_t frag_hdr_off;  /* IPv6: offset of the Fragment header, 0 if none */
	uint8_t frag_prev_nh_off; /* IPv6: offset of the next-header byte naming it */
	struct ipk_addr src;
	struct ipk_addr dst;
};

/*
 * Parses the IP header at @data (@len bytes captured). Checks version, header length,
 * the IPv4 header checksum, the total length against @len (shorter: drop; longer: the
 * caller trims trailing link padding to info->total_len), and walks IPv6 extension
 * headers (hop-by-hop, routing, destination options, fragment) to the upper layer.
 * Returns 0 or a positive enum ipk_drop_reason (IPK_DROP_TRUNCATED_IP,
 * IPK_DROP_BAD_IP_VERSION, IPK_DROP_BAD_IP_HEADER, IPK_DROP_IP_LENGTH_MISMATCH).
 */
int ipk_ip_parse(const uint8_t *data, size_t len, struct ipk_ip_info *info);

/* Fills the 5-tuple-plus-DSCP view of a parsed packet for the SPD (ports only when the
 * upper-layer header is there and the packet is not a non-first fragment). */
struct ipk_flow;
void ipk_ip_flow(const uint8_t *data, size_t len, const struct ipk_ip_info *info,
		 struct ipk_flow *flow);

/* Internet checksum (RFC 1071) over @len bytes, folded, not inverted, starting from @sum. */
uint32_t ipk_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t ipk_csum_fold(uint32_t sum);
/* Recomputes the IPv4 header checksum of the header at @hdr. */
void ipk_ipv4_set_checksum(uint8_t *hdr);

/* Writes an IPv4 header (20 bytes, no options, DF as given) at @hdr. */
void ipk_ipv4_build(uint8_t *hdr, const struct ipk_addr *src, const struct ipk_addr *dst,
		    uint8_t proto, uint16_t total_len, uint8_t tos, uint8_t ttl, bool df,
		    uint16_t id);
/* Writes an IPv6 header (40 bytes) at @hdr. @payload_len excludes the header. */
void ipk_ipv6_build(uint8_t *hdr, const struct ipk_addr *src, const struct ipk_addr *dst,
		    uint8_t next_header, uint16_t payload_len, uint8_t tclass, uint8_t hop_limit);

/* Traffic class / TOS byte of the header at @hdr (version read from it). */
uint8_t ipk_ip_get_tos(const uint8_t *hdr);
/* Rewrites the TOS / traffic class (IPv4 checksum updated). */
void ipk_ip_set_tos(uint8_t *hdr, uint8_t tos);

/* RFC 6040 §4.1 normal mode, encapsulation: outer ECN = inner ECN (CE stays CE). Returns
 * the outer TOS byte given the inner TOS: DSCP copied (RFC 4301 §5.1.2.1), ECN copied. */
uint8_t ipk_ecn_encap_tos(uint8_t inner_tos);
/* RFC 6040 §4.2, decapsulation: returns true and writes the new inner ECN into
 * @inner_ecn_out, or returns false when the combination must be dropped (outer CE on a
 * Not-ECT inner packet). */
bool ipk_ecn_decap(uint8_t outer_ecn, uint8_t inner_ecn, uint8_t *inner_ecn_out);

#endif
