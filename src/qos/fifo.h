/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fifo: first in, first out queue bounded in packets and in bytes.
 *
 * Arguments:
 *   limit <pkts>          1..1000000, default 1000
 *   limit-bytes <bytes>   0..1G, default 0 (no byte limit)
 *   drop tail|head        which packet goes when the queue is full; default tail
 *     tail  the arriving packet is refused: enqueue returns DROP (queue-full) and the
 *           packet stays with the caller
 *     head  the oldest packets are evicted until the arrival fits; enqueue returns PASS
 *           and appends the evicted ones to its @evicted list (reason queue-full), which
 *           the caller drops at once. Keeps the freshest data (RFC 7567 §2.1 notes that
 *           dropping from the front signals congestion a round trip earlier). A packet
 *           larger than limit-bytes on its own is refused in both modes.
 * Sets pkt->meta.enq_ns = now on enqueue.
 * Counters: "len", "bytes", "tail-drops", "head-drops".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_FIFO_H
#define IPK_QOS_FIFO_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_fifo_ops;

#endif
