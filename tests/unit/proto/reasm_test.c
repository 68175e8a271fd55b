// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/proto/reasm.c: random IPv4/IPv6 datagrams cut into 2..40 fragments come
 * back byte for byte in any order; overlaps, duplicates, malformed and oversize fragments,
 * timeouts, a full table and a full byte budget are dropped and counted per fragment; and
 * every packet returns to its pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/clock.h"
#include "proto/ip.h"
#include "proto/reasm.h"

#define FRAG_POOL_COUNT 256
#define FRAG_ROOM (IPK_PKT_HEADROOM + 9216 + IPK_PKT_TAILROOM)
#define OUT_POOL_COUNT 4
#define OUT_ROOM (IPK_PKT_HEADROOM + 65535 + 40 + IPK_PKT_TAILROOM)
#define MAX_LEN 70000

/* A datagram as sent, and how to cut it. */
struct dgram {
	uint8_t bytes[MAX_LEN]; /* zero past len, so fragments may reach beyond it */
	uint32_t len;
	uint32_t unfrag_len;    /* IPv4: header with options; IPv6: header + hop-by-hop */
	uint8_t version;
	uint8_t frag_nh;        /* IPv6: next header the Fragment header will carry */
	uint8_t prev_nh_off;    /* IPv6: the byte that will name the Fragment header */
	uint32_t id;
};

struct env {
	struct ipk_pool *frags;
	struct ipk_pool *out;
	struct ipk_drop_stats drops;
};

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071, written here again so the test does not trust the code under test. */
static void v4_checksum(uint8_t *hdr)
{
	uint32_t ihl = (hdr[0] & 0x0fu) * 4, sum = 0;

	hdr[10] = hdr[11] = 0;
	for (uint32_t i = 0; i < ihl; i += 2)
		sum += (uint32_t)hdr[i] << 8 | hdr[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	wr16(hdr + 10, ~sum & 0xffff);
}

static void fill_random(uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* IPv4, 20-byte header or 24 with four NOP options (copied flag 0: first fragment only). */
static void build_v4(struct dgram *d, uint32_t payload, uint16_t id, uint8_t proto,
		     uint8_t host, bool options)
{
	uint8_t *h = d->bytes;

	memset(d, 0, sizeof(*d));
	d->version = 4;
	d->unfrag_len = options ? 24 : 20;
	d->len = d->unfrag_len + payload;
	d->id = id;
	h[0] = (uint8_t)(0x40 | d->unfrag_len / 4);
	h[1] = 0xb8; /* EF, Not-ECT */
	wr16(h + 2, d->len);
	wr16(h + 4, id);
	wr16(h + 6, 0x4000 * (rnd() & 1)); /* DF sometimes: it must survive */
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, (uint8_t[]){ 192, 0, 2, host }, 4);
	memcpy(h + 16, (uint8_t[]){ 198, 51, 100, 7 }, 4);
	if (options)
		memset(h + 20, 1, 4);
	v4_checksum(h);
	fill_random(h + d->unfrag_len, payload);
}

/* IPv6, optionally with a hop-by-hop header (unfragmentable, RFC 8200 §4.5). */
static void build_v6(struct dgram *d, uint32_t payload, uint32_t id, uint8_t host, bool hbh)
{
	uint8_t *h = d->bytes;

	memset(d, 0, sizeof(*d));
	d->version = 6;
	d->unfrag_len = hbh ? 48 : 40;
	d->len = d->unfrag_len + payload;
	d->id = id;
	d->frag_nh = IPK_PROTO_ESP;
	h[0] = 0x6b; /* traffic class 0xb8 */
	h[1] = 0x80;
	h[3] = 0x2a; /* flow label */
	wr16(h + 4, d->len - 40);
	h[6] = hbh ? 0 : IPK_PROTO_ESP;
	h[7] = 64;
	memcpy(h + 8, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = host }, 16);
	memcpy(h + 24, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 9 }, 16);
	d->prev_nh_off = 6;
	if (hbh) {
		memcpy(h + 40, (uint8_t[]){ IPK_PROTO_ESP, 0, 1, 4, 0, 0, 0, 0 }, 8);
		d->prev_nh_off = 40;
	}
	fill_random(h + d->unfrag_len, payload);
}

