// SPDX-License-Identifier: BSD-2-Clause
#include "proto/frag.h"

#include <string.h>

#include "proto/ip.h"

#define IPV4_MF 0x2000
#define IPV6_FRAG_HDR_LEN 8
#define IPV4_MAX_HDR 60

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/*
 * A fragment inherits what the I/O back end keeps about the packet: the metadata (not the
 * SA reference: the original keeps it until it is freed), its index and the bytes in
 * front of the data (the wire port's saved link header lives there, io/ether.h).
 */
static struct ipk_pkt *new_piece(struct ipk_pool *pool, const struct ipk_pkt *orig)
{
	struct ipk_pkt *f = ipk_pkt_alloc(pool);
	uint32_t front;

	if (!f)
		return NULL;
	front = orig->head < f->head ? orig->head : f->head;
	memcpy(f->buf, orig->buf, front);
	f->meta = orig->meta;
	f->meta.sa = NULL;
	f->index = orig->index;
	return f;
}

static void free_all(struct ipk_pkt_list *l)
{
	struct ipk_pkt *p;

	while ((p = ipk_pkt_list_pop(l)))
		ipk_pkt_free(p);
}

/* RFC 791 §3.1: only options whose copy bit is set go into the fragments after the
 * first. Writes that header at @dst, padded with End of Option List, and returns its
 * length. The options were checked by nobody: a malformed one ends the walk. */
static uint32_t v4_later_header(const uint8_t *ip, uint32_t hl, uint8_t *dst)
{
	uint32_t n = IPK_IPV4_HDR_LEN, i = IPK_IPV4_HDR_LEN;

	memcpy(dst, ip, IPK_IPV4_HDR_LEN);
	while (i < hl && ip[i] != 0) {
		uint8_t l;

		if (ip[i] == 1) { /* No Operation */
			i++;
			continue;
		}
		l = i + 1 < hl ? ip[i + 1] : 0;
		if (l < 2 || i + l > hl)
			break;
		if (ip[i] & 0x80) {
			memcpy(dst + n, ip + i, l);
			n += l;
		}
		i += l;
	}
	while (n % 4)
		dst[n++] = 0;
	dst[0] = (uint8_t)(0x40 | n / 4);
	return n;
}

/* RFC 791 §3.2: every piece but the last carries a multiple of 8 data bytes; offsets count
 * from the original datagram, so a fragment is split further correctly. */
static int split_v4(struct ipk_pkt *pkt, const struct ipk_ip_info *info, uint32_t mtu,
		    uint32_t id, struct ipk_pool *pool, struct ipk_pkt_list *out)
{
	const uint8_t *ip = ipk_pkt_data(pkt);
	uint32_t hl = info->hdr_len, data_len = info->total_len - hl, off = 0, cur_hl = hl;
	uint8_t hdr[IPV4_MAX_HDR];

	memcpy(hdr, ip, hl);
	while (off < data_len) {
		uint32_t room = mtu > cur_hl ? (mtu - cur_hl) & ~7u : 0;
		uint32_t n = data_len - off < room ? data_len - off : room;
		bool more = off + n < data_len || info->more_fragments;
		struct ipk_pkt *f;
		uint8_t *d;

		if (room < 8)
			return IPK_DROP_FRAG_BAD;
		f = new_piece(pool, pkt);
		if (!f)
			return IPK_DROP_NO_BUFFER;
		d = ipk_pkt_put(f, cur_hl + n);
		memcpy(d, hdr, cur_hl);
		memcpy(d + cur_hl, ip + hl + off, n);
		wr16(d + 2, (uint16_t)(cur_hl + n));
		wr16(d + 4, (uint16_t)id);
		/* DF and the reserved bit clear: this gateway chose to fragment. */
		wr16(d + 6, (uint16_t)((more ? IPV4_MF : 0) | (info->frag_offset + off) / 8));
		ipk_ipv4_set_checksum(d);
		ipk_pkt_list_push(out, f);
		if (off == 0)
			cur_hl = v4_later_header(ip, hl, hdr);
		off += n;
	}
	return 0;
}

