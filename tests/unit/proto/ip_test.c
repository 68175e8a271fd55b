// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/proto/ip.c: IPv4 and IPv6 parsing with every length check, IPv6 extension
 * header chains and Fragment headers, the flow view for the SPD, RFC 1071 checksums
 * against known answers, header building checked against bytes scapy wrote, TOS
 * rewriting, and the 16 cells of the RFC 6040 §4.2 decapsulation table. Each input is
 * copied into a buffer of exactly its captured length, so an over-read trips ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "proto/ip.h"
#include "sa/spd.h"

#define TRUNC IPK_DROP_TRUNCATED_IP
#define BADVER IPK_DROP_BAD_IP_VERSION
#define BADHDR IPK_DROP_BAD_IP_HEADER
#define LENMIS IPK_DROP_IP_LENGTH_MISMATCH

/* Reference Internet checksum (RFC 1071 §4.1), independent of the code under test. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Parses @len bytes of @data from a heap copy of exactly @len bytes. */
static int parse_exact(const uint8_t *data, size_t len, struct ipk_ip_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, data, len);
	rc = ipk_ip_parse(copy, len, info);
	free(copy);
	return rc;
}

/* ---- checksums ---- */

/* RFC 1071 §3 numerical example, and the IPv4 header of a captured UDP datagram
 * (192.168.0.1 -> 192.168.0.199) whose checksum field reads 0xb861. */
static const uint8_t rfc1071_bytes[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
static const uint8_t captured_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};
/* IGMPv2 report with a Router Alert option (IHL 6), written by scapy: checksum 0x262a. */
static const uint8_t router_alert_pkt[32] = {
	0x46, 0xc0, 0x00, 0x20, 0x4b, 0x2a, 0x40, 0x00, 0x01, 0x02, 0x26, 0x2a,
	0xc0, 0xa8, 0x01, 0x0a, 0xac, 0x10, 0x05, 0x01, 0x94, 0x04, 0x00, 0x00,
	0x16, 0x00, 0xfa, 0x04, 0xef, 0x00, 0x00, 0x01,
};

static void csum_known_answers(void **state)
{
	static const uint8_t odd[3] = { 0x01, 0x02, 0x03 };
	static const uint8_t ones[2] = { 0xff, 0xff };
	static const struct {
		uint32_t start;
		const uint8_t *data;
		size_t len;
		uint32_t sum;
		uint16_t folded;
	} rows[] = {
		/* 0 */ { 0, rfc1071_bytes, 8, 0x2ddf0, 0xddf2 },
		/* 1 */ { 0, rfc1071_bytes, 4, 0xf204, 0xf204 },
		/* 2 */ { 0, odd, 3, 0x0402, 0x0402 },   /* odd byte padded with zero */
		/* 3 */ { 0x10000, odd, 2, 0x10102, 0x0103 },
		/* 4 */ { 0xfffe, ones, 2, 0x1fffd, 0xfffe },
		/* 5 */ { 0, captured_hdr, 20, 0x2fffd, 0xffff }, /* a correct header */
		/* 6 */ { 0, router_alert_pkt, 24, 0x2fffd, 0xffff },
		/* 7 */ { 0, odd, 0, 0, 0 },
		/* 8 */ { 0xffffffff, odd, 0, 0xffffffff, 0xffff },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint32_t sum = ipk_csum_add(rows[i].start, rows[i].data, rows[i].len);

		if (sum != rows[i].sum || ipk_csum_fold(sum) != rows[i].folded)
			fail_msg("row %zu: sum %#x fold %#x, want %#x %#x", i, sum,
				 ipk_csum_fold(sum), rows[i].sum, rows[i].folded);
	}
}

static void set_checksum_known_answers(void **state)
{
	static const struct {
		const uint8_t *hdr;
		size_t len;
		uint16_t csum;
	} rows[] = {
		/* 0 */ { captured_hdr, 20, 0xb861 },
		/* 1 */ { router_alert_pkt, 24, 0x262a }, /* the option is summed too */
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint8_t h[60];

		memcpy(h, rows[i].hdr, rows[i].len);
		h[10] = 0x5a; /* garbage: set_checksum must not include the old value */
		h[11] = 0xa5;
		ipk_ipv4_set_checksum(h);
		if ((h[10] << 8 | h[11]) != rows[i].csum)
			fail_msg("row %zu: checksum %#x, want %#x", i, h[10] << 8 | h[11],
				 rows[i].csum);
		assert_memory_equal(h, rows[i].hdr, rows[i].len);
	}
}

/* ---- IPv4 parsing ---- */

enum corrupt { NONE, FLIP_CSUM, FLIP_SRC };

struct v4_row {
	uint8_t version;
	uint8_t ihl;
	uint16_t total_len;
	uint16_t captured;
	uint16_t frag;     /* flags and offset field as on the wire */
	uint16_t id;
	uint8_t tos;
	enum corrupt corrupt;
	int expect;
	bool is_frag, mf;
	uint16_t frag_off; /* bytes */
};

/* Writes the header the row describes (NOP options up to the IHL, payload 0xa5) into
 * @buf, checksum computed by the reference. */
