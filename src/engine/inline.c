// SPDX-License-Identifier: BSD-2-Clause
#include "engine/inline.h"

#include <string.h>

#include "engine/lookup.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "proto/reasm.h"
#include "sa/sad.h"
#include "sa/spd.h"

int ipk_inline_init(struct ipk_inline *ctx, struct ipk_sad *sad, struct ipk_spd *spd,
		    struct ipk_pool *reasm_pool)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sad = sad;
	ctx->spd = spd;
	ctx->natt_port = IPK_NATT_PORT;
	ipk_mtu_init(&ctx->mtu, IPK_MTU_ICMP_RATE, IPK_MTU_ICMP_BURST);
	if (!reasm_pool)
		return 0;
	return ipk_reasm_create(&ctx->reasm, NULL, reasm_pool);
}

struct ipk_pkt *ipk_inline_next(struct ipk_inline *ctx)
{
	return ipk_pkt_list_pop(&ctx->more);
}

void ipk_inline_fini(struct ipk_inline *ctx)
{
	struct ipk_pkt *pkt;

	while ((pkt = ipk_inline_next(ctx)))
		ipk_pkt_drop(pkt, &ctx->drops, IPK_DROP_HOOK_DETACHED);
	if (ctx->reasm)
		ipk_reasm_destroy(ctx->reasm, &ctx->drops);
	ctx->reasm = NULL;
}

static enum ipk_inline_result drop(struct ipk_inline *ctx, struct ipk_pkt *pkt,
				   enum ipk_drop_reason reason, enum ipk_drop_reason *why)
{
	*why = reason;
	ipk_pkt_drop(pkt, &ctx->drops, reason);
	return IPK_INLINE_DROPPED;
}

/* RFC 4301 §8.1, RFC 1191: a packet the SA's path cannot carry whole and must not be
 * fragmented is refused, the sender told by an ICMP error put on ctx->more
 * (engine/mtu.h). Returns 0 or frag-needed. */
static int too_big(struct ipk_inline *ctx, const struct ipk_sa *sa, struct ipk_pkt *pkt)
{
	struct ipk_pkt *reply;
	int rc = ipk_mtu_check(&ctx->mtu, sa, pkt, &reply);

	if (reply)
		ipk_pkt_list_push(&ctx->more, reply);
	return rc;
}

/* Applies the bundle in order: sa[0] innermost (RFC 4301 §4.5); *@last is the outermost. */
static int apply_bundle(struct ipk_inline *ctx, const struct ipk_policy *pol, struct ipk_pkt *pkt,
			struct ipk_sa **last)
{
	for (uint32_t i = 0; i < pol->params.n_sa; i++) {
		struct ipk_sa *sa;
		int rc = i ? ipk_lookup_bundle_sa(pol, i, &sa) : ipk_lookup_first_sa(pol, pkt, &sa);

		if (rc)
			return rc;
		if (!i && (rc = too_big(ctx, sa, pkt)))
			return rc;
		rc = ipk_esp_encap(sa, pkt, ctx->worker);
		if (rc)
			return rc;
		*last = sa;
	}
	return 0;
}

/* RFC 4301 §8.1: an ESP packet longer than the last SA's path MTU leaves in fragments:
 * the first in *@out, the others on ctx->more. Returns 0 or the drop reason (@pkt was
 * dropped, counted). Consumes @pkt. */
static int fragment(struct ipk_inline *ctx, const struct ipk_sa *last, struct ipk_pkt *pkt,
		    struct ipk_pkt **out)
{
	struct ipk_pkt_list frags = { 0 };
	int rc = ipk_mtu_fragment(&ctx->mtu, last ? last->params.mtu : 0, pkt, &frags,
				  &ctx->drops);

	if (rc)
		return rc;
	*out = ipk_pkt_list_pop(&frags);
	ipk_pkt_list_splice(&ctx->more, &frags);
	return 0;
}

enum ipk_inline_result ipk_inline_outbound(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					   struct ipk_pkt **out, enum ipk_drop_reason *why)
{
	struct ipk_policy *pol;
	struct ipk_sa *last = NULL;
	int rc;