/* The fragment carrying payload bytes [off, off + len) of @d. */
static struct ipk_pkt *make_frag(struct env *e, const struct dgram *d, uint32_t off,
				 uint32_t len, bool mf)
{
	uint8_t buf[MAX_LEN];
	uint32_t hl;
	struct ipk_pkt *pkt;

	if (d->version == 4) {
		hl = off == 0 ? d->unfrag_len : 20;
		memcpy(buf, d->bytes, 20);
		if (hl > 20)
			memcpy(buf + 20, d->bytes + 20, hl - 20);
		buf[0] = (uint8_t)(0x40 | hl / 4);
		wr16(buf + 2, hl + len);
		wr16(buf + 6, (uint32_t)(d->bytes[6] & 0x40) << 8 | (mf ? 0x2000 : 0) | off / 8);
		v4_checksum(buf);
	} else {
		hl = d->unfrag_len + 8;
		memcpy(buf, d->bytes, d->unfrag_len);
		buf[d->prev_nh_off] = IPK_PROTO_IPV6_FRAG;
		wr16(buf + 4, hl - 40 + len);
		memcpy(buf + d->unfrag_len, (uint8_t[]){ d->frag_nh, 0 }, 2);
		wr16(buf + d->unfrag_len + 2, off | (mf ? 1 : 0));
		wr16(buf + d->unfrag_len + 4, d->id >> 16);
		wr16(buf + d->unfrag_len + 6, d->id & 0xffff);
	}
	assert_true(d->unfrag_len + off + len <= MAX_LEN && hl + len <= MAX_LEN);
	memcpy(buf + hl, d->bytes + d->unfrag_len + off, len);
	pkt = ipk_pkt_from_bytes(e->frags, buf, hl + len);
	assert_non_null(pkt);
	return pkt;
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(ipk_pool_create(&e->frags, FRAG_POOL_COUNT, FRAG_ROOM), 0);
	assert_int_equal(ipk_pool_create(&e->out, OUT_POOL_COUNT, OUT_ROOM), 0);
	ipk_clock_set_fake(1000 * IPK_NSEC_PER_SEC);
}

/* Every test ends here: all packets must be back in their pools. */
static void env_fini(struct env *e)
{
	assert_int_equal(ipk_pool_available(e->frags), FRAG_POOL_COUNT);
	assert_int_equal(ipk_pool_available(e->out), OUT_POOL_COUNT);
	ipk_pool_destroy(e->frags);
	ipk_pool_destroy(e->out);
	ipk_clock_use_real();
}

static void assert_datagram(struct ipk_pkt *out, const struct dgram *d, const char *what,
			    unsigned row)
{
	if (!out)
		fail_msg("%s %u: no datagram", what, row);
	if (out->len != d->len || memcmp(ipk_pkt_data(out), d->bytes, d->len) != 0)
		fail_msg("%s %u: datagram differs (%u bytes, want %u)", what, row, out->len,
			 d->len);
	assert_true(ipk_reasm_is_fragment(out) == false);
}

/* Cuts the payload of @d into up to @want pieces at random multiples of 8. */
static uint32_t cut(const struct dgram *d, uint32_t want, uint32_t *offs)
{
	uint32_t payload = d->len - d->unfrag_len;
	uint32_t slots = (payload - 1) / 8; /* possible cut points 8, 16, ... < payload */
	uint32_t n = want - 1 < slots ? want - 1 : slots, k = 0;

	/* Choose n of the slots (selection sampling keeps them sorted). */
	offs[k++] = 0;
	for (uint32_t i = 0; i < slots && k <= n; i++) {
		if (rnd_below(slots - i) < n + 1 - k)
			offs[k++] = 8 * (i + 1);
	}
	offs[k] = payload;
	return k;
}

static uint32_t make_frags(struct env *e, const struct dgram *d, uint32_t want,
			   struct ipk_pkt **pkts, int order)
{
	uint32_t offs[64];
	uint32_t n = cut(d, want, offs);

	for (uint32_t i = 0; i < n; i++)
		pkts[i] = make_frag(e, d, offs[i], offs[i + 1] - offs[i], i + 1 < n);
	if (order == 1) {
		for (uint32_t i = 0; i < n / 2; i++) {
			struct ipk_pkt *t = pkts[i];

			pkts[i] = pkts[n - 1 - i];
			pkts[n - 1 - i] = t;
		}
	} else if (order == 2) {
		for (uint32_t i = n - 1; i > 0; i--) {
			uint32_t j = rnd_below(i + 1);
			struct ipk_pkt *t = pkts[i];

			pkts[i] = pkts[j];
			pkts[j] = t;
		}
	}
	return n;
}

