/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fixture of inline_test.c: two gateways built by direct SAD/SPD calls (A protects,
 * outbound; B verifies, inbound), SA and policy helpers, a UDP packet builder, and
 * protect(), which sends one packet out through A.
 */
#ifndef IPK_TEST_INLINE_PAIR_H
#define IPK_TEST_INLINE_PAIR_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/inline.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define POOL_PKTS 64
#define REASM_PKTS 4
#define REASM_ROOM (IPK_PKT_HEADROOM + 65535 + IPK_PKT_TAILROOM)

#define DROPPED IPK_INLINE_DROPPED
#define HELD IPK_INLINE_HELD
#define BYPASSED IPK_INLINE_BYPASSED
#define PROTECTED IPK_INLINE_PROTECTED
#define DECRYPTED IPK_INLINE_DECRYPTED

/* Gateway A (protects, outbound) and gateway B (verifies, inbound). */
struct pair {
	struct ipk_pool *pool;
	struct ipk_pool *reasm_pool; /* B's, or NULL */
	struct ipk_sad *sad_a, *sad_b;
	struct ipk_spd *spd_a, *spd_b;
	struct ipk_inline a, b;
};

static void pair_init(struct pair *g, bool reasm)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(ipk_pool_create(&g->pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM), 0);
	if (reasm)
		assert_int_equal(ipk_pool_create(&g->reasm_pool, REASM_PKTS, REASM_ROOM), 0);
	assert_int_equal(ipk_sad_create(&g->sad_a, 1), 0);
	assert_int_equal(ipk_sad_create(&g->sad_b, 1), 0);
	assert_int_equal(ipk_spd_create(&g->spd_a), 0);
	assert_int_equal(ipk_spd_create(&g->spd_b), 0);
	assert_int_equal(ipk_inline_init(&g->a, g->sad_a, g->spd_a, NULL), 0);
	assert_int_equal(ipk_inline_init(&g->b, g->sad_b, g->spd_b, g->reasm_pool), 0);
}

/* Tears down, and checks that every packet came back to its pool. */
static void pair_fini(struct pair *g)
{
	ipk_inline_fini(&g->a);
	ipk_inline_fini(&g->b);
	assert_int_equal(ipk_pool_available(g->pool), POOL_PKTS);
	if (g->reasm_pool)
		assert_int_equal(ipk_pool_available(g->reasm_pool), REASM_PKTS);
	ipk_spd_destroy(g->spd_a);
	ipk_spd_destroy(g->spd_b);
	ipk_sad_destroy(g->sad_a);
	ipk_sad_destroy(g->sad_b);
	ipk_pool_destroy(g->pool);
	if (g->reasm_pool)
		ipk_pool_destroy(g->reasm_pool);
}

struct sa_spec {
	const char *name;
	enum ipk_dir dir;
	enum ipk_mode mode;
	uint32_t spi;
	const char *src, *dst;
	const char *alg;
	bool esn, udp;
	uint64_t seq_start;
	struct ipk_lifetime hard;
};

/* Adds an SA whose keys derive from its SPI, so both ends of one SPI agree. */
static void sa_add(struct ipk_sad *sad, const struct sa_spec *s)
{
	struct ipk_sa_params p;
	struct ipk_err err = { .msg = "" };

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", s->name);
	p.spi = s->spi;
	p.dir = s->dir;
	p.mode = s->mode;
	assert_int_equal(ipk_addr_parse(s->src, &p.src), 0);
	assert_int_equal(ipk_addr_parse(s->dst, &p.dst), 0);
	p.alg = ipk_alg_find(s->alg);
	assert_non_null(p.alg);
	p.enc_key_len = (uint8_t)(p.alg->enc_key_len + p.alg->salt_len);
	p.auth_key_len = p.alg->auth_key_len;
	for (int i = 0; i < IPK_KEY_MAX; i++) {
		p.enc_key[i] = (uint8_t)(s->spi * 7 + i);
		p.auth_key[i] = (uint8_t)(s->spi * 13 + 3 * i);
	}
	p.esn = s->esn;
	p.encap_udp = s->udp;
	p.seq_start = s->seq_start;
	p.hard = s->hard;
	if (ipk_sad_add(sad, &p, &err))
		fail_msg("sa %s: %s", s->name, err.msg);
}

