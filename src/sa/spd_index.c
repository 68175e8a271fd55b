// SPDX-License-Identifier: BSD-2-Clause
/*
 * SPD lookup by tuple space search (Srinivasan, Suri, Varghese, "Packet Classification
 * using Tuple Space Search", SIGCOMM 1999; the scheme of the Open vSwitch classifier).
 *
 * One index holds the rules of one direction and one family; a rule whose prefixes are
 * both "any" is in the IPv4 and the IPv6 index. Each rule has a rank, its position in
 * match order (priority, then order of addition), so "first match" means "lowest rank".
 *
 * Layout. Rules are grouped into tuples by (source prefix length, destination prefix
 * length); an "any" prefix has length 0. Within a tuple every rule's addresses are
 * compared under the same mask, so the tuple is a hash table keyed by the masked
 * (source, destination) pair. A key's entry holds the run of its rules, sorted by rank,
 * with the selectors the key does not cover (protocol, port ranges, DSCP). The tuples
 * are sorted by their minimum rank. All of it lives in four flat arrays (tuples, bucket
 * heads, entries, rule references), so a lookup follows indices, never allocates, and
 * touches a few cache lines per tuple.
 *
 * Lookup. Mask the flow's addresses once per tuple, hash, walk that bucket's chain to the
 * entry with the same key, then scan the entry's run until a rule matches or its rank is
 * no better than the best found so far. Stop at the first tuple whose minimum rank is no
 * better than the best found: the tuples are sorted, so none after it can win. Cost: at
 * most (number of tuples) x (one hash + the expected chain length, below 1 at the load
 * factor of 1/2 used here) + the rules scanned in the matching entries.
 *
 * Worst cases: many distinct (source, destination) prefix-length pairs, up to 33 x 33
 * for IPv4 and 129 x 129 for IPv6, each probed once; and many rules on one address pair
 * that differ only in ports or protocol, scanned linearly within their entry. Gateway
 * policies use few prefix lengths (site /16 and /24, host /32, IPv6 /48 and /64, "any"),
 * so a 10,000-rule SPD has a handful of tuples and a lookup costs a handful of hash
 * probes, independent of the number of rules. The chain lengths depend on the rules only,
 * which the operator chooses; a flow chooses only which bucket is read.
 *
 * Changes rebuild the index (O(n), control plane); see spd.c.
 */
#include "sa/spd_index.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

#define NONE UINT32_MAX
/* A protocol no flow carries (flows have 8-bit protocols): marks a forgotten rule. */
#define PROTO_NEVER 0x100

/* One rule as a key's entry holds it: the selectors left after the addresses. */
struct ref {
	struct ipk_policy *pol;
	uint32_t rank;
	uint16_t proto;
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
	uint8_t dscp;
	bool ports; /* a port range is narrower than 0-65535 */
};

/* One masked (source, destination) pair of a tuple, and its rules refs[first..+count). */
struct entry {
	uint64_t key[4];
	uint32_t next; /* bucket chain */
	uint32_t first;
	uint32_t count;
};

struct tuple {
	uint64_t mask[4];
	uint32_t min_rank;
	uint32_t bucket0;     /* first bucket head in idx->buckets */
	uint32_t bucket_mask; /* bucket count - 1 (a power of two) */
	uint32_t n_rules;
};

struct ipk_spd_index {
	uint8_t family;
	uint8_t words; /* 64-bit key words: 1 for IPv4 (source << 32 | destination), 4 for IPv6 */
	uint32_t n_tuples;
	uint32_t n_entries;
	uint32_t n_refs;
	struct tuple *tuples;
	uint32_t *buckets;
	struct entry *entries;
	struct ref *refs;
};

/* Addresses as host-order words, so that a prefix mask is a shift. */
static inline void addr_key(uint64_t *key, const struct ipk_addr *src, const struct ipk_addr *dst,
			    unsigned words)
{
	uint32_t s4, d4;
	uint64_t w[4];

	if (words == 1) {
		memcpy(&s4, src->bytes, 4);
		memcpy(&d4, dst->bytes, 4);
		key[0] = (uint64_t)be32toh(s4) << 32 | be32toh(d4);
		return;
	}
	memcpy(&w[0], src->bytes, 8);
	memcpy(&w[1], src->bytes + 8, 8);
	memcpy(&w[2], dst->bytes, 8);
	memcpy(&w[3], dst->bytes + 8, 8);
	for (unsigned i = 0; i < 4; i++)
		key[i] = be64toh(w[i]);
}

