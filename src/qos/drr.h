/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * drr: deficit round robin (Shreedhar & Varghese, "Efficient fair queueing using deficit
 * round robin", SIGCOMM 1995). Byte-fair: over time each backlogged child sends bytes in
 * proportion to its quantum, whatever its packet sizes, at O(1) work per packet when the
 * quantum is at least the largest packet.
 *
 * Each visit in the round adds the child's quantum (quantum x weight) to its deficit; the
 * child sends while its head packet fits in the deficit, then the turn moves on. A child
 * found empty loses its deficit (no credit is saved up while idle).
 *
 * Arguments:
 *   quantum <bytes>    1..65535, default 1500 (one MTU packet per visit and weight)
 *   weights <w,w,...>  1..1000 each, as many as there are children (checked when
 *                      attached); default 1 each
 * Counters: "children", "current", "quantum".
 * Threads: single thread (the hook's). select() visits empty children on its way, so its
 * cost grows with idle children between backlogged ones.
 */
#ifndef IPK_QOS_DRR_H
#define IPK_QOS_DRR_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_drr_ops;

#endif
