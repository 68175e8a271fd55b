/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Drop reasons and drop counters.
 *
 * Every packet ipseck does not deliver is counted under exactly one reason. The reasons
 * are defined once, in IPK_DROP_REASONS, which generates the enum, the name table and
 * the name parser. A struct ipk_drop_stats is one counter per reason; each place that
 * may drop (an SA, a hook, the pcap mode) owns one, so drops are counted per place and
 * per reason.
 */
#ifndef IPK_CORE_DROP_H
#define IPK_CORE_DROP_H

#include <stdatomic.h>
#include <stdint.h>

/* X(enum suffix, name shown to operators, what it means) */
#define IPK_DROP_REASONS(X)                                                                   \
	X(TRUNCATED_IP, "truncated-ip", "shorter than its IP header")                        \
	X(BAD_IP_VERSION, "bad-ip-version", "IP version is neither 4 nor 6")                 \
	X(BAD_IP_HEADER, "bad-ip-header", "bad IHL, checksum or extension header chain")     \
	X(IP_LENGTH_MISMATCH, "ip-length-mismatch", "IP length disagrees with the frame")    \
	X(NOT_ESP, "not-esp", "not ESP on the ESP path")                                    \
	X(TRUNCATED_ESP, "truncated-esp", "too short for ESP header, IV and ICV")           \
	X(BAD_CIPHERTEXT_LENGTH, "bad-ciphertext-length", "not a multiple of the block")    \
	X(UNKNOWN_SPI, "unknown-spi", "no inbound SA for this SPI and destination")         \
	X(BAD_ICV, "bad-icv", "integrity check failed")                                     \
	X(REPLAY_DUPLICATE, "replay-duplicate", "sequence number already received")         \
	X(REPLAY_TOO_OLD, "replay-too-old", "sequence number left of the replay window")    \
	X(BAD_PADDING, "bad-padding", "padding bytes not 1, 2, 3, ...")                     \
	X(BAD_PAD_LENGTH, "bad-pad-length", "pad length larger than the payload")           \
	X(EMPTY_PAYLOAD, "empty-payload", "no payload after removing the trailer")          \
	X(DUMMY_PACKET, "dummy-packet", "next header 59: traffic flow confidentiality")     \
	X(BAD_NEXT_HEADER, "bad-next-header", "next header invalid for the SA's mode")      \
	X(INNER_MISMATCH, "inner-mismatch", "decrypted inner packet malformed")            \
	X(POLICY_MISMATCH, "policy-mismatch", "decrypted packet outside the SA's policy")   \
	X(NOT_PROTECTED, "not-protected", "plaintext where a protect policy applies")       \
	X(ECN_CE_NOT_ECT, "ecn-ce-not-ect", "RFC 6040: outer CE on a Not-ECT inner packet") \
	X(SA_EXPIRED, "sa-expired", "hard lifetime reached")                                \
	X(SEQ_EXHAUSTED, "seq-exhausted", "outbound sequence number would wrap")            \
	X(POLICY_DISCARD, "policy-discard", "a discard policy matched")                     \
	X(NO_POLICY, "no-policy", "no policy matched (default discard)")                    \
	X(NO_SA, "no-sa", "the policy's SA is not installed")                               \
	X(TOO_BIG, "too-big", "does not fit the buffer after encapsulation")                \
	X(FRAG_NEEDED, "frag-needed", "over the SA's effective MTU, DF or IPv6: ICMP sent") \
	X(NO_BUFFER, "no-buffer", "packet buffer pool empty")                               \
	X(CRYPTO_ERROR, "crypto-error", "libcrypto reported an error")                      \
	X(NAT_KEEPALIVE, "nat-keepalive", "RFC 3948 NAT keepalive consumed")                \
	X(NON_ESP_MARKER, "non-esp-marker", "UDP 4500 packet for IKE, not ESP")             \
	X(FRAG_TIMEOUT, "frag-timeout", "fragment set incomplete at timeout")               \
	X(FRAG_OVERLAP, "frag-overlap", "overlapping fragments")                            \
	X(FRAG_OVERSIZE, "frag-oversize", "reassembled size over the limit")                \
	X(FRAG_NO_MEMORY, "frag-no-memory", "reassembly table or memory budget full")       \
	X(FRAG_BAD, "frag-bad", "malformed fragment")                                       \
	X(UNSUPPORTED, "unsupported", "valid packet of a kind ipseck does not process")     \
	X(QUEUE_FULL, "queue-full", "queue limit (packets or bytes) reached")              \
	X(RED, "red", "RED/WRED early drop")                                               \
	X(CODEL, "codel", "CoDel: sojourn time above target for an interval")              \
	X(METER, "meter", "meter colour action drop")                                      \
	X(HOOK_DETACHED, "hook-detached", "held by a detached chain with nowhere to go")

/* Functions that return "0 or a drop reason" rely on no reason being 0. */
enum ipk_drop_reason {
	IPK_DROP_NONE = 0,
#define IPK_DROP_ENUM(id, name, help) IPK_DROP_##id,
	IPK_DROP_REASONS(IPK_DROP_ENUM)
#undef IPK_DROP_ENUM
	IPK_DROP_COUNT
};

/* Counters for one place that drops. Relaxed atomics: any thread may count. */
struct ipk_drop_stats {
	_Atomic uint64_t count[IPK_DROP_COUNT];
};

/* "bad-icv" for IPK_DROP_BAD_ICV; "?" for an out-of-range value. */
const char *ipk_drop_name(enum ipk_drop_reason reason);
/* One-line explanation of a reason. */
const char *ipk_drop_help(enum ipk_drop_reason reason);
/* Parses a name back into a reason. Returns 0 or -ENOENT. */
int ipk_drop_parse(const char *name, enum ipk_drop_reason *reason);

static inline void ipk_drop_count(struct ipk_drop_stats *stats, enum ipk_drop_reason reason)
{
	if (stats)
		atomic_fetch_add_explicit(&stats->count[reason], 1, memory_order_relaxed);
}

static inline uint64_t ipk_drop_read(const struct ipk_drop_stats *stats,
				     enum ipk_drop_reason reason)
{
	return atomic_load_explicit(&stats->count[reason], memory_order_relaxed);
}

/* Sum over all reasons. */
uint64_t ipk_drop_total(const struct ipk_drop_stats *stats);

#endif
