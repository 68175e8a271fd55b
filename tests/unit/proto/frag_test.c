// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/proto/frag.c: IPv4 and IPv6 packets split at several MTUs give pieces no
 * longer than the MTU, with 8-byte-aligned offsets that tile the payload, MF on all but
 * the last, DF clear, one identification and valid header checksums; src/proto/reasm.c
 * puts them back together byte for byte, in reverse order too. A packet that fits comes
 * back untouched; failures drop the packet with a reason and leak nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "proto/frag.h"
#include "proto/ip.h"
#include "proto/reasm.h"

#define BIG_ROOM (IPK_PKT_HEADROOM + 9216 + IPK_PKT_TAILROOM)
#define OUT_ROOM (IPK_PKT_HEADROOM + 16384 + IPK_PKT_TAILROOM)
#define MAX_PIECES 64

struct env {
	struct ipk_pool *big;   /* originals */
	struct ipk_pool *small; /* fragments: an Ethernet-sized pool, as the engine's */
	struct ipk_pool *out;   /* reassembled datagrams */
	struct ipk_drop_stats drops;
};

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) << 16 | rd16(p + 2);
}

/* An IPv4 ESP-like datagram of @len bytes; @opts adds a 4-byte option block: a Record
 * Route-like option without the copy bit and a copied one (RFC 791 §3.1). */
static uint32_t build_v4(uint8_t *b, uint32_t len, bool df, bool opts, uint32_t seed)
{
	struct ipk_addr s, d;
	uint32_t hl = opts ? 28 : 20;

	ipk_addr_parse("192.0.2.1", &s);
	ipk_addr_parse("198.51.100.7", &d);
	ipk_ipv4_build(b, &s, &d, IPK_PROTO_ESP, (uint16_t)len, 0, 64, df, 0x1234);
	if (opts) {
		b[0] = 0x47;
		/* type 7 (RR, not copied) len 3 ptr 4, NOP, type 0x94 (Router Alert, copied)
		 * len 4 value 0. */
		const uint8_t o[8] = { 7, 3, 4, 1, 0x94, 4, 0, 0 };

		memcpy(b + 20, o, sizeof(o));
		ipk_ipv4_set_checksum(b);
	}
	for (uint32_t i = hl; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed);
	return hl;
}

/* An IPv6 datagram of @len bytes; @hbh adds an 8-byte Hop-by-Hop header (unfragmentable,
 * RFC 8200 §4.5) and a Destination Options header after it (fragmentable). */
static void build_v6(uint8_t *b, uint32_t len, bool hbh, uint32_t seed)
{
	struct ipk_addr s, d;

	ipk_addr_parse("2001:db8::1", &s);
	ipk_addr_parse("2001:db8:ff::2", &d);
	ipk_ipv6_build(b, &s, &d, hbh ? 0 : IPK_PROTO_ESP, (uint16_t)(len - 40), 0, 64);
	for (uint32_t i = 40; i < len; i++)
		b[i] = (uint8_t)(i * 7 + seed);
	if (hbh) {
		memset(b + 40, 0, 16);
		b[40] = 60;                 /* next: Destination Options */
		b[42] = 1, b[43] = 4;       /* PadN, 4 bytes */
		b[48] = IPK_PROTO_ESP;
		b[50] = 1, b[51] = 4;
	}
}

static int setup(void **state)
{
	static struct env e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(ipk_pool_create(&e.big, 4, BIG_ROOM), 0);
	assert_int_equal(ipk_pool_create(&e.small, 128, IPK_PKT_DEFAULT_ROOM), 0);
	assert_int_equal(ipk_pool_create(&e.out, 2, OUT_ROOM), 0);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	assert_int_equal(ipk_pool_available(e->big), 4);
	assert_int_equal(ipk_pool_available(e->small), 128);
	assert_int_equal(ipk_pool_available(e->out), 2);
	ipk_pool_destroy(e->big);
	ipk_pool_destroy(e->small);
	ipk_pool_destroy(e->out);
	return 0;
}

/* Checks one piece against the original; returns its data offset and length. */
static void check_piece_v4(const uint8_t *f, uint32_t flen, uint32_t mtu, uint32_t *off,
			   uint32_t *dlen, bool *mf, uint32_t *hl)
{
	struct ipk_ip_info info;

	assert_true(flen <= mtu);
	assert_int_equal(ipk_ip_parse(f, flen, &info), 0); /* checksum verified there */
	assert_int_equal(info.total_len, flen);
	assert_int_equal(rd16(f + 4), 0xbeef);
	assert_int_equal(f[6] & 0xc0, 0); /* DF and reserved clear */
	*hl = info.hdr_len;
	*off = info.frag_offset;
	*mf = info.more_fragments;
	*dlen = flen - info.hdr_len;
}

