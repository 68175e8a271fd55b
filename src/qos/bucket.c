// SPDX-License-Identifier: BSD-2-Clause
#include "qos/bucket.h"

void ipk_bucket_init(struct ipk_bucket *b, uint64_t rate_bps, uint64_t size_bytes,
		     uint64_t now)
{
	b->rate_bps = rate_bps;
	b->size = ipk_bucket_units(size_bytes);
	b->tokens = b->size;
	b->last_ns = now;
}

int64_t ipk_bucket_credit(struct ipk_bucket *b, uint64_t now, int64_t cap)
{
	uint64_t elapsed;

	if (now <= b->last_ns)
		return 0;
	elapsed = now - b->last_ns;
	b->last_ns = now;
	if (cap <= 0 || b->rate_bps == 0)
		return 0;
	/* elapsed * rate would overflow after a long idle time; past cap / rate it does not
	 * matter how long it was. */
	if (elapsed > (uint64_t)cap / b->rate_bps)
		return cap;
	return (int64_t)(elapsed * b->rate_bps);
}

int64_t ipk_bucket_fill(struct ipk_bucket *b, int64_t units)
{
	int64_t room = b->size - b->tokens;

	if (units <= room) {
		b->tokens += units;
		return 0;
	}
	b->tokens = b->size;
	return units - room;
}

void ipk_bucket_refill(struct ipk_bucket *b, uint64_t now)
{
	ipk_bucket_fill(b, ipk_bucket_credit(b, now, b->size - b->tokens));
}

bool ipk_bucket_take(struct ipk_bucket *b, uint32_t len)
{
	int64_t units = ipk_bucket_units(len);

	if (b->tokens < units)
		return false;
	b->tokens -= units;
	return true;
}

void ipk_bucket_charge(struct ipk_bucket *b, uint32_t len)
{
	b->tokens -= ipk_bucket_units(len);
}

uint64_t ipk_bucket_wait_ns(const struct ipk_bucket *b, uint32_t len)
{
	int64_t missing = ipk_bucket_units(len) - b->tokens;

	if (missing <= 0)
		return 0;
	if (b->rate_bps == 0)
		return UINT64_MAX;
	return ((uint64_t)missing + b->rate_bps - 1) / b->rate_bps;
}
