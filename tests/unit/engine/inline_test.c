// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/engine/inline.c: two gateways built by direct SAD/SPD calls (fixture in
 * inline_pair.h), A protecting 10.1.0.0/24 -> 10.2.0.0/24 towards B. Packets go out
 * through A and in through B and must come back byte for byte, for every algorithm, both
 * modes, both families inside and outside, UDP encapsulation and ESN across 2^32; bypass,
 * discard and no-policy are counted on both sides; plaintext under an inbound protect
 * policy is dropped as not-protected, decrypted packets outside the SA's policy as
 * policy-mismatch; replays, forgeries, unknown SPIs, keepalives, link padding and hard
 * expiry give their drop reasons; bundles of two SAs (transport inside tunnel, tunnel
 * inside tunnel) go out and back in; an ESP packet cut into two IPv4 fragments is
 * reassembled and decrypted. Every test ends with every packet back in its pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "engine/inline.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "proto/reasm.h"
#include "proto/replay.h"
#include "sa/sad.h"
#include "sa/spd.h"

#include "inline_pair.h"

/* ---- round trips ---- */

struct trip_row {
	const char *alg;
	enum ipk_mode mode;
	const char *outer_src, *outer_dst; /* SA addresses (transport: the packet's too) */
	const char *inner_src, *inner_dst; /* tunnel: the protected packet */
	bool esn, udp;
	uint64_t seq_start;
	size_t payload;
	uint8_t tos;
};

#define V4O "192.0.2.1", "192.0.2.2"
#define V6O "2001:db8:ff::1", "2001:db8:ff::2"
#define V4I "10.1.0.5", "10.2.0.9"
#define V6I "2001:db8:1::5", "2001:db8:2::9"
#define TUN IPK_MODE_TUNNEL
#define TRA IPK_MODE_TRANSPORT

static const struct trip_row trip_rows[] = {
	/* 0 */ { "aes128gcm16", TUN, V4O, V4I, false, false, 0, 100, 0x00 },
	/* 1 */ { "aes256gcm16", TUN, V4O, V6I, false, false, 0, 333, 0x00 },
	/* 2 */ { "chacha20poly1305", TUN, V6O, V4I, false, false, 0, 1, 0x00 },
	/* 3 */ { "aes128-sha256", TUN, V6O, V6I, false, false, 0, 1000, 0x00 },
	/* 4: ESN, the sender crossing 2^32 */
	{ "aes256-sha256", TUN, V4O, V4I, true, false, 0xfffffffeull, 64, 0x00 },
	/* 5 */ { "null-sha256", TUN, V4O, V4I, false, false, 0, 17, 0x00 },
	/* 6 */ { "3des-md5", TUN, V4O, V4I, false, false, 0, 50, 0x00 },
	/* 7 */ { "3des-sha1", TUN, V6O, V4I, false, false, 0, 51, 0x00 },
	/* 8 */ { "aes128gmac", TUN, V4O, V4I, false, false, 0, 52, 0x00 },
	/* 9 */ { "aes128gcm16", TRA, V4O, V4O, false, false, 0, 200, 0x00 },
	/* 10 */ { "aes128-sha256", TRA, V6O, V6O, false, false, 0, 201, 0x00 },
	/* 11: UDP encapsulation (RFC 3948) */
	{ "aes128gcm16", TUN, V4O, V4I, false, true, 0, 300, 0x00 },
	/* 12 */ { "chacha20poly1305", TRA, V4O, V4O, false, true, 0, 301, 0x00 },
	/* 13 */ { "aes256gcm16", TUN, V6O, V6I, false, true, 0, 302, 0x00 },
	/* 14: DSCP EF and ECT(1), copied out and left as they were on the way in */
	{ "aes128gcm16", TUN, V4O, V4I, false, false, 0, 1400, 0xb9 },
	/* 15: CE inside stays CE */
	{ "aes128gcm16", TUN, V6O, V6I, false, false, 0, 0, 0x03 },
	/* 16: ESN from the start */
	{ "chacha20poly1305", TUN, V6O, V6I, true, true, 0, 40, 0x28 },
};