static void check_piece_v6(const uint8_t *f, uint32_t flen, uint32_t mtu, uint32_t unfrag,
			   uint32_t *off, uint32_t *dlen, bool *mf)
{
	struct ipk_ip_info info;

	assert_true(flen <= mtu);
	assert_int_equal(ipk_ip_parse(f, flen, &info), 0);
	assert_true(info.is_fragment);
	assert_int_equal(info.frag_hdr_off, unfrag);
	assert_int_equal(rd32(f + unfrag + 4), 0xbeef);
	*off = info.frag_offset;
	*mf = info.more_fragments;
	*dlen = flen - unfrag - 8;
}

struct row {
	uint8_t version;
	uint32_t len, mtu;
	bool extra;    /* IPv4: options; IPv6: Hop-by-Hop + Destination Options */
	uint32_t n;    /* pieces expected (1: untouched) */
	uint32_t first_data; /* data bytes in the first piece */
};

static const struct row rows[] = {
	{ 4, 1500, 1500, false, 1, 0 },      /* 1 fits: untouched */
	{ 4, 1501, 1500, false, 2, 1480 },   /* 2 */
	{ 4, 1600, 1400, false, 2, 1376 },   /* 3 (1400-20) & ~7 = 1376 */
	{ 4, 4000, 576, false, 8, 552 },     /* 4 3980 / 552 -> 8 */
	{ 4, 8000, 1500, false, 6, 1480 },   /* 5 */
	{ 4, 3000, 1000, true, 4, 968 },     /* 6 options: later pieces carry 24-byte headers */
	{ 4, 9000, 9000, false, 1, 0 },      /* 7 jumbo that fits */
	{ 6, 1280, 1280, false, 1, 0 },      /* 8 fits */
	{ 6, 1600, 1280, false, 2, 1232 },   /* 9 1280-40-8 = 1232 */
	{ 6, 5000, 1500, false, 4, 1448 },   /* 10 */
	{ 6, 3000, 1280, true, 3, 1224 },    /* 11 1280-48-8: Destination Options fragmentable */
	{ 6, 9000, 2000, false, 5, 1952 },   /* 12 */
	{ 4, 9000, 8000, false, 5, 2088 },   /* 13 pieces capped by the pool's room (2112) */
};

static struct ipk_pkt *make(struct env *e, const struct row *r, uint8_t *orig, uint32_t seed)
{
	if (r->version == 4)
		build_v4(orig, r->len, false, r->extra, seed);
	else
		build_v6(orig, r->len, r->extra, seed);
	return ipk_pkt_from_bytes(e->big, orig, r->len);
}

static void reassemble_and_compare(struct env *e, struct ipk_pkt **p, uint32_t n,
				   const uint8_t *orig, uint32_t len)
{
	struct ipk_reasm_config cfg = { .max_datagram = 16384 };
	struct ipk_reasm *ra;
	struct ipk_pkt *whole = NULL;

	assert_int_equal(ipk_reasm_create(&ra, &cfg, e->out), 0);
	/* Last piece first: the reassembly must not rely on order. */
	for (uint32_t i = n; i-- > 0;) {
		assert_null(whole);
		whole = ipk_reasm_feed(ra, p[i], &e->drops);
	}
	assert_non_null(whole);
	assert_int_equal(whole->len, len);
	/* IPv4: the pieces carry the new identification, so the datagram does too. */
	if ((orig[0] >> 4) == 4) {
		assert_int_equal(rd16(ipk_pkt_data(whole) + 4), 0xbeef);
		wr16(ipk_pkt_data(whole) + 4, rd16(orig + 4));
		ipk_ipv4_set_checksum(ipk_pkt_data(whole));
	}
	assert_memory_equal(ipk_pkt_data(whole), orig, len);
	ipk_pkt_free(whole);
	ipk_reasm_destroy(ra, &e->drops);
	assert_int_equal(ipk_drop_total(&e->drops), 0);
}

static void check_row(struct env *e, const struct row *r, unsigned no)
{
	static uint8_t orig[9216];
	struct ipk_pkt_list out = { 0 };
	struct ipk_pkt *pkt = make(e, r, orig, no), *p[MAX_PIECES];
	uint32_t n = 0, next = 0, unfrag = r->extra ? 48 : 40;
	bool mf = true;

	print_message("row %u\n", no);
	assert_non_null(pkt);
	assert_int_equal(ipk_frag_split(pkt, r->mtu, 0xbeef, e->small, &out, &e->drops), 0);
	assert_int_equal(out.count, r->n);
	if (r->n == 1) {
		assert_ptr_equal(out.head, pkt);
		assert_memory_equal(ipk_pkt_data(pkt), orig, r->len);
		ipk_pkt_free(ipk_pkt_list_pop(&out));
		return;
	}
	while (n < MAX_PIECES && (p[n] = ipk_pkt_list_pop(&out))) {
		uint32_t off, dlen, hl = 0;

		assert_true(mf); /* nothing after the piece without MF */
		if (r->version == 4)
			check_piece_v4(ipk_pkt_data(p[n]), p[n]->len, r->mtu, &off, &dlen, &mf, &hl);
		else
			check_piece_v6(ipk_pkt_data(p[n]), p[n]->len, r->mtu, unfrag, &off, &dlen,
				       &mf);
		if (n == 0)
			assert_int_equal(dlen, r->first_data);
		if (r->version == 4 && r->extra)
			assert_int_equal(hl, n == 0 ? 28 : 24); /* only the copied option repeats */
		assert_int_equal(off, next);
		if (mf)
			assert_int_equal(dlen % 8, 0);
		next += dlen;
		n++;
	}
	assert_false(mf);
	assert_int_equal(n, r->n);
	assert_int_equal(next, r->len - (r->version == 4 ? (r->extra ? 28 : 20) : unfrag));
	reassemble_and_compare(e, p, n, orig, r->len);
}