	*out = NULL;
	*why = IPK_DROP_NONE;
	rc = ipk_lookup_out(ctx->spd, pkt, &pol);
	if (rc)
		return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
	*out = pkt;
	if (pol->params.action == IPK_ACTION_BYPASS) {
		ctx->stats.bypassed++;
		return IPK_INLINE_BYPASSED;
	}
	rc = apply_bundle(ctx, pol, pkt, &last);
	if (rc) {
		*out = NULL;
		return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
	}
	rc = fragment(ctx, last, pkt, out);
	if (rc) {
		*why = (enum ipk_drop_reason)rc;
		return IPK_INLINE_DROPPED;
	}
	ctx->stats.protected_pkts++;
	return IPK_INLINE_PROTECTED;
}

bool ipk_inline_is_esp(const struct ipk_inline *ctx, struct ipk_pkt *pkt)
{
	return ipk_lookup_is_esp(ctx->natt_port, pkt);
}

/* Removes one ESP layer. Returns 0 and the SA used, or a drop reason. */
static int decap_one(struct ipk_inline *ctx, struct ipk_pkt *pkt, const struct ipk_ip_info *info,
		     struct ipk_sa **used)
{
	uint32_t esp_off;
	struct ipk_sa *sa;
	int rc;

	rc = ipk_lookup_in_sa(ctx->sad, ctx->natt_port, pkt, info, &sa, &esp_off);
	if (rc)
		return rc;
	*used = sa;
	return ipk_esp_decap(sa, pkt, esp_off, ctx->worker);
}

/* The reason whose counter moved since @before: what the reassembly just dropped. */
static enum ipk_drop_reason reason_since(const struct ipk_drop_stats *now,
					 const uint64_t before[IPK_DROP_COUNT])
{
	for (unsigned r = 1; r < IPK_DROP_COUNT; r++)
		if (ipk_drop_read(now, (enum ipk_drop_reason)r) != before[r])
			return (enum ipk_drop_reason)r;
	return IPK_DROP_NONE;
}

/* Reassembles if needed; returns the whole packet, or NULL when held (*why none) or
 * dropped (*why the reason). */
static struct ipk_pkt *reassemble(struct ipk_inline *ctx, struct ipk_pkt *pkt,
				  struct ipk_ip_info *info, enum ipk_drop_reason *why)
{
	uint64_t before[IPK_DROP_COUNT];

	if (!ctx->reasm) {
		*why = IPK_DROP_FRAG_BAD;
		ipk_pkt_drop(pkt, &ctx->drops, IPK_DROP_FRAG_BAD);
		return NULL;
	}
	for (unsigned r = 0; r < IPK_DROP_COUNT; r++)
		before[r] = ipk_drop_read(&ctx->drops, (enum ipk_drop_reason)r);
	pkt = ipk_reasm_feed(ctx->reasm, pkt, &ctx->drops);
	if (!pkt) {
		*why = reason_since(&ctx->drops, before);
		return NULL;
	}
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, info)) {
		*why = IPK_DROP_FRAG_BAD;
		ipk_pkt_drop(pkt, &ctx->drops, IPK_DROP_FRAG_BAD);
		return NULL;
	}
	return pkt;
}

static enum ipk_inline_result inbound_plain(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					    struct ipk_pkt **out, enum ipk_drop_reason *why)
{
	int rc = ipk_lookup_in_plain(ctx->spd, pkt);

	if (rc)
		return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
	ctx->stats.bypassed++;
	*out = pkt;
	return IPK_INLINE_BYPASSED;
}

/* After the first ESP layer is gone: more layers of a bundle, then the policy check. */
static enum ipk_inline_result inbound_inner(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					    struct ipk_sa **used, uint32_t n_used,
					    struct ipk_pkt **out, enum ipk_drop_reason *why)
{
	struct ipk_ip_info info;
	struct ipk_flow flow;
	int rc;