static void run_trip(size_t i, const struct trip_row *r)
{
	const bool tunnel = r->mode == TUN;
	const char *is = tunnel ? r->inner_src : r->outer_src;
	const char *id = tunnel ? r->inner_dst : r->outer_dst;
	struct sa_spec s = { "a-b", IPK_DIR_OUT, r->mode, 0x2000 + (uint32_t)i, r->outer_src,
			     r->outer_dst, r->alg, r->esn, r->udp, r->seq_start, { 0 } };
	char sel_src[64], sel_dst[64];
	struct pair g;

	pair_init(&g, false);
	sa_add(g.sad_a, &s);
	s.dir = IPK_DIR_IN;
	sa_add(g.sad_b, &s);
	if (r->seq_start)
		ipk_replay_seed(ipk_sad_find(g.sad_b, "a-b")->rt.replay, r->seq_start);
	snprintf(sel_src, sizeof(sel_src), "%s", is);
	snprintf(sel_dst, sizeof(sel_dst), "%s", id);
	pol_add(g.spd_a, "out", IPK_DIR_OUT, sel_src, sel_dst, IPK_ACTION_PROTECT, "a-b", NULL, 1);
	pol_add(g.spd_b, "in", IPK_DIR_IN, sel_src, sel_dst, IPK_ACTION_PROTECT, "a-b", NULL, 1);
	ipk_spd_resolve(g.spd_a, g.sad_a);
	ipk_spd_resolve(g.spd_b, g.sad_b);
	for (unsigned k = 0; k < 3; k++) {
		uint8_t orig[2048];
		size_t len = make_udp(orig, is, id, 5000, r->payload + k, r->tos, (uint8_t)(i + k));
		struct ipk_pkt *pkt = pkt_of(&g, orig, len), *out;
		struct ipk_ip_info outer;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;
		uint32_t esp_off, spi;
		uint64_t want_seq = r->seq_start + 1 + k;

		res = ipk_inline_outbound(&g.a, pkt, &out, &why);
		if (res != PROTECTED || !out)
			fail_msg("row %zu pkt %u: outbound %d (%s)", i, k, res, ipk_drop_name(why));
		/* What A sends: ESP (or UDP 4500) from the SA's source, SPI and sequence. */
		assert_int_equal(ipk_ip_parse(ipk_pkt_data(out), out->len, &outer), 0);
		assert_int_equal(outer.proto, r->udp ? IPK_PROTO_UDP : IPK_PROTO_ESP);
		assert_int_equal(ipk_esp_locate(ipk_pkt_data(out), out->len, &outer, 4500,
						&esp_off, &spi), 0);
		assert_int_equal(spi, 0x2000 + i);
		assert_int_equal(ipk_pkt_data(out)[esp_off + 7], (uint8_t)want_seq);
		assert_int_equal(ipk_pkt_data(out)[esp_off + 4], (uint8_t)(want_seq >> 24));
		if (tunnel && (ipk_ip_get_tos(ipk_pkt_data(out)) != r->tos))
			fail_msg("row %zu: outer TOS %#x, want %#x", i,
				 ipk_ip_get_tos(ipk_pkt_data(out)), r->tos);
		pkt = out;
		res = ipk_inline_inbound(&g.b, pkt, &out, &why);
		if (res != DECRYPTED || !out)
			fail_msg("row %zu pkt %u: inbound %d (%s)", i, k, res, ipk_drop_name(why));
		if (out->len != len || memcmp(ipk_pkt_data(out), orig, len) != 0)
			fail_msg("row %zu pkt %u: recovered %u bytes differ from the %zu sent", i,
				 k, out->len, len);
		ipk_pkt_free(out);
	}
	assert_int_equal(g.a.stats.protected_pkts, 3);
	assert_int_equal(g.b.stats.decrypted, 3);
	assert_int_equal(ipk_drop_total(&g.a.drops) + ipk_drop_total(&g.b.drops), 0);
	assert_int_equal(atomic_load(&ipk_sad_find(g.sad_b, "a-b")->stats.packets), 3);
	assert_int_equal(atomic_load(&ipk_sad_find(g.sad_a, "a-b")->rt.seq_out),
			 r->seq_start + 3);
	pair_fini(&g);
}

static void round_trip_table(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(trip_rows); i++)
		run_trip(i, &trip_rows[i]);
}

/* ---- policies on both sides ---- */

enum side { A_OUT, B_IN };

