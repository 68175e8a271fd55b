// SPDX-License-Identifier: BSD-2-Clause
/* Tests for the configuration language (src/ctl/config.c and its command modules):
 * numbered tables of valid batches, checked through the public SAD/SPD API, and of
 * mistakes, each with the message expected and a check that nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/config.h"
#include "ctl/config_policy.h"
#include "ctl/config_sa.h"
#include "sa/sad.h"
#include "sa/spd.h"
#include "sa/spd_index.h"

/* Key material (hex, no 0x): K<n> is n bytes. */
#define K16 "00112233445566778899aabbccddeeff"
#define K20 K16 "c0c1c2c3"
#define K24 K16 "0102030405060708"
#define K32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K36 K32 "d0d1d2d3"
#define A16 "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define A20 A16 "b0b1b2b3"
#define A32 A16 "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

#define GCM "proposal aes128gcm16 key 0x" K20
#define V4_OUT "mode tunnel src 192.0.2.1 dst 192.0.2.2 "
#define V4_IN "mode tunnel src 192.0.2.2 dst 192.0.2.1 "
#define SA_OUT(name, spi) "sa add name " name " spi " spi " dir out " V4_OUT GCM "\n"
#define SA_IN(name, spi) "sa add name " name " spi " spi " dir in " V4_IN GCM "\n"

/* Two SAs and a policy, for the rows that need existing state. */
#define SETUP SA_OUT("a", "0x1000") SA_IN("b", "0x2000") \
	"policy add name p dir out action protect sa a\n"

struct env {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_config_ctx ctx;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	e->ctx.sad = e->sad;
	e->ctx.spd = e->spd;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	free(e);
	return 0;
}

/* A fresh SAD and SPD for each table row. */
static void env_reset(struct env *e)
{
	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	e->ctx.sad = e->sad;
	e->ctx.spd = e->spd;
}

