/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Path MTU handling of the gateway (RFC 4301 §8, RFC 4459, RFC 1191, RFC 8201): what
 * happens to an outbound packet that no longer fits the path once ESP is added.
 *
 * Before encryption (ipk_mtu_check, after the SA is chosen), a packet longer than the
 * SA's effective MTU (ipk_sa_effective_mtu) is
 *   - IPv4 with DF set: dropped (frag-needed); an ICMP "fragmentation needed and DF set"
 *     with next-hop MTU = the effective MTU goes back to its source (RFC 1191 §4);
 *   - IPv6 longer than 1280: dropped (frag-needed); an ICMPv6 Packet Too Big with
 *     MTU = max(1280, effective MTU) goes back (RFC 4443 §3.2). An IPv6 packet of at most
 *     1280 bytes is never refused (every IPv6 link must carry it, RFC 8200 §5): it is
 *     encrypted and the ESP packet fragmented, as RFC 4459 §3.1 describes;
 *   - IPv4 without DF: encrypted anyway; the ESP packet is fragmented after.
 * After the last SA (ipk_mtu_fragment), an ESP packet longer than the SA's mtu is
 * fragmented (proto/frag.h) with an identification from this context's counter.
 *
 * The error's source address: the SA's local (outer source) address when it is of the
 * inner packet's family, so that traceroute and PMTUD show the gateway; otherwise the
 * inner packet's destination (the only address of that family the gateway knows on the
 * path). TTL 64, DSCP CS6. The error is a new packet from the dropped packet's pool (none
 * when the pool is empty, counted), marked meta.dir = IPK_DIR_IN: it leaves toward the
 * plaintext side like a decrypted packet. Never an error about an ICMP error, a fragment
 * other than the first, or a non-unicast source (proto/icmp.h).
 *
 * Rate limit: a token bucket per context (default 100 errors/s, burst 10), so that a
 * flood of oversized packets cannot make the gateway amplify; suppressed errors are
 * counted. Time comes from ipk_clock (tests inject it).
 *
 * Conservation (engine.h): each error and each fragment is a packet that enters the path
 * (`generated`); each packet split into fragments leaves it (`consumed`).
 *
 * Threads: one context per processing thread (the packet scheduler, the inline worker);
 * the counters may be read from any thread.
 */
#ifndef IPK_ENGINE_MTU_H
#define IPK_ENGINE_MTU_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"

struct ipk_sa;

#define IPK_MTU_ICMP_RATE 100 /* errors per second */
#define IPK_MTU_ICMP_BURST 10

struct ipk_mtu_stats {
	_Atomic uint64_t icmp_sent;      /* errors built and handed on */
	_Atomic uint64_t icmp_limited;   /* suppressed by the rate limit */
	_Atomic uint64_t icmp_no_buffer; /* pool empty: none built */
	_Atomic uint64_t icmp_refused;   /* may not be answered (ICMP error, later fragment...) */
	_Atomic uint64_t fragmented;     /* ESP packets split */
	_Atomic uint64_t fragments;      /* pieces made of them */
};

struct ipk_mtu {
	uint64_t interval_ns; /* one token per interval */
	uint64_t burst_ns;    /* bucket depth, in time */
	uint64_t credit_ns;
	uint64_t last_ns;
	uint32_t next_id;     /* fragment identification (IPv4: low 16 bits) */
	struct ipk_mtu_stats stats;
};

/* Sets up a context: @rate_pps errors per second (0: none at all), bursts of @burst. */
void ipk_mtu_init(struct ipk_mtu *m, uint32_t rate_pps, uint32_t burst);

/*
 * The check before encryption of the outbound inner packet @pkt with @sa (the first SA
 * of its bundle). Returns 0 when the packet goes on (fits, or will be fragmented after
 * encryption), or IPK_DROP_FRAG_NEEDED: the caller drops @pkt with that reason. In that
 * case *@reply is the ICMP error to send toward the plaintext side (owned by the caller),
 * or NULL (suppressed, refused or no buffer: counted).
 * @pkt stays with the caller.
 */
int ipk_mtu_check(struct ipk_mtu *m, const struct ipk_sa *sa, struct ipk_pkt *pkt,
		  struct ipk_pkt **reply);

/*
 * After the last SA: appends @pkt to @out when it is at most @mtu bytes (or @mtu is 0),
 * else its fragments (from @pkt's pool). Consumes @pkt; on failure it is dropped in
 * @drops and the reason returned (see ipk_frag_split), else 0.
 */
int ipk_mtu_fragment(struct ipk_mtu *m, uint32_t mtu, struct ipk_pkt *pkt,
		     struct ipk_pkt_list *out, struct ipk_drop_stats *drops);

/* Packets made here (errors sent + fragments), and packets that left as fragments. */
uint64_t ipk_mtu_generated(const struct ipk_mtu *m);
uint64_t ipk_mtu_consumed(const struct ipk_mtu *m);

#endif