/* RFC 8200 §4.5: the unfragmentable part is the IPv6 header plus Hop-by-Hop, Routing and
 * the Destination Options that come before a Routing header. Returns its length; writes
 * the offset of the next-header byte that will name the Fragment header. The chain was
 * walked by ipk_ip_parse(), so the lengths are within the packet. */
static uint32_t v6_unfragmentable(const uint8_t *ip, uint32_t len, uint32_t *nh_off)
{
	uint32_t off = IPK_IPV6_HDR_LEN, end = IPK_IPV6_HDR_LEN;
	uint8_t nh = ip[6];

	*nh_off = 6;
	while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= len) {
		uint32_t l = ((uint32_t)ip[off + 1] + 1) * 8;

		if (nh != 60) {
			end = off + l;
			*nh_off = off;
		}
		nh = ip[off];
		off += l;
	}
	return end;
}

static int split_v6(struct ipk_pkt *pkt, const struct ipk_ip_info *info, uint32_t mtu,
		    uint32_t id, struct ipk_pool *pool, struct ipk_pkt_list *out)
{
	const uint8_t *ip = ipk_pkt_data(pkt);
	uint32_t nh_off, unfrag = v6_unfragmentable(ip, info->total_len, &nh_off);
	uint32_t data_len = info->total_len - unfrag, off = 0;
	uint32_t room = mtu > unfrag + IPV6_FRAG_HDR_LEN ?
				(mtu - unfrag - IPV6_FRAG_HDR_LEN) & ~7u : 0;

	if (info->frag_hdr_off)
		return IPK_DROP_UNSUPPORTED;
	if (room < 8)
		return IPK_DROP_FRAG_BAD;
	while (off < data_len) {
		uint32_t n = data_len - off < room ? data_len - off : room;
		struct ipk_pkt *f = new_piece(pool, pkt);
		uint8_t *d, *fh;

		if (!f)
			return IPK_DROP_NO_BUFFER;
		d = ipk_pkt_put(f, unfrag + IPV6_FRAG_HDR_LEN + n);
		memcpy(d, ip, unfrag);
		fh = d + unfrag;
		fh[0] = ip[nh_off];
		fh[1] = 0;
		wr16(fh + 2, (uint16_t)(off | (off + n < data_len ? 1u : 0u)));
		wr32(fh + 4, id);
		memcpy(fh + IPV6_FRAG_HDR_LEN, ip + unfrag + off, n);
		d[nh_off] = IPK_PROTO_IPV6_FRAG;
		wr16(d + 4, (uint16_t)(unfrag - IPK_IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN + n));
		ipk_pkt_list_push(out, f);
		off += n;
	}
	return 0;
}

int ipk_frag_split(struct ipk_pkt *pkt, uint32_t mtu, uint32_t id, struct ipk_pool *pool,
		   struct ipk_pkt_list *out, struct ipk_drop_stats *drops)
{
	struct ipk_pkt_list frags = { 0 };
	struct ipk_ip_info info;
	int rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info);

	if (!rc) {
		/* Trailing link padding is not part of the datagram. */
		ipk_pkt_trim(pkt, info.total_len);
		if (pkt->len <= mtu) {
			ipk_pkt_list_push(out, pkt);
			return 0;
		}
		/* A piece must fit a buffer of @pool. */
		if (mtu > pool->room - IPK_PKT_HEADROOM)
			mtu = pool->room - IPK_PKT_HEADROOM;
		rc = info.version == 4 ? split_v4(pkt, &info, mtu, id, pool, &frags) :
					 split_v6(pkt, &info, mtu, id, pool, &frags);
	}
	if (rc) {
		free_all(&frags);
		ipk_pkt_drop(pkt, drops, (enum ipk_drop_reason)rc);
		return rc;
	}
	ipk_pkt_list_splice(out, &frags);
	ipk_pkt_free(pkt);
	return 0;
}
