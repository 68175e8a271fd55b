// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck-bench sad`: inbound SAD lookup (ipk_sad_lookup_in) with 10 and 100,000 SAs.
 *
 * Every SA is a real one: aes128gcm16, tunnel mode, random SPI and key, one crypto unit
 * (so one EVP context each) and the default replay window; all share the gateway's outer
 * destination, as they would on one gateway. Adding them is timed and the resident
 * memory they take is reported. Should 100,000 AES-GCM contexts take longer than
 * SAD_CREATE_LIMIT_S to create, the table is rebuilt with null-sha256 SAs (say so in the
 * output) since the lookup does not depend on the algorithm.
 *
 * Lookups use 65,536 precomputed SPIs drawn at random from the installed SAs. With
 * 100,000 SAs two more rows draw them from only 1,024 and from only 10 of the SAs: the
 * same table with a cache-resident working set, which separates the cost of the hash
 * table (does it grow with the number of SAs?) from that of cache misses on a table far
 * larger than the caches (the target compares the random rows).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/addr.h"
#include "sa/sad.h"
#include "tools/bench/bench.h"

#define N_KEYS 65536u /* power of two: the lookup loop wraps with a mask */
#define SAD_BATCH 4096
#define SAD_CREATE_LIMIT_S 60.0
#define HOT_SAS 1024

struct sad_bench {
	struct ipk_sad *sad;
	struct ipk_addr dst;
	uint32_t *spis; /* SPI of each SA, in order of addition */
	uint32_t n_sas;
	uint32_t keys[N_KEYS];
	uint32_t pos;
	uintptr_t sink;
};

struct sad_row {
	const char *label;
	uint32_t sas;
	const char *alg;
	double add_s;
	double rss_mib;
	double ns;	/* median batch */
	double ns_mean; /* total time / count */
};

static int add_one(struct sad_bench *b, const struct ipk_alg *alg, uint32_t i)
{
	static const uint8_t peer[4] = {198, 51, 100, 1};
	struct ipk_sa_params p;
	struct ipk_err err;
	int rc;

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "in-%u", i);
	p.dir = IPK_DIR_IN;
	p.mode = IPK_MODE_TUNNEL;
	ipk_addr_from_v4(&p.src, peer);
	p.dst = b->dst;
	p.alg = alg;
	p.enc_key_len = (uint8_t)(alg->enc_key_len + alg->salt_len);
	p.auth_key_len = alg->auth_key_len;
	if (RAND_bytes(p.enc_key, sizeof(p.enc_key)) != 1 ||
	    RAND_bytes(p.auth_key, sizeof(p.auth_key)) != 1)
		return -EIO;
	do {
		/* RFC 4303 §2.1: 0..255 are reserved. A duplicate draw (EEXIST) retries. */
		do
			p.spi = (uint32_t)bench_rand();
		while (p.spi < 256);
		rc = ipk_sad_add(b->sad, &p, &err);
	} while (rc == -EEXIST);
	if (rc)
		fprintf(stderr, "sad: %s\n", err.msg);
	b->spis[i] = p.spi;
	return rc;
}

/* Adds @n SAs of @alg. Returns 0, -ETIMEDOUT past SAD_CREATE_LIMIT_S, or an error. */
static int fill(struct sad_bench *b, const struct ipk_alg *alg, uint32_t n)
{
	uint64_t t0 = bench_now_ns();
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		rc = add_one(b, alg, i);
		if (rc)
			return rc;
		b->n_sas = i + 1;
		if (i % 1024 == 0 && (double)(bench_now_ns() - t0) / 1e9 > SAD_CREATE_LIMIT_S)
			return -ETIMEDOUT;
	}
	return 0;
}

static void bench_free(struct sad_bench *b)
{
	if (!b)
		return;
	ipk_sad_destroy(b->sad);
	free(b->spis);
	free(b);
}

