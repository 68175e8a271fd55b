// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fragment sets live in one array allocated at create time; each set holds the fragment
 * packets themselves (up to REASM_MAX_FRAGS) and copies them into one out_pool packet when
 * the last hole closes. Sets are found through a chained hash on the key and kept on a
 * list in the order their first fragment arrived, so expiry and the timeout only ever look
 * at the head of that list.
 *
 * Policy choices, where the RFCs leave room:
 * - Overlap (RFC 5722): any byte covered twice drops the whole set and everything held
 *   for it, with the new fragment, under frag-overlap. An exact duplicate is treated as an
 *   overlap too (RFC 5722 §4 allows either): it costs one datagram at worst, and never
 *   lets a second copy with different bytes through. Nothing is remembered afterwards, so
 *   later fragments of that datagram start a new set, which then times out.
 * - Table full, byte budget full, or a set already holding REASM_MAX_FRAGS fragments: the
 *   new fragment is dropped (frag-no-memory) and the sets in progress are kept. Evicting
 *   old sets instead would let a flood of first fragments destroy every datagram in
 *   progress; refusing new work leaves that flood to the timeout.
 * - Oversize: a fragment reaching past max_datagram (unfragmentable part + offset + length)
 *   or past what the IP length field can carry (the "ping of death") is dropped alone
 *   (frag-oversize), as RFC 8200 §4.5 asks for IPv6.
 * - Malformed (frag-bad): unparsable, not a fragment, empty, a non-last fragment whose
 *   length is not a multiple of 8 (RFC 8200 §4.5) — dropped alone. Fragments that
 *   disagree about the datagram's end (two different last fragments, data past the end)
 *   drop the whole set.
 * - An IPv6 atomic fragment (offset 0, M clear) is a whole datagram: it is rebuilt on its
 *   own and never meets a set (RFC 6946 §4).
 */
#include "proto/reasm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "proto/ip.h"

/* Fragments one set can hold: a 65535-byte datagram over the 1280-byte IPv6 minimum MTU
 * takes 52 fragments. */
#define REASM_MAX_FRAGS 64
#define REASM_MAX_SETS 65536
/* Largest datagram the length fields can describe: IPv6 payload length 65535 plus the
 * fixed header (IPv4 stops at 65535 in total). */
#define REASM_DATAGRAM_LIMIT (65535u + IPK_IPV6_HDR_LEN)
#define REASM_DATAGRAM_MIN 68 /* RFC 791: every host takes 68-byte datagrams */
#define REASM_NONE UINT32_MAX

/* One fragment held, and what feed learnt about it. */
struct frag {
	struct ipk_pkt *pkt;
	uint32_t off;	   /* where its data goes in the reassembled payload */
	uint32_t len;	   /* data bytes */
	uint32_t data_off; /* where its data starts in ipk_pkt_data(pkt) */
	uint8_t version;
	uint8_t prev_nh_off; /* IPv6: the next-header byte that names the Fragment header */
};

/* Parsed view of a fed fragment. */
struct frag_in {
	struct frag f;
	struct ipk_ip_info info;
	uint32_t unfrag_len; /* bytes before the fragment data, Fragment header excluded */
};

struct set {
	/* Key: RFC 791 (src, dst, id, protocol); RFC 8200 §4.5 (src, dst, id). */
	uint8_t family;
	uint8_t proto; /* IPv4 only; 0 for IPv6 */
	uint32_t id;
	uint8_t src[16];
	uint8_t dst[16];

	uint64_t first_ns; /* arrival of the set's first fragment: the timeout counts from it */
	uint32_t end;	   /* payload length, known once the last fragment arrived; else 0 */
	uint32_t bytes;	   /* data bytes held */
	uint32_t nfrags;
	uint32_t first; /* index in frags[] of the offset-0 fragment, REASM_NONE if none */
	uint32_t hash;
	uint32_t hash_next; /* bucket chain, or free list */
	uint32_t age_prev;
	uint32_t age_next;
	struct frag frags[REASM_MAX_FRAGS];
};

