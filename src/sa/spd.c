// SPDX-License-Identifier: BSD-2-Clause
/*
 * Security Policy Database (RFC 4301 §4.4.1): the rules, their validation, and lookup.
 *
 * Each direction keeps its rules in an array sorted in match order: priority ascending,
 * then order of addition (a new rule goes after every rule of equal priority). The array
 * is the truth for find/foreach/count; lookups go through an index built from it.
 *
 * Index: tuple space search (spd_index.c; Srinivasan et al., SIGCOMM 1999, as in the
 * Open vSwitch classifier). Per direction and family, rules are grouped into tuples by
 * (source prefix length, destination prefix length); each tuple is a hash table on the
 * masked (source, destination) pair, whose entries list their rules by rank with the
 * remaining selectors (protocol, ports, DSCP). A lookup probes each tuple once, keeps the
 * best (lowest) rank, and stops at the first tuple whose minimum rank cannot beat it; the
 * tuples are sorted by minimum rank. Cost: number of tuples x (one hash + expected chain
 * below 1), not the number of rules. Worst case: many distinct prefix-length pairs (at
 * most 33 x 33 for IPv4, 129 x 129 for IPv6), or many rules on one address pair that
 * differ only in ports, which are scanned in a row. Gateway policies use a handful of
 * prefix lengths, so thousands of rules cost a handful of probes. docs/spd.md has more.
 *
 * Changes rebuild the affected index in O(n) before anything is published: an add that
 * cannot allocate changes nothing; a delete that cannot allocate marks the rule
 * unmatchable in the old index instead (ipk_spd_index_forget), so it never fails.
 * Between ipk_spd_batch_begin() and ipk_spd_batch_end() changes only mark the index
 * stale, and the end rebuilds each stale index once: loading n rules costs O(n) index
 * work instead of O(n^2) (10,000 rules: 1.5 s before). A stale index is never read:
 * lookups then scan the rules in match order (ipk_policy_matches), which is also what
 * remains when the rebuild at the end cannot allocate, until a later change rebuilds.
 * Names are found through a hash table (core/names.h), so checking and adding a rule
 * does not scan the others either.
 *
 * Semantics chosen where RFC 4301 leaves room:
 * - A rule with a port range narrower than 0-65535 matches only TCP, UDP, SCTP, ICMP and
 *   ICMPv6 flows; other protocols carry 0 in the flow's ports, which is not a port.
 * - A flow whose source and destination families differ (or are unset) matches nothing.
 * - The SPD holds no references on the SAs it resolved: the caller re-resolves after any
 *   SA change, before packets flow again (the header's serialisation rule).
 */
#include "sa/spd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/names.h"
#include "sa/sad.h"
#include "sa/spd_index.h"

struct spd_dir {
	struct ipk_policy **rules; /* match order */
	uint32_t n;
	uint32_t cap;
	struct ipk_spd_index *idx[2]; /* [0] IPv4, [1] IPv6; never NULL */
	bool stale[2];                /* idx[i] does not reflect rules: lookups scan */
};

struct ipk_spd {
	struct spd_dir dir[2];
	struct ipk_names names; /* every rule of both directions */
	unsigned batch;         /* ipk_spd_batch_begin() depth */
};

static const uint8_t families[2] = { 4, 6 };

/* Rebuilds the indexes of @d that a rule of family @fam (0 = both) lives in. All or
 * nothing: on -ENOMEM the old indexes stay. */
static int rebuild(struct spd_dir *d, uint8_t fam)
{
	struct ipk_spd_index *fresh[2] = { NULL, NULL };
	int ret = 0;

	for (int i = 0; i < 2 && !ret; i++)
		if (fam == 0 || fam == families[i])
			ret = ipk_spd_index_build(&fresh[i], d->rules, d->n, families[i]);
	for (int i = 0; i < 2; i++) {
		if (!fresh[i])
			continue;
		if (ret) {
			ipk_spd_index_destroy(fresh[i]);
			continue;
		}
		ipk_spd_index_destroy(d->idx[i]);
		d->idx[i] = fresh[i];
		d->stale[i] = false;
	}
	return ret;
}

/* Marks the indexes of @d that a rule of family @fam (0 = both) lives in as stale. */
static void mark_stale(struct spd_dir *d, uint8_t fam)
{
	for (int i = 0; i < 2; i++)
		if (fam == 0 || fam == families[i])
			d->stale[i] = true;
}

