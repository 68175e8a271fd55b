// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/proto/esp.c: round trips for every algorithm x mode x address family
 * (inner and outer) x ESN, DSCP/ECN handling, UDP encapsulation, and every bad-input
 * class of RFC 4303 decapsulation, each with its own drop reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "crypto/alg.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "sa/sa.h"

static struct ipk_pool *pool;

static int setup(void **state)
{
	return ipk_pool_create(&pool, 64, IPK_PKT_DEFAULT_ROOM);
}

static int teardown(void **state)
{
	assert_int_equal(ipk_pool_available(pool), 64);
	ipk_pool_destroy(pool);
	return 0;
}

static void fill_key(uint8_t *key, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		key[i] = (uint8_t)(seed + i * 7);
}

/* Outbound and inbound SAs sharing keys, as two gateways would have. */
static void make_sa_pair(const struct ipk_alg *alg, enum ipk_mode mode, uint8_t outer_family,
			 bool esn, bool udp, struct ipk_sa **out, struct ipk_sa **in)
{
	struct ipk_sa_params p;
	struct ipk_err err = { "" };

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "t-%s", alg->name);
	p.spi = 0x1001;
	p.mode = mode;
	p.alg = alg;
	p.esn = esn;
	p.encap_udp = udp;
	p.enc_key_len = (uint8_t)(alg->enc_key_len + alg->salt_len);
	p.auth_key_len = alg->auth_key_len;
	fill_key(p.enc_key, p.enc_key_len, 0x11);
	fill_key(p.auth_key, p.auth_key_len, 0x55);
	assert_int_equal(ipk_addr_parse(outer_family == 6 ? "2001:db8::1" : "192.0.2.1", &p.src), 0);
	assert_int_equal(ipk_addr_parse(outer_family == 6 ? "2001:db8::2" : "192.0.2.2", &p.dst), 0);
	p.dir = IPK_DIR_OUT;
	if (ipk_sa_create(out, &p, 1, &err))
		fail_msg("sa out: %s", err.msg);
	p.dir = IPK_DIR_IN;
	if (ipk_sa_create(in, &p, 1, &err))
		fail_msg("sa in: %s", err.msg);
}

/* An inner IPv4 or IPv6 UDP packet of @len bytes (at least 48) with the given TOS. */
static size_t make_inner(uint8_t *buf, size_t len, uint8_t family, uint8_t tos, bool peers)
{
	struct ipk_addr src, dst;
	size_t hl = family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	uint8_t *udp = buf + hl;

	if (family == 6) {
		ipk_addr_parse(peers ? "2001:db8::1" : "2001:db8:1::10", &src);
		ipk_addr_parse(peers ? "2001:db8::2" : "2001:db8:2::20", &dst);
		ipk_ipv6_build(buf, &src, &dst, IPK_PROTO_UDP, (uint16_t)(len - hl), tos, 63);
	} else {
		ipk_addr_parse(peers ? "192.0.2.1" : "10.1.0.10", &src);
		ipk_addr_parse(peers ? "192.0.2.2" : "10.2.0.20", &dst);
		ipk_ipv4_build(buf, &src, &dst, IPK_PROTO_UDP, (uint16_t)len, tos, 63, true, 7);
	}
	udp[0] = 0x30; udp[1] = 0x39; udp[2] = 0x00; udp[3] = 0x35;
	udp[4] = (uint8_t)((len - hl) >> 8);
	udp[5] = (uint8_t)(len - hl);
	udp[6] = udp[7] = 0;
	for (size_t i = hl + 8; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	return len;
}

static int decap_pkt(struct ipk_sa *in, struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	uint32_t off, spi;
	int rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info);

	if (rc)
		return rc;
	rc = ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, &info, IPK_NATT_PORT, &off, &spi);
	if (rc)
		return rc;
	assert_int_equal(spi, in->rt.spi);
	return ipk_esp_decap(in, pkt, off, 0);
}

struct round_trip_case {
	enum ipk_mode mode;
	uint8_t inner_family, outer_family;
	bool esn, udp;
};

