// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/engine/mtu.c through the inline path (inline_pair.h: A protects toward B
 * with aes128gcm16, tunnel 192.0.2.1 -> 192.0.2.2, mtu 1500, so the effective MTU is
 * 1446) and through two decoupled engines and a coupled one:
 *   - the effective-MTU boundary is exact: 1446 bytes with DF leave as a 1500-byte ESP
 *     packet, 1447 bytes are refused;
 *   - an IPv4 DF packet too big: dropped (frag-needed), exactly one ICMP type 3 code 4
 *     back to the sender from the SA's local address, next-hop MTU 1446, checksums right,
 *     the dropped packet quoted; IPv6: Packet Too Big from the inner destination (the SA
 *     is IPv4), MTU 1446, pseudo-header checksum right, 1232 bytes quoted;
 *   - IPv4 without DF, and IPv6 of at most 1280 bytes on a narrower path: encrypted, the
 *     ESP packet fragmented, B reassembles and decrypts the original bytes;
 *   - no error about an ICMP error; the rate limit (burst 10, 100/s) counted;
 *   - without `mtu` (the default) nothing changes; the effective MTU of 9 SAs (GCM, CBC,
 *     3DES, ChaCha20, IPv4/IPv6, UDP, transport) against real encapsulation; an SA over
 *     IPv6 answers from its local address, or from the inner destination for IPv4;
 *   - the engines deliver the error toward the plaintext side and keep their
 *     conservation law with errors and fragments in it.
 * The ICMP bytes are also written to a pcap and decoded by scapy (mtu_check.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/clock.h"
#include "engine/engine.h"
#include "engine/inline.h"
#include "engine/mtu.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

#include "inline_pair.h"

#define EFF 1446 /* aes128gcm16, IPv4 outer, mtu 1500: (1500-20-8-8-16)/4*4-2 */
#define MS (1000ull * 1000)
#define V4_SRC "10.1.0.5"
#define V4_DST "10.2.0.9"
#define V6_SRC "2001:db8:1::5"
#define V6_DST "2001:db8:2::9"
#define TUNNEL_MODE IPK_MODE_TUNNEL
#define TRANSPORT_MODE IPK_MODE_TRANSPORT

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* RFC 1071, written out again here so that the check does not share code with ip.c. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static bool sum_ok(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* A UDP packet of @total bytes, DF as asked (IPv4). */
static size_t make(uint8_t *buf, bool v6, size_t total, bool df)
{
	size_t hl = v6 ? 40 : 20;
	size_t len = make_udp(buf, v6 ? V6_SRC : V4_SRC, v6 ? V6_DST : V4_DST, 4242,
			      total - hl - 8, 0, 3);

	if (!v6 && !df) {
		buf[6] &= (uint8_t)~0x40;
		ipk_ipv4_set_checksum(buf);
	}
	return len;
}

/* The standard pair with `mtu` set on A's SA (the default is no limit). */
static void mtu_pair(struct pair *g, uint32_t mtu)
{
	std_pair(g, true);
	ipk_sad_find(g->sad_a, "a-b")->params.mtu = mtu;
}

static void add_v6_policies(struct pair *g)
{
	pol_add(g->spd_a, "out6", IPK_DIR_OUT, "2001:db8:1::/64", "2001:db8:2::/64",
		IPK_ACTION_PROTECT, "a-b", NULL, 90);
	pol_add(g->spd_b, "in6", IPK_DIR_IN, "2001:db8:1::/64", "2001:db8:2::/64",
		IPK_ACTION_PROTECT, "a-b", NULL, 90);
	ipk_spd_resolve(g->spd_a, g->sad_a);
	ipk_spd_resolve(g->spd_b, g->sad_b);
}

/* RFC 792 / RFC 1191 field by field. */
static void check_icmp4(const struct ipk_pkt *r, const uint8_t *orig, size_t len)
{
	const uint8_t *ip = r->buf + r->head, *icmp = ip + 20;
	size_t quote = len < 548 ? len : 548;
	static const uint8_t local[4] = { 192, 0, 2, 1 };

	assert_int_equal(r->meta.dir, IPK_DIR_IN);
	assert_int_equal(r->len, 20 + 8 + quote);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], 0xc0);                 /* CS6 */
	assert_int_equal(rd16(ip + 2), r->len);
	assert_int_equal(ip[8], 64);                   /* TTL */
	assert_int_equal(ip[9], 1);                    /* ICMP */
	assert_true(sum_ok(sum16(0, ip, 20)));
	assert_memory_equal(ip + 12, local, 4);        /* the SA's local address */
	assert_memory_equal(ip + 16, orig + 12, 4);    /* back to the sender */
	assert_int_equal(icmp[0], 3);
	assert_int_equal(icmp[1], 4);
	assert_int_equal(rd16(icmp + 4), 0);           /* unused */
	assert_int_equal(rd16(icmp + 6), EFF);         /* next-hop MTU */
	assert_true(sum_ok(sum16(0, icmp, r->len - 20)));
	assert_memory_equal(icmp + 8, orig, quote);
}

