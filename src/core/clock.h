/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time source. Everything that depends on time (SA lifetimes, reassembly timeouts, later
 * meters, shapers, CoDel) reads it through ipk_clock_now_ns(), so tests can run on a
 * simulated clock: ipk_clock_set_fake() freezes time at a given value and
 * ipk_clock_advance() moves it. Thread-safe (atomic).
 */
#ifndef IPK_CORE_CLOCK_H
#define IPK_CORE_CLOCK_H

#include <stdint.h>

#define IPK_NSEC_PER_SEC 1000000000ull

/* Monotonic nanoseconds (CLOCK_MONOTONIC), or the fake time when one is set. */
uint64_t ipk_clock_now_ns(void);

/* Switch to simulated time starting at @now_ns (tests only). */
void ipk_clock_set_fake(uint64_t now_ns);
void ipk_clock_advance(uint64_t delta_ns);
/* Back to the real monotonic clock. */
void ipk_clock_use_real(void);

#endif
