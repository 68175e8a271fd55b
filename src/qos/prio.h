/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * prio: strict priority. Always serves the ready child with the lowest index, so a lower
 * priority child sends only while every higher one is empty (or held back by its own
 * shaper). Starves lower children by design: bound the higher ones with a meter or a
 * shaper.
 *
 * Arguments: none.
 * Counters: "children".
 * Threads: single thread (the hook's). select() is O(index of the served child).
 */
#ifndef IPK_QOS_PRIO_H
#define IPK_QOS_PRIO_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_prio_ops;

#endif