/* RFC 4443 §3.2, checksum over the RFC 8200 §8.1 pseudo-header. */
static void check_ptb(const struct ipk_pkt *r, const uint8_t *orig, size_t len, uint32_t mtu)
{
	const uint8_t *ip = r->buf + r->head, *icmp = ip + 40;
	size_t quote = len < 1232 ? len : 1232;
	uint32_t plen = (uint32_t)(8 + quote), sum;

	assert_int_equal(r->meta.dir, IPK_DIR_IN);
	assert_int_equal(r->len, 40 + plen);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(rd16(ip + 4), plen);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 64);
	assert_memory_equal(ip + 8, orig + 24, 16);    /* from the inner destination */
	assert_memory_equal(ip + 24, orig + 8, 16);    /* to the sender */
	assert_int_equal(icmp[0], 2);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(rd16(icmp + 4) << 16 | rd16(icmp + 6), mtu);
	sum = sum16(0, ip + 8, 32);
	sum += plen + 58;
	assert_true(sum_ok(sum16(sum, icmp, plen)));
	assert_memory_equal(icmp + 8, orig, quote);
}

/* ---- pcap for the independent decoder ---- */

static FILE *pcap_open(const char *path)
{
	/* Classic pcap header, LINKTYPE_RAW (101). */
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 101 };
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	return f;
}

static void pcap_add(FILE *f, const struct ipk_pkt *p)
{
	const uint32_t rec[4] = { 0, 0, p->len, p->len };

	assert_int_equal(fwrite(rec, sizeof(rec), 1, f), 1);
	assert_int_equal(fwrite(p->buf + p->head, p->len, 1, f), 1);
}

/* ---- the inline path ---- */

struct row {
	bool v6;
	size_t len;
	bool df;
	enum ipk_inline_result res;
	uint32_t icmp;   /* errors made */
	uint32_t pieces; /* ESP packets out (fragments) */
};

static const struct row rows[] = {
	{ false, 1446, true, PROTECTED, 0, 1 },   /* 1 the boundary: ESP exactly 1500 */
	{ false, 1447, true, DROPPED, 1, 0 },     /* 2 one byte over, DF */
	{ false, 1500, true, DROPPED, 1, 0 },     /* 3 */
	{ false, 2000, true, DROPPED, 1, 0 },     /* 4 quoted up to 576 in all */
	{ false, 1447, false, PROTECTED, 0, 2 },  /* 5 no DF: fragmented after */
	{ false, 2000, false, PROTECTED, 0, 2 },  /* 6 */
	{ true, 1446, true, PROTECTED, 0, 1 },    /* 7 */
	{ true, 1447, true, DROPPED, 1, 0 },      /* 8 IPv6: PTB */
	{ true, 2000, true, DROPPED, 1, 0 },      /* 9 quoted up to 1280 in all */
};

