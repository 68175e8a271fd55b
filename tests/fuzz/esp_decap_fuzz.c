// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target: inbound ESP (src/proto/esp.c, src/engine/inline.c).
 *
 * A fixed set of SAs is made once: for each, an inbound SA (with an inbound protect policy
 * matching inner UDP/TCP destination port 1000 + index) and the outbound twin with the
 * same keys, so that inputs can be sealed and their ICV verifies. Algorithms, modes,
 * families, ESN and UDP encapsulation (RFC 3948) vary across the set.
 *
 * Input: byte 0 picks what to do, the rest is data.
 *   bits 0-1  0, 3: raw - the rest is one or more outer IP packets, each prefixed by a
 *                   2-byte big-endian length (the last one takes what is left), fed
 *                   in order, so that fragments can be reassembled;
 *             1:    seal - the rest is a plaintext IP packet, protected first with the
 *                   outbound twin of the chosen SA (transport: its addresses are set to
 *                   the SA's), so that ICV and decryption pass and the code after them
 *                   (padding, next header, inner parse, transport rebuild) sees it;
 *             2:    craft - the rest is the ESP payload and trailer, written in clear
 *                   with a valid HMAC under a null-sha256 SA (RFC 4303 §2.2.1: ESN high
 *                   bits in the ICV), so that malformed padding and next headers get
 *                   past the ICV;
 *   bit 2     the packet goes through ipk_inline_inbound (0) or through ipk_esp_locate,
 *             ipk_sad_lookup_in and ipk_esp_decap directly (1);
 *   bits 3-7  the SA (modulo the number of SAs).
 * The inline context (and with it the reassembly) is made anew for every input, so one
 * input always gives the same result. Every packet must be back in its pool at the end.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/addr.h"
#include "core/pkt.h"
#include "engine/inline.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "proto/replay.h"
#include "sa/sad.h"
#include "sa/spd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_PKTS 64
#define REASM_PKTS 4
#define REASM_ROOM (IPK_PKT_HEADROOM + 65535 + IPK_PKT_TAILROOM)
#define MAX_RAW_PKTS 8

struct fz_sa {
	const char *alg;
	enum ipk_mode mode;
	bool v6, esn, udp, replay;
};

#define TUN IPK_MODE_TUNNEL
#define TRA IPK_MODE_TRANSPORT
static const struct fz_sa fz_sas[] = {
	/* 0 */ { "aes128gcm16", TUN, false, false, false, true },
	/* 1 */ { "aes128-sha256", TUN, true, false, false, false },
	/* 2 */ { "3des-md5", TUN, false, false, false, false },
	/* 3 */ { "chacha20poly1305", TRA, false, true, false, true },
	/* 4 */ { "null-sha256", TUN, false, true, false, false },
	/* 5 */ { "aes128gcm16", TRA, true, false, false, false },
	/* 6 */ { "aes128gcm16", TUN, false, false, true, false },
	/* 7 */ { "chacha20poly1305", TRA, false, false, true, true },
	/* 8 */ { "null-sha256", TRA, true, false, false, false },
	/* 9 */ { "aes128-sha256", TRA, false, true, true, false },
	/* 10 */ { "null-sha256", TUN, true, false, true, true },
};
#define N_SA (sizeof(fz_sas) / sizeof(fz_sas[0]))
#define SPI_BASE 0x100

static struct ipk_pool *pool, *reasm_pool;
static bool verbose; /* IPK_FUZZ_VERBOSE set: say what became of each packet */
static struct ipk_sad *sad_in, *sad_out;
static struct ipk_spd *spd_in;
static struct ipk_sa *sa_in[N_SA], *sa_out[N_SA];

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "esp_decap_fuzz: %s: %s\n", what, msg);
	abort();
}

static void sa_addrs(const struct fz_sa *s, struct ipk_addr *src, struct ipk_addr *dst)
{
	if (ipk_addr_parse(s->v6 ? "2001:db8:ff::1" : "192.0.2.1", src) ||
	    ipk_addr_parse(s->v6 ? "2001:db8:ff::2" : "192.0.2.2", dst))
		die("address", "parse");
}

