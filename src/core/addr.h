/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4/IPv6 addresses and prefixes, as the SAD, the SPD and the parsers use them.
 * An IPv4 address sits in the first 4 bytes of `bytes`; the rest is zero.
 * Pure functions, any thread.
 */
#ifndef IPK_CORE_ADDR_H
#define IPK_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPK_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

struct ipk_addr {
	uint8_t family; /* 4 or 6; 0 = unset */
	uint8_t bytes[16];
};

struct ipk_prefix {
	struct ipk_addr addr; /* host bits are zero */
	uint8_t len;          /* 0..32 or 0..128 */
};

/* Parses "192.0.2.1" or "2001:db8::1". Returns 0 or -EINVAL. */
int ipk_addr_parse(const char *text, struct ipk_addr *out);
/* Parses "10.1.0.0/16", "2001:db8::/32" or a bare address (full length). Host bits set
 * beyond the length are an error (-EINVAL) so that a typo does not widen a policy. */
int ipk_prefix_parse(const char *text, struct ipk_prefix *out);
/* Writes the address as text into @buf (IPK_ADDR_STRLEN bytes); returns @buf. */
const char *ipk_addr_str(const struct ipk_addr *addr, char *buf);
bool ipk_addr_equal(const struct ipk_addr *a, const struct ipk_addr *b);
/* True when @addr is of the prefix's family and inside it. */
bool ipk_prefix_contains(const struct ipk_prefix *prefix, const struct ipk_addr *addr);
/* Address length in bytes for the family (4 or 16). */
static inline size_t ipk_addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}
void ipk_addr_from_v4(struct ipk_addr *out, const void *four_bytes);
void ipk_addr_from_v6(struct ipk_addr *out, const void *sixteen_bytes);

#endif