struct ipk_reasm {
	struct ipk_reasm_config cfg;
	struct ipk_pool *out_pool;
	struct set *sets;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t free_head;
	uint32_t oldest;
	uint32_t newest;
	struct ipk_reasm_stats stats;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int config_resolve(const struct ipk_reasm_config *in, const struct ipk_pool *pool,
			  struct ipk_reasm_config *out)
{
	static const struct ipk_reasm_config defaults = {
	    .max_sets = 256,
	    .max_bytes = 4u << 20,
	    .max_datagram = 65535,
	    .timeout_ns = 30 * IPK_NSEC_PER_SEC,
	};

	*out = defaults;
	/* A zero field keeps its default, so callers set only what they change. */
	if (in && in->max_sets)
		out->max_sets = in->max_sets;
	if (in && in->max_bytes)
		out->max_bytes = in->max_bytes;
	if (in && in->max_datagram)
		out->max_datagram = in->max_datagram;
	if (in && in->timeout_ns)
		out->timeout_ns = in->timeout_ns;
	if (!pool || out->max_sets > REASM_MAX_SETS)
		return -EINVAL;
	if (out->max_datagram < REASM_DATAGRAM_MIN || out->max_datagram > REASM_DATAGRAM_LIMIT)
		return -EINVAL;
	if (pool->room < IPK_PKT_HEADROOM + out->max_datagram)
		return -EINVAL;
	return 0;
}

int ipk_reasm_create(struct ipk_reasm **out, const struct ipk_reasm_config *cfg,
		     struct ipk_pool *out_pool)
{
	struct ipk_reasm *r;
	uint32_t nbuckets = 1;
	int ret = -ENOMEM;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = config_resolve(cfg, out_pool, &r->cfg);
	if (ret)
		goto err_free_ctx;
	ret = -ENOMEM;
	while (nbuckets < r->cfg.max_sets)
		nbuckets <<= 1;
	r->sets = calloc(r->cfg.max_sets, sizeof(*r->sets));
	if (!r->sets)
		goto err_free_ctx;
	r->buckets = malloc(nbuckets * sizeof(*r->buckets));
	if (!r->buckets)
		goto err_free_sets;
	for (uint32_t i = 0; i < nbuckets; i++)
		r->buckets[i] = REASM_NONE;
	for (uint32_t i = 0; i < r->cfg.max_sets; i++)
		r->sets[i].hash_next = i + 1 < r->cfg.max_sets ? i + 1 : REASM_NONE;
	r->bucket_mask = nbuckets - 1;
	r->free_head = 0;
	r->oldest = REASM_NONE;
	r->newest = REASM_NONE;
	r->out_pool = out_pool;
	*out = r;
	return 0;

err_free_sets:
	free(r->sets);
err_free_ctx:
	free(r);
	return ret;
}

static uint8_t key_proto(const struct ipk_ip_info *info)
{
	return info->version == 4 ? info->proto : 0;
}

static uint32_t key_hash(const struct ipk_ip_info *info)
{
	/* FNV-1a over the key. Chains stay bounded by max_sets whatever the input. */
	uint32_t h = 2166136261u;
	size_t alen = ipk_addr_len(info->version);

	for (size_t i = 0; i < alen; i++) {
		h = (h ^ info->src.bytes[i]) * 16777619u;
		h = (h ^ info->dst.bytes[i]) * 16777619u;
	}
	h = (h ^ info->frag_id) * 16777619u;
	h = (h ^ (uint32_t)key_proto(info) << 8 ^ info->version) * 16777619u;
	return h;
}

static bool key_equal(const struct set *s, const struct ipk_ip_info *info)
{
	return s->family == info->version && s->id == info->frag_id &&
	       s->proto == key_proto(info) && memcmp(s->src, info->src.bytes, 16) == 0 &&
	       memcmp(s->dst, info->dst.bytes, 16) == 0;
}

static struct set *set_find(struct ipk_reasm *r, const struct ipk_ip_info *info)
{
	uint32_t i = r->buckets[key_hash(info) & r->bucket_mask];

