// SPDX-License-Identifier: BSD-2-Clause
#include "io/ether.h"

#include <stddef.h>
#include <string.h>

#include "io/port.h"
#include "proto/ip.h"

/* Most ESP encapsulation pushes in front of the data: outer IPv6 + UDP + ESP + IV. */
#define ESP_PUSH_MAX 72
_Static_assert(IPK_ETHER_STORE_SIZE + ESP_PUSH_MAX + IPK_ETHER_MAX_HDR <= IPK_PKT_HEADROOM,
	       "the L2 store must stay below everything pushed in front of the data");

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

_Static_assert(IPK_ETHER_STORE_SIZE <= IPK_PKT_LINK_SAVE, "the L2 store travels with replies");

static struct ipk_ether_store *store_of(struct ipk_pkt *pkt)
{
	return (struct ipk_ether_store *)pkt->buf;
}

int ipk_ether_l3_offset(const uint8_t *data, uint32_t len, uint16_t *ethertype)
{
	uint32_t off = IPK_ETHER_HDR_LEN - 2;
	uint16_t type;

	for (int tags = 0;; tags++) {
		if (len < off + 2)
			return -1;
		type = rd16(data + off);
		if (type != IPK_ETH_P_8021Q && type != IPK_ETH_P_8021AD)
			break;
		if (tags == IPK_ETHER_MAX_TAGS)
			return -1;
		off += IPK_ETHER_VLAN_LEN;
	}
	*ethertype = type;
	return (int)off + 2;
}

enum ipk_ether_kind ipk_ether_strip(struct ipk_pkt *pkt)
{
	struct ipk_ether_store *st;
	uint16_t type;
	int off = ipk_ether_l3_offset(ipk_pkt_data(pkt), pkt->len, &type);
	enum ipk_ether_kind kind;

	if (off < 0) {
		pkt->meta.flags |= IPK_IO_F_NOT_IP;
		return pkt->len < IPK_ETHER_HDR_LEN ? IPK_ETHER_TRUNCATED : IPK_ETHER_OTHER;
	}
	if (type == IPK_ETH_P_IPV4)
		kind = IPK_ETHER_IPV4;
	else if (type == IPK_ETH_P_IPV6)
		kind = IPK_ETHER_IPV6;
	else
		kind = IPK_ETHER_OTHER;
	if (kind == IPK_ETHER_OTHER || pkt->head < IPK_ETHER_STORE_SIZE + (uint32_t)off) {
		pkt->meta.flags |= IPK_IO_F_NOT_IP;
		return IPK_ETHER_OTHER;
	}
	st = store_of(pkt);
	st->tag = pkt->index;
	st->len = (uint8_t)off;
	memcpy(st->hdr, ipk_pkt_data(pkt), (size_t)off);
	ipk_pkt_pull(pkt, (uint32_t)off);
	pkt->meta.l3_family = (uint8_t)kind;
	pkt->meta.flags |= IPK_IO_F_L2;
	return kind;
}

const struct ipk_ether_store *ipk_ether_saved(const struct ipk_pkt *pkt)
{
	const struct ipk_ether_store *st = (const struct ipk_ether_store *)pkt->buf;

	if (!(pkt->meta.flags & IPK_IO_F_L2) || st->tag != pkt->index)
		return NULL;
	if (st->len < IPK_ETHER_HDR_LEN || st->len > IPK_ETHER_MAX_HDR)
		return NULL;
	return st;
}

uint32_t ipk_ether_header(const struct ipk_pkt *pkt, uint8_t *out)
{
	const struct ipk_ether_store *st = ipk_ether_saved(pkt);
	uint16_t type;

	if (!st || !pkt->len)
		return 0;
	switch (pkt->buf[pkt->head] >> 4) {
	case 4:
		type = IPK_ETH_P_IPV4;
		break;
	case 6:
		type = IPK_ETH_P_IPV6;
		break;
	default:
		return 0;
	}
	memcpy(out, st->hdr, st->len);
	wr16(out + st->len - 2, type);
	/* An answer ipseck made about this frame goes back to its sender (core/pkt.h). */
	if (pkt->meta.flags & IPK_PKT_F_REPLY) {
		memcpy(out, st->hdr + 6, 6);
		memcpy(out + 6, st->hdr, 6);
	}
	return st->len;
}

bool ipk_ether_rebuild(struct ipk_pkt *pkt)
{
	uint8_t hdr[IPK_ETHER_MAX_HDR];
	uint32_t len;

	if (pkt->meta.flags & IPK_IO_F_NOT_IP)
		return true;
	len = ipk_ether_header(pkt, hdr);
	/* The store sits at the start of buf: the header must land after it. */
	if (!len || pkt->head < IPK_ETHER_STORE_SIZE + len)
		return false;
	memcpy(ipk_pkt_push(pkt, len), hdr, len);
	/* Now a frame: a second rebuild must not add another header. */
	pkt->meta.flags &= (uint16_t)~IPK_IO_F_L2;
	return true;
}

uint32_t ipk_ether_copy_tagged(uint8_t *dst, const uint8_t *frame, uint32_t len, uint16_t tpid,
			       uint16_t tci)
{
	memcpy(dst, frame, 12);
	wr16(dst + 12, tpid);
	wr16(dst + 14, tci);
	memcpy(dst + 16, frame + 12, len - 12);
	return len + IPK_ETHER_VLAN_LEN;
}

/* Sum of the pseudo-header (RFC 793 §3.1, RFC 768, RFC 8200 §8.1). */
static uint32_t pseudo_sum(const uint8_t *ip, const struct ipk_ip_info *info, uint32_t l4_len)
{
	uint32_t sum;

	if (info->version == 4) {
		sum = ipk_csum_add(0, ip + 12, 8);
		return sum + info->proto + l4_len;
	}
	sum = ipk_csum_add(0, ip + 8, 32);
	return sum + info->proto + (l4_len >> 16) + (l4_len & 0xffff);
}

bool ipk_ether_csum_complete(uint8_t *ip, uint32_t len)
{
	struct ipk_ip_info info;
	uint32_t l4_len, field;
	uint16_t csum;

	if (ipk_ip_parse(ip, len, &info) || info.is_fragment)
		return false;
	if (info.proto == IPK_PROTO_TCP)
		field = 16;
	else if (info.proto == IPK_PROTO_UDP)
		field = 6;
	else
		return false;
	l4_len = info.total_len - info.hdr_len;
	if (l4_len < field + 2)
		return false;
	wr16(ip + info.hdr_len + field, 0);
	csum = (uint16_t)~ipk_csum_fold(ipk_csum_add(pseudo_sum(ip, &info, l4_len),
						     ip + info.hdr_len, l4_len));
	/* UDP sends a computed 0 as 0xffff: 0 means "no checksum" (RFC 768). */
	if (info.proto == IPK_PROTO_UDP && csum == 0)
		csum = 0xffff;
	wr16(ip + info.hdr_len + field, csum);
	return true;
}
