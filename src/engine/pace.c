// SPDX-License-Identifier: BSD-2-Clause
#include "engine/pace.h"

void ipk_pace_init(struct ipk_pace *p, uint64_t rate_pps, uint64_t rate_bps)
{
	p->rate_pps = rate_pps;
	p->rate_bps = rate_bps;
	p->next_ns = 0;
}

static uint64_t cost_ns(const struct ipk_pace *p, uint32_t len)
{
	uint64_t pps = 0, bps = 0;

	if (p->rate_pps)
		pps = 1000000000ull / p->rate_pps;
	if (p->rate_bps)
		bps = (uint64_t)len * 8u * 1000000000ull / p->rate_bps;
	return pps > bps ? pps : bps;
}

void ipk_pace_book(struct ipk_pace *p, uint32_t len, uint64_t now_ns, uint64_t *start,
		   uint64_t *end)
{
	*start = p->next_ns > now_ns ? p->next_ns : now_ns;
	*end = *start + cost_ns(p, len);
	p->next_ns = *end;
}
