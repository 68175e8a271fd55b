/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codel: Controlled Delay active queue management (RFC 8289), after the RFC's reference
 * pseudo-code (§5) and Linux's variant of the count carry-over.
 *
 * Each packet's sojourn time is measured at dequeue from pkt->meta.enq_ns, which the queue
 * sets from `now` at enqueue. When the sojourn time has stayed at or above `target` for
 * `interval` (and more than one maximal packet is queued), the queue enters the dropping
 * state and drops the head, then drops again at the times given by the control law
 *   drop_next = drop_next + interval / sqrt(count)       (RFC 8289 §5.4)
 * until a dequeued packet's sojourn falls below target. Re-entering soon after leaving
 * resumes at the previous drop rate (§5.6: count = count - lastcount when the last drop
 * was within 16 intervals). Dropped packets go to dequeue's @dropped list with reason
 * codel; dequeue returns the first packet that survives. Drops, never ECN marks.
 * sqrt is integer arithmetic (16 fraction bits), exact to ~1e-5.
 *
 * Arguments:
 *   target <time>     1us..1s, default 5ms (§4.4)
 *   interval <time>   1ms..10s, default 100ms (§4.3); target must be below interval
 *   limit <pkts>      1..1000000, default 1000: beyond it arrivals are refused
 *                     (queue-full), the only drop on enqueue
 * Counters: "len", "bytes", "codel-drops", "limit-drops", "dropping" (0/1), "count".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_CODEL_H
#define IPK_QOS_CODEL_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_codel_ops;

/* interval / sqrt(count) in ns, as the control law uses it (tests). */
uint64_t ipk_codel_spacing_ns(uint64_t interval_ns, uint32_t count);

#endif