static void check_outer(struct ipk_sa *sa, struct ipk_pkt *pkt, uint8_t inner_tos, bool udp,
			size_t inner_len)
{
	struct ipk_ip_info info;
	const struct ipk_alg *a = sa->rt.alg;

	assert_int_equal(ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info), 0);
	assert_int_equal(info.proto, udp ? IPK_PROTO_UDP : IPK_PROTO_ESP);
	assert_true(ipk_addr_equal(&info.src, &sa->params.src));
	assert_true(ipk_addr_equal(&info.dst, &sa->params.dst));
	/* RFC 4301 §5.1.2.1 DSCP copy, RFC 6040 §4.1 ECN copy. */
	assert_int_equal((info.dscp << 2) | info.ecn, inner_tos);
	/* The ESP payload is block-aligned and no larger than the worst case. */
	assert_true(pkt->len <= inner_len + ipk_esp_overhead(sa));
	assert_int_equal((pkt->len - info.hdr_len - (udp ? 8 : 0) - IPK_ESP_HDR_LEN - a->iv_len -
			  a->icv_len) % a->block_size, 0);
}

static void round_trip_one(const struct ipk_alg *alg, const struct round_trip_case *c,
			   size_t len, int row)
{
	struct ipk_sa *out, *in;
	uint8_t inner[1500];
	uint8_t tos = (uint8_t)(46 << 2 | IPK_ECN_ECT0);
	bool transport = c->mode == IPK_MODE_TRANSPORT;
	struct ipk_pkt *pkt;

	make_sa_pair(alg, c->mode, c->outer_family, c->esn, c->udp, &out, &in);
	make_inner(inner, len, transport ? c->outer_family : c->inner_family, tos, transport);
	for (int n = 0; n < 3; n++) {
		pkt = ipk_pkt_from_bytes(pool, inner, len);
		assert_non_null(pkt);
		if (ipk_esp_encap(out, pkt, 0))
			fail_msg("row %d %s len %zu: encap failed", row, alg->name, len);
		if (!transport)
			check_outer(out, pkt, tos, c->udp, len);
		if (decap_pkt(in, pkt))
			fail_msg("row %d %s len %zu: decap failed", row, alg->name, len);
		assert_int_equal(pkt->len, len);
		assert_memory_equal(ipk_pkt_data(pkt), inner, len);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(atomic_load(&out->stats.packets), 3);
	assert_int_equal(atomic_load(&in->stats.packets), 3);
	assert_int_equal(atomic_load(&in->stats.bytes), 3 * len);
	ipk_sa_put(out);
	ipk_sa_put(in);
}

static void round_trip_every_algorithm_mode_family(void **state)
{
	static const struct round_trip_case cases[] = {
		{ IPK_MODE_TUNNEL, 4, 4, false, false },  /* 1: 4-in-4 */
		{ IPK_MODE_TUNNEL, 6, 6, false, false },  /* 2: 6-in-6 */
		{ IPK_MODE_TUNNEL, 4, 6, false, false },  /* 3: 4-in-6 */
		{ IPK_MODE_TUNNEL, 6, 4, false, false },  /* 4: 6-in-4 */
		{ IPK_MODE_TUNNEL, 4, 4, true, false },   /* 5: ESN */
		{ IPK_MODE_TUNNEL, 6, 6, true, false },   /* 6 */
		{ IPK_MODE_TRANSPORT, 4, 4, false, false },/* 7 */
		{ IPK_MODE_TRANSPORT, 6, 6, false, false },/* 8 */
		{ IPK_MODE_TRANSPORT, 4, 4, true, false }, /* 9 */
		{ IPK_MODE_TRANSPORT, 6, 6, true, false }, /* 10 */
		{ IPK_MODE_TUNNEL, 4, 4, false, true },   /* 11: UDP encapsulation */
		{ IPK_MODE_TUNNEL, 6, 6, true, true },    /* 12 */
		{ IPK_MODE_TRANSPORT, 4, 4, false, true },/* 13 */
		{ IPK_MODE_TRANSPORT, 6, 6, false, true },/* 14 */
	};
	static const size_t lens[] = { 48, 64, 65, 66, 67, 511, 512, 1400 };

	for (unsigned id = 0; id < IPK_ALG_COUNT; id++) {
		const struct ipk_alg *alg = ipk_alg_get((enum ipk_alg_id)id);

		for (unsigned c = 0; c < IPK_ARRAY_SIZE(cases); c++)
			for (unsigned l = 0; l < IPK_ARRAY_SIZE(lens); l++)
				round_trip_one(alg, &cases[c], lens[l], (int)c + 1);
	}
}

/* Sequence numbers go 1, 2, 3 and an outbound SA refuses to wrap (RFC 4303 §3.3.3). */
static void sequence_numbers_and_exhaustion(void **state)
{
	struct ipk_sa *out, *in;
	uint8_t inner[100];
	struct ipk_pkt *pkt;

	make_sa_pair(ipk_alg_find("aes128gcm16"), IPK_MODE_TUNNEL, 4, false, false, &out, &in);
	make_inner(inner, sizeof(inner), 4, 0, false);
	for (uint32_t seq = 1; seq <= 3; seq++) {
		pkt = ipk_pkt_from_bytes(pool, inner, sizeof(inner));
		assert_int_equal(ipk_esp_encap(out, pkt, 0), 0);
		assert_int_equal(ipk_pkt_data(pkt)[IPK_IPV4_HDR_LEN + 7], seq);
		ipk_pkt_free(pkt);
	}
	atomic_store(&out->rt.seq_out, UINT32_MAX - 1);
	pkt = ipk_pkt_from_bytes(pool, inner, sizeof(inner));
	assert_int_equal(ipk_esp_encap(out, pkt, 0), 0);
	ipk_pkt_free(pkt);
	pkt = ipk_pkt_from_bytes(pool, inner, sizeof(inner));
	assert_int_equal(ipk_esp_encap(out, pkt, 0), IPK_DROP_SEQ_EXHAUSTED);
	assert_int_equal(ipk_drop_read(&out->stats.drops, IPK_DROP_SEQ_EXHAUSTED), 1);
	ipk_pkt_free(pkt);
	ipk_sa_put(out);
	ipk_sa_put(in);
}

/* RFC 6040 §4.2: outer CE is copied to an ECT inner packet and drops a Not-ECT one. */
static void ecn_ce_on_decap(void **state)
{
	static const struct {
		uint8_t inner_ecn, outer_ecn;
		int rc;
		uint8_t result_ecn;
	} rows[] = {
		{ IPK_ECN_ECT0, IPK_ECN_CE, 0, IPK_ECN_CE },        /* 1 */
		{ IPK_ECN_NOT_ECT, IPK_ECN_CE, IPK_DROP_ECN_CE_NOT_ECT, 0 }, /* 2 */
		{ IPK_ECN_ECT0, IPK_ECN_ECT1, 0, IPK_ECN_ECT1 },    /* 3 */
		{ IPK_ECN_NOT_ECT, IPK_ECN_ECT0, 0, IPK_ECN_NOT_ECT },/* 4 */
	};

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_sa *out, *in;
		uint8_t inner[200];
		struct ipk_pkt *pkt;
		struct ipk_ip_info info;

		make_sa_pair(ipk_alg_find("aes128gcm16"), IPK_MODE_TUNNEL, 4, false, false, &out,
			     &in);
		make_inner(inner, sizeof(inner), 4, (uint8_t)(10 << 2 | rows[i].inner_ecn), false);
		pkt = ipk_pkt_from_bytes(pool, inner, sizeof(inner));
		assert_int_equal(ipk_esp_encap(out, pkt, 0), 0);
		/* A router on the way marks the outer header. */
		ipk_ip_set_tos(ipk_pkt_data(pkt), (uint8_t)(10 << 2 | rows[i].outer_ecn));
		assert_int_equal(decap_pkt(in, pkt), rows[i].rc);
		if (!rows[i].rc) {
			assert_int_equal(ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info), 0);
			assert_int_equal(info.ecn, rows[i].result_ecn);
			assert_int_equal(info.dscp, 10);
		}
		ipk_pkt_free(pkt);
		ipk_sa_put(out);
		ipk_sa_put(in);
	}
}