	for (; i != REASM_NONE; i = r->sets[i].hash_next) {
		if (key_equal(&r->sets[i], info))
			return &r->sets[i];
	}
	return NULL;
}

/* Takes a free set, keys it and links it into its bucket and at the young end of the age
 * list. The caller checked that one is free. */
static struct set *set_open(struct ipk_reasm *r, const struct ipk_ip_info *info)
{
	uint32_t idx = r->free_head;
	uint32_t hash = key_hash(info);
	uint32_t *bucket = &r->buckets[hash & r->bucket_mask];
	struct set *s = &r->sets[idx];

	r->free_head = s->hash_next;
	s->family = info->version;
	s->proto = key_proto(info);
	s->id = info->frag_id;
	memcpy(s->src, info->src.bytes, 16);
	memcpy(s->dst, info->dst.bytes, 16);
	s->first_ns = ipk_clock_now_ns();
	s->end = 0;
	s->bytes = 0;
	s->nfrags = 0;
	s->first = REASM_NONE;
	s->hash = hash;
	s->hash_next = *bucket;
	*bucket = idx;
	s->age_prev = r->newest;
	s->age_next = REASM_NONE;
	if (r->newest != REASM_NONE)
		r->sets[r->newest].age_next = idx;
	else
		r->oldest = idx;
	r->newest = idx;
	r->stats.sets_in_progress++;
	return s;
}

static void set_unlink_hash(struct ipk_reasm *r, struct set *s, uint32_t idx)
{
	uint32_t *link = &r->buckets[s->hash & r->bucket_mask];

	while (*link != idx)
		link = &r->sets[*link].hash_next;
	*link = s->hash_next;
}

/* Returns the set to the free list. Its fragments must be gone already. */
static void set_release(struct ipk_reasm *r, struct set *s)
{
	uint32_t idx = (uint32_t)(s - r->sets);

	set_unlink_hash(r, s, idx);
	if (s->age_prev != REASM_NONE)
		r->sets[s->age_prev].age_next = s->age_next;
	else
		r->oldest = s->age_next;
	if (s->age_next != REASM_NONE)
		r->sets[s->age_next].age_prev = s->age_prev;
	else
		r->newest = s->age_prev;
	r->stats.bytes_held -= s->bytes;
	r->stats.sets_in_progress--;
	s->nfrags = 0;
	s->hash_next = r->free_head;
	r->free_head = idx;
}

/* Drops every fragment of @s, each counted once under @reason, and frees the set. */
static void set_drop(struct ipk_reasm *r, struct set *s, struct ipk_drop_stats *drops,
		     enum ipk_drop_reason reason)
{
	for (uint32_t i = 0; i < s->nfrags; i++)
		ipk_pkt_drop(s->frags[i].pkt, drops, reason);
	set_release(r, s);
}

void ipk_reasm_destroy(struct ipk_reasm *r, struct ipk_drop_stats *drops)
{
	if (!r)
		return;
	while (r->oldest != REASM_NONE)
		set_drop(r, &r->sets[r->oldest], drops, IPK_DROP_FRAG_TIMEOUT);
	free(r->buckets);
	free(r->sets);
	free(r);
}

void ipk_reasm_expire(struct ipk_reasm *r, struct ipk_drop_stats *drops)
{
	uint64_t now = ipk_clock_now_ns();

	/* The age list is in arrival order, so the first young set ends the walk. */
	while (r->oldest != REASM_NONE && now >= r->sets[r->oldest].first_ns + r->cfg.timeout_ns)
		set_drop(r, &r->sets[r->oldest], drops, IPK_DROP_FRAG_TIMEOUT);
}

void ipk_reasm_get_stats(const struct ipk_reasm *r, struct ipk_reasm_stats *stats)
{
	*stats = r->stats;
}

bool ipk_reasm_is_fragment(struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;

	return ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) == 0 && info.is_fragment;
}

/* Parses @pkt into @in and applies the checks that concern the fragment alone. Returns 0
 * or the reason to drop it. */
