/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rate cap that emulates a slow processor: a token bucket one packet deep, in packets/s
 * and/or bits/s. Each packet costs 1/rate_pps s or len*8/rate_bps s (the larger when both
 * are set); packets are served back to back, never faster than that, with no burst.
 *
 * Threads: one owner thread (a crypto unit, or the coupled worker).
 */
#ifndef IPK_ENGINE_PACE_H
#define IPK_ENGINE_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct ipk_pace {
	uint64_t rate_pps; /* 0: no cap */
	uint64_t rate_bps; /* 0: no cap */
	uint64_t next_ns;  /* when the processor is free again */
};

void ipk_pace_init(struct ipk_pace *p, uint64_t rate_pps, uint64_t rate_bps);
/* True when a cap is set. */
static inline bool ipk_pace_on(const struct ipk_pace *p)
{
	return p->rate_pps || p->rate_bps;
}
/* Books a packet of @len bytes arriving at @now_ns (CLOCK_MONOTONIC): it starts at *start
 * (>= now) and occupies the processor until *end. The caller sleeps until one of them. */
void ipk_pace_book(struct ipk_pace *p, uint32_t len, uint64_t now_ns, uint64_t *start,
		   uint64_t *end);

#endif
