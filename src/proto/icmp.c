// SPDX-License-Identifier: BSD-2-Clause
#include "proto/icmp.h"

#include <errno.h>
#include <string.h>

#define ICMP_HDR_LEN 8

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 792 error types: destination unreachable, source quench, redirect, time exceeded,
 * parameter problem. Queries (echo, timestamp...) may be answered. */
static bool icmpv4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* 0/8 (this network), 127/8 (loopback), 224/4 multicast and everything above it
 * (240/4 reserved, 255.255.255.255 limited broadcast). */
static bool v4_special(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static bool v6_unspecified_or_loopback(const uint8_t *a)
{
	static const uint8_t zero[15];

	return !memcmp(a, zero, 15) && (a[15] == 0 || a[15] == 1);
}

bool ipk_icmp_may_answer(const uint8_t *data, size_t len, const struct ipk_ip_info *info)
{
	const uint8_t *upper = data + info->hdr_len;
	bool have_type = info->hdr_len < len && info->frag_offset == 0;

	if (info->frag_offset != 0)
		return false;
	if (info->version == 4) {
		if (info->proto == IPK_PROTO_ICMP && (!have_type || icmpv4_is_error(*upper)))
			return false;
		/* RFC 1812 §4.3.2.7: no error about a datagram to a broadcast or multicast
		 * address either. */
		return !v4_special(info->src.bytes) && !v4_special(info->dst.bytes);
	}
	/* RFC 4443 §2.4(e): ICMPv6 error types are 0..127. Packet Too Big is the exception
	 * that may answer a multicast destination (§2.4(e.3)), so only the source counts. */
	if (info->proto == IPK_PROTO_ICMPV6 && (!have_type || *upper < 128))
		return false;
	return info->src.bytes[0] != 0xff && !v6_unspecified_or_loopback(info->src.bytes);
}

static int too_big_v4(struct ipk_pkt *reply, const uint8_t *data, size_t len,
		      const struct ipk_ip_info *info, const struct ipk_addr *src, uint32_t mtu,
		      uint16_t id)
{
	size_t quote = len < IPK_ICMP_MAX_V4 - IPK_IPV4_HDR_LEN - ICMP_HDR_LEN ?
			       len : IPK_ICMP_MAX_V4 - IPK_IPV4_HDR_LEN - ICMP_HDR_LEN;
	uint32_t total = IPK_IPV4_HDR_LEN + ICMP_HDR_LEN + (uint32_t)quote;
	uint8_t *ip = ipk_pkt_put(reply, total), *icmp;

	if (!ip)
		return -EINVAL;
	ipk_ipv4_build(ip, src, &info->src, IPK_PROTO_ICMP, (uint16_t)total, IPK_ICMP_TOS,
		       IPK_ICMP_TTL, false, id);
	icmp = ip + IPK_IPV4_HDR_LEN;
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = IPK_ICMP_DEST_UNREACH;
	icmp[1] = IPK_ICMP_FRAG_NEEDED;
	/* RFC 1191 §4: unused (16 bits), then the next-hop MTU. */
	wr16(icmp + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
	memcpy(icmp + ICMP_HDR_LEN, data, quote);
	wr16(icmp + 2, (uint16_t)~ipk_csum_fold(ipk_csum_add(0, icmp, ICMP_HDR_LEN + quote)));
	return 0;
}

static int too_big_v6(struct ipk_pkt *reply, const uint8_t *data, size_t len,
		      const struct ipk_ip_info *info, const struct ipk_addr *src, uint32_t mtu)
{
	size_t quote = len < IPK_ICMP_MAX_V6 - IPK_IPV6_HDR_LEN - ICMP_HDR_LEN ?
			       len : IPK_ICMP_MAX_V6 - IPK_IPV6_HDR_LEN - ICMP_HDR_LEN;
	uint32_t plen = ICMP_HDR_LEN + (uint32_t)quote, sum;
	uint8_t *ip = ipk_pkt_put(reply, IPK_IPV6_HDR_LEN + plen), *icmp, pseudo_tail[8] = { 0 };

	if (!ip)
		return -EINVAL;
	ipk_ipv6_build(ip, src, &info->src, IPK_PROTO_ICMPV6, (uint16_t)plen, IPK_ICMP_TOS,
		       IPK_ICMP_TTL);
	icmp = ip + IPK_IPV6_HDR_LEN;
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = IPK_ICMPV6_PKT_TOO_BIG;
	mtu = mtu < IPK_IPV6_MIN_MTU ? IPK_IPV6_MIN_MTU : mtu;
	wr16(icmp + 4, (uint16_t)(mtu >> 16));
	wr16(icmp + 6, (uint16_t)mtu);
	memcpy(icmp + ICMP_HDR_LEN, data, quote);
	/* RFC 8200 §8.1 pseudo-header: source, destination, upper-layer length (32 bits),
	 * three zero bytes, next header. */
	wr16(pseudo_tail + 2, (uint16_t)plen);
	pseudo_tail[7] = IPK_PROTO_ICMPV6;
	sum = ipk_csum_add(0, ip + 8, 32);
	sum = ipk_csum_add(sum, pseudo_tail, sizeof(pseudo_tail));
	sum = ipk_csum_add(sum, icmp, plen);
	wr16(icmp + 2, (uint16_t)~ipk_csum_fold(sum));
	return 0;
}

int ipk_icmp_too_big(struct ipk_pkt *reply, const uint8_t *data, size_t len,
		     const struct ipk_ip_info *info, const struct ipk_addr *src, uint32_t mtu,
		     uint16_t id)
{
	if (src->family != info->version)
		return -EINVAL;
	if (len > info->total_len)
		len = info->total_len;
	if (info->version == 4)
		return too_big_v4(reply, data, len, info, src, mtu, id);
	return too_big_v6(reply, data, len, info, src, mtu);
}