static void random_datagram(struct dgram *d, int version)
{
	/* Whole datagram 1..9000 bytes, with room for at least two fragments. */
	uint32_t unfrag, total;

	if (version == 4) {
		bool opts = rnd() & 1;

		unfrag = opts ? 24 : 20;
		total = unfrag + 9 + rnd_below(9000 - unfrag - 9 + 1);
		build_v4(d, total - unfrag, (uint16_t)rnd(), IPK_PROTO_ESP, 1, opts);
	} else {
		bool hbh = rnd() & 1;

		unfrag = hbh ? 48 : 40;
		total = unfrag + 9 + rnd_below(9000 - unfrag - 9 + 1);
		build_v6(d, total - unfrag, (uint32_t)rnd(), 1, hbh);
	}
}

/* 0: in order, 1: reverse, 2: shuffled; IPv4 and IPv6; 150 datagrams each. */
static void whole_datagrams_in_any_order(void **state)
{
	static struct dgram d;
	struct ipk_reasm *r;
	struct ipk_reasm_stats st;
	struct ipk_pkt *pkts[64], *out = NULL;
	struct env e;
	unsigned row = 0;
	uint64_t frags_total = 0;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	for (int version = 4; version <= 6; version += 2) {
		for (int order = 0; order < 3; order++) {
			for (int i = 0; i < 150; i++, row++) {
				random_datagram(&d, version);
				uint32_t n = make_frags(&e, &d, 2 + rnd_below(39), pkts, order);

				assert_true(n >= 2 && n <= 40);
				frags_total += n;
				for (uint32_t k = 0; k < n; k++) {
					assert_true(ipk_reasm_is_fragment(pkts[k]));
					out = ipk_reasm_feed(r, pkts[k], &e.drops);
					if (k + 1 < n && out)
						fail_msg("row %u: datagram after %u of %u", row, k, n);
				}
				assert_datagram(out, &d, "row", row);
				ipk_pkt_free(out);
			}
		}
	}
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.fragments_in, frags_total);
	assert_int_equal(st.datagrams_out, row);
	assert_int_equal(st.sets_in_progress, 0);
	assert_int_equal(st.bytes_held, 0);
	assert_int_equal(ipk_drop_total(&e.drops), 0);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 0);
	env_fini(&e);
}

/* Eight datagrams whose fragments arrive mixed together. Keys differ in one field only:
 * the IPv4 protocol (RFC 791 keys on it), the source, or the family (same id). */
static void interleaved_sets(void **state)
{
	static struct dgram d[8];
	struct ipk_pkt *all[8 * 40], *pkts[64];
	struct ipk_reasm *r;
	struct env e;
	bool seen[8] = { false };
	uint32_t n = 0;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	for (int round = 0; round < 20; round++) {
		build_v4(&d[0], 3000, 7, IPK_PROTO_ESP, 1, false);
		build_v4(&d[1], 2000, 7, IPK_PROTO_UDP, 1, true);
		build_v4(&d[2], 1000, 7, IPK_PROTO_ESP, 2, false);
		build_v4(&d[3], 4000, 8, IPK_PROTO_ESP, 1, false);
		build_v6(&d[4], 3000, 7, 1, false);
		build_v6(&d[5], 2500, 7, 2, true);
		build_v6(&d[6], 1500, 8, 1, false);
		build_v6(&d[7], 900, 0x10007, 1, true);
		n = 0;
		for (int i = 0; i < 8; i++) {
			uint32_t k = make_frags(&e, &d[i], 2 + rnd_below(29), pkts, 0);

			memcpy(all + n, pkts, k * sizeof(pkts[0]));
			n += k;
		}
		for (uint32_t i = n - 1; i > 0; i--) {
			uint32_t j = rnd_below(i + 1);
			struct ipk_pkt *t = all[i];

			all[i] = all[j];
			all[j] = t;
		}
		memset(seen, 0, sizeof(seen));
		for (uint32_t i = 0; i < n; i++) {
			struct ipk_pkt *out = ipk_reasm_feed(r, all[i], &e.drops);
			int match = -1;

			if (!out)
				continue;
			for (int k = 0; k < 8; k++) {
				if (out->len == d[k].len &&
				    memcmp(ipk_pkt_data(out), d[k].bytes, d[k].len) == 0)
					match = k;
			}
			if (match < 0 || seen[match])
				fail_msg("round %d: datagram %d unexpected", round, match);
			seen[match] = true;
			ipk_pkt_free(out);
		}
		for (int k = 0; k < 8; k++)
			if (!seen[k])
				fail_msg("round %d: datagram %d missing", round, k);
	}
	assert_int_equal(ipk_drop_total(&e.drops), 0);
	ipk_reasm_destroy(r, &e.drops);
	env_fini(&e);
}