static void policy_actions(void **state)
{
	static const struct {
		enum side side;
		const char *src, *dst;
		enum ipk_inline_result res;
		enum ipk_drop_reason why;
	} rows[] = {
		/* 0 */ { A_OUT, "10.1.0.5", "10.2.0.9", PROTECTED, IPK_DROP_NONE },
		/* 1 */ { A_OUT, "10.1.0.5", "10.9.0.1", BYPASSED, IPK_DROP_NONE },
		/* 2 */ { A_OUT, "10.1.0.5", "10.66.0.1", DROPPED, IPK_DROP_POLICY_DISCARD },
		/* 3 */ { A_OUT, "10.3.0.1", "10.2.0.9", DROPPED, IPK_DROP_NO_POLICY },
		/* 4 */ { A_OUT, "2001:db8:1::5", "2001:db8:2::9", DROPPED, IPK_DROP_NO_POLICY },
		/* 5: the discard rule has the lower priority value: it wins over protect */
		{ A_OUT, "10.1.0.66", "10.2.0.9", DROPPED, IPK_DROP_POLICY_DISCARD },
		/* 6: plaintext under B's inbound protect policy */
		{ B_IN, "10.1.0.5", "10.2.0.9", DROPPED, IPK_DROP_NOT_PROTECTED },
		/* 7 */ { B_IN, "10.9.0.1", "10.1.0.5", BYPASSED, IPK_DROP_NONE },
		/* 8 */ { B_IN, "10.3.0.1", "10.2.0.9", DROPPED, IPK_DROP_NO_POLICY },
		/* 9 */ { B_IN, "10.66.0.1", "10.2.0.9", DROPPED, IPK_DROP_POLICY_DISCARD },
		/* 10 */ { B_IN, "10.1.0.6", "10.2.0.10", DROPPED, IPK_DROP_NOT_PROTECTED },
		/* 11 */ { A_OUT, "10.1.0.255", "10.2.0.255", PROTECTED, IPK_DROP_NONE },
		/* 12 */ { A_OUT, "10.1.1.0", "10.2.0.255", DROPPED, IPK_DROP_NO_POLICY },
	};
	uint64_t count[2][IPK_DROP_COUNT] = { { 0 } }, bypassed[2] = { 0 }, protected_pkts = 0;
	struct pair g;

	std_pair(&g, false);
	pol_add(g.spd_a, "out-bypass", IPK_DIR_OUT, "10.1.0.0/24", "10.9.0.0/24",
		IPK_ACTION_BYPASS, NULL, NULL, 100);
	pol_add(g.spd_a, "out-discard", IPK_DIR_OUT, "10.1.0.0/24", "10.66.0.0/24",
		IPK_ACTION_DISCARD, NULL, NULL, 100);
	pol_add(g.spd_a, "out-discard-host", IPK_DIR_OUT, "10.1.0.66/32", "any",
		IPK_ACTION_DISCARD, NULL, NULL, 10);
	pol_add(g.spd_b, "in-bypass", IPK_DIR_IN, "10.9.0.0/24", "10.1.0.0/24",
		IPK_ACTION_BYPASS, NULL, NULL, 100);
	pol_add(g.spd_b, "in-discard", IPK_DIR_IN, "10.66.0.0/24", "any", IPK_ACTION_DISCARD,
		NULL, NULL, 100);
	ipk_spd_resolve(g.spd_a, g.sad_a);
	ipk_spd_resolve(g.spd_b, g.sad_b);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_inline *ctx = rows[i].side == A_OUT ? &g.a : &g.b;
		uint8_t bytes[256];
		size_t len = make_udp(bytes, rows[i].src, rows[i].dst, 53, 30, 0, (uint8_t)i);
		struct ipk_pkt *out = NULL;
		enum ipk_drop_reason why = IPK_DROP_COUNT;
		enum ipk_inline_result res;

		if (rows[i].side == A_OUT)
			res = ipk_inline_outbound(ctx, pkt_of(&g, bytes, len), &out, &why);
		else
			res = ipk_inline_inbound(ctx, pkt_of(&g, bytes, len), &out, &why);
		if (res != rows[i].res || why != rows[i].why || (res == DROPPED) != !out)
			fail_msg("row %zu: %d (%s), want %d (%s)", i, res, ipk_drop_name(why),
				 rows[i].res, ipk_drop_name(rows[i].why));
		/* Bypass forwards the packet untouched. */
		if (res == BYPASSED && (out->len != len || memcmp(ipk_pkt_data(out), bytes, len)))
			fail_msg("row %zu: bypassed packet changed", i);
		if (res == DROPPED)
			count[rows[i].side][rows[i].why]++;
		bypassed[rows[i].side] += res == BYPASSED;
		protected_pkts += res == PROTECTED;
		if (out)
			ipk_pkt_free(out);
	}
	for (int s = 0; s < 2; s++) {
		struct ipk_inline *ctx = s == A_OUT ? &g.a : &g.b;

		for (unsigned r = 0; r < IPK_DROP_COUNT; r++)
			if (ipk_drop_read(&ctx->drops, (enum ipk_drop_reason)r) != count[s][r])
				fail_msg("side %d: %llu drops as %s, want %llu", s,
					 (unsigned long long)ipk_drop_read(&ctx->drops,
									   (enum ipk_drop_reason)r),
					 ipk_drop_name((enum ipk_drop_reason)r),
					 (unsigned long long)count[s][r]);
		assert_int_equal(ctx->stats.bypassed, bypassed[s]);
	}
	assert_int_equal(g.a.stats.protected_pkts, protected_pkts);
	assert_int_equal(g.a.stats.protected_pkts, 2);
	assert_int_equal(ipk_drop_total(&g.a.drops), 5);
	assert_int_equal(ipk_drop_total(&g.b.drops), 4);
	assert_int_equal(atomic_load(&ipk_spd_find(g.spd_a, "out-discard-host")->matches), 1);
	pair_fini(&g);
}

/* Malformed input is counted under the parser's reason, on both sides. */
static void malformed_input(void **state)
{
	static const struct {
		enum side side;
		uint8_t first;      /* version/IHL byte written over a good packet */
		uint32_t len;       /* 0: the whole packet */
		enum ipk_drop_reason why;
	} rows[] = {
		/* 0 */ { A_OUT, 0x55, 0, IPK_DROP_BAD_IP_VERSION },
		/* 1 */ { A_OUT, 0x45, 19, IPK_DROP_TRUNCATED_IP },
		/* 2 */ { B_IN, 0x05, 0, IPK_DROP_BAD_IP_VERSION },
		/* 3 */ { B_IN, 0x44, 0, IPK_DROP_BAD_IP_HEADER },
		/* 4 */ { B_IN, 0x45, 10, IPK_DROP_TRUNCATED_IP },
		/* 5 */ { A_OUT, 0x45, 40, IPK_DROP_IP_LENGTH_MISMATCH },
	};
	struct pair g;

	std_pair(&g, false);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint8_t bytes[256];
		size_t len = make_udp(bytes, "10.1.0.5", "10.2.0.9", 53, 30, 0, 1);
		struct ipk_pkt *pkt, *out = (struct ipk_pkt *)1;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;

		bytes[0] = rows[i].first;
		pkt = pkt_of(&g, bytes, rows[i].len ? rows[i].len : len);
		if (rows[i].side == A_OUT)
			res = ipk_inline_outbound(&g.a, pkt, &out, &why);
		else
			res = ipk_inline_inbound(&g.b, pkt, &out, &why);
		if (res != DROPPED || why != rows[i].why || out)
			fail_msg("row %zu: %d (%s)", i, res, ipk_drop_name(why));
	}
	assert_int_equal(ipk_drop_total(&g.a.drops), 3);
	assert_int_equal(ipk_drop_total(&g.b.drops), 3);
	pair_fini(&g);
}

/* RFC 4301 §5.2: what B decrypted must match an inbound protect policy naming the SA it
 * came through. */