/*
 * Builds an IPv4 ESP packet around a hand-made plaintext (payload and trailer exactly as
 * given, no padding added) sealed with the keys make_sa_pair() uses: how a peer with a
 * broken or hostile ESP stack would send it.
 */
static struct ipk_pkt *seal_raw(const struct ipk_alg *alg, const uint8_t *plain, size_t plain_len,
				uint64_t seq)
{
	struct ipk_crypto *c;
	uint8_t ek[IPK_KEY_MAX], ak[IPK_KEY_MAX];
	size_t ek_len = alg->enc_key_len + alg->salt_len, esp_len;
	struct ipk_addr src, dst;
	struct ipk_pkt *pkt;
	uint8_t *p;

	fill_key(ek, ek_len, 0x11);
	fill_key(ak, alg->auth_key_len, 0x55);
	assert_int_equal(ipk_crypto_create(&c, alg, true, ek, ek_len, ak, alg->auth_key_len, NULL), 0);
	esp_len = IPK_ESP_HDR_LEN + alg->iv_len + plain_len + alg->icv_len;
	pkt = ipk_pkt_alloc(pool);
	p = ipk_pkt_put(pkt, (uint32_t)(IPK_IPV4_HDR_LEN + esp_len));
	ipk_addr_parse("192.0.2.1", &src);
	ipk_addr_parse("192.0.2.2", &dst);
	ipk_ipv4_build(p, &src, &dst, IPK_PROTO_ESP, (uint16_t)pkt->len, 0, 64, false, 1);
	p += IPK_IPV4_HDR_LEN;
	p[0] = 0; p[1] = 0; p[2] = 0x10; p[3] = 0x01;
	p[4] = (uint8_t)(seq >> 24); p[5] = (uint8_t)(seq >> 16);
	p[6] = (uint8_t)(seq >> 8); p[7] = (uint8_t)seq;
	memcpy(p + IPK_ESP_HDR_LEN + alg->iv_len, plain, plain_len);
	assert_int_equal(ipk_crypto_seal(c, p, plain_len, seq, false), 0);
	ipk_crypto_destroy(c);
	return pkt;
}

