/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trtcm: two rate three colour marker (RFC 2698).
 *
 * Bucket P (size PBS) fills at PIR, bucket C (size CBS) at CIR; both start full
 * (RFC 2698 §3.1). A packet of B bytes is (§3.2):
 *   colour-blind  red if Tp < B; else yellow if Tc < B (Tp -= B); else green (Tp -= B,
 *                 Tc -= B);
 *   colour-aware  red if pre-coloured red or Tp < B; else yellow if pre-coloured yellow
 *                 or Tc < B (Tp -= B); else green (both -= B). Pre-colour:
 *                 pkt->meta.color.
 * Then the action of its colour applies.
 *
 * Arguments:
 *   pir <bps>         required, 1..400G, not below cir (k, M, G suffixes)
 *   pbs <bytes>       1..1G, default 1500
 *   cir <bps>         required, 1..400G
 *   cbs <bytes>       1..1G, default 1500
 *   mode blind|aware  default blind
 *   green|yellow|red <action>  pass | drop | remark:<dscp>; defaults pass, pass, drop
 * Colour written to pkt->meta.color (0 green, 1 yellow, 2 red).
 * Counters: "green", "yellow", "red", "remarked".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_TRTCM_H
#define IPK_QOS_TRTCM_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_trtcm_ops;

#endif