	for (;;) {
		rc = ipk_lookup_parse_flow(pkt, &info, &flow);
		if (rc)
			return drop(ctx, pkt, IPK_DROP_INNER_MISMATCH, why);
		uint32_t esp_off;
		struct ipk_sa *sa;

		/* Only ESP for one of our inbound SAs is another layer of a bundle; anything
		 * else (a host's own UDP 4500 traffic, someone else's ESP) is payload. */
		if (n_used == IPK_BUNDLE_MAX ||
		    ipk_lookup_in_sa(ctx->sad, ctx->natt_port, pkt, &info, &sa, &esp_off))
			break;
		used[n_used] = sa;
		rc = ipk_esp_decap(sa, pkt, esp_off, ctx->worker);
		if (rc)
			return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
		n_used++;
	}
	if (!ipk_lookup_in_allowed(ctx->spd, &flow, used, n_used))
		return drop(ctx, pkt, IPK_DROP_POLICY_MISMATCH, why);
	ctx->stats.decrypted++;
	*out = pkt;
	return IPK_INLINE_DECRYPTED;
}

/* Reassembles a fragment; NULL (with the result in *res) when it was held or dropped. */
static struct ipk_pkt *whole_datagram(struct ipk_inline *ctx, struct ipk_pkt *pkt,
				      struct ipk_ip_info *info, enum ipk_inline_result *res,
				      enum ipk_drop_reason *why)
{
	pkt = reassemble(ctx, pkt, info, why);
	if (!pkt) {
		ctx->stats.held += *why == IPK_DROP_NONE;
		*res = *why == IPK_DROP_NONE ? IPK_INLINE_HELD : IPK_INLINE_DROPPED;
	}
	return pkt;
}

/* Inbound processing of a whole (reassembled) datagram parsed in @info. */
static enum ipk_inline_result inbound_whole(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					    const struct ipk_ip_info *info, struct ipk_pkt **out,
					    enum ipk_drop_reason *why)
{
	struct ipk_sa *used[IPK_BUNDLE_MAX];
	int rc;

	if (!ipk_inline_is_esp(ctx, pkt))
		return inbound_plain(ctx, pkt, out, why);
	rc = decap_one(ctx, pkt, info, &used[0]);
	if (rc)
		return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
	return inbound_inner(ctx, pkt, used, 1, out, why);
}

enum ipk_inline_result ipk_inline_inbound(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					  struct ipk_pkt **out, enum ipk_drop_reason *why)
{
	enum ipk_inline_result res;
	struct ipk_ip_info info;
	int rc;

	*out = NULL;
	*why = IPK_DROP_NONE;
	rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info);
	if (rc)
		return drop(ctx, pkt, (enum ipk_drop_reason)rc, why);
	if (info.is_fragment && !(pkt = whole_datagram(ctx, pkt, &info, &res, why)))
		return res;
	return inbound_whole(ctx, pkt, &info, out, why);
}

enum ipk_inline_result ipk_inline_auto(struct ipk_inline *ctx, struct ipk_pkt *pkt,
				       struct ipk_pkt **out, enum ipk_drop_reason *why)
{
	enum ipk_inline_result res;
	struct ipk_ip_info info;

	*out = NULL;
	*why = IPK_DROP_NONE;
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info))
		return ipk_inline_outbound(ctx, pkt, out, why);
	/* A UDP fragment may be plaintext or UDP-encapsulated ESP (RFC 3948): only the whole
	 * datagram tells. It is then protected whole, which a tunnel may do (RFC 4301 §7). */
	if (info.is_fragment && info.proto == IPK_PROTO_UDP) {
		pkt = whole_datagram(ctx, pkt, &info, &res, why);
		if (!pkt)
			return res;
		if (ipk_inline_is_esp(ctx, pkt))
			return inbound_whole(ctx, pkt, &info, out, why);
		return ipk_inline_outbound(ctx, pkt, out, why);
	}
	if (ipk_inline_is_esp(ctx, pkt))
		return ipk_inline_inbound(ctx, pkt, out, why);
	return ipk_inline_outbound(ctx, pkt, out, why);
}
