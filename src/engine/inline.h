/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inline IPsec processing: one packet, start to finish, on the calling thread (SPD/SAD
 * lookups, reassembly, ESP, the inbound policy check). It is what a classic stack does,
 * and so it serves the offline pcap mode and the coupled baseline of the experiments;
 * the decoupled engine reuses its lookup steps and runs the ESP transform in crypto
 * units instead.
 *
 * Outbound (from the plaintext side): SPD lookup; bypass forwards unchanged, discard or no
 * match drops, protect applies the bundle's SAs in order (RFC 4301 §5.1).
 * Inbound (from the protected side): fragments are reassembled (RFC 4303 §3.4.1); ESP is
 * matched to its SA by SPI and destination, verified and decrypted, repeatedly for a
 * bundle, and the result must match an inbound protect policy naming those SAs
 * (RFC 4301 §5.2); other packets go through the inbound SPD (bypass or discard).
 *
 * Ownership: the functions consume @pkt. A forwarded packet comes back in *out (owned by
 * the caller); a dropped one is counted in ctx->drops under *why; a fragment may be held
 * by the reassembly.
 * Threads: one context per thread.
 */
#ifndef IPK_ENGINE_INLINE_H
#define IPK_ENGINE_INLINE_H

#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "engine/mtu.h"

struct ipk_sad;
struct ipk_spd;
struct ipk_reasm;

enum ipk_inline_result {
	IPK_INLINE_DROPPED,
	IPK_INLINE_HELD,      /* a fragment, kept until its datagram is whole */
	IPK_INLINE_BYPASSED,  /* forwarded unchanged by a bypass policy */
	IPK_INLINE_PROTECTED, /* ESP applied */
	IPK_INLINE_DECRYPTED, /* ESP removed and the policy check passed */
};

struct ipk_inline_stats {
	uint64_t bypassed;
	uint64_t protected_pkts;
	uint64_t decrypted;
	uint64_t held;
};

struct ipk_inline {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_reasm *reasm; /* NULL: fragments are dropped as frag-bad */
	uint16_t natt_port;      /* UDP port of RFC 3948 encapsulation; 0 = none */
	unsigned worker;         /* which of the SAs' crypto contexts this thread uses */
	struct ipk_drop_stats drops;
	struct ipk_inline_stats stats;
	struct ipk_mtu mtu;       /* too-big errors and outer fragmentation (engine/mtu.h) */
	struct ipk_pkt_list more; /* made by the last call besides *out: ipk_inline_next() */
};

/* Sets up a context over @sad and @spd; reassembly uses @reasm_pool (packets with room for
 * 64 KiB datagrams), or none if it is NULL. Returns 0 or a negative errno. */
int ipk_inline_init(struct ipk_inline *ctx, struct ipk_sad *sad, struct ipk_spd *spd,
		    struct ipk_pool *reasm_pool);
/* Drops what the reassembly still holds (counted) and frees it. */
void ipk_inline_fini(struct ipk_inline *ctx);

enum ipk_inline_result ipk_inline_outbound(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					   struct ipk_pkt **out, enum ipk_drop_reason *why);
enum ipk_inline_result ipk_inline_inbound(struct ipk_inline *ctx, struct ipk_pkt *pkt,
					  struct ipk_pkt **out, enum ipk_drop_reason *why);
/* The packets the last outbound call made besides *out, one by one, then NULL (the caller
 * owns each): the further fragments of an ESP packet longer than the SA's mtu (after the
 * first, which came in *out), and the ICMP error for a packet dropped as frag-needed
 * (meta.dir IPK_DIR_IN: it goes toward the plaintext side). Take them after every call;
 * ipk_inline_fini drops any left (hook-detached). */
struct ipk_pkt *ipk_inline_next(struct ipk_inline *ctx);
/* True when the packet is ESP (protocol 50, or a whole UDP datagram to natt_port). */
bool ipk_inline_is_esp(const struct ipk_inline *ctx, struct ipk_pkt *pkt);
/* For a capture with both sides mixed (the pcap mode): ESP goes inbound, everything else
 * outbound; UDP fragments are reassembled first, since only the whole datagram shows
 * whether it is UDP-encapsulated ESP. Same ownership as the two above. */
enum ipk_inline_result ipk_inline_auto(struct ipk_inline *ctx, struct ipk_pkt *pkt,
				       struct ipk_pkt **out, enum ipk_drop_reason *why);

#endif
