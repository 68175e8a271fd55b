/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipsec: classifier by the properties of the SA a packet is processed under
 * (pkt->meta.sa, set by the packet scheduler after the SAD lookup); first match wins.
 *
 * Arguments:
 *   rule <spec>   repeatable, at most 14; comma-separated field=value items, all must hold:
 *                   spi=<n>|<n>-<m>   SPI or SPI range, decimal or 0x hex
 *                   name=<sa name>    the SA's name (`sa add <name> ...`)
 *                   bundle=<pos>      position of the SA in its policy's bundle
 *                                     (pkt->meta.bundle_pos), 0..3
 *                   dir=in|out
 *                   alg=<name>        algorithm name, e.g. aes128gcm16, null-sha256
 *                   mode=tunnel|transport
 *                   proto=esp         ipseck carries ESP only; ah is refused
 *                   class=<n>         required, 0..IPK_QOS_MAX_CLASSES-1
 *                 e.g. `rule name=voice,class=0 rule spi=0x1000-0x1fff,dir=out,class=1`
 *   default <n>   class of packets with an SA that no rule matches; default: one more
 *                 than the largest rule class
 *   nosa <n>      class of packets without an SA (bypass traffic, not yet looked up);
 *                 default: one more than every other class
 * Classes: largest class named + 1. Sets pkt->meta.class_id. Reads the SA, takes no
 * reference (the packet holds one).
 * Counters: "nosa", "defaulted".
 * Threads: single thread (the hook's). Cost: a linear scan of the rules.
 */
#ifndef IPK_QOS_IPSEC_H
#define IPK_QOS_IPSEC_H

#include "qos/component.h"

extern const struct ipk_qos_ops ipk_ipsec_ops;

#endif
