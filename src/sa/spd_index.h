/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SPD's lookup index: tuple space search over the rules of one direction and one
 * address family. Internal to src/sa (spd.c builds and queries it); the layout and the
 * cost model are in spd_index.c's header comment and docs/spd.md.
 *
 * An index is immutable once built: the SPD builds a new one on every rule change and
 * destroys the old one (ipk_spd_index_forget() is the allocation-free fallback for a
 * deletion). Lookups on one index may run concurrently on any number of threads.
 */
#ifndef IPK_SA_SPD_INDEX_H
#define IPK_SA_SPD_INDEX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "sa/spd.h"

struct ipk_spd_index;

/* The family a rule's prefixes name: 4 or 6, or 0 when both are "any" (it matches either).
 * ipk_spd_check_add() guarantees that a given source and destination agree. */
static inline uint8_t ipk_spd_rule_family(const struct ipk_policy_params *p)
{
	return p->src.addr.family ? p->src.addr.family : p->dst.addr.family;
}

/* Protocols whose flows carry ports (ICMP: type and code, RFC 4301 §4.4.1.1). A rule with
 * a port range narrower than 0-65535 matches no flow of any other protocol: those flows
 * carry 0 there, which is no port at all. */
static inline bool ipk_spd_proto_has_ports(unsigned proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
	       proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* What one lookup touched; for tests and benchmarks. */
struct ipk_spd_cost {
	uint32_t tuples;  /* tuples probed (one hash probe each) */
	uint32_t entries; /* hash chain entries compared */
	uint32_t rules;	  /* rules whose remaining selectors were checked */
};

/* Builds the index of those of @rules (@n, in match order) that can match @family (4 or
 * 6): rules whose prefixes are of that family or "any". The rules are borrowed and must
 * outlive the index. Control plane; O(n). Returns 0 or -ENOMEM. */
int ipk_spd_index_build(struct ipk_spd_index **out, struct ipk_policy *const *rules, uint32_t n,
			uint8_t family);
void ipk_spd_index_destroy(struct ipk_spd_index *idx);

/* First rule matching @flow, whose addresses must be of the index's family; NULL if none.
 * Touches no counters and allocates nothing. Any thread. */
struct ipk_policy *ipk_spd_index_lookup(const struct ipk_spd_index *idx,
					const struct ipk_flow *flow);
/* The same lookup, also reporting in @cost what it touched. */
struct ipk_policy *ipk_spd_index_lookup_cost(const struct ipk_spd_index *idx,
					     const struct ipk_flow *flow,
					     struct ipk_spd_cost *cost);

/* Makes @pol unmatchable in @idx without allocating (it keeps its slot). Used when a
 * deletion cannot allocate the rebuilt index; control plane. */
void ipk_spd_index_forget(struct ipk_spd_index *idx, const struct ipk_policy *pol);

/* Number of distinct (source length, destination length) tuples. */
uint32_t ipk_spd_index_tuples(const struct ipk_spd_index *idx);

/* The index ipk_spd_lookup() uses for @dir and @family (4 or 6); NULL for any other
 * family, and while the index is stale (a batch of changes is open, or its rebuild could
 * not allocate). Diagnostics only (tests, benchmarks). Defined in spd.c. */
const struct ipk_spd_index *ipk_spd_index_of(const struct ipk_spd *spd, enum ipk_dir dir,
					     uint8_t family);

#endif