/* Adds a policy; @src/@dst are prefixes ("any" for any), @sa1 the outer SA of a bundle. */
static void pol_add(struct ipk_spd *spd, const char *name, enum ipk_dir dir, const char *src,
		    const char *dst, enum ipk_action action, const char *sa0, const char *sa1,
		    uint32_t priority)
{
	struct ipk_policy_params p;
	struct ipk_err err = { .msg = "" };

	ipk_policy_params_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.dir = dir;
	if (strcmp(src, "any") != 0)
		assert_int_equal(ipk_prefix_parse(src, &p.src), 0);
	if (strcmp(dst, "any") != 0)
		assert_int_equal(ipk_prefix_parse(dst, &p.dst), 0);
	p.action = action;
	p.priority = priority;
	if (sa0)
		snprintf(p.sa_names[p.n_sa++], IPK_NAME_MAX, "%s", sa0);
	if (sa1)
		snprintf(p.sa_names[p.n_sa++], IPK_NAME_MAX, "%s", sa1);
	if (ipk_spd_add(spd, &p, &err))
		fail_msg("policy %s: %s", name, err.msg);
}

/* Writes a UDP datagram @src:1024 -> @dst:@dport with @payload bytes into @buf; returns
 * its length. */
static size_t make_udp(uint8_t *buf, const char *src, const char *dst, uint16_t dport,
		       size_t payload, uint8_t tos, uint8_t seed)
{
	struct ipk_addr s, d;
	size_t hl, udp_len = 8 + payload;

	assert_int_equal(ipk_addr_parse(src, &s), 0);
	assert_int_equal(ipk_addr_parse(dst, &d), 0);
	hl = s.family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	if (s.family == 6)
		ipk_ipv6_build(buf, &s, &d, IPK_PROTO_UDP, (uint16_t)udp_len, tos, 64);
	else
		ipk_ipv4_build(buf, &s, &d, IPK_PROTO_UDP, (uint16_t)(hl + udp_len), tos, 64,
			       true, (uint16_t)(0x4000 + seed));
	buf[hl] = 0x04;
	buf[hl + 1] = 0x00;
	buf[hl + 2] = (uint8_t)(dport >> 8);
	buf[hl + 3] = (uint8_t)dport;
	buf[hl + 4] = (uint8_t)(udp_len >> 8);
	buf[hl + 5] = (uint8_t)udp_len;
	buf[hl + 6] = buf[hl + 7] = 0;
	for (size_t i = 0; i < payload; i++)
		buf[hl + 8 + i] = (uint8_t)(seed + i * 13);
	return hl + udp_len;
}

static struct ipk_pkt *pkt_of(struct pair *g, const uint8_t *bytes, size_t len)
{
	struct ipk_pkt *pkt = ipk_pkt_from_bytes(g->pool, bytes, len);

	assert_non_null(pkt);
	return pkt;
}

/* The standard pair: A protects 10.1.0.0/24 -> 10.2.0.0/24 with "a-b" (tunnel
 * 192.0.2.1 -> 192.0.2.2, SPI 0x1001); B holds the same SA inbound and the matching
 * inbound protect policy. */
static void std_pair(struct pair *g, bool reasm)
{
	pair_init(g, reasm);
	sa_add(g->sad_a, &(struct sa_spec){ "a-b", IPK_DIR_OUT, IPK_MODE_TUNNEL, 0x1001,
					    "192.0.2.1", "192.0.2.2", "aes128gcm16", false, false,
					    0, { 0 } });
	sa_add(g->sad_b, &(struct sa_spec){ "a-b", IPK_DIR_IN, IPK_MODE_TUNNEL, 0x1001,
					    "192.0.2.1", "192.0.2.2", "aes128gcm16", false, false,
					    0, { 0 } });
	pol_add(g->spd_a, "out", IPK_DIR_OUT, "10.1.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	pol_add(g->spd_b, "in", IPK_DIR_IN, "10.1.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	ipk_spd_resolve(g->spd_a, g->sad_a);
	ipk_spd_resolve(g->spd_b, g->sad_b);
}

/* Protects one UDP packet @src -> @dst with @payload bytes through A; the plaintext goes
 * to @orig / @len, what A sent is returned. */
static struct ipk_pkt *protect_n(struct pair *g, const char *src, const char *dst,
				 size_t payload, uint8_t *orig, size_t *len)
{
	struct ipk_pkt *out;
	enum ipk_drop_reason why;

	*len = make_udp(orig, src, dst, 4242, payload, 0, 9);
	if (ipk_inline_outbound(&g->a, pkt_of(g, orig, *len), &out, &why) != PROTECTED)
		fail_msg("%s -> %s not protected: %s", src, dst, ipk_drop_name(why));
	return out;
}

static struct ipk_pkt *protect(struct pair *g, const char *src, const char *dst, uint8_t *orig,
			       size_t *len)
{
	return protect_n(g, src, dst, 64, orig, len);
}

#endif