static void inbound_policy_check(void **state)
{
	static const struct {
		const char *src, *dst;
		enum ipk_inline_result res;
		enum ipk_drop_reason why;
	} rows[] = {
		/* 0: inside the policy */
		{ "10.1.0.5", "10.2.0.9", DECRYPTED, IPK_DROP_NONE },
		/* 1: B has no inbound policy for it at all */
		{ "10.1.0.5", "10.7.0.1", DROPPED, IPK_DROP_POLICY_MISMATCH },
		/* 2: B's inbound policy for it is bypass: not good enough after ESP */
		{ "10.1.0.5", "10.9.0.1", DROPPED, IPK_DROP_POLICY_MISMATCH },
		/* 3: B's inbound policy for it protects with another SA */
		{ "10.5.0.1", "10.2.0.9", DROPPED, IPK_DROP_POLICY_MISMATCH },
		/* 4: B discards it */
		{ "10.1.0.5", "10.66.0.1", DROPPED, IPK_DROP_POLICY_MISMATCH },
		/* 5: the first match names another SA, a later matching rule names a-b (a
		 * rekey, make before break): accepted */
		{ "10.1.0.5", "10.12.0.1", DECRYPTED, IPK_DROP_NONE },
		/* 6: the first match discards; a later rule naming a-b does not help */
		{ "10.1.0.5", "10.13.0.1", DROPPED, IPK_DROP_POLICY_MISMATCH },
	};
	struct pair g;

	std_pair(&g, false);
	/* A sends all of these through a-b. */
	pol_add(g.spd_a, "out-7", IPK_DIR_OUT, "10.1.0.0/24", "10.7.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	pol_add(g.spd_a, "out-9", IPK_DIR_OUT, "10.1.0.0/24", "10.9.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	pol_add(g.spd_a, "out-66", IPK_DIR_OUT, "10.1.0.0/24", "10.66.0.0/24",
		IPK_ACTION_PROTECT, "a-b", NULL, 100);
	pol_add(g.spd_a, "out-5", IPK_DIR_OUT, "10.5.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	pol_add(g.spd_a, "out-12", IPK_DIR_OUT, "10.1.0.0/24", "10.12.0.0/15", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	sa_add(g.sad_b, &(struct sa_spec){ "c-b", IPK_DIR_IN, IPK_MODE_TUNNEL, 0x3003,
					   "192.0.2.3", "192.0.2.2", "aes128gcm16", false, false, 0,
					   { 0 } });
	pol_add(g.spd_b, "in-9", IPK_DIR_IN, "10.1.0.0/24", "10.9.0.0/24", IPK_ACTION_BYPASS,
		NULL, NULL, 100);
	pol_add(g.spd_b, "in-5", IPK_DIR_IN, "10.5.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		"c-b", NULL, 100);
	pol_add(g.spd_b, "in-66", IPK_DIR_IN, "any", "10.66.0.0/24", IPK_ACTION_DISCARD, NULL,
		NULL, 100);
	pol_add(g.spd_b, "in-12-new", IPK_DIR_IN, "10.1.0.0/24", "10.12.0.0/24",
		IPK_ACTION_PROTECT, "c-b", NULL, 100);
	pol_add(g.spd_b, "in-12-old", IPK_DIR_IN, "10.1.0.0/24", "10.12.0.0/24",
		IPK_ACTION_PROTECT, "a-b", NULL, 200);
	pol_add(g.spd_b, "in-13", IPK_DIR_IN, "10.1.0.0/24", "10.13.0.0/24", IPK_ACTION_DISCARD,
		NULL, NULL, 100);
	pol_add(g.spd_b, "in-13-old", IPK_DIR_IN, "10.1.0.0/24", "10.13.0.0/24",
		IPK_ACTION_PROTECT, "a-b", NULL, 200);
	ipk_spd_resolve(g.spd_a, g.sad_a);
	ipk_spd_resolve(g.spd_b, g.sad_b);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint8_t orig[256];
		size_t len;
		struct ipk_pkt *out;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;

		res = ipk_inline_inbound(&g.b, protect(&g, rows[i].src, rows[i].dst, orig, &len),
					 &out, &why);
		if (res != rows[i].res || why != rows[i].why)
			fail_msg("row %zu: %d (%s), want %d (%s)", i, res, ipk_drop_name(why),
				 rows[i].res, ipk_drop_name(rows[i].why));
		if (out) {
			assert_memory_equal(ipk_pkt_data(out), orig, len);
			ipk_pkt_free(out);
		}
	}
	/* The SA verified all seven (its counters moved); the policy refused five. */
	assert_int_equal(atomic_load(&ipk_sad_find(g.sad_b, "a-b")->stats.packets), 7);
	assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_POLICY_MISMATCH), 5);
	assert_int_equal(g.b.stats.decrypted, 2);
	pair_fini(&g);
}

/* ESP that B cannot take: unknown SPI, damaged ICV, a replay, an SA deleted meanwhile. */
static void inbound_esp_drops(void **state)
{
	struct pair g;
	uint8_t orig[256];
	size_t len;
	struct ipk_pkt *esp, *copy, *out;
	enum ipk_drop_reason why;

	std_pair(&g, false);
	/* Replay: the same packet twice. */
	esp = protect(&g, "10.1.0.5", "10.2.0.9", orig, &len);
	copy = pkt_of(&g, ipk_pkt_data(esp), esp->len);
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &out, &why), DECRYPTED);
	ipk_pkt_free(out);
	assert_int_equal(ipk_inline_inbound(&g.b, copy, &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_REPLAY_DUPLICATE);
	/* One bit of ciphertext flipped. */
	esp = protect(&g, "10.1.0.5", "10.2.0.9", orig, &len);
	ipk_pkt_data(esp)[esp->len - 30] ^= 0x04;
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_BAD_ICV);
	/* The next good one still passes: the forgery did not move the window. */
	esp = protect(&g, "10.1.0.5", "10.2.0.9", orig, &len);
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &out, &why), DECRYPTED);
	ipk_pkt_free(out);
	/* B deletes the SA: unknown SPI. */
	assert_int_equal(ipk_sad_del(g.sad_b, "a-b", NULL), 0);
	ipk_spd_resolve(g.spd_b, g.sad_b);
	esp = protect(&g, "10.1.0.5", "10.2.0.9", orig, &len);
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_UNKNOWN_SPI);
	assert_null(out);
	/* A deletes its SA: the policy's SA is missing. */
	assert_int_equal(ipk_sad_del(g.sad_a, "a-b", NULL), 0);
	ipk_spd_resolve(g.spd_a, g.sad_a);
	len = make_udp(orig, "10.1.0.5", "10.2.0.9", 1, 1, 0, 1);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_NO_SA);
	assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_REPLAY_DUPLICATE), 1);
	assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_BAD_ICV), 1);
	assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_UNKNOWN_SPI), 1);
	assert_int_equal(ipk_drop_read(&g.a.drops, IPK_DROP_NO_SA), 1);
	assert_int_equal(g.b.stats.decrypted, 2);
	pair_fini(&g);
}