#define PLAIN_MAX 256

/* payload || padding (1, 2, ...) || pad length || next header, aligned to @block, into
 * @buf of PLAIN_MAX bytes. */
static size_t trailer(uint8_t *buf, const uint8_t *payload, size_t len, uint8_t nh, size_t block)
{
	size_t pad = (block - (len + 2) % block) % block;

	if (len > PLAIN_MAX - 2 - 15 || pad > 15)
		fail_msg("trailer: %zu bytes do not fit", len);
	static const uint8_t padding[15] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	memcpy(buf, payload, len);
	memcpy(buf + len, padding, pad);
	buf[len + pad] = (uint8_t)pad;
	buf[len + pad + 1] = nh;
	return len + pad + 2;
}

struct bad_case {
	const char *alg;
	enum ipk_mode mode;
	int kind;
	int expect;
};

enum {
	BAD_PADDING_BYTES = 1, PAD_LEN_TOO_BIG, NEXT_HEADER_59, NEXT_HEADER_0, NEXT_HEADER_UDP,
	EMPTY, CBC_PARTIAL_BLOCK, INNER_GARBAGE, VALID_WITH_TFC,
};

static struct ipk_pkt *make_bad(const struct bad_case *bc, const struct ipk_alg *alg)
{
	uint8_t inner[100], plain[PLAIN_MAX];
	size_t n, block = alg->block_size;
	struct ipk_pkt *pkt;

	make_inner(inner, sizeof(inner), 4, 0, false);
	switch (bc->kind) {
	case BAD_PADDING_BYTES:
		n = trailer(plain, inner, 99, IPK_PROTO_IPIP, 16); /* pad 13: 1..13 */
		plain[99 + 5] ^= 0x40;
		break;
	case PAD_LEN_TOO_BIG:
		n = trailer(plain, inner, 2, IPK_PROTO_IPIP, block);
		plain[n - 2] = 200;
		break;
	case NEXT_HEADER_59:
		n = trailer(plain, inner, sizeof(inner), IPK_PROTO_NONE, block);
		break;
	case NEXT_HEADER_0:
		n = trailer(plain, inner + 20, 80, 0, block);
		break;
	case NEXT_HEADER_UDP:
		n = trailer(plain, inner, sizeof(inner), IPK_PROTO_UDP, block);
		break;
	case EMPTY:
		n = trailer(plain, inner, 0, IPK_PROTO_IPIP, block);
		break;
	case CBC_PARTIAL_BLOCK:
		n = trailer(plain, inner, sizeof(inner), IPK_PROTO_IPIP, block);
		break;
	case INNER_GARBAGE:
		memset(inner, 0x45, 20);
		n = trailer(plain, inner, sizeof(inner), IPK_PROTO_IPIP, block);
		break;
	default: { /* VALID_WITH_TFC: 28 bytes of TFC padding after the inner packet */
		uint8_t tfc[128];

		memcpy(tfc, inner, sizeof(inner));
		memset(tfc + sizeof(inner), 0xee, sizeof(tfc) - sizeof(inner));
		n = trailer(plain, tfc, sizeof(tfc), IPK_PROTO_IPIP, block);
		break;
	}
	}
	pkt = seal_raw(alg, plain, n, 1);
	if (bc->kind == CBC_PARTIAL_BLOCK) {
		/* Four bytes short: the ciphertext no longer ends on a block boundary. */
		ipk_pkt_trim(pkt, pkt->len - 4);
		ipk_pkt_data(pkt)[3] = (uint8_t)pkt->len;
		ipk_pkt_data(pkt)[2] = (uint8_t)(pkt->len >> 8);
		ipk_ipv4_set_checksum(ipk_pkt_data(pkt));
	}
	return pkt;
}

