/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rr: (weighted) round robin over child queues, counting packets. Each backlogged child in
 * turn sends up to its weight in packets; an empty child is skipped without losing its
 * place. With unequal packet sizes the byte shares follow the sizes: use drr for bytes.
 *
 * Arguments:
 *   weights <w,w,...>  packets per turn for each child, 1..1000 each, as many as there
 *                      are children (checked when attached); default 1 each
 * Counters: "children", "current".
 * Threads: single thread (the hook's). select() is O(children) in the worst case.
 */
#ifndef IPK_QOS_RR_H
#define IPK_QOS_RR_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_rr_ops;

#endif
