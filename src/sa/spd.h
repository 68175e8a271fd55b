/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Security Policy Database (RFC 4301 §4.4.1).
 *
 * Ordered rules per direction; the first match wins (lowest priority value, then order of
 * addition). Selectors: source and destination prefixes (IPv4 or IPv6), protocol, source
 * and destination port ranges (ICMP: type in sport, code in dport, as RFC 4301 §4.4.1.1),
 * DSCP. Actions: protect with a bundle of SAs applied in order, bypass, discard. A packet
 * that matches no rule is discarded (the default for protected directions).
 *
 * Data structure: see spd.c's header comment and docs/spd.md; lookup cost does not grow
 * linearly with the number of rules.
 *
 * Threads: add/del/resolve are control-plane calls; lookups may run concurrently with each
 * other. Changes are serialised with packet processing by the caller (the engine parks its
 * packet scheduler: engine/scheduler.h).
 */
#ifndef IPK_SA_SPD_H
#define IPK_SA_SPD_H

#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/names.h"
#include "sa/sa.h"

#define IPK_BUNDLE_MAX 4
#define IPK_CLASS_SA_MAX 8
#define IPK_DSCP_ANY 0xff
#define IPK_PROTO_ANY 0xffff

enum ipk_action { IPK_ACTION_PROTECT, IPK_ACTION_BYPASS, IPK_ACTION_DISCARD };

struct ipk_policy_params {
	char name[IPK_NAME_MAX];
	enum ipk_dir dir;
	struct ipk_prefix src;   /* family 0 = any (matches IPv4 and IPv6) */
	struct ipk_prefix dst;
	uint16_t proto;          /* IPK_PROTO_ANY or 0..255 */
	uint16_t sport_lo, sport_hi; /* inclusive; 0..65535 = any */
	uint16_t dport_lo, dport_hi;
	uint8_t dscp;            /* IPK_DSCP_ANY or 0..63 */
	enum ipk_action action;
	uint32_t priority;       /* lower first; equal priorities keep insertion order */
	uint32_t n_sa;           /* protect: bundle size, 1..IPK_BUNDLE_MAX */
	char sa_names[IPK_BUNDLE_MAX][IPK_NAME_MAX];
	/* Per-class SAs (RFC 4301 §4.1): a packet whose DSCP is class_dscp[i] goes on the SA
	 * class_sa_names[i] instead of sa_names[0], so that classes scheduled apart never
	 * push each other out of the peer's replay window. Single-SA bundles only. */
	uint32_t n_class_sa;     /* 0..IPK_CLASS_SA_MAX */
	uint8_t class_dscp[IPK_CLASS_SA_MAX];
	char class_sa_names[IPK_CLASS_SA_MAX][IPK_NAME_MAX];
};

/* The fields of a packet that selectors look at. */
struct ipk_flow {
	struct ipk_addr src;
	struct ipk_addr dst;
	uint8_t proto;
	uint8_t dscp;
	uint16_t sport; /* host order; ICMP type */
	uint16_t dport; /* host order; ICMP code */
};

struct ipk_policy {
	struct ipk_policy_params params;
	/* The bundle's SAs, resolved by name by ipk_spd_resolve(); an entry is NULL while the
	 * named SA is not installed (packets then drop as no-sa). */
	struct ipk_sa *sa[IPK_BUNDLE_MAX];
	struct ipk_sa *class_sa[IPK_CLASS_SA_MAX]; /* resolved like sa[] */
	uint8_t sa_of_dscp[64];  /* 0: sa[0]; k: class_sa[k - 1] */
	_Atomic uint64_t matches;
	struct ipk_name_node name_node; /* in the SPD's name table */
};

struct ipk_spd;
struct ipk_sad;

int ipk_spd_create(struct ipk_spd **out);
void ipk_spd_destroy(struct ipk_spd *spd);

/* Sets defaults: any addresses, protocol and ports, DSCP any, priority 1000. */
void ipk_policy_params_init(struct ipk_policy_params *p);
/* Validates @p against the SPD (unique name, ranges, families of src and dst agree,
 * protect has 1..IPK_BUNDLE_MAX SA names). Changes nothing. */
int ipk_spd_check_add(const struct ipk_spd *spd, const struct ipk_policy_params *p,
		      struct ipk_err *err);
/* Adds a rule. Returns 0, -EINVAL, -EEXIST or -ENOMEM. Call ipk_spd_resolve() after. */
int ipk_spd_add(struct ipk_spd *spd, const struct ipk_policy_params *p, struct ipk_err *err);
/* Removes the rule named @name. Returns 0 or -ENOENT. */
int ipk_spd_del(struct ipk_spd *spd, const char *name, struct ipk_err *err);
/* A batch of changes: until the matching ipk_spd_batch_end() (they nest), adds and
 * deletions rebuild no index; lookups meanwhile scan the rules, so they stay correct,
 * only slower. The outermost end rebuilds each changed index once and returns 0, or
 * -ENOMEM when one could not be rebuilt (lookups go on scanning it, correctly, until a
 * later change rebuilds it). What a batch changed stays changed either way. */
void ipk_spd_batch_begin(struct ipk_spd *spd);
int ipk_spd_batch_end(struct ipk_spd *spd);
struct ipk_policy *ipk_spd_find(const struct ipk_spd *spd, const char *name);
uint32_t ipk_spd_count(const struct ipk_spd *spd);

/* Re-resolves every protect rule's SA names against @sad: after any SA or policy change. */
void ipk_spd_resolve(struct ipk_spd *spd, const struct ipk_sad *sad);

/* The SA a protect rule's single-SA bundle puts a packet of DSCP @dscp on: its class SA
 * if it names one for @dscp, else sa[0]. NULL while unresolved. */
static inline struct ipk_sa *ipk_policy_sa_for_dscp(const struct ipk_policy *pol, uint8_t dscp)
{
	uint8_t k = pol->sa_of_dscp[dscp & 63];

	return k ? pol->class_sa[k - 1] : pol->sa[0];
}

/* True when @sa is one the rule's single-SA bundle may use: sa[0] or a class SA. */
bool ipk_policy_uses_sa(const struct ipk_policy *pol, const struct ipk_sa *sa);

/* First matching rule for @flow in direction @dir, or NULL (default discard). */
struct ipk_policy *ipk_spd_lookup(const struct ipk_spd *spd, enum ipk_dir dir,
				  const struct ipk_flow *flow);

/* True when @flow matches @pol's selectors (what ipk_spd_lookup() decides, for one rule;
 * a linear check, for rare paths). */
bool ipk_policy_matches(const struct ipk_policy *pol, const struct ipk_flow *flow);

/* Calls @fn for every rule of @dir in match order. */
void ipk_spd_foreach(const struct ipk_spd *spd, enum ipk_dir dir,
		     void (*fn)(struct ipk_policy *pol, void *arg), void *arg);

const char *ipk_action_name(enum ipk_action action);

#endif