static void run_row(struct pair *g, const struct row *r, unsigned no, FILE *pcap)
{
	static uint8_t orig[4096];
	size_t len = make(orig, r->v6, r->len, r->df);
	struct ipk_pkt *out, *esp[8], *x, *dec = NULL;
	enum ipk_drop_reason why;
	uint32_t n = 0, icmp = 0;

	print_message("row %u\n", no);
	assert_int_equal(len, r->len);
	/* From the plaintext side, as an engine marks it: what comes back marked IPK_DIR_IN
	 * was made for the sender. */
	x = pkt_of(g, orig, len);
	x->meta.dir = IPK_DIR_OUT;
	assert_int_equal(ipk_inline_outbound(&g->a, x, &out, &why), r->res);
	if (r->res == DROPPED)
		assert_int_equal(why, IPK_DROP_FRAG_NEEDED);
	for (x = out ? out : ipk_inline_next(&g->a); x; x = ipk_inline_next(&g->a)) {
		if (x->meta.dir == IPK_DIR_IN) {
			pcap_add(pcap, x);
			if (r->v6)
				check_ptb(x, orig, len, EFF);
			else
				check_icmp4(x, orig, len);
			icmp++;
			ipk_pkt_free(x);
			continue;
		}
		assert_true(x->len <= 1500);
		assert_true(n < 8);
		esp[n++] = x;
	}
	assert_int_equal(icmp, r->icmp);
	assert_int_equal(n, r->pieces);
	if (r->pieces == 1 && r->len == 1446)
		assert_int_equal(esp[0]->len, 1500);
	/* B takes the pieces in order: held until the last, then the original comes out. */
	for (uint32_t i = 0; i < n; i++) {
		enum ipk_inline_result res = ipk_inline_inbound(&g->b, esp[i], &dec, &why);

		assert_int_equal(res, i + 1 < n ? HELD : DECRYPTED);
	}
	if (n) {
		assert_int_equal(dec->len, len);
		assert_memory_equal(ipk_pkt_data(dec), orig, len);
		ipk_pkt_free(dec);
	}
}

static void inline_rows(void **state)
{
	char path[] = "/tmp/ipk-mtu-XXXXXX";
	char cmd[512];
	struct pair g;
	FILE *pcap;
	int fd, rc;

	(void)state;
	ipk_clock_set_fake(1000 * IPK_NSEC_PER_SEC);
	mtu_pair(&g, 1500);
	add_v6_policies(&g);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	pcap = pcap_open(path);
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* A second between rows: the rate limit is another test's subject. */
		ipk_clock_advance(IPK_NSEC_PER_SEC);
		run_row(&g, &rows[i], i + 1, pcap);
	}
	assert_int_equal(ipk_drop_read(&g.a.drops, IPK_DROP_FRAG_NEEDED), 5);
	assert_int_equal(atomic_load(&g.a.mtu.stats.icmp_sent), 5);
	assert_int_equal(atomic_load(&g.a.mtu.stats.fragmented), 2);
	assert_int_equal(atomic_load(&g.a.mtu.stats.fragments), 4);
	fclose(pcap);
	/* The same bytes through an independent decoder: 3 ICMPv4 and 2 ICMPv6 errors. */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/unit/engine/mtu_check.py %s 3 2 %d",
		 IPK_TEST_DATA_DIR, path, EFF);
	rc = system(cmd);
	unlink(path);
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
		print_message("scapy decoder not available: that cross-check was NOT run\n");
	else
		assert_int_equal(rc, 0);
	pair_fini(&g);
	ipk_clock_use_real();
}

/* An IPv6 packet of at most 1280 bytes is never refused (RFC 8200 §5): with mtu 1280 the
 * effective MTU is 1226, yet 1280 bytes go through, in fragments (RFC 4459 §3.1). */
