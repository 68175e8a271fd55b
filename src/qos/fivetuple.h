/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fivetuple: classifier by addresses, protocol and ports; the first matching rule wins.
 *
 * Arguments:
 *   rule <spec>   repeatable, at most 15; <spec> is comma-separated field=value items:
 *                   src=<prefix>      10.1.0.0/16, 2001:db8::/32 or an address; a family
 *                                     mismatch never matches
 *                   dst=<prefix>
 *                   proto=<p>         tcp, udp, icmp, icmpv6, esp, ah or 0..255
 *                   sport=<ports>     N or N-M (0..65535); only TCP and UDP packets match a
 *                   dport=<ports>     rule with ports (fragments after the first have none)
 *                   class=<n>         required, 0..IPK_QOS_MAX_CLASSES-1
 *                 e.g. `rule src=10.1.0.0/16,proto=udp,dport=5060-5061,class=0`
 *   default <n>   class when no rule matches or the packet is not valid IPv4/IPv6;
 *                 default: one more than the largest rule class
 * Classes: largest class named + 1. Sets pkt->meta.class_id.
 * Counters: "unparsed" (not IP), "defaulted" (no rule matched).
 * Threads: single thread (the hook's). Cost: one IP parse and a linear scan of the rules.
 */
#ifndef IPK_QOS_FIVETUPLE_H
#define IPK_QOS_FIVETUPLE_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_fivetuple_ops;

#endif