static void build_v4(uint8_t *buf, size_t size, const struct v4_row *r, uint8_t proto)
{
	size_t hl = r->ihl >= 5 ? r->ihl * 4u : 20;

	memset(buf, 0xa5, size);
	buf[0] = (uint8_t)(r->version << 4 | r->ihl);
	buf[1] = r->tos;
	buf[2] = (uint8_t)(r->total_len >> 8);
	buf[3] = (uint8_t)r->total_len;
	buf[4] = (uint8_t)(r->id >> 8);
	buf[5] = (uint8_t)r->id;
	buf[6] = (uint8_t)(r->frag >> 8);
	buf[7] = (uint8_t)r->frag;
	buf[8] = 64;
	buf[9] = proto;
	buf[10] = buf[11] = 0;
	memcpy(buf + 12, (const uint8_t[]){ 10, 1, 0, 5, 10, 2, 0, 9 }, 8);
	memset(buf + 20, 0x01, hl - 20); /* RFC 791 NOP options */
	buf[10] = (uint8_t)(ref_csum(buf, hl) >> 8);
	buf[11] = (uint8_t)ref_csum(buf, hl);
	if (r->corrupt == FLIP_CSUM)
		buf[11] ^= 0x01;
	else if (r->corrupt == FLIP_SRC)
		buf[13] ^= 0x80;
}

static const struct v4_row v4_rows[] = {
	/*      ver ihl total cap  frag    id      tos   corrupt    expect  frag? MF offset */
	/* 0 */ { 4, 5, 40, 40, 0x0000, 0x1234, 0xb9, NONE, 0, false, false, 0 },
	/* 1 */ { 4, 6, 32, 32, 0x0000, 1, 0, NONE, 0, false, false, 0 },
	/* 2 */ { 4, 7, 36, 36, 0x0000, 2, 0, NONE, 0, false, false, 0 },
	/* 3 */ { 4, 8, 40, 40, 0x0000, 3, 0, NONE, 0, false, false, 0 },
	/* 4 */ { 4, 9, 44, 44, 0x0000, 4, 0, NONE, 0, false, false, 0 },
	/* 5 */ { 4, 10, 48, 48, 0x0000, 5, 0, NONE, 0, false, false, 0 },
	/* 6 */ { 4, 11, 52, 52, 0x0000, 6, 0, NONE, 0, false, false, 0 },
	/* 7 */ { 4, 12, 56, 56, 0x0000, 7, 0, NONE, 0, false, false, 0 },
	/* 8 */ { 4, 13, 60, 60, 0x0000, 8, 0, NONE, 0, false, false, 0 },
	/* 9 */ { 4, 14, 64, 64, 0x0000, 9, 0, NONE, 0, false, false, 0 },
	/* 10 */ { 4, 15, 68, 68, 0x0000, 10, 0, NONE, 0, false, false, 0 },
	/* 11: checksum field off by one bit */
	{ 4, 5, 40, 40, 0x0000, 11, 0, FLIP_CSUM, BADHDR, false, false, 0 },
	/* 12: source address changed after the checksum was computed */
	{ 4, 5, 40, 40, 0x0000, 12, 0, FLIP_SRC, BADHDR, false, false, 0 },
	/* 13: same with options, the damage in the address, IHL 15 */
	{ 4, 15, 68, 68, 0x0000, 13, 0, FLIP_SRC, BADHDR, false, false, 0 },
	/* 14..16: IHL below 5 */
	{ 4, 4, 40, 40, 0x0000, 14, 0, NONE, BADHDR, false, false, 0 },
	{ 4, 1, 40, 40, 0x0000, 15, 0, NONE, BADHDR, false, false, 0 },
	{ 4, 0, 40, 40, 0x0000, 16, 0, NONE, BADHDR, false, false, 0 },
	/* 17, 18: total length shorter than the header */
	{ 4, 5, 19, 40, 0x0000, 17, 0, NONE, BADHDR, false, false, 0 },
	{ 4, 6, 23, 40, 0x0000, 18, 0, NONE, BADHDR, false, false, 0 },
	/* 19: total length exactly the header: no payload, valid */
	{ 4, 5, 20, 20, 0x0000, 19, 0, NONE, 0, false, false, 0 },
	/* 20, 21: total length beyond what was captured */
	{ 4, 5, 100, 60, 0x0000, 20, 0, NONE, LENMIS, false, false, 0 },
	{ 4, 5, 41, 40, 0x0000, 21, 0, NONE, LENMIS, false, false, 0 },
	/* 22: trailing link padding (captured 60, datagram 46): accepted */
	{ 4, 5, 46, 60, 0x0000, 22, 0, NONE, 0, false, false, 0 },
	/* 23..25: not version 4 or 6 */
	{ 5, 5, 40, 40, 0x0000, 23, 0, NONE, BADVER, false, false, 0 },
	{ 0, 5, 40, 40, 0x0000, 24, 0, NONE, BADVER, false, false, 0 },
	{ 15, 5, 40, 40, 0x0000, 25, 0, NONE, BADVER, false, false, 0 },
	/* 26..28: shorter than a header */
	{ 4, 5, 40, 0, 0x0000, 26, 0, NONE, TRUNC, false, false, 0 },
	{ 4, 5, 40, 19, 0x0000, 27, 0, NONE, TRUNC, false, false, 0 },
	{ 4, 15, 68, 59, 0x0000, 28, 0, NONE, TRUNC, false, false, 0 }, /* IHL 60 > 59 */
	/* 29..33: fragments */
	{ 4, 5, 40, 40, 0x2000, 0xabcd, 0, NONE, 0, true, true, 0 },       /* MF, first */
	{ 4, 5, 40, 40, 0x00b9, 0xabcd, 0, NONE, 0, true, false, 1480 },   /* last */
	{ 4, 5, 40, 40, 0x20b9, 0xabcd, 0, NONE, 0, true, true, 1480 },    /* middle */
	{ 4, 5, 40, 40, 0x3fff, 0xffff, 0, NONE, 0, true, true, 65528 },   /* largest offset */
	{ 4, 5, 40, 40, 0x0001, 0x0000, 0, NONE, 0, true, false, 8 },
	/* 34: DF alone is not a fragment */
	{ 4, 5, 40, 40, 0x4000, 0x0102, 0, NONE, 0, false, false, 0 },
};

