/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interface configuration over rtnetlink (RFC 3549), for the ports that create devices:
 * add an IPv4 or IPv6 address, set the MTU and bring a link up, without running `ip`.
 * Each call opens a NETLINK_ROUTE socket in the caller's network namespace, sends one
 * request with NLM_F_ACK and waits for the answer.
 *
 * Needs CAP_NET_ADMIN. Control thread only (open time).
 */
#ifndef IPK_IO_NLCFG_H
#define IPK_IO_NLCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

/* Adds the address @prefix->addr with length @prefix->len (host bits set: an interface
 * address, not a route) to interface @ifindex (RTM_NEWADDR with NLM_F_REPLACE: adding the
 * same address twice is not an error). IPv6 addresses skip duplicate address detection
 * (IFA_F_NODAD), so that they are usable at once. Returns 0 or -errno. */
int ipk_nl_addr_add(unsigned ifindex, const struct ipk_prefix *prefix);
/* Sets the MTU (when @mtu is not 0) and the administrative state of @ifindex
 * (RTM_NEWLINK). Returns 0 or -errno (-EINVAL: MTU out of the device's range). */
int ipk_nl_link_set(unsigned ifindex, uint32_t mtu, bool up);

#endif