/* Link-layer padding after the datagram, RFC 3948 keepalives and IKE on port 4500. */
static void inbound_odd_frames(void **state)
{
	static const uint8_t keepalive_payload[1] = { 0xff };
	static const uint8_t ike_payload[12] = { 0, 0, 0, 0, 0x11, 0x22 };
	struct pair g;
	uint8_t orig[256], frame[512];
	size_t len, esp_len;
	struct ipk_pkt *esp, *out;
	enum ipk_drop_reason why;

	std_pair(&g, false);
	/* 0: 18 bytes of Ethernet padding after an ESP datagram */
	esp = protect(&g, "10.1.0.5", "10.2.0.9", orig, &len);
	esp_len = esp->len;
	memcpy(frame, ipk_pkt_data(esp), esp_len);
	memset(frame + esp_len, 0, 18);
	ipk_pkt_free(esp);
	esp = pkt_of(&g, frame, esp_len + 18);
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &out, &why), DECRYPTED);
	assert_int_equal(out->len, len);
	assert_memory_equal(ipk_pkt_data(out), orig, len);
	ipk_pkt_free(out);
	/* 1: outbound plaintext with padding: the padding is not protected */
	len = make_udp(orig, "10.1.0.5", "10.2.0.9", 1, 20, 0, 3);
	memcpy(frame, orig, len);
	memset(frame + len, 0xee, 6);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, frame, len + 6), &out, &why),
			 PROTECTED);
	assert_int_equal(ipk_inline_inbound(&g.b, out, &out, &why), DECRYPTED);
	assert_int_equal(out->len, len);
	assert_memory_equal(ipk_pkt_data(out), orig, len);
	ipk_pkt_free(out);
	/* 2: NAT keepalive (one 0xff byte to port 4500) */
	len = make_udp(orig, "192.0.2.1", "192.0.2.2", 4500, 1, 0, 0);
	memcpy(orig + len - 1, keepalive_payload, 1);
	assert_int_equal(ipk_inline_inbound(&g.b, pkt_of(&g, orig, len), &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_NAT_KEEPALIVE);
	/* 3: an IKE message behind the non-ESP marker */
	len = make_udp(orig, "192.0.2.1", "192.0.2.2", 4500, sizeof(ike_payload), 0, 0);
	memcpy(orig + len - sizeof(ike_payload), ike_payload, sizeof(ike_payload));
	assert_int_equal(ipk_inline_inbound(&g.b, pkt_of(&g, orig, len), &out, &why), DROPPED);
	assert_int_equal(why, IPK_DROP_NON_ESP_MARKER);
	assert_int_equal(g.b.stats.decrypted, 2);
	pair_fini(&g);
}

/* Hosts behind the gateways may run their own IKE and NAT-T ESP on port 4500 through the
 * tunnel. After decryption, what is not ESP for one of B's SAs is the hosts' own traffic
 * and goes to the policy check like any other packet (inline.c already lets an unknown
 * SPI through that way). */
static void tunneled_port_4500_traffic(void **state)
{
	static const struct {
		uint8_t payload[16];
		size_t len;
	} rows[] = {
		/* 0: an SPI B does not know */
		{ { 0xc0, 0x01, 0x02, 0x03, 0, 0, 0, 1, 0xaa, 0xbb }, 16 },
		/* 1: IKE behind the non-ESP marker (RFC 3948 §2.2) */
		{ { 0, 0, 0, 0, 0x5a, 0x5a, 0x5a, 0x5a, 0x21, 0x20, 0x22, 0x08 }, 16 },
		/* 2: a NAT keepalive (RFC 3948 §2.3) */
		{ { 0xff }, 1 },
		/* 3: three bytes, too short for an ESP header */
		{ { 1, 2, 3 }, 3 },
	};
	char failed[512] = "";
	struct pair g;

	std_pair(&g, false);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint8_t orig[256];
		size_t len = make_udp(orig, "10.1.0.5", "10.2.0.9", 4500, rows[i].len, 0, 0);
		size_t used = strlen(failed);
		struct ipk_pkt *out;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;

		memcpy(orig + len - rows[i].len, rows[i].payload, rows[i].len);
		res = ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why);
		assert_int_equal(res, PROTECTED);
		res = ipk_inline_inbound(&g.b, out, &out, &why);
		if (res != DECRYPTED || out->len != len || memcmp(ipk_pkt_data(out), orig, len))
			snprintf(failed + used, sizeof(failed) - used,
				 " row %zu: %d (%s), want decrypted;", i, res, ipk_drop_name(why));
		if (out)
			ipk_pkt_free(out);
	}
	pair_fini(&g);
	if (failed[0])
		fail_msg("%s", failed);
}

