/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tb: single-rate token bucket policer. A packet of B bytes that finds B bytes of tokens
 * conforms (green, passes, takes the tokens); otherwise it exceeds (red) and the exceed
 * action applies; an exceeding packet takes no tokens.
 *
 * Arguments:
 *   rate <bps>       required, 1..400G (k, M, G suffixes: 10M = 10,000,000 bit/s)
 *   burst <bytes>    bucket size, 1..1G; default 10 ms at the rate, at least 1500
 *   exceed <action>  pass | drop | remark:<dscp> (qos/mark.h); default drop
 * The bucket starts full. Colour written to pkt->meta.color (0 green, 2 red).
 * Counters: "conform", "exceed", "remarked".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_TB_H
#define IPK_QOS_TB_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_tb_ops;

#endif
