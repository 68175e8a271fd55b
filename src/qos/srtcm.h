/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * srtcm: single rate three colour marker (RFC 2697).
 *
 * Two buckets filled at one rate, CIR: the committed bucket C (size CBS) first, what
 * overflows it goes to the excess bucket E (size EBS) (RFC 2697 §3.1). Both start full.
 * A packet of B bytes is (§3.2):
 *   colour-blind  green if Tc >= B (Tc -= B), else yellow if Te >= B (Te -= B), else red;
 *   colour-aware  as blind for a green packet; a yellow one skips C (yellow if Te >= B,
 *                 else red); a red one stays red. The pre-colour is pkt->meta.color.
 * Then the action of its colour applies.
 *
 * Arguments:
 *   cir <bps>         required, 1..400G (k, M, G suffixes)
 *   cbs <bytes>       0..1G, default 1500
 *   ebs <bytes>       0..1G, default 1500; cbs and ebs may not both be 0
 *   mode blind|aware  default blind
 *   green|yellow|red <action>  pass | drop | remark:<dscp>; defaults pass, pass, drop
 * Colour written to pkt->meta.color (0 green, 1 yellow, 2 red).
 * Counters: "green", "yellow", "red", "remarked".
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_SRTCM_H
#define IPK_QOS_SRTCM_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_srtcm_ops;

#endif