/* An SA past its hard lifetime protects nothing more, and says so: sa-expired, for every
 * later packet, whether packets or seconds ran out. */
static void outbound_after_hard_expiry(void **state)
{
	static const struct {
		uint64_t hard_packets, hard_seconds;
		uint64_t advance_s;  /* before packet 3 */
		enum ipk_inline_result res[5];
	} rows[] = {
		/* 0: packet 2 reaches the limit and is still sent */
		{ 2, 0, 0, { PROTECTED, PROTECTED, DROPPED, DROPPED, DROPPED } },
		/* 1: 10 s, passed before packet 3 */
		{ 0, 10, 10, { PROTECTED, PROTECTED, DROPPED, DROPPED, DROPPED } },
	};
	char failed[512] = "";

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct sa_spec s = { "a-b", IPK_DIR_OUT, IPK_MODE_TUNNEL, 0x1001, "192.0.2.1",
				     "192.0.2.2", "aes128gcm16", false, false, 0,
				     { 0, rows[i].hard_packets, rows[i].hard_seconds } };
		struct pair g;

		ipk_clock_set_fake(1000 * IPK_NSEC_PER_SEC);
		pair_init(&g, false);
		sa_add(g.sad_a, &s);
		pol_add(g.spd_a, "out", IPK_DIR_OUT, "10.1.0.0/24", "10.2.0.0/24",
			IPK_ACTION_PROTECT, "a-b", NULL, 100);
		ipk_spd_resolve(g.spd_a, g.sad_a);
		for (unsigned k = 0; k < 5; k++) {
			uint8_t orig[256];
			size_t len = make_udp(orig, "10.1.0.5", "10.2.0.9", 1, 10, 0, 1);
			size_t used = strlen(failed);
			struct ipk_pkt *out;
			enum ipk_drop_reason why;
			enum ipk_inline_result res;
			enum ipk_drop_reason want = rows[i].res[k] == DROPPED ? IPK_DROP_SA_EXPIRED
									      : IPK_DROP_NONE;

			if (k == 2)
				ipk_clock_advance(rows[i].advance_s * IPK_NSEC_PER_SEC);
			res = ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why);
			if (out)
				ipk_pkt_free(out);
			if (res != rows[i].res[k] || why != want)
				snprintf(failed + used, sizeof(failed) - used,
					 " row %zu pkt %u: %d (%s), want %d (%s);", i, k, res,
					 ipk_drop_name(why), rows[i].res[k], ipk_drop_name(want));
		}
		pair_fini(&g);
		ipk_clock_use_real();
	}
	if (failed[0])
		fail_msg("%s", failed);
}

/* ---- bundles ---- */

struct bundle_row {
	struct sa_spec inner, outer; /* dir is set per side */
};

#define BSA(name, mode, spi, src, dst, alg, esn, udp) \
	{ name, IPK_DIR_OUT, mode, spi, src, dst, alg, esn, udp, 0, { 0 } }

static const struct bundle_row bundle_rows[] = {
	/* 0: transport between the end hosts, inside a tunnel between the gateways */
	{ BSA("e2e", IPK_MODE_TRANSPORT, 0x4001, "10.1.0.5", "10.2.0.9", "aes128gcm16", false,
	      false),
	  BSA("gw", IPK_MODE_TUNNEL, 0x4002, "192.0.2.1", "192.0.2.2", "aes256-sha256", false,
	      false) },
	/* 1: a tunnel inside a UDP-encapsulated tunnel */
	{ BSA("t-in", IPK_MODE_TUNNEL, 0x5001, "192.0.2.1", "192.0.2.2", "chacha20poly1305",
	      false, false),
	  BSA("t-out", IPK_MODE_TUNNEL, 0x5002, "198.51.100.1", "198.51.100.2", "aes128gcm16",
	      false, true) },
	/* 2: IPv6 tunnel inside an IPv4 tunnel, ESN on the outer one */
	{ BSA("t6", IPK_MODE_TUNNEL, 0x6001, "2001:db8:ff::1", "2001:db8:ff::2",
	      "aes128-sha256", false, false),
	  BSA("t4", IPK_MODE_TUNNEL, 0x6002, "198.51.100.1", "198.51.100.2", "aes256gcm16", true,
	      false) },
};