static void set_id(struct dgram *d, uint32_t id)
{
	d->id = id;
	if (d->version == 4) {
		wr16(d->bytes + 4, id & 0xffff);
		v4_checksum(d->bytes);
	}
}

/* A full table of 128 sets, IPv4 and IPv6 alternating, completed in random order: the
 * hash chains and the age list must give back the right set every time. */
static void full_table_any_order(void **state)
{
	static struct dgram d[2];
	struct ipk_reasm_config cfg = { .max_sets = 128 };
	struct ipk_reasm_stats st;
	struct ipk_reasm *r;
	struct env e;
	uint32_t order[128];

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	build_v4(&d[0], 32, 0, IPK_PROTO_ESP, 1, false);
	build_v6(&d[1], 32, 0, 1, true);
	for (uint32_t i = 0; i < 128; i++) {
		set_id(&d[i % 2], 1000 + i);
		assert_null(ipk_reasm_feed(r, make_frag(&e, &d[i % 2], 0, 16, true), &e.drops));
		order[i] = i;
	}
	set_id(&d[0], 999);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &d[0], 0, 16, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY), 1);
	for (uint32_t i = 127; i > 0; i--) {
		uint32_t j = rnd_below(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < 128; k++) {
		uint32_t i = order[k];
		struct ipk_pkt *out;

		set_id(&d[i % 2], 1000 + i);
		out = ipk_reasm_feed(r, make_frag(&e, &d[i % 2], 16, 16, false), &e.drops);
		assert_datagram(out, &d[i % 2], "set", i);
		ipk_pkt_free(out);
	}
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.sets_in_progress, 0);
	assert_int_equal(st.datagrams_out, 128);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 1);
	env_fini(&e);
}

/* Scripted fragments of a datagram with a 64-byte payload. */
struct step {
	uint32_t off;
	uint32_t len;
	bool mf;
	bool out; /* this fragment completes the datagram */
};

struct script {
	const char *name;
	int version;
	uint32_t max_datagram; /* 0: default */
	struct step steps[6];
	unsigned nsteps;
	uint64_t overlap, bad, oversize, no_memory; /* drops after the steps */
	uint64_t sets_left;
	uint64_t held_left;    /* fragments still held: counted as timeout at destroy */
};

#define M true  /* more fragments */
#define L false /* last */
#define H(off, len, mf) { off, len, mf, false } /* held or dropped */
#define C(off, len, mf) { off, len, mf, true }  /* completes the datagram */

