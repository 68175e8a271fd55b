/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dscp: classifier by the DSCP of the IP header (RFC 2474 §3).
 *
 * Arguments: word pairs `<codepoint> <class>` and `default <class>`, e.g.
 *     dscp ef 0 af41 1 af42 1 default 2
 *   codepoint  a DSCP name or number as core/dscp.h parses it (ef, af11..af43, cs0..cs7,
 *              be, le, va, 0..63); each at most once; at least one is required
 *   class      0..IPK_QOS_MAX_CLASSES-1
 *   default    class of unmapped code points and of packets that are not valid IPv4/IPv6;
 *              when absent, one more than the largest mapped class
 * Classes: the largest class named (default included) + 1. Sets pkt->meta.class_id.
 * Counters: "unparsed" (not IP: sent to the default class), "defaulted" (unmapped DSCP).
 * Threads: single thread (the hook's).
 */
#ifndef IPK_QOS_DSCP_H
#define IPK_QOS_DSCP_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_dscp_ops;

#endif