static void setup_bundle(struct pair *g, const struct bundle_row *r, bool b_needs_both)
{
	struct sa_spec in = r->inner, out = r->outer;

	pair_init(g, false);
	in.dir = out.dir = IPK_DIR_OUT;
	sa_add(g->sad_a, &in);
	sa_add(g->sad_a, &out);
	in.dir = out.dir = IPK_DIR_IN;
	sa_add(g->sad_b, &in);
	sa_add(g->sad_b, &out);
	pol_add(g->spd_a, "out", IPK_DIR_OUT, "10.1.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		in.name, out.name, 100);
	/* Only the outer SA: what a peer holding just the gateway key could send. */
	pol_add(g->spd_a, "out-outer-only", IPK_DIR_OUT, "10.1.0.0/24", "10.3.0.0/24",
		IPK_ACTION_PROTECT, out.name, NULL, 100);
	pol_add(g->spd_b, "in", IPK_DIR_IN, "10.1.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		in.name, out.name, 100);
	pol_add(g->spd_b, "in-3", IPK_DIR_IN, "10.1.0.0/24", "10.3.0.0/24", IPK_ACTION_PROTECT,
		in.name, b_needs_both ? out.name : NULL, 100);
	ipk_spd_resolve(g->spd_a, g->sad_a);
	ipk_spd_resolve(g->spd_b, g->sad_b);
}

static void bundle_round_trip(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bundle_rows); i++) {
		const struct bundle_row *r = &bundle_rows[i];
		struct pair g;

		setup_bundle(&g, r, true);
		for (unsigned k = 0; k < 3; k++) {
			uint8_t orig[1600];
			size_t len = make_udp(orig, "10.1.0.5", "10.2.0.9", 7, 100 * k, 0x2e,
					      (uint8_t)k);
			struct ipk_pkt *out;
			enum ipk_drop_reason why;
			enum ipk_inline_result res;
			struct ipk_ip_info outer;
			struct ipk_addr want_dst;

			res = ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why);
			if (res != PROTECTED)
				fail_msg("row %zu: outbound %s", i, ipk_drop_name(why));
			/* The outermost header is the outer SA's. */
			assert_int_equal(ipk_ip_parse(ipk_pkt_data(out), out->len, &outer), 0);
			assert_int_equal(ipk_addr_parse(r->outer.dst, &want_dst), 0);
			assert_true(ipk_addr_equal(&outer.dst, &want_dst));
			res = ipk_inline_inbound(&g.b, out, &out, &why);
			if (res != DECRYPTED)
				fail_msg("row %zu pkt %u: inbound %d %s", i, k, res,
					 ipk_drop_name(why));
			if (out->len != len || memcmp(ipk_pkt_data(out), orig, len) != 0)
				fail_msg("row %zu pkt %u: recovered packet differs", i, k);
			ipk_pkt_free(out);
		}
		/* Each SA of the bundle was applied once per packet at each end. */
		assert_int_equal(atomic_load(&ipk_sad_find(g.sad_a, r->inner.name)->rt.seq_out), 3);
		assert_int_equal(atomic_load(&ipk_sad_find(g.sad_a, r->outer.name)->rt.seq_out), 3);
		assert_int_equal(atomic_load(&ipk_sad_find(g.sad_b, r->inner.name)->stats.packets),
				 3);
		assert_int_equal(atomic_load(&ipk_sad_find(g.sad_b, r->outer.name)->stats.packets),
				 3);
		assert_int_equal(g.b.stats.decrypted, 3);
		pair_fini(&g);
	}
}

/* A packet that went through only the outer SA of a bundle B's policy requires. RFC 4301
 * §5.2 step 4 wants the packet checked against the SAs the policy requires: one layer
 * missing is a policy mismatch, or the inner SA's protection could be skipped by anyone
 * holding the outer key. */
static void bundle_with_a_layer_missing(void **state)
{
	char failed[512] = "";

	for (size_t i = 0; i < IPK_ARRAY_SIZE(bundle_rows); i++) {
		uint8_t orig[256];
		size_t len, used = strlen(failed);
		struct ipk_pkt *out;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;
		struct pair g;

		setup_bundle(&g, &bundle_rows[i], true);
		res = ipk_inline_inbound(&g.b, protect(&g, "10.1.0.5", "10.3.0.1", orig, &len),
					 &out, &why);
		if (out)
			ipk_pkt_free(out);
		pair_fini(&g);
		/* Every row is tried and cleaned up before the verdict. */
		if (res != DROPPED || why != IPK_DROP_POLICY_MISMATCH)
			snprintf(failed + used, sizeof(failed) - used,
				 " row %zu: result %d (%s), want policy-mismatch;", i, res,
				 ipk_drop_name(why));
	}
	if (failed[0])
		fail_msg("%s", failed);
}

/* The same packet is accepted when B's policy names only the SA it came through. */
static void bundle_policy_naming_one_layer(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bundle_rows); i++) {
		const struct bundle_row *r = &bundle_rows[i];
		uint8_t orig[256];
		size_t len;
		struct ipk_pkt *out;
		enum ipk_drop_reason why;
		struct pair g;

		setup_bundle(&g, r, true);
		/* B: 10.1/24 -> 10.3/24 needs only the outer SA (priority before "in-3"). */
		pol_add(g.spd_b, "in-3-outer", IPK_DIR_IN, "10.1.0.0/24", "10.3.0.0/24",
			IPK_ACTION_PROTECT, r->outer.name, NULL, 50);
		ipk_spd_resolve(g.spd_b, g.sad_b);
		assert_int_equal(ipk_inline_inbound(&g.b,
						    protect(&g, "10.1.0.5", "10.3.0.1", orig, &len),
						    &out, &why),
				 DECRYPTED);
		assert_memory_equal(ipk_pkt_data(out), orig, len);
		ipk_pkt_free(out);
		pair_fini(&g);
	}
}

/* ---- fragmented ESP ---- */

/* Cuts the IPv4 packet @pkt after @first payload bytes (a multiple of 8) into two
 * fragments, headers and checksums fixed; consumes @pkt. */
static void split_v4(struct pair *g, struct ipk_pkt *pkt, uint32_t first, struct ipk_pkt **f1,
		     struct ipk_pkt **f2)
{
	const uint8_t *d = ipk_pkt_data(pkt);
	uint32_t hl = (d[0] & 0x0f) * 4u, rest = pkt->len - hl - first;
	uint8_t buf[2048];