static void v4_parse_table(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(v4_rows); i++) {
		const struct v4_row *r = &v4_rows[i];
		struct ipk_ip_info info;
		uint8_t buf[128];
		int rc;

		build_v4(buf, sizeof(buf), r, IPK_PROTO_UDP);
		rc = parse_exact(buf, r->captured, &info);
		if (rc != r->expect)
			fail_msg("row %zu: rc %d (%s), want %d (%s)", i, rc, ipk_drop_name(rc),
				 r->expect, ipk_drop_name(r->expect));
		if (rc)
			continue;
		if (info.version != 4 || info.proto != IPK_PROTO_UDP || info.proto_off != 9 ||
		    info.hdr_len != r->ihl * 4 || info.total_len != r->total_len)
			fail_msg("row %zu: version %u proto %u@%u hdr_len %u total %u", i,
				 info.version, info.proto, info.proto_off, info.hdr_len,
				 info.total_len);
		if (info.dscp != r->tos >> 2 || info.ecn != (r->tos & 3))
			fail_msg("row %zu: dscp %u ecn %u", i, info.dscp, info.ecn);
		if (info.is_fragment != r->is_frag || info.more_fragments != r->mf ||
		    info.frag_offset != r->frag_off || info.frag_id != r->id)
			fail_msg("row %zu: frag %d mf %d offset %u id %#x", i, info.is_fragment,
				 info.more_fragments, info.frag_offset, info.frag_id);
		if (info.src.family != 4 || memcmp(info.src.bytes, buf + 12, 4) ||
		    info.dst.family != 4 || memcmp(info.dst.bytes, buf + 16, 4) ||
		    info.frag_hdr_off != 0)
			fail_msg("row %zu: addresses", i);
	}
}

static void v4_known_headers(void **state)
{
	struct ipk_ip_info info;
	uint8_t pkt[0x73];

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, captured_hdr, 20);
	assert_int_equal(parse_exact(pkt, sizeof(pkt), &info), 0);
	assert_int_equal(info.total_len, 0x73);
	assert_int_equal(info.proto, IPK_PROTO_UDP);
	assert_int_equal(info.dst.bytes[3], 0xc7);
	assert_int_equal(parse_exact(router_alert_pkt, 32, &info), 0);
	assert_int_equal(info.hdr_len, 24);
	assert_int_equal(info.proto, 2);
	assert_int_equal(info.dscp, 0x30); /* CS6 */
	assert_int_equal(info.frag_id, 0x4b2a);
	assert_false(info.is_fragment);
}

/* ---- IPv6 parsing ---- */

#define HBH 0
#define ROUTING 43
#define FRAG 44
#define DSTOPT 60

struct ext {
	uint8_t type;
	uint8_t units;      /* length in 8-octet units (Fragment: always 1) */
	uint16_t frag;      /* Fragment header: offset << 3 | M */
	uint32_t frag_id;
};

/* What the parser must report for a row. */
struct v6_want {
	int rc;
	uint8_t proto;
	uint16_t hdr_len, proto_off;
	bool is_frag, mf;
	uint16_t frag_off;
	uint32_t frag_id;
	uint16_t frag_hdr_off;
	uint8_t frag_prev_nh_off;
};

#define FAILS(rc) { rc, 0, 0, 0, false, false, 0, 0, 0, 0 }
#define WHOLE(proto, hl, po) { 0, proto, hl, po, false, false, 0, 0, 0, 0 }
#define FRAGMENT(proto, hl, po, mf, off, id, fho, pno) \
	{ 0, proto, hl, po, true, mf, off, id, fho, pno }

struct v6_row {
	uint8_t n_ext;
	struct ext ext[10];
	uint8_t upper;
	uint16_t upper_len;   /* upper-layer bytes after the chain */
	int plen;             /* payload length field; -1: the real one */
	int captured;         /* bytes handed to the parser; -1: the whole packet */
	uint8_t tclass;
	struct v6_want want;
};

