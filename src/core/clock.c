// SPDX-License-Identifier: BSD-2-Clause
#include "core/clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static atomic_bool clock_fake;
static _Atomic uint64_t clock_fake_ns;

uint64_t ipk_clock_now_ns(void)
{
	struct timespec ts;

	if (atomic_load_explicit(&clock_fake, memory_order_relaxed))
		return atomic_load_explicit(&clock_fake_ns, memory_order_relaxed);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IPK_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void ipk_clock_set_fake(uint64_t now_ns)
{
	atomic_store(&clock_fake_ns, now_ns);
	atomic_store(&clock_fake, true);
}

void ipk_clock_advance(uint64_t delta_ns)
{
	atomic_fetch_add(&clock_fake_ns, delta_ns);
}

void ipk_clock_use_real(void)
{
	atomic_store(&clock_fake, false);
}