	assert_true(first % 8 == 0 && pkt->len > hl + first);
	memcpy(buf, d, hl + first);
	buf[2] = (uint8_t)((hl + first) >> 8);
	buf[3] = (uint8_t)(hl + first);
	buf[6] = 0x20; /* MF, offset 0 (DF cleared) */
	buf[7] = 0;
	ipk_ipv4_set_checksum(buf);
	*f1 = pkt_of(g, buf, hl + first);
	memcpy(buf, d, hl);
	memcpy(buf + hl, d + hl + first, rest);
	buf[2] = (uint8_t)((hl + rest) >> 8);
	buf[3] = (uint8_t)(hl + rest);
	buf[6] = (uint8_t)((first / 8) >> 8);
	buf[7] = (uint8_t)(first / 8);
	ipk_ipv4_set_checksum(buf);
	*f2 = pkt_of(g, buf, hl + rest);
	ipk_pkt_free(pkt);
}

static void fragmented_esp(void **state)
{
	static const struct {
		bool reasm;
		bool reverse;       /* second fragment first */
		uint32_t first;     /* payload bytes in the first fragment */
	} rows[] = {
		/* 0 */ { true, false, 1000 },
		/* 1 */ { true, true, 1000 },
		/* 2 */ { true, false, 8 },     /* the first holds only the ESP header */
		/* 3 */ { false, false, 1000 }, /* no reassembly: fragments are dropped */
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		uint8_t orig[2048];
		size_t len;
		struct ipk_pkt *f[2], *out;
		enum ipk_drop_reason why;
		enum ipk_inline_result res;
		struct pair g;
		unsigned a = rows[i].reverse, b = !rows[i].reverse;

		std_pair(&g, rows[i].reasm);
		split_v4(&g, protect_n(&g, "10.1.0.5", "10.2.0.9", 1400, orig, &len),
			 rows[i].first, &f[0], &f[1]);
		res = ipk_inline_inbound(&g.b, f[a], &out, &why);
		if (!rows[i].reasm) {
			assert_int_equal(res, DROPPED);
			assert_int_equal(why, IPK_DROP_FRAG_BAD);
			assert_int_equal(ipk_inline_inbound(&g.b, f[b], &out, &why), DROPPED);
			assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_FRAG_BAD), 2);
			pair_fini(&g);
			continue;
		}
		if (res != HELD || why != IPK_DROP_NONE || out)
			fail_msg("row %zu: first fragment %d (%s)", i, res, ipk_drop_name(why));
		assert_int_equal(g.b.stats.held, 1);
		res = ipk_inline_inbound(&g.b, f[b], &out, &why);
		if (res != DECRYPTED)
			fail_msg("row %zu: second fragment %d (%s)", i, res, ipk_drop_name(why));
		if (out->len != len || memcmp(ipk_pkt_data(out), orig, len) != 0)
			fail_msg("row %zu: reassembled and decrypted packet differs", i);
		ipk_pkt_free(out);
		assert_int_equal(g.b.stats.decrypted, 1);
		assert_int_equal(ipk_drop_total(&g.b.drops), 0);
		pair_fini(&g);
	}
}

/* A fragment set that never completes is dropped when the context ends, and counted. */
static void unfinished_fragments_counted(void **state)
{
	uint8_t orig[2048];
	size_t len;
	struct ipk_pkt *f[2], *out;
	enum ipk_drop_reason why;
	struct pair g;

	std_pair(&g, true);
	split_v4(&g, protect_n(&g, "10.1.0.5", "10.2.0.9", 1000, orig, &len), 512, &f[0], &f[1]);
	assert_int_equal(ipk_inline_inbound(&g.b, f[0], &out, &why), HELD);
	ipk_pkt_free(f[1]);
	ipk_inline_fini(&g.b);
	assert_int_equal(ipk_drop_read(&g.b.drops, IPK_DROP_FRAG_TIMEOUT), 1);
	pair_fini(&g);
}

static void is_esp_table(void **state)
{
	struct pair g;
	uint8_t bytes[256];
	size_t len;
	struct ipk_pkt *pkt;

	std_pair(&g, false);
	/* 0: plain UDP */
	len = make_udp(bytes, "10.1.0.5", "10.2.0.9", 53, 10, 0, 1);
	pkt = pkt_of(&g, bytes, len);
	assert_false(ipk_inline_is_esp(&g.a, pkt));
	ipk_pkt_free(pkt);
	/* 1: UDP to 4500 with an SPI */
	len = make_udp(bytes, "192.0.2.1", "192.0.2.2", 4500, 40, 0, 1);
	pkt = pkt_of(&g, bytes, len);
	assert_true(ipk_inline_is_esp(&g.a, pkt));
	ipk_pkt_free(pkt);
	/* 2: ESP */
	pkt = protect(&g, "10.1.0.5", "10.2.0.9", bytes, &len);
	assert_true(ipk_inline_is_esp(&g.a, pkt));
	ipk_pkt_free(pkt);
	/* 3: garbage */
	memset(bytes, 0, sizeof(bytes));
	pkt = pkt_of(&g, bytes, 40);
	assert_false(ipk_inline_is_esp(&g.a, pkt));
	ipk_pkt_free(pkt);
	pair_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_table),
		cmocka_unit_test(policy_actions),
		cmocka_unit_test(malformed_input),
		cmocka_unit_test(inbound_policy_check),
		cmocka_unit_test(inbound_esp_drops),
		cmocka_unit_test(inbound_odd_frames),
		cmocka_unit_test(tunneled_port_4500_traffic),
		cmocka_unit_test(outbound_after_hard_expiry),
		cmocka_unit_test(bundle_round_trip),
		cmocka_unit_test(bundle_with_a_layer_missing),
		cmocka_unit_test(bundle_policy_naming_one_layer),
		cmocka_unit_test(fragmented_esp),
		cmocka_unit_test(unfinished_fragments_counted),
		cmocka_unit_test(is_esp_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