static const struct script scripts[] = {
	/* 0 */ { "overlap", 4, 0, { H(0, 16, M), H(8, 16, M) }, 2, 2, 0, 0, 0, 0, 0 },
	/* 1 */ { "overlap, new one first", 6, 0, { H(16, 16, M), H(0, 24, M) }, 2,
		  2, 0, 0, 0, 0, 0 },
	/* 2 */ { "overlap in a set of three", 4, 0,
		  { H(0, 16, M), H(32, 32, L), H(8, 16, M) }, 3, 3, 0, 0, 0, 0, 0 },
	/* 3 */ { "duplicate", 6, 0, { H(0, 16, M), H(0, 16, M) }, 2, 2, 0, 0, 0, 0, 0 },
	/* 4 */ { "duplicate last", 4, 0, { H(48, 16, L), H(48, 16, L) }, 2, 2, 0, 0, 0, 0, 0 },
	/* 5 */ { "overlap is not remembered", 4, 0,
		  { H(0, 16, M), H(8, 8, M), H(0, 16, M), C(16, 48, L) }, 4,
		  2, 0, 0, 0, 0, 0 },
	/* 6 */ { "adjacent is not overlap", 6, 0,
		  { H(32, 32, L), H(16, 16, M), C(0, 16, M) }, 3, 0, 0, 0, 0, 0, 0 },
	/* 7 */ { "non-last length not a multiple of 8", 4, 0,
		  { H(0, 12, M), H(0, 16, M), C(16, 48, L) }, 3, 0, 1, 0, 0, 0, 0 },
	/* 8 */ { "non-last length not a multiple of 8", 6, 0,
		  { H(16, 20, M), H(16, 48, L) }, 2, 0, 1, 0, 0, 1, 1 },
	/* 9 */ { "empty fragments", 6, 0, { H(8, 0, M), H(8, 0, L) }, 2, 0, 2, 0, 0, 0, 0 },
	/* 10 */ { "empty fragments", 4, 0, { H(8, 0, M), H(0, 0, L) }, 2, 0, 2, 0, 0, 0, 0 },
	/* 11 */ { "two last fragments disagree", 4, 0, { H(48, 16, L), H(32, 8, L) }, 2,
		   0, 2, 0, 0, 0, 0 },
	/* 12 */ { "data past the end", 6, 0, { H(16, 16, L), H(32, 16, M) }, 2,
		   0, 2, 0, 0, 0, 0 },
	/* 13 */ { "last fragment before held data", 4, 0, { H(32, 16, M), H(16, 8, L) }, 2,
		   0, 2, 0, 0, 0, 0 },
	/* 14 */ { "oversize at max_datagram 1500", 4, 1500, { H(1472, 8, M), H(1480, 8, M) },
		   2, 0, 0, 1, 0, 1, 1 },
	/* 15 */ { "oversize at max_datagram 1500", 6, 1500, { H(1448, 8, M), H(1456, 8, M) },
		   2, 0, 0, 1, 0, 1, 1 },
	/* 16 */ { "IPv4 past 65535 bytes", 4, 0, { H(65528, 8, L), H(65496, 16, M) }, 2,
		   0, 0, 1, 0, 1, 1 },
	/* 17 */ { "IPv6 past 65535 payload bytes", 6, 65575, { H(65528, 8, L), H(65488, 8, M) },
		   2, 0, 0, 1, 0, 1, 1 },
	/* 18 */ { "IPv6 past max_datagram 65535", 6, 0, { H(65488, 8, M) }, 1,
		   0, 0, 1, 0, 0, 0 },
	/* 19 */ { "IPv6 atomic fragment", 6, 0, { C(0, 64, L) }, 1, 0, 0, 0, 0, 0, 0 },
	/* 20 */ { "incomplete", 4, 0, { H(0, 16, M), H(32, 32, L) }, 2, 0, 0, 0, 0, 1, 2 },
};

static void run_script(unsigned idx, const struct script *sc)
{
	static struct dgram d;
	struct ipk_reasm_config cfg = { .max_datagram = sc->max_datagram };
	struct ipk_reasm_stats st;
	struct ipk_reasm *r;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	if (sc->version == 4)
		build_v4(&d, 64, 99, IPK_PROTO_ESP, 1, false);
	else
		build_v6(&d, 64, 99, 1, false);
	for (unsigned i = 0; i < sc->nsteps; i++) {
		const struct step *s = &sc->steps[i];
		struct ipk_pkt *out = ipk_reasm_feed(r, make_frag(&e, &d, s->off, s->len, s->mf),
						     &e.drops);

		if (!s->out && out)
			fail_msg("script %u (%s) step %u: unexpected datagram", idx, sc->name, i);
		if (s->out)
			assert_datagram(out, &d, sc->name, idx);
		if (out)
			ipk_pkt_free(out);
	}
	ipk_reasm_get_stats(r, &st);
	if (ipk_drop_read(&e.drops, IPK_DROP_FRAG_OVERLAP) != sc->overlap ||
	    ipk_drop_read(&e.drops, IPK_DROP_FRAG_BAD) != sc->bad ||
	    ipk_drop_read(&e.drops, IPK_DROP_FRAG_OVERSIZE) != sc->oversize ||
	    ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY) != sc->no_memory ||
	    ipk_drop_total(&e.drops) != sc->overlap + sc->bad + sc->oversize + sc->no_memory ||
	    st.sets_in_progress != sc->sets_left)
		fail_msg("script %u (%s): overlap %llu bad %llu oversize %llu nomem %llu "
			 "total %llu sets %llu", idx, sc->name,
			 (unsigned long long)ipk_drop_read(&e.drops, IPK_DROP_FRAG_OVERLAP),
			 (unsigned long long)ipk_drop_read(&e.drops, IPK_DROP_FRAG_BAD),
			 (unsigned long long)ipk_drop_read(&e.drops, IPK_DROP_FRAG_OVERSIZE),
			 (unsigned long long)ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY),
			 (unsigned long long)ipk_drop_total(&e.drops),
			 (unsigned long long)st.sets_in_progress);
	assert_int_equal(st.fragments_in, sc->nsteps);
	ipk_reasm_destroy(r, &e.drops);
	if (ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT) != sc->held_left)
		fail_msg("script %u (%s): %llu left at destroy, want %llu", idx, sc->name,
			 (unsigned long long)ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT),
			 (unsigned long long)sc->held_left);
	env_fini(&e);
}