static void ipv6_minimum_goes_through(void **state)
{
	static uint8_t orig[2048];
	struct ipk_pkt *out, *f2, *dec;
	enum ipk_drop_reason why;
	struct ipk_sa *sa;
	struct pair g;
	size_t len;

	(void)state;
	mtu_pair(&g, 1500);
	add_v6_policies(&g);
	sa = ipk_sad_find(g.sad_a, "a-b");
	sa->params.mtu = 1280;
	assert_int_equal(ipk_sa_effective_mtu(sa), 1226);
	len = make(orig, true, 1280, true);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), PROTECTED);
	f2 = ipk_inline_next(&g.a);
	assert_non_null(f2);
	assert_null(ipk_inline_next(&g.a));
	assert_true(out->len <= 1280 && f2->len <= 1280);
	assert_int_equal(ipk_inline_inbound(&g.b, out, &dec, &why), HELD);
	assert_int_equal(ipk_inline_inbound(&g.b, f2, &dec, &why), DECRYPTED);
	assert_memory_equal(ipk_pkt_data(dec), orig, len);
	ipk_pkt_free(dec);
	/* 1281 bytes are refused, the PTB says 1280 (never less, RFC 4443 §3.2). */
	len = make(orig, true, 1281, true);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), DROPPED);
	out = ipk_inline_next(&g.a);
	assert_non_null(out);
	check_ptb(out, orig, len, 1280);
	ipk_pkt_free(out);
	pair_fini(&g);
}

/* Never an error about an ICMP error (RFC 1122 §3.2.2); an echo request is answered. */
static void no_error_about_an_error(void **state)
{
	static uint8_t orig[2048];
	struct ipk_pkt *out;
	enum ipk_drop_reason why;
	struct pair g;
	size_t len;

	(void)state;
	mtu_pair(&g, 1500);
	for (int type = 0; type < 2; type++) {
		len = make(orig, false, 1500, true);
		orig[9] = IPK_PROTO_ICMP;
		orig[20] = type ? 8 : 3; /* echo request : destination unreachable */
		ipk_ipv4_set_checksum(orig);
		assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why),
				 DROPPED);
		out = ipk_inline_next(&g.a);
		if (type) {
			assert_non_null(out);
			check_icmp4(out, orig, len);
			ipk_pkt_free(out);
		} else {
			assert_null(out);
		}
	}
	assert_int_equal(atomic_load(&g.a.mtu.stats.icmp_refused), 1);
	assert_int_equal(atomic_load(&g.a.mtu.stats.icmp_sent), 1);
	assert_int_equal(ipk_drop_read(&g.a.drops, IPK_DROP_FRAG_NEEDED), 2);
	pair_fini(&g);
}

/* A flood of oversized DF packets gets a burst of 10 errors, then 100/s: 30 at one
 * instant give 10 errors; 100 ms later 30 more give 10 more. */
static void rate_limited(void **state)
{
	static uint8_t orig[2048];
	struct ipk_pkt *out;
	enum ipk_drop_reason why;
	uint32_t sent = 0;
	struct pair g;
	size_t len = make(orig, false, 1500, true);

	(void)state;
	ipk_clock_set_fake(5000 * IPK_NSEC_PER_SEC);
	mtu_pair(&g, 1500);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 30; i++) {
			assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out,
							     &why), DROPPED);
			while ((out = ipk_inline_next(&g.a))) {
				sent++;
				ipk_pkt_free(out);
			}
		}
		assert_int_equal(sent, 10 * (round + 1));
		ipk_clock_advance(100 * MS);
	}
	assert_int_equal(atomic_load(&g.a.mtu.stats.icmp_sent), 20);
	assert_int_equal(atomic_load(&g.a.mtu.stats.icmp_limited), 40);
	assert_int_equal(ipk_drop_read(&g.a.drops, IPK_DROP_FRAG_NEEDED), 60);
	pair_fini(&g);
	ipk_clock_use_real();
}

