// SPDX-License-Identifier: BSD-2-Clause
/* The timing loop, the JSON line and small helpers of ipseck-bench. */
#include "tools/bench/bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int one_batch(const struct bench_loop *loop, uint64_t *ns)
{
	uint64_t t0;
	int rc;

	if (loop->prep) {
		rc = loop->prep(loop->arg, loop->batch);
		if (rc)
			return rc;
	}
	t0 = bench_now_ns();
	rc = loop->run(loop->arg, loop->batch);
	*ns = bench_now_ns() - t0;
	return rc;
}

/*
 * The clock is read once per batch, not per item: a batch is hundreds of packets or
 * thousands of lookups, so the two clock reads (tens of ns) vanish in it, and the items
 * run back to back as they would in a crypto unit's loop.
 */
int bench_measure(const struct bench_loop *loop, double seconds, struct bench_result *res)
{
	uint64_t target_ns = (uint64_t)(seconds * 1e9), warm_ns = target_ns / 5, ns, done = 0;
	int rc;

	if (warm_ns < 20000000ull)
		warm_ns = 20000000ull;
	res->count = 0;
	res->ns = 0;
	while (done < warm_ns) {
		rc = one_batch(loop, &ns);
		if (rc)
			return rc;
		done += ns;
	}
	while (res->ns < target_ns || res->count < loop->min_count) {
		rc = one_batch(loop, &ns);
		if (rc)
			return rc;
		res->ns += ns;
		res->count += loop->batch;
	}
	return 0;
}

static bool reserve(struct bench_json *j, size_t more)
{
	size_t cap = j->cap ? j->cap : 4096;
	char *buf;

	while (cap < j->len + more)
		cap *= 2;
	if (cap == j->cap)
		return true;
	buf = realloc(j->buf, cap);
	if (!buf)
		return false;
	j->buf = buf;
	j->cap = cap;
	return true;
}

void bench_json_add(struct bench_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(j, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	j->len += (size_t)n;
}

void bench_json_str(struct bench_json *j, const char *s)
{
	bench_json_add(j, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			bench_json_add(j, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			bench_json_add(j, "%c", *s);
	}
	bench_json_add(j, "\"");
}

uint64_t bench_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void bench_rand_seed(void)
{
	uint64_t seed = 0;

	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) == 1 && seed)
		rand_state = seed;
}

/* xorshift64* (Vigna 2016): cheap and good enough to pick flows and SPIs. */
uint64_t bench_rand(void)
{
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return rand_state * 2685821657736338717ull;
}