int ipk_spd_create(struct ipk_spd **out)
{
	struct ipk_spd *spd = calloc(1, sizeof(*spd));

	if (!spd)
		return -ENOMEM;
	if (ipk_names_init(&spd->names)) {
		free(spd);
		return -ENOMEM;
	}
	for (int d = 0; d < 2; d++) {
		if (rebuild(&spd->dir[d], 0)) {
			ipk_spd_destroy(spd);
			return -ENOMEM;
		}
	}
	*out = spd;
	return 0;
}

void ipk_spd_destroy(struct ipk_spd *spd)
{
	if (!spd)
		return;
	for (int d = 0; d < 2; d++) {
		for (uint32_t i = 0; i < spd->dir[d].n; i++)
			free(spd->dir[d].rules[i]);
		free(spd->dir[d].rules);
		ipk_spd_index_destroy(spd->dir[d].idx[0]);
		ipk_spd_index_destroy(spd->dir[d].idx[1]);
	}
	ipk_names_fini(&spd->names);
	free(spd);
}

/* The action is left at 0 (protect) with no SA names, which ipk_spd_check_add() refuses:
 * a caller must say what a rule does. */
void ipk_policy_params_init(struct ipk_policy_params *p)
{
	memset(p, 0, sizeof(*p));
	p->proto = IPK_PROTO_ANY;
	p->sport_hi = 0xffff;
	p->dport_hi = 0xffff;
	p->dscp = IPK_DSCP_ANY;
	p->priority = 1000;
}

struct ipk_policy *ipk_spd_find(const struct ipk_spd *spd, const char *name)
{
	struct ipk_name_node *node = ipk_names_find(&spd->names, name);

	return node ? ipk_names_entry(node, struct ipk_policy, name_node) : NULL;
}

/* Where @pol stands in its direction's match order. */
static uint32_t position_of(const struct spd_dir *d, const struct ipk_policy *pol)
{
	uint32_t i = 0;

	while (d->rules[i] != pol)
		i++;
	return i;
}

uint32_t ipk_spd_count(const struct ipk_spd *spd)
{
	return spd->dir[0].n + spd->dir[1].n;
}

/* ---- validation ---- */

static bool host_bits_clear(const struct ipk_prefix *p)
{
	for (unsigned i = 0; i < ipk_addr_len(p->addr.family); i++) {
		unsigned keep = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;

		if (p->addr.bytes[i] & (0xffu >> keep))
			return false;
	}
	return true;
}

static int check_prefix(const char *name, const char *what, const struct ipk_prefix *p,
			struct ipk_err *err)
{
	unsigned max = (unsigned)ipk_addr_len(p->addr.family) * 8;
	char buf[IPK_ADDR_STRLEN];

	if (p->addr.family == 0) {
		if (p->len != 0)
			return ipk_err_set(err, -EINVAL,
					   "policy %s: %s is 'any' but has prefix length %u", name,
					   what, p->len);
		return 0;
	}
	if (p->addr.family != 4 && p->addr.family != 6)
		return ipk_err_set(err, -EINVAL, "policy %s: %s family %u is not 4 or 6", name,
				   what, p->addr.family);
	if (p->len > max)
		return ipk_err_set(err, -EINVAL, "policy %s: %s prefix length %u exceeds %u", name,
				   what, p->len, max);
	if (!host_bits_clear(p))
		return ipk_err_set(err, -EINVAL, "policy %s: %s %s/%u has host bits set", name,
				   what, ipk_addr_str(&p->addr, buf), p->len);
	return 0;
}

static int check_range(const char *name, const char *what, uint16_t lo, uint16_t hi,
		       struct ipk_err *err)
{
	if (lo > hi)
		return ipk_err_set(err, -EINVAL, "policy %s: %s range %u-%u is empty", name, what,
				   lo, hi);
	return 0;
}

static bool ports_narrowed(const struct ipk_policy_params *p)
{
	return p->sport_lo != 0 || p->sport_hi != 0xffff || p->dport_lo != 0 ||
	       p->dport_hi != 0xffff;
}