/* Keys derive from the SPI, so the two directions of one SA agree. */
static void sa_params(size_t i, enum ipk_dir dir, struct ipk_sa_params *p)
{
	const struct fz_sa *s = &fz_sas[i];

	ipk_sa_params_init(p);
	snprintf(p->name, sizeof(p->name), "sa%zu", i);
	p->spi = SPI_BASE + (uint32_t)i;
	p->dir = dir;
	p->mode = s->mode;
	sa_addrs(s, &p->src, &p->dst);
	p->alg = ipk_alg_find(s->alg);
	if (!p->alg)
		die(s->alg, "unknown algorithm");
	p->enc_key_len = (uint8_t)(p->alg->enc_key_len + p->alg->salt_len);
	p->auth_key_len = p->alg->auth_key_len;
	for (int k = 0; k < IPK_KEY_MAX; k++) {
		p->enc_key[k] = (uint8_t)(p->spi * 7 + k);
		p->auth_key[k] = (uint8_t)(p->spi * 13 + 3 * k);
	}
	p->esn = s->esn;
	p->encap_udp = s->udp;
	if (!s->replay)
		p->replay_window = 0;
}

static void policy_add(size_t i)
{
	struct ipk_policy_params p;
	struct ipk_err err = { .msg = "" };

	ipk_policy_params_init(&p);
	snprintf(p.name, sizeof(p.name), "in%zu", i);
	p.dir = IPK_DIR_IN;
	p.dport_lo = p.dport_hi = (uint16_t)(1000 + i);
	p.action = IPK_ACTION_PROTECT;
	p.n_sa = 1;
	snprintf(p.sa_names[0], IPK_NAME_MAX, "sa%zu", i);
	if (ipk_spd_add(spd_in, &p, &err))
		die("policy", err.msg);
}

