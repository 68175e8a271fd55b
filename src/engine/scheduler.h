/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet scheduler (DESIGN.md "The packet path"): the thread between the main queues and
 * the crypto queues. It serves outgoing crypto (4) before incoming main (1): a packet
 * whose processing already started finishes first (work conserving).
 *
 * From queue 1:
 *   outbound   SPD lookup: bypass -> queue 2; discard / no policy -> dropped (counted);
 *              protect -> meta.sa = bundle SA 0 (a reference), bundle_pos 0 -> queue 3;
 *              too big for the SA with DF (IPv4) or IPv6 -> dropped (frag-needed), an
 *              ICMP error to the sender -> queue 2 (engine/mtu.h).
 *   inbound    fragments are reassembled first. ESP -> SAD lookup by SPI and destination
 *              -> meta.sa -> queue 3; plaintext -> inbound SPD: bypass -> queue 2, else
 *              dropped (not-protected, policy-discard, no-policy).
 * From queue 4 (a crypto unit finished):
 *   outbound   the bundle's next SA -> queue 3 again; after the last -> queue 2, in
 *              fragments when longer than the SA's mtu (engine/mtu.h).
 *   inbound    still ESP for one of our SAs (a bundle) -> queue 3 again; otherwise the
 *              inbound policy check (RFC 4301 §5.2) -> queue 2 or policy-mismatch.
 * Enqueues into 2 and 3 never block: a full queue drops the packet there (queue-full,
 * counted at that queue), so bypass packets never wait behind crypto.
 *
 * Bundle state between passes: meta.sa and meta.bundle_pos, and for bundles of more than
 * one SA the packet's SA record (core/pkt.h: every SA of the bundle outbound, the SAs
 * already removed inbound, each with a reference); see docs/engine.md.
 *
 * Holding the lookups: this thread is the only one in decoupled mode that reads the SAD
 * and SPD (lookup.h); every packet past it holds references on the SAs it still needs and
 * points at nothing else of either table. So the control plane changes the tables while
 * the thread is parked between two packets (ipk_sched_hold/ipk_sched_release): a stall of
 * one packet's processing, where draining the whole engine would take as long as the
 * crypto queues need to empty.
 * Threads: one scheduler thread per engine. Stats are read from any thread.
 */
#ifndef IPK_ENGINE_SCHEDULER_H
#define IPK_ENGINE_SCHEDULER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "engine/defrag.h"
#include "engine/event.h"
#include "engine/mtu.h"

struct ipk_equeue;
struct ipk_sad;
struct ipk_spd;


struct ipk_sched_stats {
	_Atomic uint64_t from_main;   /* taken from queue 1 */
	_Atomic uint64_t from_crypto; /* taken from queue 4 */
	_Atomic uint64_t bypassed;    /* sent to queue 2 unchanged */
	_Atomic uint64_t to_crypto;   /* sent to queue 3 (once per SA of a bundle) */
	_Atomic uint64_t protected_pkts; /* sent to queue 2 after the last SA */
	_Atomic uint64_t decrypted;   /* sent to queue 2 after the policy check */
};

struct ipk_sched {
	struct ipk_equeue *q_main_in;   /* 1 */
	struct ipk_equeue *q_main_out;  /* 2 */
	struct ipk_equeue *q_crypto_in; /* 3 */
	struct ipk_equeue *q_crypto_out; /* 4 */
	const struct ipk_sad *sad;
	const struct ipk_spd *spd;
	uint16_t natt_port;
	struct ipk_defrag defrag;
	struct ipk_mtu mtu;         /* too-big errors and outer fragmentation (engine/mtu.h) */
	struct ipk_event ev;        /* rung by queues 1 and 4, by stop and by a hold */
	_Atomic bool stop;
	bool started;
	/* Hold: the control plane sets hold_req and waits for `held`; the thread parks at
	 * the top of its loop until hold_req is cleared. Under hold_lock. */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	_Atomic bool hold_req;      /* also read without the lock, once per loop */
	bool held;
	pthread_t thread;
	struct ipk_drop_stats drops;
	struct ipk_sched_stats stats;
};

/* Sets up a scheduler over the four queues (it becomes the waker of 1 and 4), the SAD and
 * SPD, reassembling in packets of @reasm_pool (NULL: fragments drop as frag-bad).
 * Returns 0 or a negative errno. Control plane. */
int ipk_sched_init(struct ipk_sched *s, struct ipk_equeue *const q[4], const struct ipk_sad *sad,
		   const struct ipk_spd *spd, uint16_t natt_port, struct ipk_pool *reasm_pool);
/* Starts the thread. Returns 0 or a negative errno. */
int ipk_sched_start(struct ipk_sched *s);
/* Makes the thread exit after the packet in hand, and joins it. What the queues still
 * hold stays there (the engine drains first, then flushes what is left). */
void ipk_sched_stop(struct ipk_sched *s);
/* Frees what init set up (held fragments dropped, counted). After stop. */
void ipk_sched_fini(struct ipk_sched *s);
/* Processes at most one packet (from 4, else from 1) on the calling thread. Returns false
 * when both were empty. The thread's loop body; tests may call it instead of starting. */
bool ipk_sched_step(struct ipk_sched *s);
/* Parks the thread between two packets and returns once it is parked (at once when the
 * thread is not running): until ipk_sched_release() nothing reads the SAD or SPD. Returns
 * 0, or -ETIMEDOUT after @timeout_ns (nothing held then). Control plane, one at a time. */
int ipk_sched_hold(struct ipk_sched *s, uint64_t timeout_ns);
void ipk_sched_release(struct ipk_sched *s);

#endif