static void bad_plaintext_each_with_its_reason(void **state)
{
	static const struct bad_case rows[] = {
		{ "aes128gcm16", IPK_MODE_TUNNEL, BAD_PADDING_BYTES, IPK_DROP_BAD_PADDING },      /* 1 */
		{ "aes128-sha256", IPK_MODE_TUNNEL, BAD_PADDING_BYTES, IPK_DROP_BAD_PADDING },    /* 2 */
		{ "aes128gcm16", IPK_MODE_TUNNEL, PAD_LEN_TOO_BIG, IPK_DROP_BAD_PAD_LENGTH },     /* 3 */
		{ "3des-md5", IPK_MODE_TUNNEL, PAD_LEN_TOO_BIG, IPK_DROP_BAD_PAD_LENGTH },        /* 4 */
		{ "aes128gcm16", IPK_MODE_TUNNEL, NEXT_HEADER_59, IPK_DROP_DUMMY_PACKET },        /* 5 */
		{ "aes128gcm16", IPK_MODE_TRANSPORT, NEXT_HEADER_0, IPK_DROP_BAD_NEXT_HEADER },   /* 6 */
		{ "aes128gcm16", IPK_MODE_TUNNEL, NEXT_HEADER_UDP, IPK_DROP_BAD_NEXT_HEADER },    /* 7 */
		{ "aes128gcm16", IPK_MODE_TUNNEL, EMPTY, IPK_DROP_EMPTY_PAYLOAD },                /* 8 */
		{ "aes128-sha256", IPK_MODE_TUNNEL, CBC_PARTIAL_BLOCK, IPK_DROP_BAD_CIPHERTEXT_LENGTH }, /* 9 */
		{ "aes128gcm16", IPK_MODE_TUNNEL, INNER_GARBAGE, IPK_DROP_INNER_MISMATCH },       /* 10 */
		{ "chacha20poly1305", IPK_MODE_TUNNEL, VALID_WITH_TFC, 0 },                       /* 11 */
		{ "null-sha256", IPK_MODE_TUNNEL, NEXT_HEADER_59, IPK_DROP_DUMMY_PACKET },        /* 12 */
	};

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		const struct ipk_alg *alg = ipk_alg_find(rows[i].alg);
		struct ipk_sa *out, *in;
		struct ipk_pkt *pkt;
		int rc;

		make_sa_pair(alg, rows[i].mode, 4, false, false, &out, &in);
		pkt = make_bad(&rows[i], alg);
		rc = decap_pkt(in, pkt);
		if (rc != rows[i].expect)
			fail_msg("row %u: got %s, expected %s", i + 1, ipk_drop_name(rc),
				 ipk_drop_name(rows[i].expect));
		if (rc) {
			assert_int_equal(ipk_drop_read(&in->stats.drops, rc), 1);
			assert_int_equal(atomic_load(&in->stats.packets), 0);
		} else {
			assert_int_equal(pkt->len, 100); /* TFC padding removed */
		}
		ipk_pkt_free(pkt);
		ipk_sa_put(out);
		ipk_sa_put(in);
	}
}

static struct ipk_pkt *encap_one(struct ipk_sa *out, size_t len)
{
	uint8_t inner[1500];
	struct ipk_pkt *pkt;

