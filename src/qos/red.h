/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * red, wred: Random Early Detection (Floyd & Jacobson 1993; RFC 2309 §3, RFC 7567) and
 * its weighted form with one profile per meter colour.
 *
 * At each arrival the average queue length (in packets) is updated:
 *   queue non-empty:  avg = (1 - w_q) avg + w_q q
 *   queue idle:       avg = (1 - w_q)^m avg, m = idle time / pkt-time (the packets a
 *                     link could have sent meanwhile: the idle-time correction)
 * then, with the profile (min-th, max-th, max-p) of the packet:
 *   avg < min-th             enqueue
 *   min-th <= avg < max-th   p_b = max-p (avg - min-th) / (max-th - min-th); drop with
 *                            p_a = p_b / (2 - count p_b), count = packets since the last
 *                            drop. This is Floyd's "wait" form of the count correction:
 *                            the gap between drops is uniform on 1..2/p_b, so drops stay
 *                            evenly spread and their long-run fraction is exactly p_b
 *                            (the paper's p_b / (1 - count p_b) drops ~2 p_b).
 *   max-th <= avg            drop ("forced"); with `gentle on`, p_b instead rises
 *                            linearly from max-p at max-th to 1 at 2 max-th
 * and a full queue (limit) refuses the packet (queue-full). Early and forced drops return
 * DROP with reason red; the arriving packet stays with the caller.
 *
 * wred takes the profile from pkt->meta.color (0 green, 1 yellow, 2 red; set by a meter
 * earlier in the chain) over one shared average (RFC 2597 §2: drop precedence).
 *
 * Arguments (both):
 *   limit <pkts>       1..1000000, default 1000
 *   min-th <pkts>      0..limit-1, default 5
 *   max-th <pkts>      min-th+1..limit, default 15
 *   max-p <p>          0..1, default 0.1
 *   weight <w_q>       0.000001..1, default 0.002; 1 makes avg the instantaneous length
 *   pkt-time <time>    idle-time unit, 1ns..1s, default 1ms
 *   gentle on|off      default off
 *   seed <n>           random source seed (tests); default from the clock
 * wred also: green|yellow|red <min-th>,<max-th>,<max-p>, each defaulting to the three
 *   arguments above, e.g. `wred limit 200 green 60,120,0.02 yellow 30,90,0.1 red 10,40,0.3`
 * Sets pkt->meta.enq_ns = now on enqueue.
 * Counters: "len", "bytes", "avg-milli" (avg x 1000), "early-drops", "forced-drops",
 * "limit-drops".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_RED_H
#define IPK_QOS_RED_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_red_ops;
extern const struct ipk_qos_ops ipk_wred_ops;

/* The current average queue length (tests, stats). */
double ipk_red_avg(const struct ipk_qos *q);

#endif