/* Without `mtu` (the default) nothing is limited: 2000 bytes with DF leave whole, as
 * before, for paths wider than 1500 bytes. */
static void no_limit_by_default(void **state)
{
	static uint8_t orig[2048];
	struct ipk_pkt *out, *dec;
	enum ipk_drop_reason why;
	struct pair g;
	size_t len;

	(void)state;
	std_pair(&g, true);
	assert_int_equal(ipk_sa_effective_mtu(ipk_sad_find(g.sad_a, "a-b")), 0);
	len = make(orig, false, 2000, true);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), PROTECTED);
	assert_null(ipk_inline_next(&g.a));
	assert_int_equal(out->len, 2056); /* (2000+2)/4*4 + 20+8+8+16: one ESP packet */
	assert_int_equal(ipk_inline_inbound(&g.b, out, &dec, &why), DECRYPTED);
	assert_memory_equal(ipk_pkt_data(dec), orig, len);
	ipk_pkt_free(dec);
	pair_fini(&g);
}

/* The effective MTU is the largest inner packet whose ESP packet fits: in tunnel mode
 * exactly (one byte more no longer fits), in transport mode at least. Checked by
 * encapsulating packets of that size and one byte more. */
struct eff_row {
	const char *alg;
	enum ipk_mode mode;
	bool v6, udp;
	uint32_t mtu, eff;
};

static const struct eff_row eff_rows[] = {
	{ "aes128gcm16", TUNNEL_MODE, false, false, 1500, 1446 },  /* 1 */
	{ "aes128gcm16", TUNNEL_MODE, true, false, 1500, 1426 },   /* 2 */
	{ "aes128gcm16", TUNNEL_MODE, false, true, 1500, 1438 },   /* 3 UDP 4500 */
	{ "aes128-sha256", TUNNEL_MODE, false, false, 1500, 1438 }, /* 4 CBC: 16-byte blocks */
	{ "aes128-sha256", TUNNEL_MODE, false, false, 1499, 1422 }, /* 5 */
	{ "3des-sha1", TUNNEL_MODE, false, false, 1500, 1446 },    /* 6 8-byte blocks */
	{ "chacha20poly1305", TUNNEL_MODE, true, false, 1280, 1206 }, /* 7 */
	{ "aes128gcm16", TRANSPORT_MODE, false, false, 1500, 1463 }, /* 8 worst case */
	{ "aes128-sha256", TRANSPORT_MODE, true, false, 1500, 1443 }, /* 9 */
};

static void effective_mtu_rows(void **state)
{
	static uint8_t orig[2048];
	struct ipk_sad *sad;
	struct ipk_pool *pool;

	(void)state;
	assert_int_equal(ipk_pool_create(&pool, 4, IPK_PKT_DEFAULT_ROOM), 0);
	for (unsigned i = 0; i < sizeof(eff_rows) / sizeof(eff_rows[0]); i++) {
		const struct eff_row *r = &eff_rows[i];
		const char *src = r->v6 ? "2001:db8:ff::1" : "192.0.2.1";
		const char *dst = r->v6 ? "2001:db8:ff::2" : "192.0.2.2";
		struct ipk_sa *sa;

		print_message("row %u\n", i + 1);
		assert_int_equal(ipk_sad_create(&sad, 1), 0);
		sa_add(sad, &(struct sa_spec){ "x", IPK_DIR_OUT, r->mode, 0x3001, src, dst, r->alg,
					       false, r->udp, 0, { 0 } });
		sa = ipk_sad_find(sad, "x");
		sa->params.mtu = r->mtu;
		assert_int_equal(ipk_sa_effective_mtu(sa), r->eff);
		for (uint32_t len = r->eff; len <= r->eff + 1; len++) {
			/* Transport mode keeps the packet's own addresses: the SA's. */
			size_t n = make_udp(orig, r->mode == TRANSPORT_MODE ? src : (r->v6 ? V6_SRC :
					    V4_SRC), r->mode == TRANSPORT_MODE ? dst : (r->v6 ? V6_DST :
					    V4_DST), 9, len - (r->v6 ? 48 : 28), 0, 1);
			struct ipk_pkt *p = ipk_pkt_from_bytes(pool, orig, n);

			assert_int_equal(n, len);
			assert_int_equal(ipk_esp_encap(sa, p, 0), 0);
			if (len == r->eff)
				assert_true(p->len <= r->mtu);
			else if (r->mode == TUNNEL_MODE)
				assert_true(p->len > r->mtu);
			ipk_pkt_free(p);
		}
		ipk_sad_destroy(sad);
	}
	ipk_pool_destroy(pool);
}