/* Plaintext to port 53 passes, so that the bypass path is reached too. */
static void bypass_add(void)
{
	struct ipk_policy_params p;
	struct ipk_err err = { .msg = "" };

	ipk_policy_params_init(&p);
	snprintf(p.name, sizeof(p.name), "dns");
	p.dir = IPK_DIR_IN;
	p.dport_lo = p.dport_hi = 53;
	p.action = IPK_ACTION_BYPASS;
	if (ipk_spd_add(spd_in, &p, &err))
		die("policy", err.msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ipk_err err = { .msg = "" };
	struct ipk_sa_params p;

	if (ipk_pool_create(&pool, POOL_PKTS, IPK_PKT_DEFAULT_ROOM) ||
	    ipk_pool_create(&reasm_pool, REASM_PKTS, REASM_ROOM) ||
	    ipk_sad_create(&sad_in, 1) || ipk_sad_create(&sad_out, 1) ||
	    ipk_spd_create(&spd_in))
		die("init", "out of memory");
	for (size_t i = 0; i < N_SA; i++) {
		sa_params(i, IPK_DIR_IN, &p);
		if (ipk_sad_add(sad_in, &p, &err))
			die("sa in", err.msg);
		sa_params(i, IPK_DIR_OUT, &p);
		if (ipk_sad_add(sad_out, &p, &err))
			die("sa out", err.msg);
		sa_in[i] = ipk_sad_find(sad_in, p.name);
		sa_out[i] = ipk_sad_find(sad_out, p.name);
		policy_add(i);
	}
	bypass_add();
	ipk_spd_resolve(spd_in, sad_in);
	verbose = getenv("IPK_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* Transport mode protects the packet as addressed: point it at the SA's peers. */
static void set_transport_addrs(const struct fz_sa *s, uint8_t *d, size_t len)
{
	struct ipk_addr src, dst;

	sa_addrs(s, &src, &dst);
	if (!s->v6 && len >= IPK_IPV4_HDR_LEN && (d[0] >> 4) == 4 &&
	    (size_t)(d[0] & 0xf) * 4 <= len) {
		memcpy(d + 12, src.bytes, 4);
		memcpy(d + 16, dst.bytes, 4);
		ipk_ipv4_set_checksum(d);
	} else if (s->v6 && len >= IPK_IPV6_HDR_LEN && (d[0] >> 4) == 6) {
		memcpy(d + 8, src.bytes, 16);
		memcpy(d + 24, dst.bytes, 16);
	}
}

/* A plaintext packet protected with the outbound twin of SA @i; NULL if encap refused it. */
static struct ipk_pkt *seal(size_t i, const uint8_t *data, size_t size)
{
	struct ipk_pkt *pkt = ipk_pkt_from_bytes(pool, data, size);

	if (!pkt)
		return NULL;
	if (fz_sas[i].mode == TRA)
		set_transport_addrs(&fz_sas[i], ipk_pkt_data(pkt), pkt->len);
	/* The same sequence number for the same input: no state carried between inputs. */
	atomic_store(&sa_out[i]->rt.seq_out, fz_sas[i].esn ? 0xfffffff0ull : 0);
	if (ipk_esp_encap(sa_out[i], pkt, 0) != 0) {
		ipk_pkt_free(pkt);
		return NULL;
	}
	return pkt;
}

/* The null-sha256 SAs, for crafted packets. */
static const uint8_t craft_sas[] = { 4, 8, 10 };

/* Writes the outer IP (and UDP) header for SA @s with @inner bytes after it; returns its
 * length. */
static size_t outer_hdr(const struct fz_sa *s, uint8_t *buf, size_t inner)
{
	struct ipk_addr src, dst;
	size_t hl = s->v6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	size_t l4 = s->udp ? IPK_UDP_HDR_LEN : 0;
	uint8_t proto = s->udp ? IPK_PROTO_UDP : IPK_PROTO_ESP;

	sa_addrs(s, &src, &dst);
	if (s->v6)
		ipk_ipv6_build(buf, &src, &dst, proto, (uint16_t)(l4 + inner), 0, 64);
	else
		ipk_ipv4_build(buf, &src, &dst, proto, (uint16_t)(hl + l4 + inner), 0, 64, true,
			       1);
	if (s->udp) {
		uint16_t ulen = (uint16_t)(IPK_UDP_HDR_LEN + inner);

		buf[hl] = buf[hl + 2] = IPK_NATT_PORT >> 8;
		buf[hl + 1] = buf[hl + 3] = IPK_NATT_PORT & 0xff;
		buf[hl + 4] = (uint8_t)(ulen >> 8);
		buf[hl + 5] = (uint8_t)ulen;
		buf[hl + 6] = buf[hl + 7] = 0;
	}
	return hl + l4;
}

/* An ESP packet whose payload and trailer are @data[4..] in clear (null encryption), with
 * sequence number @data[0..3] and a valid ICV: HMAC-SHA-256-128 over the ESP header and
 * payload, then the high sequence bits (zero) under ESN (RFC 4303 §2.2.1, RFC 4868). */
static struct ipk_pkt *craft(size_t sel, const uint8_t *data, size_t size)
{
	static uint8_t buf[IPK_PKT_DEFAULT_ROOM];
	size_t i = craft_sas[sel % sizeof(craft_sas)];
	struct ipk_sa_params p;
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	size_t body, off;

	if (size < 4 || size > 1400)
		return NULL;
	sa_params(i, IPK_DIR_IN, &p);
	body = IPK_ESP_HDR_LEN + (size - 4);
	off = outer_hdr(&fz_sas[i], buf, body + 16);
	buf[off] = (uint8_t)(p.spi >> 24);
	buf[off + 1] = (uint8_t)(p.spi >> 16);
	buf[off + 2] = (uint8_t)(p.spi >> 8);
	buf[off + 3] = (uint8_t)p.spi;
	memcpy(buf + off + 4, data, size);
	memset(buf + off + body, 0, 4); /* ESN high bits, only for the ICV */
	if (!HMAC(EVP_sha256(), p.auth_key, p.auth_key_len, buf + off,
		  body + (p.esn ? 4 : 0), mac, &mac_len))
		die("hmac", "failed");
	memcpy(buf + off + body, mac, 16);
	return ipk_pkt_from_bytes(pool, buf, off + body + 16);
}

static void run_inline(struct ipk_inline *ctx, struct ipk_pkt *pkt)
{
	struct ipk_pkt *out = NULL;
	enum ipk_drop_reason why;
	enum ipk_inline_result res = ipk_inline_inbound(ctx, pkt, &out, &why);

	if (verbose)
		fprintf(stderr, "inline: result %d (%s)\n", res,
			res == IPK_INLINE_DROPPED ? ipk_drop_name(why) : "-");

	if (res == IPK_INLINE_DECRYPTED || res == IPK_INLINE_BYPASSED) {
		struct ipk_ip_info info;

		/* What comes out is forwarded: it must at least be an IP packet. */
		if (!out || ipk_ip_parse(ipk_pkt_data(out), out->len, &info) != 0)
			die("inline", "forwarded a packet that does not parse");
		ipk_pkt_free(out);
	} else if (out) {
		die("inline", "output without a forwarding result");
	}
}

/* Tunnel mode promises a parsed inner packet. Transport mode only rebuilds the header
 * around what the peer sent (an extension header after ESP is not walked); the inline
 * path parses it for the policy check. Either way the IP header must still be there. */
static void check_recovered(const struct ipk_sa *sa, struct ipk_pkt *pkt, uint8_t version)
{
	struct ipk_ip_info info;
	const uint8_t *d = ipk_pkt_data(pkt);

	if (sa->rt.mode == IPK_MODE_TUNNEL) {
		if (ipk_ip_parse(d, pkt->len, &info) != 0)
			die("decap", "recovered a tunnelled packet that does not parse");
		return;
	}
	if (pkt->len < (version == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN) ||
	    d[0] >> 4 != version)
		die("decap", "transport mode lost the IP header");
}

static void run_direct(struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	uint32_t esp_off, spi;
	struct ipk_sa *sa;
	int rc;

	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) != 0)
		goto out;
	ipk_pkt_trim(pkt, info.total_len);
	if (info.is_fragment || ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, &info,
					       IPK_NATT_PORT, &esp_off, &spi) != 0)
		goto out;
	sa = ipk_sad_lookup_in(sad_in, spi, &info.dst);
	if (!sa)
		goto out;
	rc = ipk_esp_decap(sa, pkt, esp_off, 0);
	if (verbose)
		fprintf(stderr, "decap: %s\n", rc ? ipk_drop_name((enum ipk_drop_reason)rc) : "ok");
	if (rc == 0)
		check_recovered(sa, pkt, info.version);
out:
	ipk_pkt_free(pkt);
}