static int check_selectors(const struct ipk_policy_params *p, struct ipk_err *err)
{
	const char *n = p->name;
	int ret;

	ret = check_prefix(n, "src", &p->src, err);
	if (!ret)
		ret = check_prefix(n, "dst", &p->dst, err);
	if (ret)
		return ret;
	if (p->src.addr.family && p->dst.addr.family && p->src.addr.family != p->dst.addr.family)
		return ipk_err_set(err, -EINVAL, "policy %s: src is IPv%u but dst is IPv%u", n,
				   p->src.addr.family, p->dst.addr.family);
	if (p->proto != IPK_PROTO_ANY && p->proto > 255)
		return ipk_err_set(err, -EINVAL, "policy %s: protocol %u not in 0..255", n,
				   p->proto);
	ret = check_range(n, "sport", p->sport_lo, p->sport_hi, err);
	if (!ret)
		ret = check_range(n, "dport", p->dport_lo, p->dport_hi, err);
	if (ret)
		return ret;
	/* Such a rule could never match (see the header comment): surely a mistake. */
	if (p->proto != IPK_PROTO_ANY && !ipk_spd_proto_has_ports(p->proto) && ports_narrowed(p))
		return ipk_err_set(err, -EINVAL, "policy %s: ports given but protocol %u has none",
				   n, p->proto);
	if (p->dscp != IPK_DSCP_ANY && p->dscp > 63)
		return ipk_err_set(err, -EINVAL, "policy %s: dscp %u not in 0..63", n, p->dscp);
	return 0;
}

static int check_action(const struct ipk_policy_params *p, struct ipk_err *err)
{
	const char *n = p->name;

	if (p->action != IPK_ACTION_PROTECT && p->action != IPK_ACTION_BYPASS &&
	    p->action != IPK_ACTION_DISCARD)
		return ipk_err_set(err, -EINVAL, "policy %s: unknown action %d", n, (int)p->action);
	if (p->action != IPK_ACTION_PROTECT) {
		if (p->n_sa != 0)
			return ipk_err_set(err, -EINVAL,
					   "policy %s: action %s takes no SA names, got %u", n,
					   ipk_action_name(p->action), p->n_sa);
		return 0;
	}
	if (p->n_sa < 1 || p->n_sa > IPK_BUNDLE_MAX)
		return ipk_err_set(err, -EINVAL, "policy %s: protect needs 1..%d SA names, got %u",
				   n, IPK_BUNDLE_MAX, p->n_sa);
	for (uint32_t i = 0; i < p->n_sa; i++) {
		if (p->sa_names[i][0] == '\0')
			return ipk_err_set(err, -EINVAL, "policy %s: SA name %u is empty", n,
					   i + 1);
		if (!memchr(p->sa_names[i], '\0', IPK_NAME_MAX))
			return ipk_err_set(err, -EINVAL,
					   "policy %s: SA name %u is longer than %d characters", n,
					   i + 1, IPK_NAME_MAX - 1);
	}
	return 0;
}

static int check_class_sas(const struct ipk_policy_params *p, struct ipk_err *err)
{
	const char *n = p->name;

	if (p->n_class_sa == 0)
		return 0;
	if (p->n_class_sa > IPK_CLASS_SA_MAX)
		return ipk_err_set(err, -EINVAL, "policy %s: at most %d class SAs, got %u", n,
				   IPK_CLASS_SA_MAX, p->n_class_sa);
	if (p->action != IPK_ACTION_PROTECT || p->n_sa != 1)
		return ipk_err_set(err, -EINVAL, "policy %s: class SAs need action protect with "
				   "a single SA", n);
	for (uint32_t i = 0; i < p->n_class_sa; i++) {
		if (p->class_dscp[i] > 63)
			return ipk_err_set(err, -EINVAL, "policy %s: class dscp %u not in 0..63", n,
					   p->class_dscp[i]);
		if (p->class_sa_names[i][0] == '\0' ||
		    !memchr(p->class_sa_names[i], '\0', IPK_NAME_MAX))
			return ipk_err_set(err, -EINVAL, "policy %s: class SA name %u is empty or "
					   "longer than %d characters", n, i + 1, IPK_NAME_MAX - 1);
		for (uint32_t j = 0; j < i; j++)
			if (p->class_dscp[j] == p->class_dscp[i])
				return ipk_err_set(err, -EINVAL, "policy %s: dscp %u has two class "
						   "SAs", n, p->class_dscp[i]);
	}
	return 0;
}

int ipk_spd_check_add(const struct ipk_spd *spd, const struct ipk_policy_params *p,
		      struct ipk_err *err)
{
	const struct ipk_policy *old;
	int ret;