static void scripted_fragments(void **state)
{
	for (unsigned i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(i, &scripts[i]);
}

/* Packets that are not well-formed fragments at all. */
static void malformed_packets(void **state)
{
	static const uint8_t v6_cut_frag_hdr[44] = {
		0x60, 0, 0, 0, 0, 4, IPK_PROTO_IPV6_FRAG, 64,
		0x20, 1, 0x0d, 0xb8, [23] = 1, 0x20, 1, 0x0d, 0xb8, [39] = 2,
		IPK_PROTO_ESP, 0, 0, 8, /* Fragment header cut after 4 of its 8 bytes */
	};
	static struct dgram d;
	struct ipk_reasm *r;
	struct ipk_pkt *pkt;
	struct env e;
	uint8_t junk[40] = { 0x50 };

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	/* 0: IPv6 Fragment header truncated */
	pkt = ipk_pkt_from_bytes(e.frags, v6_cut_frag_hdr, sizeof(v6_cut_frag_hdr));
	assert_false(ipk_reasm_is_fragment(pkt));
	assert_null(ipk_reasm_feed(r, pkt, &e.drops));
	/* 1: not IP */
	assert_null(ipk_reasm_feed(r, ipk_pkt_from_bytes(e.frags, junk, sizeof(junk)), &e.drops));
	/* 2, 3: whole datagrams are not fragments */
	build_v4(&d, 100, 1, IPK_PROTO_ESP, 1, false);
	pkt = ipk_pkt_from_bytes(e.frags, d.bytes, d.len);
	assert_false(ipk_reasm_is_fragment(pkt));
	assert_null(ipk_reasm_feed(r, pkt, &e.drops));
	build_v6(&d, 100, 1, 1, true);
	pkt = ipk_pkt_from_bytes(e.frags, d.bytes, d.len);
	assert_false(ipk_reasm_is_fragment(pkt));
	assert_null(ipk_reasm_feed(r, pkt, &e.drops));
	/* 4: IPv4 header checksum wrong */
	build_v4(&d, 100, 1, IPK_PROTO_ESP, 1, false);
	pkt = make_frag(&e, &d, 0, 16, true);
	ipk_pkt_data(pkt)[8] ^= 1;
	assert_null(ipk_reasm_feed(r, pkt, &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_BAD), 5);
	assert_int_equal(ipk_drop_total(&e.drops), 5);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 5);
	env_fini(&e);
}

/* Link-layer padding after the datagram is not fragment data. */
static void trailing_padding_ignored(void **state)
{
	static struct dgram d;
	struct ipk_reasm *r;
	struct ipk_pkt *a, *b, *out;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	build_v4(&d, 30, 5, IPK_PROTO_ESP, 1, false);
	a = make_frag(&e, &d, 0, 16, true);
	b = make_frag(&e, &d, 16, 14, false);
	memset(ipk_pkt_put(b, 16), 0xee, 16); /* Ethernet minimum-frame padding */
	assert_null(ipk_reasm_feed(r, a, &e.drops));
	out = ipk_reasm_feed(r, b, &e.drops);
	assert_datagram(out, &d, "padding", 0);
	ipk_pkt_free(out);
	ipk_reasm_destroy(r, &e.drops);
	env_fini(&e);
}

static void timeout_on_fake_clock(void **state)
{
	static struct dgram a, b, c;
	struct ipk_reasm_config cfg = { .timeout_ns = IPK_NSEC_PER_SEC };
	struct ipk_reasm_stats st;
	struct ipk_reasm *r;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	build_v4(&a, 80, 1, IPK_PROTO_ESP, 1, false);
	build_v6(&b, 80, 2, 1, false);
	build_v4(&c, 80, 3, IPK_PROTO_ESP, 1, false);
	/* Set a: 3 of 5 fragments, the last 0.5 s after the first. */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 0, 16, true), &e.drops));
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 32, 16, true), &e.drops));
	ipk_clock_advance(IPK_NSEC_PER_SEC / 2);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 64, 16, false), &e.drops));
	/* The timeout counts from the first fragment. */
	ipk_clock_advance(IPK_NSEC_PER_SEC / 2 - 1);
	ipk_reasm_expire(r, &e.drops);
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.sets_in_progress, 1);
	assert_int_equal(st.bytes_held, 48);
	assert_int_equal(ipk_drop_total(&e.drops), 0);
	ipk_clock_advance(1);
	ipk_reasm_expire(r, &e.drops);
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.sets_in_progress, 0);
	assert_int_equal(st.bytes_held, 0);
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 3);
	/* The missing fragments of a come late: they start a set that cannot finish. */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 16, 16, true), &e.drops));
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 48, 16, true), &e.drops));
	/* Set b starts 0.5 s later; feeding c after a's timeout expires a (2 more). */
	ipk_clock_advance(IPK_NSEC_PER_SEC / 2);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 0, 16, true), &e.drops));
	ipk_clock_advance(IPK_NSEC_PER_SEC / 2);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &c, 0, 16, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 5);
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.sets_in_progress, 2);
	/* b and c are held at destroy: counted as timeout too. */
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 7);
	assert_int_equal(ipk_drop_total(&e.drops), 7);
	env_fini(&e);
}