static int frag_parse(const struct ipk_reasm *r, struct ipk_pkt *pkt, struct frag_in *in)
{
	struct ipk_ip_info *info = &in->info;
	uint32_t limit;

	/* An IPv6 Fragment header cut short fails here too (truncated-ip from the parser). */
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, info) != 0 || !info->is_fragment)
		return IPK_DROP_FRAG_BAD;
	/* Lengths below come from the IP header, so link-layer padding past total_len is
	 * never taken for fragment data. */
	in->f.version = info->version;
	in->f.prev_nh_off = info->frag_prev_nh_off;
	if (info->version == 4) {
		in->unfrag_len = info->hdr_len;
		in->f.data_off = info->hdr_len;
		limit = 65535;
	} else {
		/* ipk_ip_info keeps the offset of the byte naming the Fragment header in 8
		 * bits; past that the header could not be removed correctly. */
		if (info->frag_hdr_off > UINT8_MAX + 8)
			return IPK_DROP_FRAG_BAD;
		in->unfrag_len = info->frag_hdr_off;
		in->f.data_off = info->frag_hdr_off + 8u;
		limit = REASM_DATAGRAM_LIMIT;
	}
	in->f.pkt = pkt;
	in->f.off = info->frag_offset;
	in->f.len = info->total_len - in->f.data_off;
	/* RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes. */
	if (in->f.len == 0 || (info->more_fragments && in->f.len % 8))
		return IPK_DROP_FRAG_BAD;
	if (r->cfg.max_datagram < limit)
		limit = r->cfg.max_datagram;
	if (in->unfrag_len + in->f.off + in->f.len > limit)
		return IPK_DROP_FRAG_OVERSIZE;
	return 0;
}

/* Returns 0 if @in fits @s, or the reason to drop the whole set with it. */
static int set_conflict(const struct set *s, const struct frag_in *in)
{
	uint32_t start = in->f.off, end = in->f.off + in->f.len;

	for (uint32_t i = 0; i < s->nfrags; i++) {
		const struct frag *h = &s->frags[i];

		if (start < h->off + h->len && h->off < end)
			return IPK_DROP_FRAG_OVERLAP;
	}
	if (s->end && end > s->end)
		return IPK_DROP_FRAG_BAD;
	if (in->info.more_fragments)
		return 0;
	/* Data held past this end; that includes an earlier last fragment with a larger
	 * end (one with a smaller end failed the test above). */
	for (uint32_t i = 0; i < s->nfrags; i++) {
		if (s->frags[i].off + s->frags[i].len > end)
			return IPK_DROP_FRAG_BAD;
	}
	return 0;
}

static bool has_room(const struct ipk_reasm *r, const struct set *s, uint32_t len)
{
	if (s && s->nfrags == REASM_MAX_FRAGS)
		return false;
	if (!s && r->free_head == REASM_NONE)
		return false;
	return r->stats.bytes_held + len <= r->cfg.max_bytes;
}

static void set_add(struct ipk_reasm *r, struct set *s, const struct frag_in *in)
{
	if (in->f.off == 0)
		s->first = s->nfrags;
	if (!in->info.more_fragments)
		s->end = in->f.off + in->f.len;
	s->frags[s->nfrags++] = in->f;
	s->bytes += in->f.len;
	r->stats.bytes_held += in->f.len;
}

/* Bytes before the fragment data that the datagram keeps: the IPv4 header, or everything
 * before the 8-byte IPv6 Fragment header. */
static uint32_t unfrag_len_of(const struct frag *f)
{
	return f->version == 4 ? f->data_off : f->data_off - 8;
}

/*
 * Writes the reassembled datagram into @dst: the unfragmentable part of the offset-0
 * fragment @first (RFC 791 §3.2, RFC 8200 §4.5), then every fragment's data at its offset.
 * IPv4: total length set, MF and offset cleared (DF kept), checksum recomputed. IPv6: the
 * Fragment header left out, the next-header byte that named it takes its next header,
 * payload length set.
 */