/* The mask of the first @len bits of a @width-bit word, @len clamped to 0..@width. */
static uint64_t word_mask(int len, unsigned width)
{
	uint64_t all = width == 64 ? ~0ULL : (1ULL << width) - 1;

	if (len <= 0)
		return 0;
	if ((unsigned)len >= width)
		return all;
	return (all << (width - (unsigned)len)) & all;
}

static void tuple_mask(uint64_t *mask, unsigned slen, unsigned dlen, unsigned words)
{
	if (words == 1) {
		mask[0] = word_mask((int)slen, 32) << 32 | word_mask((int)dlen, 32);
		return;
	}
	mask[0] = word_mask((int)slen, 64);
	mask[1] = word_mask((int)slen - 64, 64);
	mask[2] = word_mask((int)dlen, 64);
	mask[3] = word_mask((int)dlen - 64, 64);
}

/* Multiply-xorshift mixing with the MurmurHash3 finaliser: every key bit reaches the low
 * bits that pick the bucket. */
static inline uint32_t key_hash(const uint64_t *key, unsigned words)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	for (unsigned i = 0; i < words; i++) {
		h ^= key[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static inline bool key_equal(const uint64_t *a, const uint64_t *b, unsigned words)
{
	for (unsigned i = 0; i < words; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static inline bool ref_matches(const struct ref *r, const struct ipk_flow *flow, bool has_ports)
{
	if (r->proto != IPK_PROTO_ANY && r->proto != flow->proto)
		return false;
	if (r->dscp != IPK_DSCP_ANY && r->dscp != flow->dscp)
		return false;
	if (!r->ports)
		return true;
	return has_ports && flow->sport >= r->sport_lo && flow->sport <= r->sport_hi &&
	       flow->dport >= r->dport_lo && flow->dport <= r->dport_hi;
}

static inline const struct entry *find_entry(const struct ipk_spd_index *idx, const struct tuple *t,
					     const uint64_t *key, unsigned words,
					     struct ipk_spd_cost *cost)
{
	uint32_t e = idx->buckets[t->bucket0 + (key_hash(key, words) & t->bucket_mask)];

	for (; e != NONE; e = idx->entries[e].next) {
		if (cost)
			cost->entries++;
		if (key_equal(idx->entries[e].key, key, words))
			return &idx->entries[e];
	}
	return NULL;
}

/* The entry's first matching rule that ranks before @best_rank, or NULL. */
static inline const struct ref *match_entry(const struct ipk_spd_index *idx, const struct entry *e,
					    const struct ipk_flow *flow, bool has_ports,
					    uint32_t best_rank, struct ipk_spd_cost *cost)
{
	const struct ref *r = &idx->refs[e->first], *end = r + e->count;

	for (; r < end && r->rank < best_rank; r++) {
		if (cost)
			cost->rules++;
		if (ref_matches(r, flow, has_ports))
			return r;
	}
	return NULL;
}

/* The lookup proper; @words is a constant at each call site so that the key loops unroll,
 * and @cost is NULL on the packet path so that its counting compiles away. */
static inline struct ipk_policy *lookup(const struct ipk_spd_index *idx,
					const struct ipk_flow *flow, struct ipk_spd_cost *cost,
					unsigned words)
{
	const struct tuple *t = idx->tuples, *end = t + idx->n_tuples;
	bool has_ports = ipk_spd_proto_has_ports(flow->proto);
	const struct ref *best = NULL;
	uint32_t best_rank = NONE;
	uint64_t key[4], masked[4];

	addr_key(key, &flow->src, &flow->dst, words);
	for (; t < end && t->min_rank < best_rank; t++) {
		const struct entry *e;
		const struct ref *r;

		if (cost)
			cost->tuples++;
		for (unsigned i = 0; i < words; i++)
			masked[i] = key[i] & t->mask[i];
		e = find_entry(idx, t, masked, words, cost);
		r = e ? match_entry(idx, e, flow, has_ports, best_rank, cost) : NULL;
		if (r) {
			best = r;
			best_rank = r->rank;
		}
	}
	return best ? best->pol : NULL;
}

struct ipk_policy *ipk_spd_index_lookup(const struct ipk_spd_index *idx,
					const struct ipk_flow *flow)
{
	if (idx->words == 1)
		return lookup(idx, flow, NULL, 1);
	return lookup(idx, flow, NULL, 4);
}

struct ipk_policy *ipk_spd_index_lookup_cost(const struct ipk_spd_index *idx,
					     const struct ipk_flow *flow, struct ipk_spd_cost *cost)
{
	memset(cost, 0, sizeof(*cost));
	return lookup(idx, flow, cost, idx->words);
}

/* ---- building ---- */

/* Scratch space of one build. */
struct build {
	struct ipk_spd_index *idx;
	struct ipk_policy **sel; /* the rules of the family, in match order: rank = position */
	uint32_t n_sel;
	uint32_t *slot;	    /* per selected rule: its tuple, then its entry */
	uint32_t *tuple_of; /* (slen, dlen) -> tuple, NONE if not yet seen */
	unsigned max_len;
};

static unsigned prefix_len(const struct ipk_prefix *p)
{
	return p->addr.family ? p->len : 0;
}

/* Pass 1: picks the family's rules and sorts them into tuples. Tuples are created in the
 * order of their first (lowest-ranked) rule, so they come out sorted by minimum rank. */
static void assign_tuples(struct build *b, struct ipk_policy *const *rules, uint32_t n)
{
	struct ipk_spd_index *idx = b->idx;

	for (uint32_t i = 0; i < n; i++) {
		const struct ipk_policy_params *p = &rules[i]->params;
		uint8_t fam = ipk_spd_rule_family(p);
		unsigned slen = prefix_len(&p->src), dlen = prefix_len(&p->dst);
		uint32_t *tid = &b->tuple_of[slen * (b->max_len + 1) + dlen];

		if (fam != 0 && fam != idx->family)
			continue;
		if (*tid == NONE) {
			struct tuple *t = &idx->tuples[idx->n_tuples];

			tuple_mask(t->mask, slen, dlen, idx->words);
			t->min_rank = b->n_sel;
			*tid = idx->n_tuples++;
		}
		idx->tuples[*tid].n_rules++;
		b->slot[b->n_sel] = *tid;
		b->sel[b->n_sel++] = rules[i];
	}
}

/* Sizes each tuple's table to at least twice its rules (load factor <= 1/2). */
static int alloc_buckets(struct ipk_spd_index *idx)
{
	uint32_t total = 0;

	for (uint32_t i = 0; i < idx->n_tuples; i++) {
		struct tuple *t = &idx->tuples[i];
		uint32_t size = 2;

		while (size < 2 * t->n_rules)
			size *= 2;
		t->bucket0 = total;
		t->bucket_mask = size - 1;
		total += size;
	}
	idx->buckets = malloc((total ? total : 1) * sizeof(*idx->buckets));
	if (!idx->buckets)
		return -ENOMEM;
	memset(idx->buckets, 0xff, total * sizeof(*idx->buckets));
	return 0;
}

/* Pass 2: finds or creates each selected rule's entry; slot[] turns into entry numbers. */
static void assign_entries(struct build *b)
{
	struct ipk_spd_index *idx = b->idx;
	uint64_t key[4] = { 0 };

	for (uint32_t i = 0; i < b->n_sel; i++) {
		const struct ipk_policy_params *p = &b->sel[i]->params;
		const struct tuple *t = &idx->tuples[b->slot[i]];
		uint32_t *head;
		const struct entry *found;

		addr_key(key, &p->src.addr, &p->dst.addr, idx->words);
		for (unsigned w = 0; w < idx->words; w++)
			key[w] &= t->mask[w];
		found = find_entry(idx, t, key, idx->words, NULL);
		if (!found) {
			struct entry *e = &idx->entries[idx->n_entries];

			head = &idx->buckets[t->bucket0 +
					     (key_hash(key, idx->words) & t->bucket_mask)];
			memcpy(e->key, key, sizeof(key));
			e->count = 0;
			e->next = *head;
			*head = idx->n_entries++;
			found = e;
		}
		b->slot[i] = (uint32_t)(found - idx->entries);
		idx->entries[b->slot[i]].count++;
	}
}

static void fill_ref(struct ref *r, struct ipk_policy *pol, uint32_t rank)
{
	const struct ipk_policy_params *p = &pol->params;

	r->pol = pol;
	r->rank = rank;
	r->proto = p->proto;
	r->sport_lo = p->sport_lo;
	r->sport_hi = p->sport_hi;
	r->dport_lo = p->dport_lo;
	r->dport_hi = p->dport_hi;
	r->dscp = p->dscp;
	r->ports =
	    p->sport_lo != 0 || p->sport_hi != 0xffff || p->dport_lo != 0 || p->dport_hi != 0xffff;
}

/* Pass 3: lays each entry's rules out contiguously. Visiting the rules in rank order
 * leaves every run sorted by rank. */
static void fill_refs(struct build *b)
{
	struct ipk_spd_index *idx = b->idx;
	uint32_t first = 0;

	for (uint32_t e = 0; e < idx->n_entries; e++) {
		idx->entries[e].first = first;
		first += idx->entries[e].count;
		idx->entries[e].count = 0;
	}
	for (uint32_t i = 0; i < b->n_sel; i++) {
		struct entry *e = &idx->entries[b->slot[i]];

		fill_ref(&idx->refs[e->first + e->count++], b->sel[i], i);
	}
	idx->n_refs = b->n_sel;
}

static int build_alloc(struct build *b, uint32_t n)
{
	size_t cap = n ? n : 1, lens = (size_t)(b->max_len + 1) * (b->max_len + 1);
	struct ipk_spd_index *idx = b->idx;

	/* Only the tuples need zeroing; the passes write every other field they read. */
	idx->tuples = calloc(cap < lens ? cap : lens, sizeof(*idx->tuples));
	idx->entries = malloc(cap * sizeof(*idx->entries));
	idx->refs = malloc(cap * sizeof(*idx->refs));
	b->sel = malloc(cap * sizeof(*b->sel));
	b->slot = malloc(cap * sizeof(*b->slot));
	b->tuple_of = malloc(lens * sizeof(*b->tuple_of));
	if (!idx->tuples || !idx->entries || !idx->refs || !b->sel || !b->slot || !b->tuple_of)
		return -ENOMEM;
	memset(b->tuple_of, 0xff, lens * sizeof(*b->tuple_of));
	return 0;
}

int ipk_spd_index_build(struct ipk_spd_index **out, struct ipk_policy *const *rules, uint32_t n,
			uint8_t family)
{
	struct build b = { .max_len = family == 6 ? 128 : 32 };
	int ret;

	b.idx = calloc(1, sizeof(*b.idx));
	if (!b.idx)
		return -ENOMEM;
	b.idx->family = family;
	b.idx->words = family == 6 ? 4 : 1;
	ret = build_alloc(&b, n);
	if (ret)
		goto free_scratch;
	assign_tuples(&b, rules, n);
	ret = alloc_buckets(b.idx);
	if (ret)
		goto free_scratch;
	assign_entries(&b);
	fill_refs(&b);
	*out = b.idx;
	b.idx = NULL;
free_scratch:
	/* On success b.idx is NULL here; on failure this frees the half-built index. */
	free(b.tuple_of);
	free(b.slot);
	free(b.sel);
	ipk_spd_index_destroy(b.idx);
	return ret;
}

void ipk_spd_index_destroy(struct ipk_spd_index *idx)
{
	if (!idx)
		return;
	free(idx->refs);
	free(idx->entries);
	free(idx->buckets);
	free(idx->tuples);
	free(idx);
}

void ipk_spd_index_forget(struct ipk_spd_index *idx, const struct ipk_policy *pol)
{
	for (uint32_t i = 0; i < idx->n_refs; i++) {
		if (idx->refs[i].pol == pol) {
			idx->refs[i].proto = PROTO_NEVER;
			idx->refs[i].pol = NULL;
		}
	}
}

uint32_t ipk_spd_index_tuples(const struct ipk_spd_index *idx)
{
	return idx->n_tuples;
}