/* Writes the packet the row describes into @buf; returns its real length. */
static size_t build_v6(uint8_t *buf, size_t size, const struct v6_row *r)
{
	size_t off = IPK_IPV6_HDR_LEN, nh_off = 6;
	uint16_t plen;

	memset(buf, 0xa5, size);
	buf[0] = (uint8_t)(0x60 | r->tclass >> 4);
	buf[1] = (uint8_t)(r->tclass << 4 | 0x3); /* flow label 0x3beef */
	buf[2] = 0xbe;
	buf[3] = 0xef;
	buf[7] = 64;
	for (int i = 0; i < 16; i++) {
		buf[8 + i] = (uint8_t)(i == 0 ? 0x20 : i == 1 ? 0x01 : i == 15 ? 1 : 0);
		buf[24 + i] = (uint8_t)(i == 0 ? 0x20 : i == 1 ? 0x01 : i == 15 ? 2 : 0);
	}
	for (unsigned i = 0; i < r->n_ext; i++) {
		const struct ext *e = &r->ext[i];
		size_t len = e->type == FRAG ? 8 : e->units * 8u;

		buf[nh_off] = e->type;
		memset(buf + off, 0, len);
		if (e->type == FRAG) {
			buf[off + 2] = (uint8_t)(e->frag >> 8);
			buf[off + 3] = (uint8_t)e->frag;
			buf[off + 4] = (uint8_t)(e->frag_id >> 24);
			buf[off + 5] = (uint8_t)(e->frag_id >> 16);
			buf[off + 6] = (uint8_t)(e->frag_id >> 8);
			buf[off + 7] = (uint8_t)e->frag_id;
		} else {
			buf[off + 1] = (uint8_t)(e->units - 1);
		}
		nh_off = off;
		off += len;
	}
	buf[nh_off] = r->upper;
	off += r->upper_len;
	assert_true(off <= size);
	plen = (uint16_t)(r->plen >= 0 ? r->plen : (int)(off - IPK_IPV6_HDR_LEN));
	buf[4] = (uint8_t)(plen >> 8);
	buf[5] = (uint8_t)plen;
	return off;
}

#define E(t, u) { t, u, 0, 0 }
#define F(fo, id) { FRAG, 1, fo, id }

static const struct v6_row v6_rows[] = {
	/* 0: no extension headers */
	{ 0, { { 0 } }, IPK_PROTO_UDP, 8, -1, -1, 0xb9, WHOLE(IPK_PROTO_UDP, 40, 6) },
	/* 1: hop-by-hop (8) + destination options (16) + routing (24) -> TCP */
	{ 3, { E(HBH, 1), E(DSTOPT, 2), E(ROUTING, 3) }, IPK_PROTO_TCP, 20, -1, -1, 0,
	  WHOLE(IPK_PROTO_TCP, 88, 64) },
	/* 2: first fragment behind hop-by-hop: offset 0, M, the chain goes on to UDP */
	{ 2, { E(HBH, 1), F(0x0001, 0xdeadbeef) }, IPK_PROTO_UDP, 8, -1, -1, 0,
	  FRAGMENT(IPK_PROTO_UDP, 56, 48, true, 0, 0xdeadbeef, 48, 40) },
	/* 3: non-first fragment (offset 1448 = 181 * 8, last): ESP named, nothing parsed */
	{ 1, { F(181 << 3, 0x01020304) }, IPK_PROTO_ESP, 16, -1, -1, 0,
	  FRAGMENT(IPK_PROTO_ESP, 48, 40, false, 1448, 0x01020304, 40, 6) },
	/* 4: middle fragment behind hop-by-hop and routing, the largest offset */
	{ 3, { E(HBH, 1), E(ROUTING, 2), F(0xfff9, 7) }, IPK_PROTO_UDP, 16, -1, -1, 0,
	  FRAGMENT(IPK_PROTO_UDP, 72, 64, true, 0xfff8, 7, 64, 48) },
	/* 5: a hop-by-hop header cut to 4 bytes by the payload length */
	{ 1, { E(HBH, 1) }, IPK_PROTO_UDP, 8, 4, -1, 0, FAILS(TRUNC) },
	/* 6: a Fragment header cut to 7 bytes */
	{ 1, { F(0x0001, 1) }, IPK_PROTO_UDP, 8, 7, -1, 0, FAILS(TRUNC) },
	/* 7: a destination options header announcing 24 bytes with 16 in the datagram */
	{ 1, { E(DSTOPT, 3) }, IPK_PROTO_UDP, 0, 16, -1, 0, FAILS(BADHDR) },
	/* 8: eight extension headers: the most the walker follows */
	{ 8, { E(HBH, 1), E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1),
	       E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1) }, IPK_PROTO_UDP, 8, -1, -1, 0,
	  WHOLE(IPK_PROTO_UDP, 104, 96) },
	/* 9: nine: refused */
	{ 9, { E(HBH, 1), E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1),
	       E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1), E(DSTOPT, 1) }, IPK_PROTO_UDP, 8, -1,
	  -1, 0, FAILS(BADHDR) },
	/* 10: payload length beyond the capture */
	{ 0, { { 0 } }, IPK_PROTO_UDP, 8, 100, -1, 0, FAILS(LENMIS) },
	/* 11: trailing padding after the datagram: accepted */
	{ 0, { { 0 } }, IPK_PROTO_UDP, 30, 8, -1, 0, WHOLE(IPK_PROTO_UDP, 40, 6) },
	/* 12, 13: shorter than the fixed header */
	{ 0, { { 0 } }, IPK_PROTO_UDP, 8, -1, 39, 0, FAILS(TRUNC) },
	{ 0, { { 0 } }, IPK_PROTO_UDP, 8, -1, 1, 0, FAILS(TRUNC) },
	/* 14: a chain ending in No Next Header */
	{ 1, { E(DSTOPT, 1) }, IPK_PROTO_NONE, 0, -1, -1, 0, WHOLE(IPK_PROTO_NONE, 48, 40) },
	/* 15: atomic fragment (offset 0, no M): still a Fragment header */
	{ 1, { F(0x0000, 0x55) }, IPK_PROTO_ICMPV6, 8, -1, -1, 0,
	  FRAGMENT(IPK_PROTO_ICMPV6, 48, 40, false, 0, 0x55, 40, 6) },
	/* 16: ESP behind destination options behind hop-by-hop */
	{ 2, { E(HBH, 1), E(DSTOPT, 1) }, IPK_PROTO_ESP, 24, -1, -1, 0,
	  WHOLE(IPK_PROTO_ESP, 56, 48) },
};