static void datagram_write(uint8_t *dst, const struct frag *first, const struct frag *frags,
			   uint32_t nfrags, uint32_t total)
{
	const uint8_t *head = ipk_pkt_data(first->pkt);
	uint32_t unfrag_len = unfrag_len_of(first);

	memcpy(dst, head, unfrag_len);
	for (uint32_t i = 0; i < nfrags; i++)
		memcpy(dst + unfrag_len + frags[i].off,
		       ipk_pkt_data(frags[i].pkt) + frags[i].data_off, frags[i].len);
	if (first->version == 4) {
		wr16(dst + 2, (uint16_t)total);
		wr16(dst + 6, rd16(dst + 6) & ~0x3fff);
		ipk_ipv4_set_checksum(dst);
		return;
	}
	dst[first->prev_nh_off] = head[unfrag_len]; /* the Fragment header's next header */
	wr16(dst + 4, (uint16_t)(total - IPK_IPV6_HDR_LEN));
}

/* Builds the datagram from @nfrags fragments, frees them, and returns it; or drops them
 * all (no-buffer, or frag-oversize when the offset-0 header made it too long). */
static struct ipk_pkt *datagram_build(struct ipk_reasm *r, struct frag *frags, uint32_t nfrags,
				      const struct frag *first, uint32_t end,
				      struct ipk_drop_stats *drops)
{
	uint32_t total = unfrag_len_of(first) + end;
	uint32_t limit = first->version == 4 ? 65535 : REASM_DATAGRAM_LIMIT;
	enum ipk_drop_reason reason = IPK_DROP_FRAG_OVERSIZE;
	struct ipk_pkt *out = NULL;
	uint8_t *dst = NULL;

	if (total <= limit && total <= r->cfg.max_datagram) {
		reason = IPK_DROP_NO_BUFFER;
		out = ipk_pkt_alloc(r->out_pool);
	}
	if (out)
		dst = ipk_pkt_put(out, total);
	if (unlikely(!dst)) {
		if (out)
			ipk_pkt_free(out);
		for (uint32_t i = 0; i < nfrags; i++)
			ipk_pkt_drop(frags[i].pkt, drops, reason);
		return NULL;
	}
	datagram_write(dst, first, frags, nfrags, total);
	out->meta = first->pkt->meta;
	out->meta.sa = NULL; /* no SA before ESP; a reference, if any, stays with the fragment */
	out->index = first->pkt->index;
	for (uint32_t i = 0; i < nfrags; i++)
		ipk_pkt_free(frags[i].pkt);
	r->stats.datagrams_out++;
	return out;
}

/* Adds @in to its set (opening one if needed); returns the datagram when it completed it. */
static struct ipk_pkt *feed_set(struct ipk_reasm *r, const struct frag_in *in,
				struct ipk_drop_stats *drops)
{
	struct set *s = set_find(r, &in->info);
	struct ipk_pkt *out;
	int reason;

	if (s) {
		reason = set_conflict(s, in);
		if (reason) {
			set_drop(r, s, drops, reason);
			ipk_pkt_drop(in->f.pkt, drops, reason);
			return NULL;
		}
	}
	if (!has_room(r, s, in->f.len)) {
		ipk_pkt_drop(in->f.pkt, drops, IPK_DROP_FRAG_NO_MEMORY);
		return NULL;
	}
	if (!s)
		s = set_open(r, &in->info);
	set_add(r, s, in);
	/* No overlaps and nothing past the end: the set is whole when the bytes add up. */
	if (!s->end || s->bytes != s->end)
		return NULL;
	out = datagram_build(r, s->frags, s->nfrags, &s->frags[s->first], s->end, drops);
	s->nfrags = 0; /* built or dropped: the packets are gone either way */
	set_release(r, s);
	return out;
}

struct ipk_pkt *ipk_reasm_feed(struct ipk_reasm *r, struct ipk_pkt *pkt,
			       struct ipk_drop_stats *drops)
{
	struct frag_in in;
	int reason;

	r->stats.fragments_in++;
	ipk_reasm_expire(r, drops);
	reason = frag_parse(r, pkt, &in);
	if (unlikely(reason)) {
		ipk_pkt_drop(pkt, drops, reason);
		return NULL;
	}
	/* RFC 6946 §4: an atomic fragment is a datagram on its own. */
	if (in.f.off == 0 && !in.info.more_fragments)
		return datagram_build(r, &in.f, 1, &in.f, in.f.len, drops);
	return feed_set(r, &in, drops);
}