static void split_rows(void **state)
{
	struct env *e = *state;

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(e, &rows[i], i + 1);
}

/* A fragment of a larger datagram is split further: offsets stay relative to the
 * original, and the original's MF stays on the last piece. */
static void split_a_fragment(void **state)
{
	struct env *e = *state;
	struct ipk_pkt_list out = { 0 };
	struct ipk_ip_info info;
	static uint8_t b[3000];
	struct ipk_pkt *pkt, *f;
	uint32_t expect_off = 800;

	build_v4(b, 3000, false, false, 9);
	wr16(b + 6, 0x2000 | 800 / 8); /* MF, offset 800 */
	ipk_ipv4_set_checksum(b);
	pkt = ipk_pkt_from_bytes(e->big, b, sizeof(b));
	assert_int_equal(ipk_frag_split(pkt, 1500, 7, e->small, &out, &e->drops), 0);
	assert_int_equal(out.count, 3);
	while ((f = ipk_pkt_list_pop(&out))) {
		assert_int_equal(ipk_ip_parse(ipk_pkt_data(f), f->len, &info), 0);
		assert_int_equal(info.frag_offset, expect_off);
		assert_true(info.more_fragments); /* the original had MF: every piece has it */
		expect_off += f->len - 20;
		ipk_pkt_free(f);
	}
	assert_int_equal(expect_off, 800 + 2980);
}

/* Failures: the packet is dropped with its reason, pieces made so far go back. */
static void failures(void **state)
{
	struct env *e = *state;
	struct ipk_pkt_list out = { 0 };
	struct ipk_pool *tiny;
	static uint8_t b[6000];
	struct ipk_pkt *pkt, *hold[2];

	/* 1: the fragment pool runs dry after two pieces. */
	assert_int_equal(ipk_pool_create(&tiny, 2, IPK_PKT_DEFAULT_ROOM), 0);
	build_v4(b, 6000, false, false, 1);
	pkt = ipk_pkt_from_bytes(e->big, b, 6000);
	assert_int_equal(ipk_frag_split(pkt, 1500, 1, tiny, &out, &e->drops), IPK_DROP_NO_BUFFER);
	assert_int_equal(out.count, 0);
	assert_int_equal(ipk_pool_available(tiny), 2);
	assert_int_equal(ipk_drop_read(&e->drops, IPK_DROP_NO_BUFFER), 1);
	/* 2: an empty pool. */
	hold[0] = ipk_pkt_alloc(tiny);
	hold[1] = ipk_pkt_alloc(tiny);
	pkt = ipk_pkt_from_bytes(e->big, b, 6000);
	assert_int_equal(ipk_frag_split(pkt, 1500, 1, tiny, &out, &e->drops), IPK_DROP_NO_BUFFER);
	ipk_pkt_free(hold[0]);
	ipk_pkt_free(hold[1]);
	ipk_pool_destroy(tiny);
	/* 3: an IPv6 packet that is a fragment already. */
	build_v6(b, 1400, false, 2);
	b[6] = IPK_PROTO_IPV6_FRAG;
	memset(b + 40, 0, 8);
	b[40] = IPK_PROTO_ESP;
	b[43] = 1; /* offset 0, M */
	pkt = ipk_pkt_from_bytes(e->big, b, 1400);
	assert_int_equal(ipk_frag_split(pkt, 1280, 1, e->small, &out, &e->drops),
			 IPK_DROP_UNSUPPORTED);
	/* 4: garbage. */
	memset(b, 0, 100);
	pkt = ipk_pkt_from_bytes(e->big, b, 100);
	assert_int_equal(ipk_frag_split(pkt, 1280, 1, e->small, &out, &e->drops),
			 IPK_DROP_BAD_IP_VERSION);
	assert_int_equal(out.count, 0);
	assert_int_equal(ipk_drop_total(&e->drops), 4);
	memset(&e->drops, 0, sizeof(e->drops));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_rows),
		cmocka_unit_test(split_a_fragment),
		cmocka_unit_test(failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