static void table_full(void **state)
{
	static struct dgram d[6];
	struct ipk_reasm_config cfg = { .max_sets = 4 };
	struct ipk_reasm_stats st;
	struct ipk_reasm *r;
	struct ipk_pkt *out;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	for (int i = 0; i < 6; i++)
		build_v4(&d[i], 32, (uint16_t)(100 + i), IPK_PROTO_ESP, 1, false);
	for (int i = 0; i < 4; i++)
		assert_null(ipk_reasm_feed(r, make_frag(&e, &d[i], 0, 16, true), &e.drops));
	/* A fifth set does not fit; the four in progress are kept. */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &d[4], 0, 16, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY), 1);
	out = ipk_reasm_feed(r, make_frag(&e, &d[0], 16, 16, false), &e.drops);
	assert_datagram(out, &d[0], "table full", 0);
	ipk_pkt_free(out);
	/* Completing one made room. */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &d[5], 16, 16, false), &e.drops));
	out = ipk_reasm_feed(r, make_frag(&e, &d[5], 0, 16, true), &e.drops);
	assert_datagram(out, &d[5], "table full", 5);
	ipk_pkt_free(out);
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.sets_in_progress, 3);
	assert_int_equal(st.datagrams_out, 2);
	assert_int_equal(st.fragments_in, 8);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 3);
	assert_int_equal(ipk_drop_total(&e.drops), 4);
	env_fini(&e);
}

static void byte_budget(void **state)
{
	static struct dgram a, b;
	struct ipk_reasm_config cfg = { .max_bytes = 1000 };
	struct ipk_reasm_stats st;
	struct ipk_reasm *r;
	struct ipk_pkt *out;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	build_v6(&a, 1600, 1, 1, false);
	build_v6(&b, 400, 2, 1, false);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 0, 800, true), &e.drops));
	/* 800 + 256 > 1000: refused, as a new set */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 0, 256, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY), 1);
	/* 800 + 200 = 1000: fits exactly */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 200, 200, false), &e.drops));
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.bytes_held, 1000);
	/* full: refused, also for a set in progress */
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 800, 8, true), &e.drops));
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 0, 200, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY), 3);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 2);
	/* Completing a set gives its bytes back. */
	assert_int_equal(ipk_reasm_create(&r, &cfg, e.out), 0);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 0, 200, true), &e.drops));
	out = ipk_reasm_feed(r, make_frag(&e, &b, 200, 200, false), &e.drops);
	assert_datagram(out, &b, "budget", 0);
	ipk_pkt_free(out);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 0, 1000, true), &e.drops));
	ipk_reasm_get_stats(r, &st);
	assert_int_equal(st.bytes_held, 1000);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 6);
	env_fini(&e);
}

/* A set holds at most 64 fragments; the 65th is refused. */
static void too_many_fragments(void **state)
{
	static struct dgram d;
	struct ipk_reasm *r;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	build_v4(&d, 66 * 8, 3, IPK_PROTO_ESP, 1, false);
	for (uint32_t i = 0; i < 65; i++)
		assert_null(ipk_reasm_feed(r, make_frag(&e, &d, 8 * i, 8, true), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_NO_MEMORY), 1);
	assert_int_equal(ipk_drop_total(&e.drops), 1);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_FRAG_TIMEOUT), 64);
	env_fini(&e);
}

