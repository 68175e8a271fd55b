/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IPsec decisions for one packet, as steps: outbound SPD lookup (RFC 4301 §5.1),
 * the bundle's next SA, finding ESP and its inbound SA (RFC 4301 §5.2, RFC 4303 §3.4.2),
 * the inbound SPD for plaintext, and the inbound policy check after decryption
 * (RFC 4301 §5.2 step 4). The inline path (inline.c) runs them back to back on one
 * thread; the decoupled engine runs them in the packet scheduler and the ESP transform in
 * crypto units in between.
 *
 * Ownership: @pkt always stays with the caller; a step that fails returns the drop reason
 * and the caller drops the packet with it.
 * Threads: any; the SPD and SAD are only read (changes are serialised by the caller).
 */
#ifndef IPK_ENGINE_LOOKUP_H
#define IPK_ENGINE_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"
#include "proto/ip.h"
#include "sa/spd.h"

struct ipk_sad;

/* Parses the IP packet in @pkt, trims link padding past its IP length, fills @flow.
 * Returns 0 or a drop reason. */
int ipk_lookup_parse_flow(struct ipk_pkt *pkt, struct ipk_ip_info *info, struct ipk_flow *flow);

/* Outbound SPD decision. Returns 0 with the bypass or protect policy in *pol, or a drop
 * reason: a parse error, no-policy, policy-discard. */
int ipk_lookup_out(const struct ipk_spd *spd, struct ipk_pkt *pkt, struct ipk_policy **pol);

/* 0 when @sa can carry packets, else why not: no-sa (NULL), sa-expired (past its hard
 * lifetime, or deleted). */
int ipk_lookup_sa_usable(const struct ipk_sa *sa);
/* SA number @pos of @pol's bundle (0 innermost, RFC 4301 §4.5). Returns 0 and the SA
 * (no reference taken) or no-sa when it is missing or dead. */
int ipk_lookup_bundle_sa(const struct ipk_policy *pol, uint32_t pos, struct ipk_sa **sa);
/* The first SA for outbound @pkt: the rule's class SA for the packet's DSCP when it names
 * one (per-class SAs, spd.h), else bundle SA 0. Returns as ipk_lookup_bundle_sa(). */
int ipk_lookup_first_sa(const struct ipk_policy *pol, struct ipk_pkt *pkt, struct ipk_sa **sa);

/* True when the packet looks like ESP: protocol 50, or UDP to @natt_port (RFC 3948). */
bool ipk_lookup_is_esp(uint16_t natt_port, struct ipk_pkt *pkt);

/* Finds the ESP header of the packet (parsed in @info) and its inbound SA by SPI and
 * destination. Returns 0 with the SA (no reference taken) and the ESP offset, or a drop
 * reason: not-esp, truncated-esp, nat-keepalive, non-esp-marker, unknown-spi. */
int ipk_lookup_in_sa(const struct ipk_sad *sad, uint16_t natt_port, struct ipk_pkt *pkt,
		     const struct ipk_ip_info *info, struct ipk_sa **sa, uint32_t *esp_off);

/* Inbound SPD decision for a plaintext packet. Returns 0 (bypass) or a drop reason: a
 * parse error, no-policy, policy-discard, not-protected (a protect policy matched). */
int ipk_lookup_in_plain(const struct ipk_spd *spd, struct ipk_pkt *pkt);

/* RFC 4301 §5.2 step 4: @pol must be an inbound protect policy whose bundle holds every
 * SA in @used (the @n SAs whose layers were removed). */
bool ipk_lookup_policy_allows(const struct ipk_policy *pol, struct ipk_sa *const *used,
			      uint32_t n);
/* The inbound check after the last layer was removed: true when the first inbound rule
 * matching @flow allows @used, or, failing that, a later matching rule does (lookup.c:
 * make-before-break rekeying). */
bool ipk_lookup_in_allowed(const struct ipk_spd *spd, const struct ipk_flow *flow,
			   struct ipk_sa *const *used, uint32_t n);

#endif
