// SPDX-License-Identifier: BSD-2-Clause
#include "engine/mtu.h"

#include <string.h>

#include "core/clock.h"
#include "proto/frag.h"
#include "proto/icmp.h"
#include "proto/ip.h"
#include "sa/sa.h"

#define IPV4_DF 0x40 /* in byte 6 of the header */

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void ipk_mtu_init(struct ipk_mtu *m, uint32_t rate_pps, uint32_t burst)
{
	memset(m, 0, sizeof(*m));
	if (rate_pps) {
		m->interval_ns = IPK_NSEC_PER_SEC / rate_pps;
		m->burst_ns = m->interval_ns * (burst ? burst : 1);
	}
	m->credit_ns = m->burst_ns;
	m->last_ns = ipk_clock_now_ns();
	/* Start somewhere else after each restart, so that fragments of a previous run
	 * still held by the peer's reassembly are unlikely to match (RFC 791 §3.2). */
	m->next_id = (uint32_t)m->last_ns;
}

/* Token bucket kept in time: each error costs one interval of credit. */
static bool take_token(struct ipk_mtu *m)
{
	uint64_t now = ipk_clock_now_ns();

	if (!m->interval_ns)
		return false;
	if (now > m->last_ns) {
		m->credit_ns += now - m->last_ns;
		if (m->credit_ns > m->burst_ns)
			m->credit_ns = m->burst_ns;
		m->last_ns = now;
	}
	if (m->credit_ns < m->interval_ns)
		return false;
	m->credit_ns -= m->interval_ns;
	return true;
}

static struct ipk_pkt *answer(struct ipk_mtu *m, const struct ipk_sa *sa, struct ipk_pkt *pkt,
			      const struct ipk_ip_info *info, uint32_t eff)
{
	const struct ipk_addr *src = sa->params.src.family == info->version ? &sa->params.src :
									      &info->dst;
	struct ipk_pkt *r;

	if (!ipk_icmp_may_answer(ipk_pkt_data(pkt), pkt->len, info)) {
		count(&m->stats.icmp_refused, 1);
		return NULL;
	}
	if (!take_token(m)) {
		count(&m->stats.icmp_limited, 1);
		return NULL;
	}
	r = ipk_pkt_alloc(pkt->pool);
	if (!r || ipk_icmp_too_big(r, ipk_pkt_data(pkt), pkt->len, info, src, eff,
				   (uint16_t)m->next_id++)) {
		if (r)
			ipk_pkt_free(r);
		count(&m->stats.icmp_no_buffer, 1);
		return NULL;
	}
	r->meta.dir = IPK_DIR_IN;
	r->meta.rx_ns = ipk_clock_now_ns();
	r->meta.l3_family = info->version;
	ipk_pkt_reply_to(r, pkt);
	count(&m->stats.icmp_sent, 1);
	return r;
}

int ipk_mtu_check(struct ipk_mtu *m, const struct ipk_sa *sa, struct ipk_pkt *pkt,
		  struct ipk_pkt **reply)
{
	uint32_t eff = ipk_sa_effective_mtu(sa);
	struct ipk_ip_info info;

	*reply = NULL;
	if (!eff || pkt->len <= eff)
		return 0;
	/* A malformed packet is encapsulation's to refuse, with its own reason. */
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) || info.total_len <= eff)
		return 0;
	if (info.version == 4 && !(ipk_pkt_data(pkt)[6] & IPV4_DF))
		return 0;
	if (info.version == 6 && info.total_len <= IPK_IPV6_MIN_MTU)
		return 0;
	*reply = answer(m, sa, pkt, &info, eff);
	return IPK_DROP_FRAG_NEEDED;
}

int ipk_mtu_fragment(struct ipk_mtu *m, uint32_t mtu, struct ipk_pkt *pkt,
		     struct ipk_pkt_list *out, struct ipk_drop_stats *drops)
{
	struct ipk_pkt_list l = { 0 };
	int rc;

	if (!mtu || pkt->len <= mtu) {
		ipk_pkt_list_push(out, pkt);
		return 0;
	}
	rc = ipk_frag_split(pkt, mtu, m->next_id++, pkt->pool, &l, drops);
	if (rc)
		return rc;
	/* One piece: it fitted once link padding was trimmed, and is the packet itself. */
	if (l.count > 1) {
		count(&m->stats.fragmented, 1);
		count(&m->stats.fragments, l.count);
	}
	ipk_pkt_list_splice(out, &l);
	return 0;
}

uint64_t ipk_mtu_generated(const struct ipk_mtu *m)
{
	return atomic_load_explicit(&m->stats.icmp_sent, memory_order_relaxed) +
	       atomic_load_explicit(&m->stats.fragments, memory_order_relaxed);
}

uint64_t ipk_mtu_consumed(const struct ipk_mtu *m)
{
	return atomic_load_explicit(&m->stats.fragmented, memory_order_relaxed);
}