	make_inner(inner, len, 4, 0, false);
	pkt = ipk_pkt_from_bytes(pool, inner, len);
	assert_int_equal(ipk_esp_encap(out, pkt, 0), 0);
	return pkt;
}

static struct ipk_pkt *copy_pkt(struct ipk_pkt *pkt)
{
	return ipk_pkt_from_bytes(pool, ipk_pkt_data(pkt), pkt->len);
}

/* A forged packet neither ages the SA nor moves the replay window (RFC 4303 §3.4.3). */
static void bad_icv_does_not_age_the_sa(void **state)
{
	static const char *const algs[] = { "aes128gcm16", "chacha20poly1305", "aes128-sha256",
					    "3des-sha1", "null-sha256", "aes128gmac" };

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(algs); i++) {
		struct ipk_sa *out, *in;
		struct ipk_pkt *good, *forged;

		make_sa_pair(ipk_alg_find(algs[i]), IPK_MODE_TUNNEL, 4, false, false, &out, &in);
		good = encap_one(out, 300);
		forged = copy_pkt(good);
		ipk_pkt_data(forged)[forged->len - 1] ^= 1;
		assert_int_equal(decap_pkt(in, forged), IPK_DROP_BAD_ICV);
		assert_int_equal(atomic_load(&in->stats.packets), 0);
		assert_int_equal(atomic_load(&in->stats.bytes), 0);
		/* The genuine packet with the same sequence number still gets in. */
		assert_int_equal(decap_pkt(in, good), 0);
		assert_int_equal(atomic_load(&in->stats.packets), 1);
		ipk_pkt_free(good);
		ipk_pkt_free(forged);
		ipk_sa_put(out);
		ipk_sa_put(in);
	}
}

/* Duplicates and packets left of the window are told apart (RFC 4303 §3.4.3). */
static void replay_duplicate_and_too_old(void **state)
{
	struct ipk_sa *out, *in;
	struct ipk_pkt *first, *dup;

	make_sa_pair(ipk_alg_find("aes128gcm16"), IPK_MODE_TUNNEL, 4, false, false, &out, &in);
	first = encap_one(out, 200);
	dup = copy_pkt(first);
	assert_int_equal(decap_pkt(in, first), 0);
	assert_int_equal(decap_pkt(in, dup), IPK_DROP_REPLAY_DUPLICATE);
	ipk_pkt_free(first);
	ipk_pkt_free(dup);
	/* Packet 2 is held back while 3 .. 1026 arrive: the default window is 1024. */
	first = encap_one(out, 200);
	for (int i = 0; i < 1024; i++) {
		struct ipk_pkt *p = encap_one(out, 100);

		assert_int_equal(decap_pkt(in, p), 0);
		ipk_pkt_free(p);
	}
	assert_int_equal(decap_pkt(in, first), IPK_DROP_REPLAY_TOO_OLD);
	assert_int_equal(ipk_drop_read(&in->stats.drops, IPK_DROP_REPLAY_TOO_OLD), 1);
	assert_int_equal(ipk_drop_read(&in->stats.drops, IPK_DROP_REPLAY_DUPLICATE), 1);
	assert_int_equal(atomic_load(&in->stats.packets), 1025);
	ipk_pkt_free(first);
	ipk_sa_put(out);
	ipk_sa_put(in);
}

