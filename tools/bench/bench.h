/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipseck-bench: shared pieces of the benchmark program (options, the timing loop, the
 * JSON summary, the targets the run is checked against).
 *
 * Every figure comes from bench_measure(): a warm-up, then batches timed with
 * CLOCK_MONOTONIC until both the requested time and a minimum count are reached. Work
 * that must not be timed (making the next batch of ESP packets to decapsulate) runs in
 * the loop's prep step, outside the timed region.
 *
 * Threads: the program runs on one thread, pinned to CPU 0 when allowed.
 */
#ifndef IPK_TOOLS_BENCH_BENCH_H
#define IPK_TOOLS_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define BENCH_DEFAULT_SECONDS 0.5
#define BENCH_MAX_SET 4

struct bench_opts {
	double seconds;	   /* timed part of each cell */
	const char *algs;  /* comma-separated algorithm names; NULL = every secure one */
	const char *sizes; /* comma-separated inner packet sizes; NULL = 64,512,1400 */
};

/* The JSON line printed at the end; grows as sections append to it. */
struct bench_json {
	char *buf;
	size_t len;
	size_t cap;
};

/* Appends printf-formatted text; on allocation failure the line is cut short. */
void bench_json_add(struct bench_json *j, const char *fmt, ...) IPK_PRINTF(2, 3);
/* Appends "\"@s\"" with quotes and backslashes escaped. */
void bench_json_str(struct bench_json *j, const char *s);

/* Figures the targets are checked against; NaN when the section did not run. */
struct bench_targets {
	double gcm_1400_encap_over_raw;
	double gcm_64_encap_mpps;
	double spd_10_ns;
	double spd_10k_ns;
	double sad_10_ns;
	double sad_100k_ns;
};

/*
 * One measurement: @run processes up to @batch items per call (timed); @prep, when not
 * NULL, readies the next batch first (untimed). Both return 0 or a negative/positive
 * error that stops the measurement. The batch actually used is chosen at warm-up so that
 * one batch takes about 0.2 ms (bench.c), never more than @batch items.
 */
struct bench_loop {
	int (*prep)(void *arg, uint32_t n);
	int (*run)(void *arg, uint32_t n);
	void *arg;
	uint32_t batch;
	uint64_t min_count;
};

/*
 * Rates come from the median batch, not from the total: on a shared machine a batch that
 * the scheduler interrupted is slow for reasons outside the code measured, and the median
 * ignores those; the mean (count over total time) is kept for comparison.
 */
struct bench_result {
	uint64_t count;		  /* items timed */
	uint64_t ns;		  /* total timed ns */
	uint64_t median_batch_ns; /* median time of one batch */
	uint32_t batch;		  /* items per batch, as calibrated */
	double on_cpu;		  /* thread CPU time / wall time over the measurement */
	double ratio_to_last;	  /* in a set: rate / rate of the set's last loop, paired by
				   * round (bench_measure_set); 1 for that loop itself */
};

uint64_t bench_now_ns(void);
/* Warm-up (a fifth of @seconds, at least 20 ms), then timed batches until @seconds of
 * timed work and loop->min_count items. Returns 0 or the error of prep/run. */
int bench_measure(const struct bench_loop *loop, double seconds, struct bench_result *res);
/* As bench_measure() for @n (1..BENCH_MAX_SET) loops that take turns batch by batch, so
 * that their figures can be compared even while the machine's load changes. Each result's
 * ratio_to_last compares its rate with the last loop's, round by round (median over the
 * rounds of the ratio of two neighbouring batches). */
int bench_measure_set(const struct bench_loop *loops, unsigned n, double seconds,
		      struct bench_result *res);
/* Lowest on-CPU share seen by any bench_measure() so far (1.0 = never preempted). */
double bench_min_on_cpu(void);

/* Items per second in millions, from the median batch. */
static inline double bench_mpps(const struct bench_result *r)
{
	return r->median_batch_ns ? (double)r->batch * 1e3 / (double)r->median_batch_ns : 0.0;
}

/* The same from the total: count / time. */
static inline double bench_mpps_mean(const struct bench_result *r)
{
	return r->ns ? (double)r->count * 1e3 / (double)r->ns : 0.0;
}

/* Nanoseconds per item, from the median batch. */
static inline double bench_ns_per_op(const struct bench_result *r)
{
	return r->batch ? (double)r->median_batch_ns / (double)r->batch : 0.0;
}

/* Resident set size of this process in KiB (VmRSS), 0 if unknown. */
uint64_t bench_rss_kib(void);
/* Uniform 64-bit pseudo-random numbers (xorshift64*), seeded from RAND_bytes. */
uint64_t bench_rand(void);
void bench_rand_seed(void);

/* The sections; each prints its table, appends ",\"name\":..." to @j and fills its part
 * of @t. Return 0, or 1 when a measurement failed. */
int bench_esp(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t);
int bench_spd(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t);
int bench_sad(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t);

#endif
