/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Security associations (RFC 4301 §4.4.2).
 *
 * An SA is split (STYLE 4): `struct ipk_sa_rt` is the small, cache-line-aligned state the
 * packet path reads and writes (sequence numbers, replay window, crypto contexts,
 * counters); the rest of `struct ipk_sa` is control state (name, parameters, lifetimes).
 *
 * Lifetime: created by ipk_sa_create() with one reference, owned by the SAD. A packet in
 * flight holds a reference (ipk_sa_get/ipk_sa_put, always in pairs). Deleting an SA marks
 * it dead (no new packets use it) and drops the SAD's reference; the last put wipes the
 * keys (OPENSSL_cleanse) and frees it.
 */
#ifndef IPK_SA_SA_H
#define IPK_SA_SA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/compiler.h"
#include "core/drop.h"
#include "core/err.h"
#include "core/names.h"
#include "crypto/alg.h"

#define IPK_NAME_MAX 32
#define IPK_KEY_MAX 64
#define IPK_SA_MAX_WORKERS 64
#define IPK_NATT_PORT 4500

enum ipk_dir { IPK_DIR_IN = 0, IPK_DIR_OUT = 1 };
enum ipk_mode { IPK_MODE_TUNNEL = 0, IPK_MODE_TRANSPORT = 1 };

/* Zero in a field means "no limit". */
struct ipk_lifetime {
	uint64_t bytes;
	uint64_t packets;
	uint64_t seconds;
};

/* What `sa add` says; validated by ipk_sa_params_check(). */
struct ipk_sa_params {
	char name[IPK_NAME_MAX];
	uint32_t spi;
	enum ipk_dir dir;
	enum ipk_mode mode;
	struct ipk_addr src;   /* tunnel: outer source; transport: the sending peer */
	struct ipk_addr dst;   /* tunnel: outer destination; transport: the receiving peer */
	const struct ipk_alg *alg;
	uint8_t enc_key[IPK_KEY_MAX]; /* cipher key || salt */
	uint8_t enc_key_len;
	uint8_t auth_key[IPK_KEY_MAX];
	uint8_t auth_key_len;
	bool esn;
	uint32_t replay_window; /* inbound; 0 turns replay protection off */
	bool encap_udp;         /* RFC 3948 */
	uint16_t encap_sport;
	uint16_t encap_dport;
	uint8_t ttl;            /* outer TTL / hop limit in tunnel mode */
	uint64_t seq_start;     /* outbound: last number used (next packet gets +1) */
	struct ipk_lifetime hard;
	struct ipk_lifetime soft;
	/* Outbound: path MTU toward the peer (RFC 4301 §8): IPv4 outer 576..65535, IPv6 outer
	 * 1280..65535; 0 = no limit, the default (never fragment, never send "too big"): a
	 * limit the operator did not ask for would break links whose MTU exceeds 1500 bytes.
	 * Inbound SAs keep it but do not use it. */
	uint32_t mtu;
};

/* Per-SA counters. Inbound counters advance only for packets that verified. */
struct ipk_sa_stats {
	_Atomic uint64_t packets;
	_Atomic uint64_t bytes;    /* inner bytes protected or recovered */
	struct ipk_drop_stats drops;
};

struct ipk_replay;
struct ipk_sa;

/* Called (from the packet path, any thread) once when an SA crosses a soft limit, and
 * once when it crosses a hard limit: the hook for a rekeying IKE daemon. A hard-limit call
 * is made after the SA was marked dead. Running out of outbound sequence numbers calls it
 * once too, with @hard true, seq_exhausted set and the SA not dead (RFC 4303 §3.3.3: a new
 * SA is needed). */
typedef void (*ipk_sa_event_fn)(struct ipk_sa *sa, bool hard, void *arg);


/* The part the packet path touches. */
struct ipk_sa_rt {
	_Atomic uint64_t seq_out;  /* outbound: last sequence number used */
	struct ipk_replay *replay; /* inbound, NULL when the window is off */
	struct ipk_crypto *crypto[IPK_SA_MAX_WORKERS]; /* one context per crypto unit */
	uint32_t n_crypto;
	uint32_t spi;
	const struct ipk_alg *alg;
	uint8_t dir, mode, esn, encap_udp;
	_Atomic bool dead;         /* deleted or hard-expired: use no more */
	_Atomic bool soft_expired; /* the soft-lifetime event was raised */
	_Atomic int refcnt;
} __attribute__((aligned(IPK_CACHELINE)));

struct ipk_sa {
	struct ipk_sa_rt rt;
	struct ipk_sa_stats stats;
	struct ipk_sa_params params; /* keys included; wiped on free */
	uint64_t created_ns;
	_Atomic bool seq_exhausted;  /* the sequence-exhausted event was raised */
	ipk_sa_event_fn event;       /* soft/hard lifetime events, set by the SAD */
	void *event_arg;
	struct ipk_name_node name_node; /* in the SAD's name table */
};

/* Checks that @p is complete and consistent (key lengths for the algorithm, address
 * families, window bounds, soft <= hard). Writes a message and returns -EINVAL if not. */
int ipk_sa_params_check(const struct ipk_sa_params *p, struct ipk_err *err);
/* Fills defaults: replay window 1024 (IPK_REPLAY_DEFAULT), TTL 64, NAT-T ports 4500, no
 * MTU limit. */
void ipk_sa_params_init(struct ipk_sa_params *p);

/* Creates an SA with @n_workers crypto contexts (one per crypto unit) and one reference.
 * Returns 0, -EINVAL (message in @err) or -ENOMEM. Control plane only. */
int ipk_sa_create(struct ipk_sa **out, const struct ipk_sa_params *p, uint32_t n_workers,
		  struct ipk_err *err);

static inline void ipk_sa_get(struct ipk_sa *sa)
{
	atomic_fetch_add_explicit(&sa->rt.refcnt, 1, memory_order_relaxed);
}
/* Drops a reference; the last one frees the SA and wipes its keys. */
void ipk_sa_put(struct ipk_sa *sa);
/* Marks the SA dead: the packet path stops using it. */
void ipk_sa_kill(struct ipk_sa *sa);

/* Outbound: takes the next sequence number, atomically, at encryption time. Returns false
 * when it would wrap: 2^32-1 without ESN, 2^64-1 with ESN
 * (RFC 4303 §3.3.3: the sender must not cycle the counter; a new SA is needed). */
bool ipk_sa_next_seq(struct ipk_sa *sa, uint64_t *seq);

/* Lifetime accounting after a packet was protected (out) or verified (in). Raises the
 * soft event (sa->event) once and kills the SA at the hard limit. Returns false if the SA is past its
 * hard limit (the packet that crossed it is still counted and delivered). */
bool ipk_sa_account(struct ipk_sa *sa, uint32_t inner_bytes);
/* True when the SA may be used now: not dead and, for the seconds lifetime, not past its
 * hard limit (kills it when it is; raises the soft event too). */
bool ipk_sa_usable(struct ipk_sa *sa);

/* The effective MTU of an SA: the largest inner packet whose ESP packet still fits
 * params.mtu. Tunnel mode: exact for the cipher's block alignment
 * (RFC 4303 §2.4: payload || padding || 2 is a multiple of the block); transport mode:
 * mtu minus the worst-case ESP growth (padding block - 1). 0 when params.mtu is 0 (no
 * limit). Any thread (params do not change after creation). */
uint32_t ipk_sa_effective_mtu(const struct ipk_sa *sa);

const char *ipk_dir_name(enum ipk_dir dir);
const char *ipk_mode_name(enum ipk_mode mode);

#endif