/* Frames that never reach the crypto: each with its own reason. */
static void malformed_frames(void **state)
{
	struct ipk_sa *out, *in;
	struct ipk_pkt *good = NULL, *p;
	struct ipk_ip_info info;
	uint32_t off, spi;
	uint8_t udp[IPK_IPV4_HDR_LEN + 8 + 4];
	struct ipk_addr a, b;

	make_sa_pair(ipk_alg_find("aes128gcm16"), IPK_MODE_TUNNEL, 4, false, false, &out, &in);
	good = encap_one(out, 100);

	/* 1: ESP header cut to 6 bytes. */
	p = copy_pkt(good);
	ipk_pkt_trim(p, IPK_IPV4_HDR_LEN + 6);
	ipk_pkt_data(p)[3] = IPK_IPV4_HDR_LEN + 6;
	ipk_ipv4_set_checksum(ipk_pkt_data(p));
	assert_int_equal(ipk_ip_parse(ipk_pkt_data(p), p->len, &info), 0);
	assert_int_equal(ipk_esp_locate(ipk_pkt_data(p), p->len, &info, 0, &off, &spi),
			 IPK_DROP_TRUNCATED_ESP);
	ipk_pkt_free(p);
	/* 2: ESP header and IV but no room for ICV and trailer. */
	p = copy_pkt(good);
	ipk_pkt_trim(p, IPK_IPV4_HDR_LEN + 8 + 8 + 16);
	ipk_pkt_data(p)[3] = (uint8_t)p->len;
	ipk_ipv4_set_checksum(ipk_pkt_data(p));
	assert_int_equal(decap_pkt(in, p), IPK_DROP_TRUNCATED_ESP);
	ipk_pkt_free(p);
	/* 3: IP total length longer than the frame. */
	p = copy_pkt(good);
	ipk_pkt_trim(p, p->len - 10);
	assert_int_equal(decap_pkt(in, p), IPK_DROP_IP_LENGTH_MISMATCH);
	ipk_pkt_free(p);
	/* 4: not ESP at all (UDP to port 53), 5: NAT keepalive, 6: IKE behind the marker. */
	ipk_addr_parse("192.0.2.1", &a);
	ipk_addr_parse("192.0.2.2", &b);
	ipk_ipv4_build(udp, &a, &b, IPK_PROTO_UDP, sizeof(udp), 0, 64, false, 1);
	memset(udp + IPK_IPV4_HDR_LEN, 0, 12);
	udp[IPK_IPV4_HDR_LEN + 1] = 53; udp[IPK_IPV4_HDR_LEN + 3] = 53;
	assert_int_equal(ipk_ip_parse(udp, sizeof(udp), &info), 0);
	assert_int_equal(ipk_esp_locate(udp, sizeof(udp), &info, 4500, &off, &spi), IPK_DROP_NOT_ESP);
	udp[IPK_IPV4_HDR_LEN + 2] = 0x11; udp[IPK_IPV4_HDR_LEN + 3] = 0x94; /* 4500 */
	assert_int_equal(ipk_esp_locate(udp, sizeof(udp), &info, 4500, &off, &spi),
			 IPK_DROP_NON_ESP_MARKER);
	ipk_ipv4_build(udp, &a, &b, IPK_PROTO_UDP, IPK_IPV4_HDR_LEN + 9, 0, 64, false, 1);
	udp[IPK_IPV4_HDR_LEN + 8] = 0xff;
	assert_int_equal(ipk_ip_parse(udp, IPK_IPV4_HDR_LEN + 9, &info), 0);
	assert_int_equal(ipk_esp_locate(udp, IPK_IPV4_HDR_LEN + 9, &info, 4500, &off, &spi),
			 IPK_DROP_NAT_KEEPALIVE);
	assert_int_equal(atomic_load(&in->stats.packets), 0);
	ipk_pkt_free(good);
	ipk_sa_put(out);
	ipk_sa_put(in);
}

/* Hard lifetime: the packet that reaches it is the last one the SA carries. */
static void hard_packet_lifetime_stops_the_sa(void **state)
{
	struct ipk_sa *out, *in;
	struct ipk_pkt *p;

	make_sa_pair(ipk_alg_find("aes256gcm16"), IPK_MODE_TUNNEL, 4, false, false, &out, &in);
	out->params.hard.packets = 2;
	for (int i = 0; i < 2; i++) {
		p = encap_one(out, 100);
		ipk_pkt_free(p);
	}
	p = ipk_pkt_alloc(pool);
	make_inner(ipk_pkt_put(p, 100), 100, 4, 0, false);
	assert_int_equal(ipk_esp_encap(out, p, 0), IPK_DROP_SA_EXPIRED);
	assert_int_equal(ipk_drop_read(&out->stats.drops, IPK_DROP_SA_EXPIRED), 1);
	ipk_pkt_free(p);
	ipk_sa_put(out);
	ipk_sa_put(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_every_algorithm_mode_family),
		cmocka_unit_test(sequence_numbers_and_exhaustion),
		cmocka_unit_test(ecn_ce_on_decap),
		cmocka_unit_test(bad_plaintext_each_with_its_reason),
		cmocka_unit_test(bad_icv_does_not_age_the_sa),
		cmocka_unit_test(replay_duplicate_and_too_old),
		cmocka_unit_test(malformed_frames),
		cmocka_unit_test(hard_packet_lifetime_stops_the_sa),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