static void run_v6_rows(const struct v6_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct v6_row *r = &rows[i];
		const struct v6_want *w = &r->want;
		struct ipk_ip_info info;
		uint8_t buf[256];
		size_t len = build_v6(buf, sizeof(buf), r);
		int rc;

		if (r->captured >= 0)
			len = (size_t)r->captured;
		rc = parse_exact(buf, len, &info);
		if (rc != w->rc)
			fail_msg("row %zu: rc %d (%s), want %d (%s)", i, rc, ipk_drop_name(rc),
				 w->rc, ipk_drop_name(w->rc));
		if (rc)
			continue;
		if (info.version != 6 || info.proto != w->proto || info.hdr_len != w->hdr_len ||
		    info.proto_off != w->proto_off)
			fail_msg("row %zu: version %u proto %u hdr_len %u proto_off %u, "
				 "want %u %u %u", i, info.version, info.proto, info.hdr_len,
				 info.proto_off, w->proto, w->hdr_len, w->proto_off);
		if (info.total_len != 40u + (buf[4] << 8 | buf[5]))
			fail_msg("row %zu: total_len %u", i, info.total_len);
		if (info.is_fragment != w->is_frag || info.more_fragments != w->mf ||
		    info.frag_offset != w->frag_off || info.frag_id != w->frag_id ||
		    info.frag_hdr_off != w->frag_hdr_off ||
		    info.frag_prev_nh_off != w->frag_prev_nh_off)
			fail_msg("row %zu: frag %d mf %d off %u id %#x hdr@%u prev@%u", i,
				 info.is_fragment, info.more_fragments, info.frag_offset,
				 info.frag_id, info.frag_hdr_off, info.frag_prev_nh_off);
		if (info.dscp != r->tclass >> 2 || info.ecn != (r->tclass & 3))
			fail_msg("row %zu: dscp %u ecn %u", i, info.dscp, info.ecn);
		if (info.src.family != 6 || memcmp(info.src.bytes, buf + 8, 16) ||
		    info.dst.family != 6 || memcmp(info.dst.bytes, buf + 24, 16))
			fail_msg("row %zu: addresses", i);
	}
}

static void v6_parse_table(void **state)
{
	run_v6_rows(v6_rows, IPK_ARRAY_SIZE(v6_rows));
}

/* RFC 8200 §4.5: destination options may sit in the fragmentable part, so the Fragment
 * header of a non-first fragment may name header 60. The fragment is valid; nothing
 * after its Fragment header can be parsed. */
static void v6_nonfirst_fragment_names_dstopts(void **state)
{
	static const struct v6_row rows[] = {
		/* 0 */ { 1, { F(185 << 3, 9) }, DSTOPT, 16, -1, -1, 0,
			  FRAGMENT(DSTOPT, 48, 40, false, 1480, 9, 40, 6) },
		/* 1 */ { 1, { F(185 << 3 | 1, 10) }, DSTOPT, 16, -1, -1, 0,
			  FRAGMENT(DSTOPT, 48, 40, true, 1480, 10, 40, 6) },
	};

	run_v6_rows(rows, IPK_ARRAY_SIZE(rows));
}

/* ---- flow view ---- */

struct flow_row {
	uint8_t family;
	uint8_t n_ext;        /* IPv6: hop-by-hop + destination options before the L4 */
	uint8_t proto;
	uint16_t frag;        /* IPv4 flags/offset; IPv6: Fragment header field, 0xffff none */
	uint8_t l4[8];
	uint8_t l4_len;
	uint16_t sport, dport;
};

