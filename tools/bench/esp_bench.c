// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck-bench esp`: ESP encapsulation and decapsulation rates per algorithm and inner
 * packet size, next to the raw libcrypto rate of the same cryptographic work.
 *
 * What one packet costs, on each side (one preallocated packet, no pool traffic):
 *   encap: memcpy of the inner IPv4/UDP packet into the packet buffer, head/len reset,
 *          ipk_esp_encap() on a tunnel-mode IPv4 SA (ESN off, worker 0);
 *   decap: memcpy of one sealed packet (made untimed, in order, a batch at a time) into
 *          the buffer, ipk_esp_decap() on the inbound SA with a replay window of 1024:
 *          every sequence number is seen once, in increasing order, so the replay check
 *          and window update run as for live traffic;
 *   raw:   memcpy of the inner packet and the EVP calls alone (raw_evp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/pkt.h"
#include "crypto/alg.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "sa/sa.h"
#include "tools/bench/bench.h"
#include "tools/bench/raw_evp.h"

#define ESP_BATCH 256	 /* packets per timed batch (encap, raw) */
#define DECAP_BATCH 1024 /* sealed packets made per untimed prep step */
#define ESP_MIN_COUNT 2000
#define ESP_MAX_SIZE 1900 /* inner bytes: headroom/tailroom of the default room */
#define MAX_CELLS 16

struct esp_cell {
	const struct ipk_alg *alg;
	uint32_t size;
	uint8_t inner[ESP_MAX_SIZE];
	struct ipk_pool *pool;
	struct ipk_pkt *pkt;
	struct ipk_sa *out;
	struct ipk_sa *in;
	uint8_t *store; /* DECAP_BATCH sealed packets, @stride bytes apart */
	uint32_t stride;
	uint32_t sealed_len;
	uint32_t esp_off;
};

struct esp_row {
	struct bench_result enc;
	struct bench_result dec;
	struct bench_result raw;
	double encap_mpps; /* from the median batches */
	double decap_mpps;
	double raw_mpps;
	double ratio; /* encap / raw, paired round by round */
};

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4/UDP datagram of @size bytes: valid header checksum, UDP checksum, random
 * payload. 192.0.2.10:40000 -> 10.1.2.3:5001. */
static void build_inner(uint8_t *p, uint32_t size)
{
	static const uint8_t src[4] = {192, 0, 2, 10}, dst[4] = {10, 1, 2, 3};
	struct ipk_addr s, d;
	uint32_t udp_len = size - IPK_IPV4_HDR_LEN, sum;
	uint8_t *udp = p + IPK_IPV4_HDR_LEN;

	ipk_addr_from_v4(&s, src);
	ipk_addr_from_v4(&d, dst);
	ipk_ipv4_build(p, &s, &d, IPK_PROTO_UDP, (uint16_t)size, 0, 64, true, 1);
	wr16(udp, 40000);
	wr16(udp + 2, 5001);
	wr16(udp + 4, (uint16_t)udp_len);
	wr16(udp + 6, 0);
	RAND_bytes(udp + IPK_UDP_HDR_LEN, (int)(udp_len - IPK_UDP_HDR_LEN));
	sum = ipk_csum_add(0, p + 12, 8) + IPK_PROTO_UDP + udp_len;
	sum = (uint16_t)~ipk_csum_fold(ipk_csum_add(sum, udp, udp_len));
	wr16(udp + 6, sum ? (uint16_t)sum : 0xffff);
}

static int make_sa(struct ipk_sa **out, const struct ipk_alg *alg, enum ipk_dir dir,
		   const uint8_t *enc_key, const uint8_t *auth_key)
{
	static const uint8_t src[4] = {198, 51, 100, 1}, dst[4] = {203, 0, 113, 1};
	struct ipk_sa_params p;
	struct ipk_err err;
	int rc;

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "bench-%s", ipk_dir_name(dir));
	p.spi = 0x1000;
	p.dir = dir;
	p.mode = IPK_MODE_TUNNEL;
	ipk_addr_from_v4(&p.src, src);
	ipk_addr_from_v4(&p.dst, dst);
	p.alg = alg;
	p.enc_key_len = (uint8_t)(alg->enc_key_len + alg->salt_len);
	memcpy(p.enc_key, enc_key, p.enc_key_len);
	p.auth_key_len = alg->auth_key_len;
	memcpy(p.auth_key, auth_key, p.auth_key_len);
	rc = ipk_sa_create(out, &p, 1, &err);
	if (rc)
		fprintf(stderr, "esp: %s\n", err.msg);
	return rc;
}

