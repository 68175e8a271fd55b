/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shaper: token bucket rate limit on dequeue (non-work-conserving). A tree node with a
 * shaper (qos/tree.h) hands out its next packet only when conform() says so, otherwise it
 * holds it back and reports when it may send (next_ns).
 *
 * A packet of B bytes conforms when the bucket holds B bytes of tokens; consume() takes
 * them. Over any interval T the output is at most burst + rate x T / 8 bytes. A packet
 * larger than the whole bucket conforms once the bucket is full (and leaves the bucket in
 * debt), so a small burst cannot wedge a queue.
 *
 * Arguments:
 *   rate <bps>       required, 1..400G (k, M, G suffixes)
 *   burst <bytes>    bucket size, 1..1G; default 10 ms at the rate, at least 1500
 * The bucket starts full.
 * Counters: "rate", "burst", "sent-bytes", "held" (conform() said no).
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_SHAPER_H
#define IPK_QOS_SHAPER_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_shaper_ops;

#endif