static const struct flow_row flow_rows[] = {
	/* 0 */ { 4, 0, IPK_PROTO_TCP, 0x4000, { 0x04, 0xd2, 0x00, 0x50 }, 8, 1234, 80 },
	/* 1 */ { 4, 0, IPK_PROTO_UDP, 0, { 0x11, 0x94, 0x11, 0x94 }, 8, 4500, 4500 },
	/* 2 */ { 4, 0, 132, 0, { 0x0b, 0x59, 0x0b, 0x59 }, 8, 2905, 2905 },  /* SCTP */
	/* 3: ICMP echo request: type 8 code 0 */
	{ 4, 0, IPK_PROTO_ICMP, 0, { 8, 0, 0xf7, 0xff }, 8, 8, 0 },
	/* 4: ICMP destination unreachable, fragmentation needed: type 3 code 4 */
	{ 4, 0, IPK_PROTO_ICMP, 0, { 3, 4 }, 8, 3, 4 },
	/* 5: first fragment (MF, offset 0) carries the ports */
	{ 4, 0, IPK_PROTO_UDP, 0x2000, { 0x00, 0x35, 0xc0, 0x00 }, 8, 53, 49152 },
	/* 6: non-first fragment: its first bytes are data, not ports */
	{ 4, 0, IPK_PROTO_UDP, 0x00b9, { 0x00, 0x35, 0xc0, 0x00 }, 8, 0, 0 },
	{ 4, 0, IPK_PROTO_TCP, 0x2001, { 0x00, 0x35, 0xc0, 0x00 }, 8, 0, 0 },
	/* 8: three bytes of TCP: no ports */
	{ 4, 0, IPK_PROTO_TCP, 0, { 0x04, 0xd2, 0x00 }, 3, 0, 0 },
	/* 9: one byte of ICMP: no type/code */
	{ 4, 0, IPK_PROTO_ICMP, 0, { 8 }, 1, 0, 0 },
	/* 10: ESP has no ports */
	{ 4, 0, IPK_PROTO_ESP, 0, { 0x00, 0x00, 0x10, 0x00 }, 8, 0, 0 },
	/* 11..15: IPv6 */
	{ 6, 0, IPK_PROTO_UDP, 0xffff, { 0x01, 0xf4, 0x11, 0x94 }, 8, 500, 4500 },
	{ 6, 2, IPK_PROTO_TCP, 0xffff, { 0x00, 0x16, 0xea, 0x60 }, 8, 22, 60000 },
	{ 6, 0, IPK_PROTO_ICMPV6, 0xffff, { 128, 0 }, 8, 128, 0 },
	{ 6, 0, IPK_PROTO_UDP, 0x0001, { 0x01, 0xf4, 0x11, 0x94 }, 8, 500, 4500 },
	{ 6, 0, IPK_PROTO_UDP, 0x05a8, { 0x01, 0xf4, 0x11, 0x94 }, 8, 0, 0 },
};

/* The row's packet with TOS / traffic class 0x28 (DSCP 10). */
static size_t build_flow_v4(uint8_t *buf, size_t size, const struct flow_row *f)
{
	struct v4_row r = { .version = 4, .ihl = 5, .total_len = (uint16_t)(20 + f->l4_len),
			    .frag = f->frag, .id = 1, .tos = 0x28 };

	build_v4(buf, size, &r, f->proto);
	memcpy(buf + 20, f->l4, f->l4_len);
	return r.total_len;
}

static size_t build_flow_pkt(uint8_t *buf, size_t size, const struct flow_row *f)
{
	struct v6_row r = { .upper = f->proto, .upper_len = f->l4_len, .plen = -1,
			    .captured = -1, .tclass = 0x28 };
	size_t len;

	if (f->family == 4)
		return build_flow_v4(buf, size, f);
	for (unsigned i = 0; i < f->n_ext; i++)
		r.ext[r.n_ext++] = (struct ext){ i ? DSTOPT : HBH, 1, 0, 0 };
	if (f->frag != 0xffff)
		r.ext[r.n_ext++] = (struct ext){ FRAG, 1, f->frag, 77 };
	len = build_v6(buf, size, &r);
	memcpy(buf + len - f->l4_len, f->l4, f->l4_len);
	return len;
}

static void flow_table(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(flow_rows); i++) {
		const struct flow_row *f = &flow_rows[i];
		struct ipk_ip_info info;
		struct ipk_flow flow;
		uint8_t buf[128];
		size_t len = build_flow_pkt(buf, sizeof(buf), f);

		if (ipk_ip_parse(buf, len, &info) != 0)
			fail_msg("row %zu: does not parse", i);
		memset(&flow, 0x5a, sizeof(flow));
		ipk_ip_flow(buf, len, &info, &flow);
		if (flow.sport != f->sport || flow.dport != f->dport || flow.proto != f->proto ||
		    flow.dscp != 0x0a)
			fail_msg("row %zu: proto %u ports %u/%u dscp %u, want %u %u/%u 10", i,
				 flow.proto, flow.sport, flow.dport, flow.dscp, f->proto, f->sport,
				 f->dport);
		if (!ipk_addr_equal(&flow.src, &info.src) ||
		    !ipk_addr_equal(&flow.dst, &info.dst) || flow.src.family != f->family)
			fail_msg("row %zu: addresses", i);
	}
}