static inline void reset_pkt(struct ipk_pkt *pkt, const uint8_t *data, uint32_t len)
{
	memcpy(pkt->buf + IPK_PKT_HEADROOM, data, len);
	pkt->head = IPK_PKT_HEADROOM;
	pkt->len = len;
}

static int encap_run(void *arg, uint32_t n)
{
	struct esp_cell *c = arg;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		reset_pkt(c->pkt, c->inner, c->size);
		rc = ipk_esp_encap(c->out, c->pkt, 0);
		if (unlikely(rc))
			return rc;
	}
	return 0;
}

/* Untimed: seals the next @n sequence numbers into the store, in order. */
static int decap_prep(void *arg, uint32_t n)
{
	struct esp_cell *c = arg;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		reset_pkt(c->pkt, c->inner, c->size);
		rc = ipk_esp_encap(c->out, c->pkt, 0);
		if (rc)
			return rc;
		if (c->pkt->len != c->sealed_len)
			return -EPROTO;
		memcpy(c->store + (size_t)i * c->stride, ipk_pkt_data(c->pkt), c->sealed_len);
	}
	return 0;
}

static int decap_run(void *arg, uint32_t n)
{
	struct esp_cell *c = arg;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		reset_pkt(c->pkt, c->store + (size_t)i * c->stride, c->sealed_len);
		rc = ipk_esp_decap(c->in, c->pkt, c->esp_off, 0);
		if (unlikely(rc))
			return rc;
	}
	return 0;
}

/* One packet through encap and decap, untimed: finds the sealed length and ESP offset and
 * checks that the inner packet comes back byte for byte. */
static int roundtrip(struct esp_cell *c)
{
	struct ipk_ip_info info;
	uint32_t spi;
	int rc;

	reset_pkt(c->pkt, c->inner, c->size);
	rc = ipk_esp_encap(c->out, c->pkt, 0);
	if (!rc)
		rc = ipk_ip_parse(ipk_pkt_data(c->pkt), c->pkt->len, &info);
	if (!rc)
		rc = ipk_esp_locate(ipk_pkt_data(c->pkt), c->pkt->len, &info, 0, &c->esp_off, &spi);
	if (rc)
		return rc;
	c->sealed_len = c->pkt->len;
	c->stride = (c->sealed_len + 63u) & ~63u;
	rc = ipk_esp_decap(c->in, c->pkt, c->esp_off, 0);
	if (rc)
		return rc;
	if (c->pkt->len != c->size || memcmp(ipk_pkt_data(c->pkt), c->inner, c->size) != 0)
		return -EPROTO;
	return 0;
}

static void cell_fini(struct esp_cell *c)
{
	if (c->pkt)
		ipk_pkt_free(c->pkt);
	ipk_pool_destroy(c->pool);
	if (c->out)
		ipk_sa_put(c->out);
	if (c->in)
		ipk_sa_put(c->in);
	free(c->store);
}