static int apply(struct env *e, const char *text, struct ipk_err *err)
{
	memset(err, 0, sizeof(*err));
	return ipk_config_apply(&e->ctx, text, "t.conf", err);
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *len)
{
	*len = strlen(hex) / 2;
	for (size_t i = 0; i < *len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

struct exp_sa {
	const char *name;
	uint32_t spi;
	enum ipk_dir dir;
	enum ipk_mode mode;
	const char *src, *dst, *alg;
	const char *enc_key, *auth_key; /* hex; "" for none */
	bool esn;
	uint32_t window;
	bool encap;
	uint16_t sport, dport;
	uint8_t ttl;
	uint64_t seq;
	struct ipk_lifetime hard, soft;
};

struct exp_pol {
	const char *name;
	enum ipk_dir dir;
	const char *src, *dst; /* NULL: any */
	uint16_t proto;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t dscp;
	enum ipk_action action;
	uint32_t priority;
	const char *bundle[IPK_BUNDLE_MAX];
};

static void check_key(const uint8_t *key, uint8_t len, const char *hex)
{
	uint8_t want[IPK_KEY_MAX];
	size_t want_len;

	hex_to_bytes(hex, want, &want_len);
	assert_int_equal(len, want_len);
	assert_memory_equal(key, want, want_len);
}

static void check_addr(const struct ipk_addr *got, const char *text)
{
	struct ipk_addr want;

	assert_int_equal(ipk_addr_parse(text, &want), 0);
	assert_true(ipk_addr_equal(got, &want));
}

static void check_sa(const struct ipk_sad *sad, const struct exp_sa *x)
{
	const struct ipk_sa *sa = ipk_sad_find(sad, x->name);
	const struct ipk_sa_params *p;

	assert_non_null(sa);
	p = &sa->params;
	assert_int_equal(p->spi, x->spi);
	assert_int_equal(p->dir, x->dir);
	assert_int_equal(p->mode, x->mode);
	check_addr(&p->src, x->src);
	check_addr(&p->dst, x->dst);
	assert_string_equal(p->alg->name, x->alg);
	check_key(p->enc_key, p->enc_key_len, x->enc_key);
	check_key(p->auth_key, p->auth_key_len, x->auth_key);
	assert_int_equal(p->esn, x->esn);
	assert_int_equal(p->replay_window, x->window);
	assert_int_equal(p->encap_udp, x->encap);
	assert_int_equal(p->encap_sport, x->sport);
	assert_int_equal(p->encap_dport, x->dport);
	assert_int_equal(p->ttl, x->ttl);
	assert_int_equal(p->seq_start, x->seq);
	assert_memory_equal(&p->hard, &x->hard, sizeof(p->hard));
	assert_memory_equal(&p->soft, &x->soft, sizeof(p->soft));
}

static void check_prefix(const struct ipk_prefix *got, const char *text)
{
	struct ipk_prefix want = { .len = 0 };

	if (text)
		assert_int_equal(ipk_prefix_parse(text, &want), 0);
	assert_int_equal(got->addr.family, want.addr.family);
	assert_int_equal(got->len, want.len);
	assert_memory_equal(got->addr.bytes, want.addr.bytes, 16);
}

static void check_policy(const struct ipk_spd *spd, const struct ipk_sad *sad,
			 const struct exp_pol *x)
{
	const struct ipk_policy *pol = ipk_spd_find(spd, x->name);
	const struct ipk_policy_params *p;
	uint32_t n = 0;

	assert_non_null(pol);
	p = &pol->params;
	assert_int_equal(p->dir, x->dir);
	check_prefix(&p->src, x->src);
	check_prefix(&p->dst, x->dst);
	assert_int_equal(p->proto, x->proto);
	assert_int_equal(p->sport_lo, x->sport_lo);
	assert_int_equal(p->sport_hi, x->sport_hi);
	assert_int_equal(p->dport_lo, x->dport_lo);
	assert_int_equal(p->dport_hi, x->dport_hi);
	assert_int_equal(p->dscp, x->dscp);
	assert_int_equal(p->action, x->action);
	assert_int_equal(p->priority, x->priority);
	while (n < IPK_BUNDLE_MAX && x->bundle[n])
		n++;
	assert_int_equal(p->n_sa, n);
	for (uint32_t i = 0; i < n; i++) {
		/* Bundle order, and resolved to the installed SA. */
		assert_string_equal(p->sa_names[i], x->bundle[i]);
		assert_non_null(pol->sa[i]);
		assert_ptr_equal(pol->sa[i], ipk_sad_find(sad, x->bundle[i]));
	}
}

#define ANY_PORTS .sport_lo = 0, .sport_hi = 65535, .dport_lo = 0, .dport_hi = 65535

static const struct {
	const char *text;
	uint32_t n_sa, n_pol;
	struct exp_sa sa;  /* name NULL: no SA to check */
	struct exp_pol pol; /* name NULL: no policy to check */
} valid[] = {
	/* 1: inbound AES-GCM, every default */
	{ SA_IN("in1", "0x1000"), 1, 0,
	  { "in1", 0x1000, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "aes128gcm16",
	    K20, "", false, 1024, false, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 2: outbound transport, ESN, start sequence number, TTL */
	{ "sa add name o2 spi 4096 dir out mode transport src 198.51.100.1 dst 198.51.100.2 "
	  "proposal aes256gcm16 key 0x" K36 " esn seq 1000 ttl 32\n", 1, 0,
	  { "o2", 4096, IPK_DIR_OUT, IPK_MODE_TRANSPORT, "198.51.100.1", "198.51.100.2",
	    "aes256gcm16", K36, "", true, 1024, false, 4500, 4500, 32, 1000, { 0 }, { 0 } },
	  { NULL } },
	/* 3: IPv6, ChaCha20-Poly1305, a large window */
	{ "sa add name v6 spi 0xabcdef01 dir in mode tunnel src 2001:db8::1 dst 2001:db8::2 "
	  "proposal chacha20poly1305 key 0x" K36 " esn replay-window 4096", 1, 0,
	  { "v6", 0xabcdef01, IPK_DIR_IN, IPK_MODE_TUNNEL, "2001:db8::1", "2001:db8::2",
	    "chacha20poly1305", K36, "", true, 4096, false, 4500, 4500, 64, 0, { 0 }, { 0 } },
	  { NULL } },
	/* 4: CBC + HMAC keys, UDP encapsulation with the RFC 3948 default ports */
	{ "sa add name cbc spi 0x300 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "
	  "proposal aes128-sha256 enc-key 0x" K16 " auth-key 0x" A32 " encap udp", 1, 0,
	  { "cbc", 0x300, IPK_DIR_OUT, IPK_MODE_TUNNEL, "192.0.2.1", "192.0.2.2", "aes128-sha256",
	    K16, A32, false, 1024, true, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 5: explicit NAT-T ports, window off, keys in upper case */
	{ "sa add name c256 spi 0x301 dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 "
	  "proposal aes256-sha256 auth-key 0X" A32 " enc-key 0x" K32
	  " encap udp sport 4501 dport 4502 replay-window 0", 1, 0,
	  { "c256", 0x301, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "aes256-sha256",
	    K32, A32, false, 0, true, 4501, 4502, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 6: NULL encryption takes only an auth key */
	{ "sa add name nul spi 0x302 dir out mode transport src 10.0.0.1 dst 10.0.0.2 "
	  "proposal null-sha256 auth-key 0x" A32, 1, 0,
	  { "nul", 0x302, IPK_DIR_OUT, IPK_MODE_TRANSPORT, "10.0.0.1", "10.0.0.2", "null-sha256",
	    "", A32, false, 1024, false, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 7: 3DES-MD5 with hard and soft lifetimes, size suffixes and hex */
	{ "sa add name des spi 0x303 dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 "
	  "proposal 3des-md5 enc-key 0x" K24 " auth-key 0x" A16
	  " lifetime bytes 1M packets 1000 seconds 0xe10 soft-lifetime seconds 3000 bytes 512K "
	  "packets 900", 1, 0,
	  { "des", 0x303, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "3des-md5", K24,
	    A16, false, 1024, false, 4500, 4500, 64, 0, { 1048576, 1000, 3600 },
	    { 524288, 900, 3000 } }, { NULL } },
	/* 8: 3DES-SHA1, the largest SPI, a gigabyte lifetime, the smallest window */
	{ "sa add name sha spi 0xffffffff dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 "
	  "proposal 3des-sha1 enc-key 0x" K24 " auth-key 0x" A20 " lifetime bytes 2g "
	  "replay-window 32", 1, 0,
	  { "sha", 0xffffffff, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "3des-sha1",
	    K24, A20, false, 32, false, 4500, 4500, 64, 0, { 2147483648u, 0, 0 }, { 0 } },
	  { NULL } },
	/* 9: GMAC, the smallest SPI allowed, the largest window; keywords in any order */
	{ "sa add proposal aes128gmac key 0x" K20 " replay-window 65536 dst 192.0.2.1 "
	  "src 192.0.2.2 mode tunnel dir in spi 256 name gmac", 1, 0,
	  { "gmac", 256, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "aes128gmac",
	    K20, "", false, 65536, false, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 10: a protect policy with every selector */
	{ SA_OUT("gw-out", "0x1000")
	  "policy add name p10 dir out src 10.1.0.0/16 dst 10.2.0.0/16 proto tcp "
	  "sport 1024-65535 dport 22 dscp ef action protect sa gw-out priority 10\n", 1, 1,
	  { NULL }, { "p10", IPK_DIR_OUT, "10.1.0.0/16", "10.2.0.0/16", 6, 1024, 65535, 22, 22,
		      46, IPK_ACTION_PROTECT, 10, { "gw-out" } } },
	/* 11: a bundle, written over continued lines with comments */
	{ "# two SAs, applied inner first\n"
	  SA_OUT("inner", "0x1001")
	  SA_OUT("outer", "0x1002")
	  "policy add name p11 dir out \\\n"
	  "\tdst 10.9.0.0/16 \\   \n"
	  "\taction protect sa inner,outer   # ESP in ESP\n", 2, 1,
	  { NULL }, { "p11", IPK_DIR_OUT, NULL, "10.9.0.0/16", IPK_PROTO_ANY, ANY_PORTS,
		      IPK_DSCP_ANY, IPK_ACTION_PROTECT, 1000, { "inner", "outer" } } },
	/* 12: bypass ICMP echo requests (type in sport, code in dport) marked CS6 */
	{ "policy add name icmp dir out proto icmp sport 8 dport 0 dscp cs6 action bypass "
	  "priority 5", 0, 1,
	  { NULL }, { "icmp", IPK_DIR_OUT, NULL, NULL, 1, 8, 8, 0, 0, 48, IPK_ACTION_BYPASS, 5,
		      { NULL } } },
	/* 13: discard, IPv6 prefixes, a numeric protocol and DSCP */
	{ "policy add name drop6 dir in src 2001:db8:1::/48 dst 2001:db8:2::/48 proto 50 "
	  "dscp 34 action discard priority 0", 0, 1,
	  { NULL }, { "drop6", IPK_DIR_IN, "2001:db8:1::/48", "2001:db8:2::/48", 50, ANY_PORTS,
		      34, IPK_ACTION_DISCARD, 0, { NULL } } },
	/* 14: an inbound policy over an inbound SA, addresses "any", a host prefix */
	{ SA_IN("gw-in", "0x2000")
	  "policy add name p14 dir in src any dst 10.1.2.3 proto udp dport 500 dscp AF41 "
	  "action protect sa gw-in\n", 1, 1,
	  { NULL }, { "p14", IPK_DIR_IN, NULL, "10.1.2.3/32", 17, 0, 65535, 500, 500, 34,
		      IPK_ACTION_PROTECT, 1000, { "gw-in" } } },
	/* 15: an SA added and deleted in one batch leaves nothing */
	{ SA_OUT("tmp", "0x1000") "sa del name tmp\n" SA_OUT("keep", "0x1001"), 1, 0,
	  { "keep", 0x1001, IPK_DIR_OUT, IPK_MODE_TUNNEL, "192.0.2.1", "192.0.2.2",
	    "aes128gcm16", K20, "", false, 1024, false, 4500, 4500, 64, 0, { 0 }, { 0 } },
	  { NULL } },
	/* 16: replaced within the batch: the last definition wins */
	{ SA_IN("r", "0x1000") "sa del name r\n" SA_IN("r", "0x3000"), 1, 0,
	  { "r", 0x3000, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "aes128gcm16",
	    K20, "", false, 1024, false, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 17: an inbound SPI and destination freed by a delete may be reused */
	{ SA_IN("old", "0x4000") "sa del name old\n" SA_IN("new", "0x4000"), 1, 0,
	  { "new", 0x4000, IPK_DIR_IN, IPK_MODE_TUNNEL, "192.0.2.2", "192.0.2.1", "aes128gcm16",
	    K20, "", false, 1024, false, 4500, 4500, 64, 0, { 0 }, { 0 } }, { NULL } },
	/* 18: CRLF line ends, tabs, comments after words; a 64-bit start with ESN */
	{ "# site A\r\n\tsa add name crlf spi 0x500 dir out \\\r\n  " V4_OUT GCM " # old\r\n"
	  "policy add name p18 dir out action discard\r\n"
	  "sa del name crlf\r\n"
	  "sa add name crlf spi 0x501 dir out " V4_OUT GCM " esn seq 0x100000000\r\n", 1, 1,
	  { "crlf", 0x501, IPK_DIR_OUT, IPK_MODE_TUNNEL, "192.0.2.1", "192.0.2.2", "aes128gcm16",
	    K20, "", true, 1024, false, 4500, 4500, 64, 0x100000000ull, { 0 }, { 0 } },
	  { "p18", IPK_DIR_OUT, NULL, NULL, IPK_PROTO_ANY, ANY_PORTS, IPK_DSCP_ANY,
	    IPK_ACTION_DISCARD, 1000, { NULL } } },
	/* 19: a policy deleted and re-added in one batch */
	{ "policy add name p19 dir out action bypass priority 1\n"
	  "policy del name p19\n"
	  "policy add name p19 dir out proto any dscp be action discard priority 2\n", 0, 1,
	  { NULL }, { "p19", IPK_DIR_OUT, NULL, NULL, IPK_PROTO_ANY, ANY_PORTS, 0,
		      IPK_ACTION_DISCARD, 2, { NULL } } },
	/* 20: the largest bundle, kept in the order written */
	{ SA_OUT("b1", "0x601") SA_OUT("b2", "0x602") SA_OUT("b3", "0x603") SA_OUT("b4", "0x604")
	  "policy add name p20 dir out action protect sa b4,b3,b2,b1", 4, 1,
	  { NULL }, { "p20", IPK_DIR_OUT, NULL, NULL, IPK_PROTO_ANY, ANY_PORTS, IPK_DSCP_ANY,
		      IPK_ACTION_PROTECT, 1000, { "b4", "b3", "b2", "b1" } } },
};

static void valid_batches(void **state)
{
	struct env *e = *state;
	struct ipk_err err;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(valid); i++) {
		int ret;

		print_message("row %zu\n", i + 1);
		env_reset(e);
		ret = apply(e, valid[i].text, &err);
		if (ret)
			print_message("%s\n", err.msg);
		assert_int_equal(ret, 0);
		assert_int_equal(ipk_sad_count(e->sad), valid[i].n_sa);
		assert_int_equal(ipk_spd_count(e->spd), valid[i].n_pol);
		if (valid[i].sa.name)
			check_sa(e->sad, &valid[i].sa);
		if (valid[i].pol.name)
			check_policy(e->spd, e->sad, &valid[i].pol);
	}
}

static const struct {
	const char *setup; /* applied first (must pass); NULL for none */
	const char *text;
	int ret;
	const char *msg; /* expected in the message */
} bad[] = {
	/* 1 */ { NULL, "sad add name x", -EINVAL,
		  "t.conf:1: 'sad': unknown command (expected sa add, sa del, policy add, "
		  "policy del, " }, /* and the commands added later */
	/* 2 */ { NULL, "sa frob name x", -EINVAL,
		  "t.conf:1: 'frob': unknown command (expected sa add, sa del)" },
	/* 3 */ { NULL, "\n\npolicy\n", -EINVAL,
		  "t.conf:3: 'policy': incomplete command (expected policy add, policy del)" },
	/* 4 */ { NULL, "sa add name x spj 0x1000 dir out " V4_OUT GCM, -EINVAL,
		  "t.conf:1: 'spj': unknown keyword for sa add (expected one of spi, dir, mode, "
		  "src, dst, proposal, key," },
	/* 5 */ { NULL, "sa del name", -EINVAL,
		  "t.conf:1: 'name': expected a name of 1..31 letters, digits, '.', '-' or '_', "
		  "got end of line" },
	/* 6 */ { NULL, "sa add name x spi 12z dir out " V4_OUT GCM, -EINVAL,
		  "t.conf:1: 'spi': expected a number in 256..4294967295 (0..255 are reserved, "
		  "RFC 4303 §2.1), got '12z'" },
	/* 7 */ { NULL, "sa add name x spi 0 dir out " V4_OUT GCM, -EINVAL,
		  "'spi': expected a number in 256..4294967295 (0..255 are reserved, RFC 4303 "
		  "§2.1), got '0'" },
	/* 8 */ { NULL, "sa add name x spi 0xff dir out " V4_OUT GCM, -EINVAL,
		  "t.conf:1: 'spi': expected a number in 256..4294967295 (0..255 are reserved, "
		  "RFC 4303 §2.1), got '0xff'" },
	/* 9 */ { NULL, "sa add name x spi 0x100000000 dir out " V4_OUT GCM, -EINVAL,
		  "got '0x100000000'" },
	/* 10 */ { NULL, "sa add name x spi 0x1000 dir out mode tunnel src 192.0.2.300 "
		   "dst 192.0.2.2 " GCM, -EINVAL,
		   "t.conf:1: 'src': expected an IPv4 or IPv6 address, got '192.0.2.300'" },
	/* 11 */ { NULL, "sa add name x spi 0x1000 dir out mode tunnel src 192.0.2.1 "
		   "dst 2001:db8::1 " GCM, -EINVAL,
		   "t.conf:1: 'dst': an IPv6 address while 'src' is IPv4 (both must be of one "
		   "family)" },
	/* 12 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes129gcm16 key 0x"
		   K20, -EINVAL,
		   "t.conf:1: 'proposal': unknown algorithm 'aes129gcm16' (expected one of "
		   "aes128gcm16" },
	/* 13 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16 key 0x"
		   K16, -EINVAL,
		   "t.conf:1: 'key': aes128gcm16 needs 20 bytes (16 of key and 4 of salt), got 16" },
	/* 14 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128-sha256 "
		   "key 0x" K16, -EINVAL,
		   "t.conf:1: 'key': aes128-sha256 takes 'enc-key' and 'auth-key', not 'key'" },
	/* 15 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes256gcm16 "
		   "enc-key 0x" K36 " auth-key 0x" A32, -EINVAL,
		   "t.conf:1: 'enc-key': aes256gcm16 takes 'key' (cipher key and salt), not "
		   "'enc-key' and 'auth-key'" },
	/* 16 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128 key 0x"
		   K16, -EINVAL,
		   "t.conf:1: 'proposal': algorithm 'aes128' is insecure and refused" },
	/* 17 */ { SETUP, SA_OUT("a", "0x1001"), -EEXIST,
		   "t.conf:1: sa add: sa 'a' already exists" },
	/* 18 */ { NULL, SA_OUT("x", "0x1001") SA_OUT("x", "0x1002"), -EEXIST,
		   "t.conf:2: sa add: sa 'x' already exists" },
	/* 19 */ { SETUP, "policy add name p dir out action bypass", -EEXIST,
		   "t.conf:1: policy add: policy 'p' already exists" },
	/* 20 */ { NULL, "policy add name p1 dir out action protect sa gw-out", -ENOENT,
		   "t.conf:1: policy p1: sa 'gw-out' does not exist" },
	/* 21 */ { SETUP, "sa del name a\npolicy add name p2 dir out action protect sa a",
		   -ENOENT, "t.conf:2: policy p2: sa 'a' does not exist" },
	/* 22 */ { NULL, "policy add name p dir out src 10.1.0.1/16 action bypass", -EINVAL,
		   "t.conf:1: 'src': host bits set in '10.1.0.1/16' (did you mean 10.1.0.0/16?)" },
	/* 23 */ { NULL, "policy add name p dir out dst 10.1.0.0/33 action bypass", -EINVAL,
		   "t.conf:1: 'dst': expected an IPv4 or IPv6 prefix such as 10.0.0.0/8, or any, "
		   "got '10.1.0.0/33'" },
	/* 24 */ { NULL, "policy add name p dir out proto udp dport 2000-1000 action bypass",
		   -EINVAL, "t.conf:1: 'dport': range 2000-1000 is reversed (expected LOW-HIGH)" },
	/* 25 */ { NULL, "policy add name p dir out dscp 64 action bypass", -EINVAL,
		   "t.conf:1: 'dscp': expected 0..63 or one of be, df, le, cs0..cs7, af11..af43, "
		   "va, ef, got '64'" },
	/* 26 */ { NULL, "sa del name a\nsa del name \\\n", -EINVAL,
		   "t.conf:2: '\\': the command continues past the end of the input" },
	/* 27 */ { NULL, SA_OUT("x", "0x1000") "sa add name y spi 0x10 dir out " V4_OUT GCM,
		   -EINVAL, "t.conf:2: 'spi': expected a number in 256..4294967295" },
	/* 28 */ { NULL, SA_OUT("x", "0x1000") " lifetime bytes 1K soft-lifetime bytes 2K",
		   -EINVAL,
		   "t.conf:2: 'lifetime': unknown command (expected sa add, sa del, policy add, "
		   "policy del, " }, /* and the commands added later */
	/* 29 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM
		   " lifetime bytes 1K soft-lifetime bytes 2K", -EINVAL,
		   "t.conf:1: 'soft-lifetime': bytes 2048 above the hard lifetime's 1024" },
	/* 30 */ { NULL, "sa add name x spi 0x1000 dir in " V4_IN GCM " replay-window big",
		   -EINVAL, "t.conf:1: 'replay-window': expected a number in 32..65536, got 'big'" },
	/* 31 */ { NULL, "sa add name x spi 0x1000 dir in " V4_IN GCM " replay-window 31",
		   -EINVAL, "t.conf:1: 'replay-window': expected a number in 32..65536, got '31'" },
	/* 32 */ { NULL, "sa add name x spi 0x1000 dir in " V4_IN GCM " replay-window 65537",
		   -EINVAL, "got '65537'" },
	/* 33 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16 "
		   "key 0x" K20 "a", -EINVAL,
		   "t.conf:1: 'key': expected 0x and an even number of hex digits (at most 64 "
		   "bytes), got 41 digits" },
	/* 34 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16 "
		   "key 0x0011g2", -EINVAL, "'key': expected 0x and an even number of hex digits "
		   "(at most 64 bytes), got a non-hex character at digit 5" },
	/* 35 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16 "
		   "key " K20, -EINVAL, "got a word without 0x" },
	/* 36 */ { NULL, "sa add name x spi 0x1000 spi 0x1001 dir out " V4_OUT GCM, -EINVAL,
		   "t.conf:1: 'spi': given twice in one command" },
	/* 37 */ { NULL, "sa add name x \\\n dir out " V4_OUT GCM, -EINVAL,
		   "t.conf:1: sa add: missing 'spi'" },
	/* 38 */ { SETUP, SA_IN("c", "0x2000"), -EEXIST,
		   "t.conf:1: sa add: spi 0x2000 is already used by inbound sa 'b' with the same "
		   "destination" },
	/* 39 */ { SETUP, "sa del name zz", -ENOENT, "t.conf:1: sa del: sa 'zz' does not exist" },
	/* 40 */ { SETUP, "policy del name p\npolicy del name p", -ENOENT,
		   "t.conf:2: policy del: policy 'p' does not exist" },
	/* 41 */ { SETUP, "policy add name p2 dir in action protect sa a", -EINVAL,
		   "t.conf:1: policy p2: sa 'a' is outbound, the policy inbound" },
	/* 42 */ { SETUP, "policy add name p2 dir out action protect sa a,a", -EINVAL,
		   "t.conf:1: 'sa': sa 'a' twice in the bundle" },
	/* 43 */ { NULL, "policy add name p2 dir out action protect sa a,b,c,d,e", -EINVAL,
		   "t.conf:1: 'sa': at most 4 SAs in a bundle" },
	/* 44 */ { NULL, "policy add name p2 dir out dport 53 action bypass", -EINVAL,
		   "t.conf:1: 'dport': ports need 'proto'" },
	/* 45 */ { NULL, "policy add name p2 dir out proto icmpv6 sport 300 action bypass",
		   -EINVAL, "t.conf:1: 'sport': ICMP type must be in 0..255" },
	/* 46 */ { SETUP, "policy add name p2 dir out action bypass sa a", -EINVAL,
		   "t.conf:1: 'sa': only action protect takes SAs" },
	/* 47 */ { NULL, "policy add name p2 dir out action protect", -EINVAL,
		   "t.conf:1: policy add: missing 'sa' for action protect" },
	/* 48 */ { NULL, "sa del \\ name x", -EINVAL,
		   "t.conf:1: '\\': a backslash continues a command only at the end of a line" },
	/* 49 */ { NULL, "sa del name a/b", -EINVAL, "t.conf:1: 'name': expected a name of "
		   "1..31 letters, digits, '.', '-' or '_', got 'a/b'" },
	/* 50 */ { NULL, "sa del name abcdefghijklmnopqrstuvwxyz012345", -EINVAL,
		   "got 'abcdefghijklmnopqrstuvwxyz012345'" },
	/* 51 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " seq 0x100000000",
		   -EINVAL, "t.conf:1: 'seq': 4294967296 needs 'esn'" },
	/* 52 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " lifetime esn", -EINVAL,
		   "t.conf:1: 'lifetime': expected one of bytes, packets, seconds, got 'esn'" },
	/* 53 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " soft-lifetime",
		   -EINVAL, "'soft-lifetime': expected one of bytes, packets, seconds, got end of "
		   "line" },
	/* 54 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " encap tcp", -EINVAL,
		   "t.conf:1: 'encap': expected one of udp, got 'tcp'" },
	/* 55 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM
		   " lifetime bytes 1 bytes 2", -EINVAL,
		   "t.conf:1: 'bytes': given twice in 'lifetime'" },
	/* 56 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " encap udp sport 0",
		   -EINVAL, "t.conf:1: 'sport': expected a number in 1..65535, got '0'" },
	/* 57 */ { NULL, "sa add name x \\\n  spi 0x1000 dir out \\\n  mode tunel "
		   "src 192.0.2.1 dst 192.0.2.2 " GCM, -EINVAL,
		   "t.conf:3: 'mode': expected one of tunnel, transport, got 'tunel'" },
	/* 58 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16",
		   -EINVAL, "t.conf:1: sa add: missing 'key' for aes128gcm16" },
	/* 59 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal null-sha256 "
		   "enc-key 0x" K16 " auth-key 0x" A32, -EINVAL,
		   "t.conf:1: 'enc-key': null-sha256 has no cipher key" },
	/* 60 */ { NULL, "policy add name p dir out proto 256 action bypass", -EINVAL,
		   "t.conf:1: 'proto': expected one of any, tcp, udp, icmp, icmpv6 or a number in "
		   "0..255, got '256'" },
	/* 61 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM
		   " lifetime bytes 17179869184G", -EINVAL,
		   "t.conf:1: 'bytes': expected a number, optionally with K, M or G (2^10, 2^20, "
		   "2^30), got '17179869184G'" },
	/* 62 */ { NULL, "policy add name p dir out src 10.0.0.0/8 dst 2001:db8::/32 "
		   "action bypass", -EINVAL,
		   "t.conf:1: 'dst': an IPv6 prefix while 'src' is IPv4 (both must be of one "
		   "family)" },
	/* 63 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT GCM " ttl 0", -EINVAL,
		   "t.conf:1: 'ttl': expected a number in 1..255, got '0'" },
	/* 64 */ { NULL, "sa del name x extra", -EINVAL,
		   "t.conf:1: 'extra': unexpected word (sa del takes no more)" },
	/* 65 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal 3des-sha1 "
		   "enc-key 0x" K24, -EINVAL, "t.conf:1: sa add: missing 'auth-key' for 3des-sha1" },
	/* 66 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128-sha256 "
		   "enc-key 0x" K16 " auth-key 0x" A20, -EINVAL,
		   "t.conf:1: 'auth-key': aes128-sha256 needs 32 bytes, got 20" },
	/* 67 */ { SETUP, "sa del name a\nsa del name a", -ENOENT,
		   "t.conf:2: sa del: sa 'a' does not exist" },
	/* 68 */ { NULL, "policy add name p dir sideways action bypass", -EINVAL,
		   "t.conf:1: 'dir': expected one of in, out, got 'sideways'" },
	/* 69 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16 0x"
		   K20, -EINVAL,
		   "t.conf:1: '<42 hex characters, not shown>': unknown keyword for sa add" },
	/* 70 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal 0x" K20, -EINVAL,
		   "t.conf:1: 'proposal': unknown algorithm '<42 hex characters, not shown>'" },
	/* 71 */ { NULL, "sa add name x spi 0x1000 dir out " V4_OUT "proposal aes128gcm16\n"
		   "key " K20, -EINVAL,
		   "t.conf:1: sa add: missing 'key' for aes128gcm16" },
	/* 72 */ { NULL, SA_OUT("x", "0x1000") K20 "\n", -EINVAL,
		   "t.conf:2: '<40 hex characters, not shown>': unknown command" },
	/* 73 */ { NULL, "\nsa add name x \\\n spi 0x1000 dir out \\\n " V4_OUT
		   "proposal aes128gcm16", -EINVAL,
		   "t.conf:2: sa add: missing 'key' for aes128gcm16" },
	/* 74 */ { NULL, "policy add name p \\\n dir out \\\n action protect\n", -EINVAL,
		   "t.conf:1: policy add: missing 'sa' for action protect" },
	/* 75 */ { SETUP, "policy add name p2 dir out action protect sa a class-sa ef:zz",
		   -ENOENT, "t.conf:1: policy p2: sa 'zz' does not exist" },
	/* 76 */ { SETUP, "policy add name p2 dir out action protect sa a class-sa ef:b",
		   -EINVAL, "t.conf:1: policy p2: sa 'b' is inbound, the policy outbound" },
	/* 77 */ { SETUP, "policy add name p2 dir out action bypass class-sa ef:a", -EINVAL,
		   "t.conf:1: 'class-sa': needs action protect with a single 'sa'" },
	/* 78 */ { SETUP, "policy add name p2 dir out action protect sa a class-sa ef", -EINVAL,
		   "t.conf:1: 'class-sa': expected DSCP:SA pairs separated by commas, e.g. "
		   "ef:sa-ef,af41:sa-video, got 'ef'" },
	/* 79 */ { SETUP, "policy add name p2 dir out action protect sa a class-sa xx:a",
		   -EINVAL, "t.conf:1: 'class-sa': expected DSCP:SA pairs" },
	/* 80 */ { SETUP, "policy add name p2 dir out action protect sa a class-sa ef:a,ef:a",
		   -EINVAL, "t.conf:1: policy p2: dscp 46 has two class SAs" },
	/* 81 */ { SETUP SA_OUT("c", "0x1001"), "policy add name p2 dir out action protect "
		   "sa a,c class-sa ef:a", -EINVAL,
		   "t.conf:1: 'class-sa': needs action protect with a single 'sa'" },
};

struct names {
	char list[512];
};

static void add_sa_name(struct ipk_sa *sa, void *arg)
{
	struct names *n = arg;

	strncat(n->list, sa->params.name, sizeof(n->list) - strlen(n->list) - 2);
	strcat(n->list, " ");
}

static void add_policy_name(struct ipk_policy *pol, void *arg)
{
	struct names *n = arg;

	strncat(n->list, pol->params.name, sizeof(n->list) - strlen(n->list) - 2);
	strcat(n->list, " ");
}

/* Every SA and policy by name, in order, with the counts. */
static void snapshot(const struct env *e, struct names *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->list, sizeof(n->list), "%u %u: ", ipk_sad_count(e->sad),
		 ipk_spd_count(e->spd));
	ipk_sad_foreach(e->sad, add_sa_name, n);
	strcat(n->list, "| ");
	ipk_spd_foreach(e->spd, IPK_DIR_OUT, add_policy_name, n);
	ipk_spd_foreach(e->spd, IPK_DIR_IN, add_policy_name, n);
}

static void mistakes_change_nothing(void **state)
{
	struct env *e = *state;
	struct names before, after;
	struct ipk_err err;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(bad); i++) {
		int ret;

		print_message("row %zu\n", i + 1);
		env_reset(e);
		if (bad[i].setup)
			assert_int_equal(apply(e, bad[i].setup, &err), 0);
		snapshot(e, &before);
		ret = apply(e, bad[i].text, &err);
		print_message("  %s\n", err.msg);
		assert_int_equal(ret, bad[i].ret);
		assert_non_null(strstr(err.msg, bad[i].msg));
		/* Messages never repeat key material. */
		assert_null(strstr(err.msg, "00112233"));
		assert_null(strstr(err.msg, "a0a1a2a3"));
		snapshot(e, &after);
		assert_string_equal(before.list, after.list);
		/* A policy kept from the setup still points at its SA. */
		if (bad[i].setup)
			assert_ptr_equal(ipk_spd_find(e->spd, "p")->sa[0], ipk_sad_find(e->sad, "a"));
	}
}

/* Deleting an SA leaves its policy in place, resolved to nothing (packets drop as no-sa);
 * adding it back resolves it again. */
static void deleted_sa_unresolves_policy(void **state)
{
	struct env *e = *state;
	struct ipk_err err;
	struct ipk_policy *pol;

	env_reset(e);
	assert_int_equal(apply(e, SETUP, &err), 0);
	pol = ipk_spd_find(e->spd, "p");
	assert_non_null(pol->sa[0]);
	assert_int_equal(apply(e, "sa del name a", &err), 0);
	assert_null(pol->sa[0]);
	assert_int_equal(ipk_sad_count(e->sad), 1);
	assert_int_equal(apply(e, SA_OUT("a", "0x1003"), &err), 0);
	assert_ptr_equal(pol->sa[0], ipk_sad_find(e->sad, "a"));
	assert_int_equal(pol->sa[0]->params.spi, 0x1003);
}

/* Per-class SAs (RFC 4301 §4.1): EF and AF41 each on their own SA, everything else on
 * the policy's SA; inbound, any of the rule's SAs passes the policy check. */
static void class_sas(void **state)
{
	struct env *e = *state;
	struct ipk_sa *be, *ef, *af, *in_be, *in_ef;
	struct ipk_policy *out, *in;
	struct ipk_err err;

	env_reset(e);
	assert_int_equal(apply(e, SETUP SA_OUT("e", "0x1001") SA_OUT("v", "0x1002")
				  SA_IN("ie", "0x2001")
				  "policy add name p2 dir out dst 10.2.0.0/16 action protect sa a "
				  "class-sa ef:e,af41:v,af42:v\n"
				  "policy add name p3 dir in action protect sa b class-sa ef:ie\n",
			       &err), 0);
	out = ipk_spd_find(e->spd, "p2");
	in = ipk_spd_find(e->spd, "p3");
	be = ipk_sad_find(e->sad, "a");
	ef = ipk_sad_find(e->sad, "e");
	af = ipk_sad_find(e->sad, "v");
	in_be = ipk_sad_find(e->sad, "b");
	in_ef = ipk_sad_find(e->sad, "ie");
	assert_int_equal(out->params.n_class_sa, 3);
	for (unsigned dscp = 0; dscp < 64; dscp++) {
		struct ipk_sa *want = dscp == 46 ? ef : dscp == 34 || dscp == 36 ? af : be;

		assert_ptr_equal(ipk_policy_sa_for_dscp(out, (uint8_t)dscp), want);
	}
	assert_true(ipk_policy_uses_sa(in, in_be));
	assert_true(ipk_policy_uses_sa(in, in_ef));
	assert_false(ipk_policy_uses_sa(in, ef));
	/* Deleting a class SA unresolves only that class. */
	assert_int_equal(apply(e, "sa del name e", &err), 0);
	assert_null(ipk_policy_sa_for_dscp(out, 46));
	assert_ptr_equal(ipk_policy_sa_for_dscp(out, 0), be);
	assert_ptr_equal(ipk_policy_sa_for_dscp(out, 34), af);
}

/* A policy deleted and re-added in one batch is still checked by the SPD's own rules,
 * and the message names the policy as written. */
static void readded_policy_checked_by_spd(void **state)
{
	struct env *e = *state;
	struct names before, after;
	struct ipk_err err;

	env_reset(e);
	assert_int_equal(apply(e, SETUP, &err), 0);
	snapshot(e, &before);
	assert_int_equal(apply(e, "policy del name p\n"
				  "policy add name p dir out proto 50 sport 1 action bypass",
			       &err), -EINVAL);
	assert_non_null(strstr(err.msg, "t.conf:2: policy p:"));
	assert_null(strstr(err.msg, "~check"));
	snapshot(e, &after);
	assert_string_equal(before.list, after.list);
}

static void empty_batches(void **state)
{
	struct env *e = *state;
	struct ipk_err err;

	env_reset(e);
	assert_int_equal(apply(e, "", &err), 0);
	assert_int_equal(apply(e, "# nothing\n\n   # at all\n", &err), 0);
	assert_int_equal(ipk_sad_count(e->sad), 0);
	assert_int_equal(ipk_spd_count(e->spd), 0);
	/* Without an origin, messages say "config". */
	assert_int_equal(ipk_config_apply(&e->ctx, "bogus", NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "config:1: 'bogus'"));
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void load_file(void **state)
{
	static const char good_text[] = "# gateway A\n" SETUP;
	static const char bad_text[] = "# gateway A\n" SA_OUT("a", "0x1000")
		"sa add name b spi 0x1001 dir out mode tunnel \\\n"
		"  src 192.0.2.1 dst 192.0.2.2 proposal aes128gcm16 key 0x00\n";
	struct env *e = *state;
	char path[] = "/tmp/ipk-config-test-XXXXXX";
	char want[128];
	struct ipk_err err;
	int fd;

	env_reset(e);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	write_file(path, bad_text, strlen(bad_text));
	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), -EINVAL);
	snprintf(want, sizeof(want), "%s:4: 'key': aes128gcm16 needs 20 bytes", path);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(ipk_sad_count(e->sad), 0);

	write_file(path, "sa del name a\0x\n", 16);
	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "NUL byte"));

	write_file(path, good_text, strlen(good_text));
	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), 0);
	assert_int_equal(ipk_sad_count(e->sad), 2);
	assert_int_equal(ipk_spd_count(e->spd), 1);
	assert_ptr_equal(ipk_spd_find(e->spd, "p")->sa[0], ipk_sad_find(e->sad, "a"));
	unlink(path);

	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	assert_string_equal(err.msg, want);
}

/* A file far larger than one read buffer, with many SAs: all are applied. */
static void load_large_file(void **state)
{
	struct env *e = *state;
	char path[] = "/tmp/ipk-config-test-XXXXXX";
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	struct ipk_err err;
	int fd;

	assert_non_null(text);
	env_reset(e);
	for (unsigned i = 0; i < 2000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"sa add name s%u spi %u dir in " V4_IN GCM "\n", i,
					0x10000 + i);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, text, len);
	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), 0);
	assert_int_equal(ipk_sad_count(e->sad), 2000);
	assert_int_equal(ipk_sad_find(e->sad, "s1999")->params.spi, 0x10000 + 1999);
	unlink(path);
	free(text);
}

/* Destination 10.<i / 250>.<i % 250>.7, the host policy p<i> covers. */
static void flow_to(struct ipk_flow *f, unsigned i)
{
	char dst[32];

	memset(f, 0, sizeof(*f));
	snprintf(dst, sizeof(dst), "10.%u.%u.7", i / 250, i % 250);
	assert_int_equal(ipk_addr_parse("192.0.2.9", &f->src), 0);
	assert_int_equal(ipk_addr_parse(dst, &f->dst), 0);
	f->proto = 17;
}

/* One batch of 3,000 policy lines and 1,000 deletions: the batch leaves the SPD's index
 * built (not stale), and lookups through it find what the lines said. */
static void policy_batch_leaves_index_built(void **state)
{
	struct env *e = *state;
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	struct ipk_flow f;
	struct ipk_err err;

	assert_non_null(text);
	env_reset(e);
	for (unsigned i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"policy add name p%u dir out src 192.0.2.0/24 "
					"dst 10.%u.%u.0/24 action bypass\n", i, i / 250, i % 250);
	for (unsigned i = 0; i < 3000; i += 3)
		len += (size_t)snprintf(text + len, cap - len, "policy del name p%u\n", i);
	assert_int_equal(apply(e, text, &err), 0);
	assert_int_equal(ipk_spd_count(e->spd), 2000);
	assert_non_null(ipk_spd_index_of(e->spd, IPK_DIR_OUT, 4));
	for (unsigned i = 0; i < 3000; i++) {
		struct ipk_policy *pol;

		flow_to(&f, i);
		pol = ipk_spd_lookup(e->spd, IPK_DIR_OUT, &f);
		if (i % 3 == 0) {
			assert_null(pol);
		} else {
			char name[16];

			snprintf(name, sizeof(name), "p%u", i);
			assert_non_null(pol);
			assert_string_equal(pol->params.name, name);
		}
	}
	free(text);
}

static size_t kw_count(const struct ipk_cmd_def *def)
{
	size_t n = 0;

	while (def->kws[n].name)
		n++;
	return n;
}

/* The parser records keywords in a fixed array. */
static void keyword_tables_fit(void **state)
{
	const struct ipk_cmd_def *defs[] = { &ipk_config_sa_add, &ipk_config_sa_del,
					     &ipk_config_policy_add, &ipk_config_policy_del };

	for (size_t i = 0; i < IPK_ARRAY_SIZE(defs); i++)
		assert_true(kw_count(defs[i]) <= IPK_CMD_KW_MAX);
	assert_int_equal(kw_count(&ipk_config_sa_add), 18);
	assert_int_equal(kw_count(&ipk_config_policy_add), 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_batches),
		cmocka_unit_test(mistakes_change_nothing),
		cmocka_unit_test(deleted_sa_unresolves_policy),
		cmocka_unit_test(class_sas),
		cmocka_unit_test(readded_policy_checked_by_spd),
		cmocka_unit_test(empty_batches),
		cmocka_unit_test(load_file),
		cmocka_unit_test(load_large_file),
		cmocka_unit_test(policy_batch_leaves_index_built),
		cmocka_unit_test(keyword_tables_fit),
	};

	return cmocka_run_group_tests(tests, env_setup, env_teardown);
}
