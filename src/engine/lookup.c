// SPDX-License-Identifier: BSD-2-Clause
#include "engine/lookup.h"

#include "proto/esp.h"
#include "sa/sad.h"

int ipk_lookup_parse_flow(struct ipk_pkt *pkt, struct ipk_ip_info *info, struct ipk_flow *flow)
{
	int rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, info);

	if (rc)
		return rc;
	ipk_pkt_trim(pkt, info->total_len);
	ipk_ip_flow(ipk_pkt_data(pkt), pkt->len, info, flow);
	return 0;
}

int ipk_lookup_out(const struct ipk_spd *spd, struct ipk_pkt *pkt, struct ipk_policy **pol)
{
	struct ipk_ip_info info;
	struct ipk_flow flow;
	int rc;

	*pol = NULL;
	rc = ipk_lookup_parse_flow(pkt, &info, &flow);
	if (rc)
		return rc;
	*pol = ipk_spd_lookup(spd, IPK_DIR_OUT, &flow);
	if (!*pol)
		return IPK_DROP_NO_POLICY;
	if ((*pol)->params.action == IPK_ACTION_DISCARD)
		return IPK_DROP_POLICY_DISCARD;
	return 0;
}

int ipk_lookup_sa_usable(const struct ipk_sa *sa)
{
	if (!sa)
		return IPK_DROP_NO_SA;
	/* Installed but past its hard lifetime (or being deleted): say so. */
	if (atomic_load_explicit(&sa->rt.dead, memory_order_acquire))
		return IPK_DROP_SA_EXPIRED;
	return 0;
}

int ipk_lookup_bundle_sa(const struct ipk_policy *pol, uint32_t pos, struct ipk_sa **sa)
{
	*sa = pos < pol->params.n_sa ? pol->sa[pos] : NULL;
	return ipk_lookup_sa_usable(*sa);
}

int ipk_lookup_first_sa(const struct ipk_policy *pol, struct ipk_pkt *pkt, struct ipk_sa **sa)
{
	if (!pol->params.n_class_sa)
		return ipk_lookup_bundle_sa(pol, 0, sa);
	/* The DSCP as the packet has it now: after the QoS chain of queue 1, whose markers
	 * may have re-marked it, so the class the chain chose picks the SA. */
	*sa = ipk_policy_sa_for_dscp(pol, ipk_ip_get_tos(ipk_pkt_data(pkt)) >> 2);
	return ipk_lookup_sa_usable(*sa);
}

bool ipk_lookup_is_esp(uint16_t natt_port, struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	uint32_t off, spi;
	int rc;

	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info))
		return false;
	if (info.proto == IPK_PROTO_ESP)
		return true;
	/* A UDP fragment cannot be told apart from plaintext: the caller reassembles. */
	if (info.proto != IPK_PROTO_UDP || info.is_fragment)
		return false;
	rc = ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, &info, natt_port, &off, &spi);
	return rc != IPK_DROP_NOT_ESP && rc != IPK_DROP_TRUNCATED_IP;
}

int ipk_lookup_in_sa(const struct ipk_sad *sad, uint16_t natt_port, struct ipk_pkt *pkt,
		     const struct ipk_ip_info *info, struct ipk_sa **sa, uint32_t *esp_off)
{
	uint32_t spi;
	int rc;

	rc = ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, info, natt_port, esp_off, &spi);
	if (rc)
		return rc;
	*sa = ipk_sad_lookup_in(sad, spi, &info->dst);
	return *sa ? 0 : IPK_DROP_UNKNOWN_SPI;
}

int ipk_lookup_in_plain(const struct ipk_spd *spd, struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	struct ipk_flow flow;
	struct ipk_policy *pol;
	int rc = ipk_lookup_parse_flow(pkt, &info, &flow);

	if (rc)
		return rc;
	pol = ipk_spd_lookup(spd, IPK_DIR_IN, &flow);
	if (!pol)
		return IPK_DROP_NO_POLICY;
	if (pol->params.action == IPK_ACTION_DISCARD)
		return IPK_DROP_POLICY_DISCARD;
	if (pol->params.action == IPK_ACTION_PROTECT)
		return IPK_DROP_NOT_PROTECTED;
	return 0;
}

bool ipk_lookup_policy_allows(const struct ipk_policy *pol, struct ipk_sa *const *used,
			      uint32_t n)
{
	/* Every SA of the bundle must have been removed, outermost first, and no other
	 * (RFC 4301 §5.2): holding the outer key alone must not get a packet past the
	 * inner SA. Outbound applied sa[0] innermost, so inbound removed sa[n-1] first. */
	if (!pol || pol->params.action != IPK_ACTION_PROTECT || n != pol->params.n_sa)
		return false;
	/* Per-class SAs: any of the rule's SAs (RFC 4301 §4.1 leaves the class to the
	 * sender; the receiver does not check the DSCP against the SA). */
	if (pol->params.n_class_sa)
		return ipk_policy_uses_sa(pol, used[0]);
	for (uint32_t u = 0; u < n; u++)
		if (used[u] != pol->sa[n - 1 - u])
			return false;
	return true;
}

struct allow_scan {
	const struct ipk_flow *flow;
	struct ipk_sa *const *used;
	uint32_t n;
	bool allowed;
};

static void allow_one(struct ipk_policy *pol, void *arg)
{
	struct allow_scan *sc = arg;

	if (!sc->allowed && ipk_lookup_policy_allows(pol, sc->used, sc->n) &&
	    ipk_policy_matches(pol, sc->flow))
		sc->allowed = true;
}

bool ipk_lookup_in_allowed(const struct ipk_spd *spd, const struct ipk_flow *flow,
			   struct ipk_sa *const *used, uint32_t n)
{
	struct ipk_policy *first = ipk_spd_lookup(spd, IPK_DIR_IN, flow);
	struct allow_scan sc = { .flow = flow, .used = used, .n = n };

	if (ipk_lookup_policy_allows(first, used, n))
		return true;
	/* The first match protects the flow, but with other SAs: a later inbound rule whose
	 * selectors match and which names these SAs also allows the packet (RFC 4301 §5.2
	 * asks for a matching policy naming the SAs used). This is make-before-break
	 * rekeying: the rule of the new SA is added beside the old one, and packets still on
	 * the old SA pass until it is deleted. A first match that bypasses or discards the
	 * flow is final. A linear scan, only for packets that verified under one of our
	 * SAs. */
	if (!first || first->params.action != IPK_ACTION_PROTECT)
		return false;
	ipk_spd_foreach(spd, IPK_DIR_IN, allow_one, &sc);
	return sc.allowed;
}