/* An SA over IPv6: the Packet Too Big comes from the SA's local address; an IPv4 packet
 * on that SA gets its error from its own destination (no IPv4 address of the gateway is
 * known). */
static void ipv6_outer_sources(void **state)
{
	static uint8_t orig[2048];
	static const uint8_t local6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 };
	struct ipk_pkt *out, *x;
	enum ipk_drop_reason why;
	struct pair g;
	size_t len;

	(void)state;
	pair_init(&g, false);
	sa_add(g.sad_a, &(struct sa_spec){ "a-b", IPK_DIR_OUT, IPK_MODE_TUNNEL, 0x1001,
					   "2001:db8:ff::1", "2001:db8:ff::2", "aes128gcm16",
					   false, false, 0, { 0 } });
	ipk_sad_find(g.sad_a, "a-b")->params.mtu = 1500;
	pol_add(g.spd_a, "o4", IPK_DIR_OUT, "10.1.0.0/24", "10.2.0.0/24", IPK_ACTION_PROTECT,
		"a-b", NULL, 100);
	pol_add(g.spd_a, "o6", IPK_DIR_OUT, "2001:db8:1::/64", "2001:db8:2::/64",
		IPK_ACTION_PROTECT, "a-b", NULL, 100);
	ipk_spd_resolve(g.spd_a, g.sad_a);
	len = make(orig, true, 1500, true);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), DROPPED);
	x = ipk_inline_next(&g.a);
	assert_non_null(x);
	assert_memory_equal(ipk_pkt_data(x) + 8, local6, 16);
	assert_int_equal(rd16(ipk_pkt_data(x) + 46), 1426);
	ipk_pkt_free(x);
	len = make(orig, false, 1500, true);
	assert_int_equal(ipk_inline_outbound(&g.a, pkt_of(&g, orig, len), &out, &why), DROPPED);
	x = ipk_inline_next(&g.a);
	assert_non_null(x);
	assert_memory_equal(ipk_pkt_data(x) + 12, orig + 16, 4); /* from 10.2.0.9 */
	assert_int_equal(rd16(ipk_pkt_data(x) + 26), 1426);
	ipk_pkt_free(x);
	pair_fini(&g);
}

/* ---- the engines ---- */

static struct ipk_engine *engine_new(enum ipk_engine_mode mode, struct ipk_sad *sad,
				     struct ipk_spd *spd, struct ipk_pool *reasm)
{
	struct ipk_engine_config cfg;
	struct ipk_err err = { .msg = "" };
	struct ipk_engine *e;

	ipk_engine_config_init(&cfg);
	cfg.mode = mode;
	cfg.n_units = 1;
	cfg.reasm_pool = reasm;
	if (ipk_engine_create(&e, &cfg, sad, spd, &err))
		fail_msg("engine: %s", err.msg);
	return e;
}

/* A (decoupled or coupled) answers a DF packet with one error toward the plaintext side
 * and fragments a non-DF one; B (decoupled) reassembles and decrypts it. Both balance. */