static int cell_init(struct esp_cell *c, const struct ipk_alg *alg, uint32_t size)
{
	uint8_t enc_key[IPK_KEY_MAX], auth_key[IPK_KEY_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	c->alg = alg;
	c->size = size;
	build_inner(c->inner, size);
	if (RAND_bytes(enc_key, sizeof(enc_key)) != 1 ||
	    RAND_bytes(auth_key, sizeof(auth_key)) != 1)
		return -EIO;
	rc = ipk_pool_create(&c->pool, 1, IPK_PKT_DEFAULT_ROOM);
	if (rc)
		return rc;
	c->pkt = ipk_pkt_alloc(c->pool);
	if (!c->pkt)
		return -ENOMEM;
	rc = make_sa(&c->out, alg, IPK_DIR_OUT, enc_key, auth_key);
	if (!rc)
		rc = make_sa(&c->in, alg, IPK_DIR_IN, enc_key, auth_key);
	if (!rc)
		rc = roundtrip(c);
	if (rc)
		return rc;
	c->store = aligned_alloc(64, (size_t)DECAP_BATCH * c->stride);
	return c->store ? 0 : -ENOMEM;
}

/* Encap, decap and raw take turns batch by batch (bench_measure_set), so the ratio of
 * encap to raw holds even while other load on the machine comes and goes. */
static int run_cell(const struct ipk_alg *alg, uint32_t size, double seconds, struct esp_row *row)
{
	struct esp_cell *c = malloc(sizeof(*c));
	struct bench_raw *raw = NULL;
	struct bench_result res[3];
	int rc;

	if (!c)
		return -ENOMEM;
	rc = cell_init(c, alg, size);
	if (!rc)
		rc = bench_raw_create(&raw, alg, c->inner, c->size);
	if (!rc) {
		const struct bench_loop loops[3] = {
		    {NULL, encap_run, c, ESP_BATCH, ESP_MIN_COUNT},
		    {decap_prep, decap_run, c, DECAP_BATCH, ESP_MIN_COUNT},
		    {NULL, bench_raw_run, raw, ESP_BATCH, ESP_MIN_COUNT},
		};

		rc = bench_measure_set(loops, 3, seconds, res);
		row->enc = res[0];
		row->dec = res[1];
		row->raw = res[2];
	}
	row->encap_mpps = bench_mpps(&row->enc);
	row->decap_mpps = bench_mpps(&row->dec);
	row->raw_mpps = bench_mpps(&row->raw);
	row->ratio = row->enc.ratio_to_last;
	bench_raw_destroy(raw);
	cell_fini(c);
	free(c);
	return rc;
}

static int parse_algs(const char *text, const struct ipk_alg **algs, unsigned *n)
{
	char buf[512], *save = NULL;

	*n = 0;
	if (!text) {
		for (int id = 0; id < IPK_ALG_COUNT; id++)
			if (!ipk_alg_get((enum ipk_alg_id)id)->insecure)
				algs[(*n)++] = ipk_alg_get((enum ipk_alg_id)id);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct ipk_alg *a = ipk_alg_find(t);

		if (!a || a->insecure || *n == MAX_CELLS) {
			fprintf(stderr, "esp: unknown or refused algorithm '%s' (known: %s)\n", t,
				ipk_alg_names());
			return -EINVAL;
		}
		algs[(*n)++] = a;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_sizes(const char *text, uint32_t *sizes, unsigned *n)
{
	char buf[256], *save = NULL, *end;

	snprintf(buf, sizeof(buf), "%s", text ? text : "64,512,1400");
	*n = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(t, &end, 10);

		/* An IPv4 + UDP header at least; the buffer's data room at most. */
		if (*end || v < IPK_IPV4_HDR_LEN + IPK_UDP_HDR_LEN || v > ESP_MAX_SIZE ||
		    *n == MAX_CELLS) {
			fprintf(stderr, "esp: size '%s' not in %u..%u\n", t,
				IPK_IPV4_HDR_LEN + IPK_UDP_HDR_LEN, ESP_MAX_SIZE);
			return -EINVAL;
		}
		sizes[(*n)++] = (uint32_t)v;
	}
	return *n ? 0 : -EINVAL;
}

static double gbps(double mpps, uint32_t size)
{
	return mpps * size * 8.0 / 1e3;
}

static void print_row(const struct ipk_alg *alg, uint32_t size, const struct esp_row *r)
{
	printf("%-17s %5u %9.3f %8.2f %9.3f %8.2f %9.3f %6.2f\n", alg->name, size, r->encap_mpps,
	       gbps(r->encap_mpps, size), r->decap_mpps, gbps(r->decap_mpps, size), r->raw_mpps,
	       r->ratio);
	fflush(stdout);
}

static void json_row(struct bench_json *j, bool first, const struct ipk_alg *alg, uint32_t size,
		     const struct esp_row *r)
{
	bench_json_add(j,
		       "%s{\"alg\":\"%s\",\"size\":%u,\"encap_mpps\":%.4f,\"encap_gbps\":%.3f,"
		       "\"decap_mpps\":%.4f,\"decap_gbps\":%.3f,\"raw_mpps\":%.4f,"
		       "\"ratio_encap_raw\":%.3f,\"mean_encap_mpps\":%.4f,\"mean_decap_mpps\":%.4f,"
		       "\"mean_raw_mpps\":%.4f}",
		       first ? "" : ",", alg->name, size, r->encap_mpps, gbps(r->encap_mpps, size),
		       r->decap_mpps, gbps(r->decap_mpps, size), r->raw_mpps, r->ratio,
		       bench_mpps_mean(&r->enc), bench_mpps_mean(&r->dec),
		       bench_mpps_mean(&r->raw));
}

static void note_targets(struct bench_targets *t, const struct ipk_alg *alg, uint32_t size,
			 const struct esp_row *r)
{
	if (alg->id != IPK_ALG_AES128GCM16)
		return;
	if (size == 1400) {
		t->gcm_1400_encap_over_raw = r->ratio;
	} else if (size == 64) {
		t->gcm_64_encap_mpps = r->encap_mpps;
	}
}

int bench_esp(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t)
{
	const struct ipk_alg *algs[MAX_CELLS];
	uint32_t sizes[MAX_CELLS];
	unsigned n_algs, n_sizes;
	int failed = 0;
	bool first = true;

	if (parse_algs(o->algs, algs, &n_algs) || parse_sizes(o->sizes, sizes, &n_sizes))
		return 1;
	printf("\n== ESP: one tunnel-mode IPv4 SA, inner IPv4/UDP packet, one core ==\n"
	       "encap = memcpy inner + ipk_esp_encap; decap = memcpy sealed + ipk_esp_decap\n"
	       "(replay window 1024, each sequence number once, in order); raw = memcpy +\n"
	       "libcrypto EVP seal of the same padded payload; Gbit/s counts inner bytes;\n"
	       "rates from the median batch (json has the means too); e/raw is the median\n"
	       "ratio of neighbouring encap and raw batches\n\n");
	printf("%-17s %5s %9s %8s %9s %8s %9s %6s\n", "alg", "size", "enc Mpps", "enc Gb/s",
	       "dec Mpps", "dec Gb/s", "raw Mpps", "e/raw");
	bench_json_add(j, ",\"esp\":{\"replay_window\":1024,\"seconds\":%.3f,\"rows\":[",
		       o->seconds);
	for (unsigned a = 0; a < n_algs; a++) {
		for (unsigned s = 0; s < n_sizes; s++) {
			struct esp_row row = {.encap_mpps = 0};
			int rc = run_cell(algs[a], sizes[s], o->seconds, &row);

			if (rc) {
				printf("%-17s %5u  failed: %s (%d)\n", algs[a]->name, sizes[s],
				       rc > 0 ? ipk_drop_name((enum ipk_drop_reason)rc)
					      : strerror(-rc),
				       rc);
				failed = 1;
				continue;
			}
			print_row(algs[a], sizes[s], &row);
			json_row(j, first, algs[a], sizes[s], &row);
			note_targets(t, algs[a], sizes[s], &row);
			first = false;
		}
	}
	bench_json_add(j, "]}");
	return failed;
}