/* ---- building ---- */

/* Expected bytes written by scapy's IP()/IPv6() with the same fields. */
static void build_known_answers(void **state)
{
	static const uint8_t want1[20] = {
		0x45, 0xb8, 0x00, 0x78, 0x12, 0x34, 0x40, 0x00, 0x40, 0x32,
		0x3b, 0x31, 0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02,
	};
	static const uint8_t want2[20] = {
		0x45, 0x03, 0x00, 0x1c, 0xff, 0xff, 0x00, 0x00, 0xff, 0x11,
		0xa7, 0xcb, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	};
	static const uint8_t want6[40] = {
		0x6b, 0x90, 0x00, 0x00, 0x05, 0x78, 0x32, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x0d, 0xb8,
		0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	};
	struct ipk_addr s, d;
	uint8_t h[40];

	memset(h, 0xee, sizeof(h));
	ipk_addr_parse("192.0.2.1", &s);
	ipk_addr_parse("198.51.100.2", &d);
	ipk_ipv4_build(h, &s, &d, IPK_PROTO_ESP, 120, 0xb8, 64, true, 0x1234);
	assert_memory_equal(h, want1, 20);
	memset(h, 0xee, sizeof(h));
	ipk_addr_parse("10.0.0.1", &s);
	ipk_addr_parse("10.0.0.2", &d);
	ipk_ipv4_build(h, &s, &d, IPK_PROTO_UDP, 28, 0x03, 255, false, 0xffff);
	assert_memory_equal(h, want2, 20);
	memset(h, 0xee, sizeof(h));
	ipk_addr_parse("2001:db8::1", &s);
	ipk_addr_parse("2001:db8:ffff::2", &d);
	ipk_ipv6_build(h, &s, &d, IPK_PROTO_ESP, 1400, 0xb9, 64);
	assert_memory_equal(h, want6, 40);
}

static void build_parses_back(void **state)
{
	static const struct {
		const char *src, *dst;
		uint8_t proto;
		uint32_t len; /* whole datagram */
		uint8_t tos, ttl;
		bool df;
		uint16_t id;
	} rows[] = {
		/* 0 */ { "10.1.0.1", "10.2.0.1", IPK_PROTO_ESP, 20, 0x00, 64, false, 0 },
		/* 1 */ { "255.255.255.255", "0.0.0.0", IPK_PROTO_UDP, 1500, 0xff, 1, true, 65535 },
		/* 2 */ { "192.0.2.7", "203.0.113.9", IPK_PROTO_IPIP, 576, 0x2e, 128, true, 7 },
		/* 3 */ { "2001:db8::1", "2001:db8::2", IPK_PROTO_ESP, 40, 0x00, 64, false, 0 },
		/* 4 */ { "fe80::1", "ff02::1:ff00:1", IPK_PROTO_UDP, 65535, 0xfd, 255, false, 0 },
		/* 5 */ { "::", "::1", IPK_PROTO_NONE, 40 + 65535, 0x01, 0, false, 0 },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		static uint8_t buf[40 + 65535];
		struct ipk_addr s, d;
		struct ipk_ip_info info;
		bool v6;
		int rc;

		assert_int_equal(ipk_addr_parse(rows[i].src, &s), 0);
		assert_int_equal(ipk_addr_parse(rows[i].dst, &d), 0);
		v6 = s.family == 6;
		memset(buf, 0, sizeof(buf));
		if (v6)
			ipk_ipv6_build(buf, &s, &d, rows[i].proto, (uint16_t)(rows[i].len - 40),
				       rows[i].tos, rows[i].ttl);
		else
			ipk_ipv4_build(buf, &s, &d, rows[i].proto, (uint16_t)rows[i].len,
				       rows[i].tos, rows[i].ttl, rows[i].df, rows[i].id);
		rc = ipk_ip_parse(buf, rows[i].len, &info);
		if (rc)
			fail_msg("row %zu: rc %d", i, rc);
		if (info.version != (v6 ? 6 : 4) || info.proto != rows[i].proto ||
		    info.total_len != rows[i].len || info.dscp != rows[i].tos >> 2 ||
		    info.ecn != (rows[i].tos & 3) || info.is_fragment ||
		    !ipk_addr_equal(&info.src, &s) || !ipk_addr_equal(&info.dst, &d))
			fail_msg("row %zu: fields differ", i);
		if (ipk_ip_get_tos(buf) != rows[i].tos || buf[v6 ? 7 : 8] != rows[i].ttl)
			fail_msg("row %zu: tos %#x ttl %u", i, ipk_ip_get_tos(buf),
				 buf[v6 ? 7 : 8]);
		if (!v6 && (info.frag_id != rows[i].id || ((buf[6] & 0x40) != 0) != rows[i].df ||
			    ref_csum(buf, 20) != 0))
			fail_msg("row %zu: id %#x df %d", i, info.frag_id, buf[6] & 0x40);
	}
}