static void engines(enum ipk_engine_mode mode_a)
{
	static uint8_t orig[2048];
	struct ipk_engine_balance b;
	struct ipk_engine *a, *eb;
	struct ipk_pkt *x, *dec;
	uint32_t pieces = 0;
	struct pair g;
	size_t len;

	mtu_pair(&g, 1500);
	a = engine_new(mode_a, g.sad_a, g.spd_a, NULL);
	eb = engine_new(IPK_ENGINE_DECOUPLED, g.sad_b, g.spd_b, g.reasm_pool);
	len = make(orig, false, 1600, true);
	assert_int_equal(ipk_engine_rx(a, pkt_of(&g, orig, len), IPK_DIR_OUT), 0);
	x = ipk_engine_tx_dequeue(a, 5000 * MS);
	assert_non_null(x);
	check_icmp4(x, orig, len);
	ipk_pkt_free(x);
	len = make(orig, false, 1600, false);
	assert_int_equal(ipk_engine_rx(a, pkt_of(&g, orig, len), IPK_DIR_OUT), 0);
	while (pieces < 2 && (x = ipk_engine_tx_dequeue(a, 5000 * MS))) {
		assert_int_equal(x->meta.dir, IPK_DIR_OUT);
		assert_true(x->len <= 1500);
		assert_int_equal(ipk_engine_rx(eb, x, IPK_DIR_IN), 0);
		pieces++;
	}
	assert_int_equal(pieces, 2);
	dec = ipk_engine_tx_dequeue(eb, 5000 * MS);
	assert_non_null(dec);
	assert_int_equal(dec->len, len);
	assert_memory_equal(ipk_pkt_data(dec), orig, len);
	ipk_pkt_free(dec);
	ipk_engine_stop(a);
	ipk_engine_stop(eb);
	/* A: 2 received + 1 error + 2 fragments = 3 out + 1 drop + 1 split. */
	assert_true(ipk_engine_balance(a, &b));
	assert_int_equal(b.in, 5);
	assert_int_equal(b.out, 3);
	assert_int_equal(b.drops, 1);
	assert_int_equal(b.absorbed, 1);
	/* B: 2 fragments + 1 datagram = 1 out + 2 absorbed. */
	assert_true(ipk_engine_balance(eb, &b));
	assert_int_equal(b.in, 3);
	assert_int_equal(b.out, 1);
	assert_int_equal(b.absorbed, 2);
	ipk_engine_destroy(a);
	ipk_engine_destroy(eb);
	pair_fini(&g);
}

static void decoupled_engine(void **state)
{
	(void)state;
	engines(IPK_ENGINE_DECOUPLED);
}

static void coupled_engine(void **state)
{
	(void)state;
	engines(IPK_ENGINE_COUPLED);
}

/* A packet that fits is protected as before: one ESP packet, nothing else made. */
static void small_packet_untouched(void **state)
{
	static uint8_t orig[256];
	struct ipk_pkt *esp, *dec;
	enum ipk_drop_reason why;
	struct pair g;
	size_t len;

	(void)state;
	mtu_pair(&g, 1500);
	esp = protect(&g, V4_SRC, V4_DST, orig, &len);
	assert_null(ipk_inline_next(&g.a));
	assert_int_equal(ipk_mtu_generated(&g.a.mtu), 0);
	assert_int_equal(ipk_inline_inbound(&g.b, esp, &dec, &why), DECRYPTED);
	assert_memory_equal(ipk_pkt_data(dec), orig, len);
	ipk_pkt_free(dec);
	pair_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_packet_untouched),
		cmocka_unit_test(inline_rows),
		cmocka_unit_test(ipv6_minimum_goes_through),
		cmocka_unit_test(no_error_about_an_error),
		cmocka_unit_test(rate_limited),
		cmocka_unit_test(no_limit_by_default),
		cmocka_unit_test(effective_mtu_rows),
		cmocka_unit_test(ipv6_outer_sources),
		cmocka_unit_test(decoupled_engine),
		cmocka_unit_test(coupled_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
