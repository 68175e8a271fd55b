// SPDX-License-Identifier: BSD-2-Clause
#include "proto/ip.h"

#include <arpa/inet.h>
#include <string.h>

#include "sa/spd.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t ipk_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += rd16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t ipk_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void ipk_ipv4_set_checksum(uint8_t *hdr)
{
	size_t ihl = (size_t)(hdr[0] & 0x0f) * 4;

	wr16(hdr + 10, 0);
	wr16(hdr + 10, (uint16_t)~ipk_csum_fold(ipk_csum_add(0, hdr, ihl)));
}

static int parse_v4(const uint8_t *d, size_t len, struct ipk_ip_info *info)
{
	size_t ihl = (size_t)(d[0] & 0x0f) * 4;
	uint16_t frag;

	if (len < IPK_IPV4_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	if (ihl < IPK_IPV4_HDR_LEN)
		return IPK_DROP_BAD_IP_HEADER;
	if (ihl > len)
		return IPK_DROP_TRUNCATED_IP;
	/* A correct header sums to 0xffff including its own checksum (RFC 1071). */
	if (ipk_csum_fold(ipk_csum_add(0, d, ihl)) != 0xffff)
		return IPK_DROP_BAD_IP_HEADER;
	info->total_len = rd16(d + 2);
	if (info->total_len < ihl)
		return IPK_DROP_BAD_IP_HEADER;
	info->hdr_len = (uint16_t)ihl;
	info->dscp = d[1] >> 2;
	info->ecn = d[1] & 3;
	info->proto = d[9];
	info->proto_off = 9;
	frag = rd16(d + 6);
	info->more_fragments = frag & 0x2000;
	info->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
	info->is_fragment = info->more_fragments || info->frag_offset;
	info->frag_id = rd16(d + 4);
	ipk_addr_from_v4(&info->src, d + 12);
	ipk_addr_from_v4(&info->dst, d + 16);
	return 0;
}

static bool v6_ext_header(uint8_t nh)
{
	/* Hop-by-hop, routing, destination options: skipped to reach the upper layer. */
	return nh == 0 || nh == 43 || nh == 60;
}

/* Walks the IPv6 extension header chain (RFC 8200 §4) up to the upper-layer header. */
static int walk_v6_ext(const uint8_t *d, size_t len, struct ipk_ip_info *info)
{
	size_t off = IPK_IPV6_HDR_LEN, nh_off = 6;
	uint8_t nh = d[6];

	for (int hops = 0; hops < 8; hops++) {
		if (nh == IPK_PROTO_IPV6_FRAG) {
			uint16_t fo;

			if (off + 8 > len)
				return IPK_DROP_TRUNCATED_IP;
			fo = rd16(d + off + 2);
			info->frag_hdr_off = (uint16_t)off;
			info->frag_prev_nh_off = (uint8_t)nh_off;
			info->frag_offset = (uint16_t)(fo & 0xfff8);
			info->more_fragments = fo & 1;
			info->is_fragment = true;
			info->frag_id = (uint32_t)rd16(d + off + 4) << 16 | rd16(d + off + 6);
			nh_off = off;
			nh = d[off];
			off += 8;
			if (info->frag_offset)
				break; /* later headers are in the first fragment only */
			continue;
		}
		if (!v6_ext_header(nh))
			break;
		if (off + 8 > len)
			return IPK_DROP_TRUNCATED_IP;
		nh_off = off;
		nh = d[off];
		off += ((size_t)d[off + 1] + 1) * 8;
	}
	if (off > len)
		return IPK_DROP_BAD_IP_HEADER;
	/* A non-first fragment may start with any header; a whole packet must reach its
	 * upper layer within the hops allowed. */
	if (v6_ext_header(nh) && !(info->is_fragment && info->frag_offset))
		return IPK_DROP_BAD_IP_HEADER;
	info->proto = nh;
	info->proto_off = (uint16_t)nh_off;
	info->hdr_len = (uint16_t)off;
	return 0;
}

static int parse_v6(const uint8_t *d, size_t len, struct ipk_ip_info *info)
{
	uint8_t tclass;

	if (len < IPK_IPV6_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	tclass = (uint8_t)((d[0] & 0x0f) << 4 | d[1] >> 4);
	info->dscp = tclass >> 2;
	info->ecn = tclass & 3;
	info->total_len = IPK_IPV6_HDR_LEN + rd16(d + 4);
	ipk_addr_from_v6(&info->src, d + 8);
	ipk_addr_from_v6(&info->dst, d + 24);
	if (info->total_len > len)
		return IPK_DROP_IP_LENGTH_MISMATCH;
	return walk_v6_ext(d, info->total_len, info);
}

int ipk_ip_parse(const uint8_t *data, size_t len, struct ipk_ip_info *info)
{
	int rc;

	memset(info, 0, sizeof(*info));
	if (len < 1)
		return IPK_DROP_TRUNCATED_IP;
	info->version = data[0] >> 4;
	if (info->version == 4)
		rc = parse_v4(data, len, info);
	else if (info->version == 6)
		rc = parse_v6(data, len, info);
	else
		return IPK_DROP_BAD_IP_VERSION;
	if (rc)
		return rc;
	if (info->total_len > len)
		return IPK_DROP_IP_LENGTH_MISMATCH;
	return 0;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPK_PROTO_TCP || proto == IPK_PROTO_UDP || proto == 132 /* SCTP */;
}

void ipk_ip_flow(const uint8_t *data, size_t len, const struct ipk_ip_info *info,
		 struct ipk_flow *flow)
{
	const uint8_t *l4 = data + info->hdr_len;
	size_t l4_len = len > info->hdr_len ? len - info->hdr_len : 0;

	memset(flow, 0, sizeof(*flow));
	flow->src = info->src;
	flow->dst = info->dst;
	flow->proto = info->proto;
	flow->dscp = info->dscp;
	/* Non-first fragments carry no upper-layer header (RFC 4301 §7 discusses them). */
	if (info->is_fragment && info->frag_offset)
		return;
	if (has_ports(info->proto) && l4_len >= 4) {
		flow->sport = rd16(l4);
		flow->dport = rd16(l4 + 2);
	} else if ((info->proto == IPK_PROTO_ICMP || info->proto == IPK_PROTO_ICMPV6) &&
		   l4_len >= 2) {
		/* RFC 4301 §4.4.1.1: ICMP type and code take the place of the ports. */
		flow->sport = l4[0];
		flow->dport = l4[1];
	}
}

void ipk_ipv4_build(uint8_t *hdr, const struct ipk_addr *src, const struct ipk_addr *dst,
		    uint8_t proto, uint16_t total_len, uint8_t tos, uint8_t ttl, bool df,
		    uint16_t id)
{
	hdr[0] = 0x45;
	hdr[1] = tos;
	wr16(hdr + 2, total_len);
	wr16(hdr + 4, id);
	wr16(hdr + 6, df ? 0x4000 : 0);
	hdr[8] = ttl;
	hdr[9] = proto;
	memcpy(hdr + 12, src->bytes, 4);
	memcpy(hdr + 16, dst->bytes, 4);
	ipk_ipv4_set_checksum(hdr);
}

void ipk_ipv6_build(uint8_t *hdr, const struct ipk_addr *src, const struct ipk_addr *dst,
		    uint8_t next_header, uint16_t payload_len, uint8_t tclass, uint8_t hop_limit)
{
	hdr[0] = (uint8_t)(0x60 | tclass >> 4);
	hdr[1] = (uint8_t)(tclass << 4);
	hdr[2] = 0;
	hdr[3] = 0;
	wr16(hdr + 4, payload_len);
	hdr[6] = next_header;
	hdr[7] = hop_limit;
	memcpy(hdr + 8, src->bytes, 16);
	memcpy(hdr + 24, dst->bytes, 16);
}

uint8_t ipk_ip_get_tos(const uint8_t *hdr)
{
	if ((hdr[0] >> 4) == 6)
		return (uint8_t)((hdr[0] & 0x0f) << 4 | hdr[1] >> 4);
	return hdr[1];
}

void ipk_ip_set_tos(uint8_t *hdr, uint8_t tos)
{
	if ((hdr[0] >> 4) == 6) {
		hdr[0] = (uint8_t)((hdr[0] & 0xf0) | tos >> 4);
		hdr[1] = (uint8_t)((hdr[1] & 0x0f) | tos << 4);
		return;
	}
	hdr[1] = tos;
	ipk_ipv4_set_checksum(hdr);
}

uint8_t ipk_ecn_encap_tos(uint8_t inner_tos)
{
	/* RFC 6040 §4.1 normal mode copies the ECN field; RFC 4301 §5.1.2.1 copies DSCP. */
	return inner_tos;
}

bool ipk_ecn_decap(uint8_t outer_ecn, uint8_t inner_ecn, uint8_t *inner_ecn_out)
{
	/* RFC 6040 §4.2, Figure 4: an outer CE is propagated (or, on Not-ECT, dropped);
	 * an outer ECT(1) over an inner ECT(0) is propagated; nothing else changes. */
	*inner_ecn_out = inner_ecn;
	if (outer_ecn == IPK_ECN_ECT1 && inner_ecn == IPK_ECN_ECT0)
		*inner_ecn_out = IPK_ECN_ECT1;
	if (outer_ecn != IPK_ECN_CE)
		return true;
	if (inner_ecn == IPK_ECN_NOT_ECT)
		return false;
	*inner_ecn_out = IPK_ECN_CE;
	return true;
}