/* With out_pool empty the completed set is dropped, each fragment counted once. */
static void out_pool_empty(void **state)
{
	static struct dgram a, b;
	struct ipk_pkt *held[OUT_POOL_COUNT], *out;
	struct ipk_reasm *r;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	for (int i = 0; i < OUT_POOL_COUNT; i++)
		held[i] = ipk_pkt_alloc(e.out);
	build_v4(&a, 48, 1, IPK_PROTO_ESP, 1, false);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 0, 16, true), &e.drops));
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 16, 16, true), &e.drops));
	assert_null(ipk_reasm_feed(r, make_frag(&e, &a, 32, 16, false), &e.drops));
	assert_int_equal(ipk_drop_read(&e.drops, IPK_DROP_NO_BUFFER), 3);
	for (int i = 0; i < OUT_POOL_COUNT; i++)
		ipk_pkt_free(held[i]);
	build_v6(&b, 48, 1, 1, false);
	assert_null(ipk_reasm_feed(r, make_frag(&e, &b, 16, 32, false), &e.drops));
	out = ipk_reasm_feed(r, make_frag(&e, &b, 0, 16, true), &e.drops);
	assert_datagram(out, &b, "pool", 0);
	ipk_pkt_free(out);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 3);
	env_fini(&e);
}

/* The largest IPv4 datagram, 65535 bytes, in 8-aligned pieces of up to 9000 bytes. */
static void largest_ipv4_datagram(void **state)
{
	static struct dgram d;
	struct ipk_reasm *r;
	struct ipk_pkt *out = NULL;
	struct env e;
	uint32_t payload = 65535 - 20;

	env_init(&e);
	assert_int_equal(ipk_reasm_create(&r, NULL, e.out), 0);
	build_v4(&d, payload, 77, IPK_PROTO_ESP, 1, false);
	for (uint32_t off = 0; off < payload; off += 8992) {
		uint32_t len = payload - off < 8992 ? payload - off : 8992;

		out = ipk_reasm_feed(r, make_frag(&e, &d, off, len, off + len < payload),
				     &e.drops);
	}
	assert_datagram(out, &d, "largest", 0);
	ipk_pkt_free(out);
	ipk_reasm_destroy(r, &e.drops);
	assert_int_equal(ipk_drop_total(&e.drops), 0);
	env_fini(&e);
}

static void create_validates(void **state)
{
	static const struct {
		struct ipk_reasm_config cfg;
		bool small_pool;
		bool no_pool;
		int expect;
	} rows[] = {
		/* 0 */ { { 0 }, false, false, 0 },
		/* 1 */ { { 0 }, false, true, -EINVAL },
		/* 2 */ { { 0 }, true, false, -EINVAL }, /* 65535 does not fit the pool */
		/* 3 */ { { .max_datagram = 2048 }, true, false, 0 },
		/* 4 */ { { .max_datagram = 67 }, false, false, -EINVAL },
		/* 5 */ { { .max_datagram = 68 }, false, false, 0 },
		/* 6 */ { { .max_datagram = 65575 }, false, false, 0 },
		/* 7 */ { { .max_datagram = 65576 }, false, false, -EINVAL },
		/* 8 */ { { .max_sets = 65537 }, false, false, -EINVAL },
		/* 9 */ { { .max_sets = 1, .max_bytes = 1, .timeout_ns = 1 }, false, false, 0 },
	};
	struct ipk_pool *small;
	struct env e;

	env_init(&e);
	assert_int_equal(ipk_pool_create(&small, 1, IPK_PKT_HEADROOM + 2048), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ipk_reasm *r = NULL;
		struct ipk_pool *pool = rows[i].no_pool ? NULL : rows[i].small_pool ? small : e.out;
		int ret = ipk_reasm_create(&r, &rows[i].cfg, pool);

		if (ret != rows[i].expect)
			fail_msg("row %zu: %d, want %d", i, ret, rows[i].expect);
		ipk_reasm_destroy(r, &e.drops);
	}
	ipk_pool_destroy(small);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_datagrams_in_any_order),
		cmocka_unit_test(interleaved_sets),
		cmocka_unit_test(full_table_any_order),
		cmocka_unit_test(scripted_fragments),
		cmocka_unit_test(malformed_packets),
		cmocka_unit_test(trailing_padding_ignored),
		cmocka_unit_test(timeout_on_fake_clock),
		cmocka_unit_test(table_full),
		cmocka_unit_test(byte_budget),
		cmocka_unit_test(too_many_fragments),
		cmocka_unit_test(out_pool_empty),
		cmocka_unit_test(largest_ipv4_datagram),
		cmocka_unit_test(create_validates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
