// SPDX-License-Identifier: BSD-2-Clause
/* The timing loop, the JSON line and small helpers of ipseck-bench. */
#include "tools/bench/bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define BATCH_TARGET_NS 200000ull /* 0.2 ms: well inside a scheduler time slice */
#define CALIB_ITEMS 16u
#define MIN_BATCH 4u

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Runs @n items of @loop (prep untimed); writes the time the run step took. */
static int one_batch(const struct bench_loop *loop, uint32_t n, uint64_t *ns)
{
	uint64_t t0;
	int rc;

	*ns = 0;
	if (loop->prep) {
		rc = loop->prep(loop->arg, n);
		if (rc)
			return rc;
	}
	t0 = bench_now_ns();
	rc = loop->run(loop->arg, n);
	*ns = bench_now_ns() - t0;
	return rc;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Batch times of the current measurement, for the median. */
struct batch_log {
	uint64_t *ns;
	size_t n;
	size_t cap;
};

static int log_batch(struct batch_log *log, uint64_t ns)
{
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 1024;
		uint64_t *p = realloc(log->ns, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		log->ns = p;
		log->cap = cap;
	}
	log->ns[log->n++] = ns;
	return 0;
}

static double min_on_cpu = 1.0;

double bench_min_on_cpu(void)
{
	return min_on_cpu;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median over the rounds both loops ran of (items/s of @a) / (items/s of @b). Round k of
 * one loop ran right next to round k of the other, under the same load, so the ratio of
 * the pair holds even when the load drifts during the measurement. NaN if no round.
 */
static double paired_ratio(const struct batch_log *a, uint32_t batch_a, const struct batch_log *b,
			   uint32_t batch_b)
{
	size_t n = a->n < b->n ? a->n : b->n, used = 0;
	double *r = malloc((n ? n : 1) * sizeof(*r)), median;

	if (!r)
		return NAN;
	for (size_t k = 0; k < n; k++)
		if (a->ns[k] && b->ns[k])
			r[used++] = ((double)batch_a / (double)a->ns[k]) /
				    ((double)batch_b / (double)b->ns[k]);
	qsort(r, used, sizeof(*r), cmp_double);
	median = used ? r[used / 2] : NAN;
	free(r);
	return median;
}

static void finish(struct bench_result *res, struct batch_log *log, uint64_t wall0, uint64_t cpu0)
{
	uint64_t wall = bench_now_ns() - wall0;

	qsort(log->ns, log->n, sizeof(*log->ns), cmp_u64);
	res->median_batch_ns = log->n ? log->ns[log->n / 2] : 0;
	res->on_cpu = wall ? (double)(thread_cpu_ns() - cpu0) / (double)wall : 1.0;
	if (res->on_cpu < min_on_cpu)
		min_on_cpu = res->on_cpu;
	free(log->ns);
}

/*
 * Batch size: long enough that the two clock reads vanish in it, short enough (about
 * BATCH_TARGET_NS) that most batches run between two preemptions by other processes, so
 * that the median batch is a clean one. Two small probe runs (the first one cold) give
 * the cost of one item.
 */
static int calibrate(const struct bench_loop *loop, uint32_t *batch)
{
	uint32_t probe = loop->batch < CALIB_ITEMS ? loop->batch : CALIB_ITEMS;
	uint64_t ns, best = UINT64_MAX, want;
	int rc = 0;

	for (int i = 0; i < 2 && !rc; i++) {
		rc = one_batch(loop, probe, &ns);
		if (ns < best)
			best = ns;
	}
	want = best ? BATCH_TARGET_NS * probe / best : loop->batch;
	*batch = want < MIN_BATCH ? MIN_BATCH : want > loop->batch ? loop->batch : (uint32_t)want;
	return rc;
}

/* Calibrates each loop's batch, then runs them in turn until each has run @warm_ns. */
static int warm_up(const struct bench_loop *loops, unsigned n, uint64_t warm_ns, uint32_t *batch)
{
	uint64_t done[BENCH_MAX_SET] = {0}, ns;
	bool busy;
	int rc = 0;

	for (unsigned i = 0; i < n && !rc; i++)
		rc = calibrate(&loops[i], &batch[i]);
	do {
		busy = false;
		for (unsigned i = 0; i < n && !rc; i++) {
			if (done[i] >= warm_ns)
				continue;
			rc = one_batch(&loops[i], batch[i], &ns);
			done[i] += ns;
			busy = true;
		}
	} while (busy && !rc);
	return rc;
}

static bool reached(const struct bench_loop *loop, const struct bench_result *res,
		    uint64_t target_ns)
{
	return res->ns >= target_ns && res->count >= loop->min_count;
}

/*
 * The clock is read once per batch, not per item: a batch is hundreds of packets or
 * thousands of lookups, so the two clock reads (tens of ns) vanish in it, and the items
 * run back to back as they would in a crypto unit's loop. The loops of a set take turns
 * batch by batch, so that a neighbour's load on the machine falls on all of them alike.
 */
int bench_measure_set(const struct bench_loop *loops, unsigned n, double seconds,
		      struct bench_result *res)
{
	uint64_t target_ns = (uint64_t)(seconds * 1e9), warm_ns = target_ns / 5, ns;
	uint64_t wall0 = bench_now_ns(), cpu0 = thread_cpu_ns();
	struct batch_log logs[BENCH_MAX_SET];
	uint32_t batch[BENCH_MAX_SET];
	bool busy;
	int rc;

	if (n == 0 || n > BENCH_MAX_SET)
		return -EINVAL;
	memset(logs, 0, sizeof(logs));
	memset(res, 0, n * sizeof(*res));
	rc = warm_up(loops, n, warm_ns > 20000000ull ? warm_ns : 20000000ull, batch);
	do {
		busy = false;
		for (unsigned i = 0; i < n && !rc; i++) {
			if (reached(&loops[i], &res[i], target_ns))
				continue;
			rc = one_batch(&loops[i], batch[i], &ns);
			if (!rc)
				rc = log_batch(&logs[i], ns);
			res[i].ns += ns;
			res[i].count += batch[i];
			busy = true;
		}
	} while (busy && !rc);
	/* Before finish(), which sorts the logs: rounds must stay in order here. */
	for (unsigned i = 0; i < n; i++)
		res[i].ratio_to_last = paired_ratio(&logs[i], batch[i], &logs[n - 1], batch[n - 1]);
	for (unsigned i = 0; i < n; i++) {
		res[i].batch = batch[i];
		finish(&res[i], &logs[i], wall0, cpu0);
	}
	return rc;
}

int bench_measure(const struct bench_loop *loop, double seconds, struct bench_result *res)
{
	return bench_measure_set(loop, 1, seconds, res);
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