static void set_tos_updates_checksum(void **state)
{
	static const uint8_t tos[] = { 0x00, 0x01, 0x02, 0x03, 0xb8, 0xb9, 0xbb, 0xfc, 0xff };

	for (size_t i = 0; i < IPK_ARRAY_SIZE(tos); i++) {
		uint8_t h[20], want[20];
		struct ipk_ip_info info;

		memcpy(h, captured_hdr, 20);
		ipk_ip_set_tos(h, tos[i]);
		memcpy(want, captured_hdr, 20);
		want[1] = tos[i];
		want[10] = want[11] = 0;
		want[10] = (uint8_t)(ref_csum(want, 20) >> 8);
		want[11] = (uint8_t)ref_csum(want, 20);
		if (memcmp(h, want, 20) != 0)
			fail_msg("v4 row %zu: checksum %02x%02x, want %02x%02x", i, h[10], h[11],
				 want[10], want[11]);
		assert_int_equal(ipk_ip_get_tos(h), tos[i]);
		h[2] = 0;
		h[3] = 20; /* total length 20 so that the header alone parses; fix the sum */
		ipk_ipv4_set_checksum(h);
		assert_int_equal(ipk_ip_parse(h, 20, &info), 0);
		assert_int_equal(info.dscp, tos[i] >> 2);
		assert_int_equal(info.ecn, tos[i] & 3);
	}
	for (size_t i = 0; i < IPK_ARRAY_SIZE(tos); i++) {
		struct v6_row r = { .upper = IPK_PROTO_UDP, .upper_len = 8, .plen = -1,
				    .captured = -1, .tclass = 0x5a };
		uint8_t h[48], orig[48];

		build_v6(h, sizeof(h), &r);
		memcpy(orig, h, sizeof(h));
		ipk_ip_set_tos(h, tos[i]);
		assert_int_equal(ipk_ip_get_tos(h), tos[i]);
		/* Version and the 20-bit flow label (0x3beef) are untouched. */
		if (h[0] >> 4 != 6 || (h[1] & 0x0f) != 0x3 || h[2] != 0xbe || h[3] != 0xef ||
		    memcmp(h + 4, orig + 4, 44) != 0)
			fail_msg("v6 row %zu: %02x %02x %02x %02x", i, h[0], h[1], h[2], h[3]);
	}
}

/* ---- ECN, RFC 6040 ---- */

/* RFC 6040 §4.2 Figure 4: the outgoing inner ECN for each arriving inner (row) and outer
 * (column) codepoint; -1 is <drop>. Columns in the figure's order: Not-ECT, ECT(0),
 * ECT(1), CE. */
#define NOT IPK_ECN_NOT_ECT
#define E0 IPK_ECN_ECT0
#define E1 IPK_ECN_ECT1
#define CE IPK_ECN_CE

static void ecn_decap_rfc6040_figure4(void **state)
{
	static const uint8_t cols[4] = { NOT, E0, E1, CE };
	static const struct {
		uint8_t inner;
		int out[4];
	} fig4[] = {
		/* 0 */ { NOT, { NOT, NOT, NOT, -1 } },
		/* 1 */ { E0, { E0, E0, E1, CE } },
		/* 2 */ { E1, { E1, E1, E1, CE } },
		/* 3 */ { CE, { CE, CE, CE, CE } },
	};

	for (size_t r = 0; r < IPK_ARRAY_SIZE(fig4); r++) {
		for (size_t c = 0; c < 4; c++) {
			uint8_t out = 0xee;
			bool ok = ipk_ecn_decap(cols[c], fig4[r].inner, &out);
			int want = fig4[r].out[c];

			if (ok != (want >= 0) || (ok && out != want))
				fail_msg("inner %u outer %u (cell %zu): ok %d out %u, want %d",
					 fig4[r].inner, cols[c], r * 4 + c, ok, out, want);
		}
	}
}

/* RFC 6040 §4.1 normal mode copies the inner ECN, CE included; DSCP is copied too. */
static void ecn_encap_copies(void **state)
{
	for (unsigned tos = 0; tos < 256; tos++)
		if (ipk_ecn_encap_tos((uint8_t)tos) != tos)
			fail_msg("tos %#x -> %#x", tos, ipk_ecn_encap_tos((uint8_t)tos));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csum_known_answers),
		cmocka_unit_test(set_checksum_known_answers),
		cmocka_unit_test(v4_parse_table),
		cmocka_unit_test(v4_known_headers),
		cmocka_unit_test(v6_parse_table),
		cmocka_unit_test(v6_nonfirst_fragment_names_dstopts),
		cmocka_unit_test(flow_table),
		cmocka_unit_test(build_known_answers),
		cmocka_unit_test(build_parses_back),
		cmocka_unit_test(set_tos_updates_checksum),
		cmocka_unit_test(ecn_decap_rfc6040_figure4),
		cmocka_unit_test(ecn_encap_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