	if (p->name[0] == '\0')
		return ipk_err_set(err, -EINVAL, "policy: name is empty");
	if (!memchr(p->name, '\0', IPK_NAME_MAX))
		return ipk_err_set(err, -EINVAL,
				   "policy %.*s...: name is longer than %d characters", 16, p->name,
				   IPK_NAME_MAX - 1);
	old = ipk_spd_find(spd, p->name);
	if (old)
		return ipk_err_set(err, -EEXIST, "policy %s: name already in use (dir %s)", p->name,
				   old->params.dir == IPK_DIR_OUT ? "out" : "in");
	if (p->dir != IPK_DIR_IN && p->dir != IPK_DIR_OUT)
		return ipk_err_set(err, -EINVAL, "policy %s: direction %d is not in or out",
				   p->name, (int)p->dir);
	ret = check_selectors(p, err);
	if (!ret)
		ret = check_action(p, err);
	if (!ret)
		ret = check_class_sas(p, err);
	return ret;
}

/* ---- changes ---- */

/* Past every rule of priority <= @priority: equal priorities keep the order of addition. */
static uint32_t insert_pos(const struct spd_dir *d, uint32_t priority)
{
	uint32_t lo = 0, hi = d->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (d->rules[mid]->params.priority <= priority)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int reserve(struct spd_dir *d)
{
	struct ipk_policy **rules;
	uint32_t cap = d->cap ? 2 * d->cap : 16;

	if (d->n < d->cap)
		return 0;
	rules = realloc(d->rules, cap * sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	d->rules = rules;
	d->cap = cap;
	return 0;
}

static void unlink_at(struct spd_dir *d, uint32_t pos)
{
	memmove(&d->rules[pos], &d->rules[pos + 1], (d->n - pos - 1) * sizeof(d->rules[0]));
	d->n--;
}

int ipk_spd_add(struct ipk_spd *spd, const struct ipk_policy_params *p, struct ipk_err *err)
{
	struct spd_dir *d;
	struct ipk_policy *pol;
	uint32_t pos;
	int ret;

	ret = ipk_spd_check_add(spd, p, err);
	if (ret)
		return ret;
	d = &spd->dir[p->dir];
	pol = calloc(1, sizeof(*pol));
	if (!pol || reserve(d) || ipk_names_reserve(&spd->names))
		goto err_free_pol;
	pol->params = *p;
	for (uint32_t i = 0; i < p->n_class_sa; i++)
		pol->sa_of_dscp[p->class_dscp[i]] = (uint8_t)(i + 1);
	atomic_init(&pol->matches, 0);
	pos = insert_pos(d, p->priority);
	memmove(&d->rules[pos + 1], &d->rules[pos], (d->n - pos) * sizeof(d->rules[0]));
	d->rules[pos] = pol;
	d->n++;
	if (spd->batch)
		mark_stale(d, ipk_spd_rule_family(p));
	else if (rebuild(d, ipk_spd_rule_family(p)))
		goto err_unlink;
	pol->name_node.name = pol->params.name;
	ipk_names_link(&spd->names, &pol->name_node);
	return 0;

err_unlink:
	unlink_at(d, pos);
err_free_pol:
	free(pol);
	return ipk_err_set(err, -ENOMEM, "policy %s: out of memory", p->name);
}

int ipk_spd_del(struct ipk_spd *spd, const char *name, struct ipk_err *err)
{
	struct ipk_policy *pol = ipk_spd_find(spd, name);
	struct spd_dir *d;
	uint8_t fam;

	if (!pol)
		return ipk_err_set(err, -ENOENT, "policy %s: no such policy", name);
	d = &spd->dir[pol->params.dir];
	fam = ipk_spd_rule_family(&pol->params);
	ipk_names_unlink(&spd->names, &pol->name_node);
	unlink_at(d, position_of(d, pol));
	if (spd->batch)
		mark_stale(d, fam);
	else if (rebuild(d, fam)) {
		for (int i = 0; i < 2; i++)
			if (fam == 0 || fam == families[i])
				ipk_spd_index_forget(d->idx[i], pol);
	}
	free(pol);
	return 0;
}

void ipk_spd_batch_begin(struct ipk_spd *spd)
{
	spd->batch++;
}

int ipk_spd_batch_end(struct ipk_spd *spd)
{
	int ret = 0;

	if (spd->batch && --spd->batch)
		return 0;
	for (int d = 0; d < 2; d++)
		for (int i = 0; i < 2; i++)
			if (spd->dir[d].stale[i] && rebuild(&spd->dir[d], families[i]))
				ret = -ENOMEM;
	return ret;
}

/* Slots past the bundle, and every slot of a bypass or discard rule, end up NULL. */
static void resolve_one(struct ipk_policy *pol, const struct ipk_sad *sad)
{
	const struct ipk_policy_params *p = &pol->params;
	uint32_t n = p->action == IPK_ACTION_PROTECT ? p->n_sa : 0;

	for (uint32_t j = 0; j < IPK_BUNDLE_MAX; j++)
		pol->sa[j] = j < n ? ipk_sad_find(sad, p->sa_names[j]) : NULL;
	for (uint32_t j = 0; j < IPK_CLASS_SA_MAX; j++)
		pol->class_sa[j] = n && j < p->n_class_sa ?
					   ipk_sad_find(sad, p->class_sa_names[j]) : NULL;
}

bool ipk_policy_uses_sa(const struct ipk_policy *pol, const struct ipk_sa *sa)
{
	if (!sa)
		return false;
	if (pol->sa[0] == sa)
		return true;
	for (uint32_t j = 0; j < pol->params.n_class_sa; j++)
		if (pol->class_sa[j] == sa)
			return true;
	return false;
}

void ipk_spd_resolve(struct ipk_spd *spd, const struct ipk_sad *sad)
{
	for (int d = 0; d < 2; d++)
		for (uint32_t i = 0; i < spd->dir[d].n; i++)
			resolve_one(spd->dir[d].rules[i], sad);
}

/* ---- lookup ---- */

const struct ipk_spd_index *ipk_spd_index_of(const struct ipk_spd *spd, enum ipk_dir dir,
					     uint8_t family)
{
	if ((dir != IPK_DIR_IN && dir != IPK_DIR_OUT) || (family != 4 && family != 6) ||
	    spd->dir[dir].stale[family == 6])
		return NULL;
	return spd->dir[dir].idx[family == 6];
}

/* The first rule of @d that @flow matches, by a scan in match order: while the index is
 * stale. */
static struct ipk_policy *scan(const struct spd_dir *d, const struct ipk_flow *flow)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (ipk_policy_matches(d->rules[i], flow))
			return d->rules[i];
	return NULL;
}

struct ipk_policy *ipk_spd_lookup(const struct ipk_spd *spd, enum ipk_dir dir,
				  const struct ipk_flow *flow)
{
	uint8_t fam = flow->dst.family;
	struct ipk_policy *pol;

	/* A packet's two addresses are of one family; a flow that is not matches nothing. */
	if (unlikely((dir != IPK_DIR_IN && dir != IPK_DIR_OUT) || (fam != 4 && fam != 6) ||
		     flow->src.family != fam))
		return NULL;
	if (unlikely(spd->dir[dir].stale[fam == 6]))
		pol = scan(&spd->dir[dir], flow);
	else
		pol = ipk_spd_index_lookup(spd->dir[dir].idx[fam == 6], flow);
	/* Relaxed: a statistic with no partner operation; readers only want a total. */
	if (pol)
		atomic_fetch_add_explicit(&pol->matches, 1, memory_order_relaxed);
	return pol;
}

bool ipk_policy_matches(const struct ipk_policy *pol, const struct ipk_flow *flow)
{
	const struct ipk_policy_params *p = &pol->params;

	if (!flow->src.family || flow->src.family != flow->dst.family)
		return false;
	if ((p->src.addr.family && !ipk_prefix_contains(&p->src, &flow->src)) ||
	    (p->dst.addr.family && !ipk_prefix_contains(&p->dst, &flow->dst)))
		return false;
	if (p->proto != IPK_PROTO_ANY && p->proto != flow->proto)
		return false;
	if (ports_narrowed(p) && !ipk_spd_proto_has_ports(flow->proto))
		return false;
	if (flow->sport < p->sport_lo || flow->sport > p->sport_hi ||
	    flow->dport < p->dport_lo || flow->dport > p->dport_hi)
		return false;
	return p->dscp == IPK_DSCP_ANY || p->dscp == flow->dscp;
}

void ipk_spd_foreach(const struct ipk_spd *spd, enum ipk_dir dir,
		     void (*fn)(struct ipk_policy *pol, void *arg), void *arg)
{
	if (dir != IPK_DIR_IN && dir != IPK_DIR_OUT)
		return;
	for (uint32_t i = 0; i < spd->dir[dir].n; i++)
		fn(spd->dir[dir].rules[i], arg);
}

const char *ipk_action_name(enum ipk_action action)
{
	switch (action) {
	case IPK_ACTION_PROTECT:
		return "protect";
	case IPK_ACTION_BYPASS:
		return "bypass";
	case IPK_ACTION_DISCARD:
		return "discard";
	}
	return "?";
}