static void feed(struct ipk_inline *ctx, bool direct, struct ipk_pkt *pkt)
{
	if (!pkt) {
		if (verbose)
			fprintf(stderr, "no packet (seal or craft refused)\n");
		return;
	}
	if (direct)
		run_direct(pkt);
	else
		run_inline(ctx, pkt);
}

/* Length-prefixed packets, the last one unprefixed when the rest is too short. */
static void feed_raw(struct ipk_inline *ctx, bool direct, const uint8_t *data, size_t size)
{
	for (unsigned n = 0; size > 0 && n < MAX_RAW_PKTS; n++) {
		size_t len = size;

		if (size > 2 && n + 1 < MAX_RAW_PKTS) {
			len = (size_t)data[0] << 8 | data[1];
			data += 2;
			size -= 2;
			if (len > size)
				len = size;
		}
		feed(ctx, direct, ipk_pkt_from_bytes(pool, data, len));
		data += len;
		size -= len;
	}
}

static void reset_replay(void)
{
	for (size_t i = 0; i < N_SA; i++)
		if (sa_in[i]->rt.replay)
			ipk_replay_seed(sa_in[i]->rt.replay, fz_sas[i].esn ? 0xffffff00ull : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipk_inline ctx;
	uint8_t sel;
	bool direct;
	size_t sa;

	if (size < 1)
		return 0;
	sel = data[0];
	direct = sel & 4;
	sa = (size_t)(sel >> 3) % N_SA;
	data++;
	size--;
	if (ipk_inline_init(&ctx, sad_in, spd_in, reasm_pool))
		die("inline", "init");
	reset_replay();
	switch (sel & 3) {
	case 1:
		feed(&ctx, direct, seal(sa, data, size));
		break;
	case 2:
		feed(&ctx, direct, craft(sel >> 3, data, size));
		break;
	default:
		feed_raw(&ctx, direct, data, size);
		break;
	}
	ipk_inline_fini(&ctx);
	if (ipk_pool_available(pool) != POOL_PKTS || ipk_pool_available(reasm_pool) != REASM_PKTS)
		die("pool", "a packet was not returned");
	return 0;
}
