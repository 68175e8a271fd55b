/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Token bucket arithmetic shared by the meters (tb, srtcm, trtcm) and the shaper.
 *
 * Exact integer accounting: a byte is 8e9 units (bits x ns per s), so a rate of R bit/s
 * adds exactly R units per nanosecond and no fraction of a token is ever lost to rounding
 * (a shaper holds its rate to the nanosecond over any run length). Bounds keep every sum
 * in 63 bits: rate <= IPK_BUCKET_RATE_MAX, size <= IPK_BUCKET_SIZE_MAX.
 *
 * Not thread-safe: owned by the component that embeds it.
 */
#ifndef IPK_QOS_BUCKET_H
#define IPK_QOS_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

#define IPK_BUCKET_UNITS_PER_BYTE 8000000000ull
#define IPK_BUCKET_RATE_MAX 400000000000ull /* 400 Gbit/s */
#define IPK_BUCKET_SIZE_MAX 1000000000ull   /* 1 GB */

struct ipk_bucket {
	int64_t tokens;    /* units; negative after ipk_bucket_charge() ran into debt */
	int64_t size;      /* units */
	uint64_t rate_bps;
	uint64_t last_ns;  /* time of the last refill */
};

static inline int64_t ipk_bucket_units(uint64_t bytes)
{
	return (int64_t)(bytes * IPK_BUCKET_UNITS_PER_BYTE);
}

/* A full bucket of @size_bytes filling at @rate_bps, as of @now. */
void ipk_bucket_init(struct ipk_bucket *b, uint64_t rate_bps, uint64_t size_bytes,
		     uint64_t now);
/* Units earned since the last call (at most @cap), and the clock moved to @now. Time
 * running backwards earns nothing. */
int64_t ipk_bucket_credit(struct ipk_bucket *b, uint64_t now, int64_t cap);
/* Adds up to @units without passing the size; returns what did not fit. */
int64_t ipk_bucket_fill(struct ipk_bucket *b, int64_t units);
/* Credit then fill: the usual refill. */
void ipk_bucket_refill(struct ipk_bucket *b, uint64_t now);
/* Takes @len bytes if the bucket holds them; false (and nothing taken) otherwise. */
bool ipk_bucket_take(struct ipk_bucket *b, uint32_t len);
/* Takes @len bytes unconditionally; the bucket may go into debt. */
void ipk_bucket_charge(struct ipk_bucket *b, uint32_t len);
/* ns after the last refill until the bucket holds @len bytes (0: it does now). */
uint64_t ipk_bucket_wait_ns(const struct ipk_bucket *b, uint32_t len);

#endif