static int bench_new(struct sad_bench **out, uint32_t n)
{
	static const uint8_t gw[4] = {203, 0, 113, 1};
	struct sad_bench *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	ipk_addr_from_v4(&b->dst, gw);
	b->spis = calloc(n, sizeof(*b->spis));
	if (!b->spis || ipk_sad_create(&b->sad, 1)) {
		bench_free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

/* Builds the table, falling back to null-sha256 when AES-GCM contexts are too slow. */
static int build(struct sad_bench **out, uint32_t n, struct sad_row *row)
{
	const struct ipk_alg *alg = ipk_alg_get(IPK_ALG_AES128GCM16);
	uint64_t rss0 = bench_rss_kib(), t0 = bench_now_ns();
	int rc = bench_new(out, n);

	if (!rc)
		rc = fill(*out, alg, n);
	if (rc == -ETIMEDOUT) {
		printf("  %u aes128gcm16 SAs took over %.0f s to create; using null-sha256\n", n,
		       SAD_CREATE_LIMIT_S);
		bench_free(*out);
		*out = NULL;
		alg = ipk_alg_get(IPK_ALG_NULL_SHA256);
		rss0 = bench_rss_kib();
		t0 = bench_now_ns();
		rc = bench_new(out, n);
		if (!rc)
			rc = fill(*out, alg, n);
	}
	row->sas = n;
	row->alg = alg->name;
	row->add_s = (double)(bench_now_ns() - t0) / 1e9;
	row->rss_mib = (double)(bench_rss_kib() - rss0) / 1024.0;
	return rc;
}

static int lookup_run(void *arg, uint32_t n)
{
	struct sad_bench *b = arg;
	uintptr_t sink = 0;

	for (uint32_t i = 0; i < n; i++)
		sink ^= (uintptr_t)ipk_sad_lookup_in(b->sad, b->keys[(b->pos + i) & (N_KEYS - 1)],
						     &b->dst);
	b->pos += n;
	b->sink ^= sink;
	return 0;
}

/* Draws the lookup keys from the first @span SAs and times the lookups. */
static int time_lookups(struct sad_bench *b, uint32_t span, double seconds, struct sad_row *row)
{
	struct bench_loop loop = {NULL, lookup_run, b, SAD_BATCH, N_KEYS};
	struct bench_result res;
	int rc;

	for (uint32_t i = 0; i < N_KEYS; i++) {
		b->keys[i] = b->spis[bench_rand() % span];
		if (!ipk_sad_lookup_in(b->sad, b->keys[i], &b->dst))
			return -ENOENT;
	}
	rc = bench_measure(&loop, seconds, &res);
	row->ns = bench_ns_per_op(&res);
	row->ns_mean = res.count ? (double)res.ns / (double)res.count : 0.0;
	return rc;
}

static void print_row(const struct sad_row *r, double base_ns)
{
	printf("%-22s %7u %-12s %8.2f %9.1f %10.1f %9.2f %7.2f\n", r->label, r->sas, r->alg,
	       r->add_s, r->rss_mib, r->ns, r->ns > 0 ? 1e3 / r->ns : 0.0,
	       base_ns > 0 ? r->ns / base_ns : 0.0);
	fflush(stdout);
}

static void json_row(struct bench_json *j, bool first, const struct sad_row *r, double base_ns)
{
	bench_json_add(j, "%s{\"case\":", first ? "" : ",");
	bench_json_str(j, r->label);
	bench_json_add(j,
		       ",\"sas\":%u,\"alg\":\"%s\",\"add_s\":%.3f,\"rss_mib\":%.1f,"
		       "\"bytes_per_sa\":%.0f,\"ns_per_lookup\":%.2f,\"ratio_vs_10\":%.3f,"
		       "\"mean_ns_per_lookup\":%.2f}",
		       r->sas, r->alg, r->add_s, r->rss_mib, r->rss_mib * 1048576.0 / r->sas, r->ns,
		       base_ns > 0 ? r->ns / base_ns : 0.0, r->ns_mean);
}

/* One table size: build, then time random lookups over all SAs and, for a large table,
 * over hot subsets too (the first HOT_SAS SAs, then the first 10). Fills rows[0..];
 * writes the row count to @n_rows. */
static int run_size(uint32_t n, double seconds, struct sad_row *rows, int *n_rows)
{
	static const struct {
		const char *label;
		uint32_t span;
	} hot[] = {{"hot 1024 of them", HOT_SAS}, {"hot 10 of them", 10}};
	struct sad_bench *b = NULL;
	int rc = build(&b, n, &rows[0]);

	*n_rows = 0;
	rows[0].label = "random over all";
	if (!rc)
		rc = time_lookups(b, n, seconds, &rows[0]);
	if (!rc)
		*n_rows = 1;
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(hot) && !rc && n > HOT_SAS; i++) {
		rows[*n_rows] = rows[0];
		rows[*n_rows].label = hot[i].label;
		rc = time_lookups(b, hot[i].span, seconds, &rows[*n_rows]);
		if (!rc)
			++*n_rows;
	}
	bench_free(b);
	return rc;
}

int bench_sad(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t)
{
	static const uint32_t sizes[] = {10, 100000};
	struct sad_row rows[6];
	int n_rows = 0, got, rc = 0;

	printf("\n== SAD: inbound ipk_sad_lookup_in, random existing SPIs, one dst ==\n\n");
	printf("%-22s %7s %-12s %8s %9s %10s %9s %7s\n", "case", "SAs", "alg", "add s", "RSS MiB",
	       "ns/lookup", "Mlookup/s", "vs 10");
	bench_json_add(j, ",\"sad\":[");
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(sizes) && !rc; i++) {
		rc = run_size(sizes[i], o->seconds, &rows[n_rows], &got);
		for (int k = n_rows; k < n_rows + got; k++) {
			print_row(&rows[k], rows[0].ns);
			json_row(j, k == 0, &rows[k], rows[0].ns);
		}
		n_rows += got;
		if (rc)
			printf("%-22s %7u  failed: %s\n", "", sizes[i], strerror(-rc));
	}
	bench_json_add(j, "]");
	if (rc)
		return 1;
	t->sad_10_ns = rows[0].ns;
	t->sad_100k_ns = rows[1].ns;
	return 0;
}
