/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Capture tap: copies the packets passing one hook (1a..4b, 5a, 5b; engine/hooks.h) into a
 * ring allocated once, and a writer that saves them to a pcap file (LINKTYPE_RAW: the
 * packets are IP, version in the first nibble), what `ipseckctl capture` runs.
 *
 * Tap points. Every hook side has a struct ipk_tap_point inside the structure that owns
 * the hook (struct ipk_equeue: Na at enqueue, Nb at dequeue; the dispatcher's 5a/5b are
 * its hook-5 queue's). It holds an atomic pointer to the tap, NULL when nobody captures,
 * and outlives every tap. The packet path pays one relaxed load per packet and hook
 * side (ipk_tap_hook) while no tap is attached.
 *
 * The packet path never blocks and never allocates here: a tap copies at most
 * `snap_bytes` of the packet into a free slot of its ring (a bounded multi-producer queue
 * after D. Vyukov: producers claim a slot with one CAS, the writer takes slots in order).
 * When the ring is full the copy is skipped and counted (`skipped`). After `count`
 * packets the tap takes no more; the writer writes them and closes the file.
 *
 * Removing a tap while traffic flows (ipk_tap_detach): a packet-path thread announces
 * itself in the point's `passing` counter before it loads the tap pointer again, and
 * leaves after its copy. The control thread stores NULL, then waits until `passing` is
 * 0. Both sides use sequentially consistent operations (the store-load pattern of
 * Dekker's algorithm): a thread either incremented `passing` before the NULL store, and
 * the control thread waits for it, or loads the pointer after the store and sees NULL.
 * So once ipk_tap_detach() returns no thread holds the tap and it may be freed. This does
 * not rely on ipk_gateway_pause(): the pause waits for packets to reach queue 2, but a
 * thread may still be inside a tap of an Nb hook after its packet was counted out, and
 * queue 2's consumers (the transmit thread) are never paused at all.
 *
 * Threads: ipk_tap_hook/ipk_tap_pass from any packet-path thread (multi-producer);
 * ipk_tap_flush from one consumer at a time (the writer thread once started, else the
 * caller); everything else from the control thread.
 */
#ifndef IPK_ENGINE_TAP_H
#define IPK_ENGINE_TAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/err.h"
#include "core/pkt.h"

/* Index of a hook side in struct ipk_equeue's tap[]. */
#define IPK_TAP_NA 0 /* enqueue side: every packet offered to the queue */
#define IPK_TAP_NB 1 /* dequeue side: every packet that leaves it */

#define IPK_TAP_DEFAULT_COUNT 1000u
#define IPK_TAP_MAX_COUNT 100000000u
/* 1024 slots of 2 KiB: about 1 ms of a saturated gateway before the ring is full, while
 * the writer wakes every millisecond. */
#define IPK_TAP_DEFAULT_SLOTS 1024u
#define IPK_TAP_DEFAULT_SNAP 2048u
#define IPK_TAP_MAX_SLOTS 65536u
#define IPK_TAP_MAX_SNAP 65535u

struct ipk_tap;

struct ipk_tap_point {
	_Atomic(struct ipk_tap *) tap; /* NULL: no capture here */
	_Atomic uint32_t passing;      /* packet-path threads inside ipk_tap_pass() */
};

struct ipk_tap_config {
	uint64_t count;      /* packets to write, 1..IPK_TAP_MAX_COUNT */
	uint32_t slots;      /* ring size, a power of two, 2..IPK_TAP_MAX_SLOTS */
	uint32_t snap_bytes; /* bytes kept of each packet, 64..IPK_TAP_MAX_SNAP */
};

struct ipk_tap_stats {
	uint64_t count;    /* the packets asked for */
	uint64_t taken;    /* copied into the ring (at most count) */
	uint64_t skipped;  /* passed while the ring was full: not copied */
	uint64_t written;  /* written to the file */
	bool done;         /* file closed: count written, or stopped */
};

/* Default count, slots and snap length. */
void ipk_tap_config_init(struct ipk_tap_config *cfg);

/* Creates a tap writing to @path (created or truncated, mode 0600: the packets may be
 * plaintext; a symbolic link is refused) with its ring. No thread runs yet. Returns 0,
 * -EINVAL (bad config), -ENOMEM, or the errno of opening the file; message in @err. */
int ipk_tap_create(struct ipk_tap **out, const struct ipk_tap_config *cfg, const char *path,
		   struct ipk_err *err);
/* Starts the writer thread: it flushes the ring every millisecond and closes the file
 * after `count` packets. Returns 0 or a pthread errno. */
int ipk_tap_start(struct ipk_tap *tap);
/* Stops the writer thread (if started), writes what the ring still holds, closes the file
 * and frees the tap; the final counters go to @last (may be NULL). The tap must not be
 * attached. NULL is fine. */
void ipk_tap_destroy(struct ipk_tap *tap, struct ipk_tap_stats *last);

/* Publishes @tap at @tp. Returns 0, or -EBUSY when another tap is attached there. */
int ipk_tap_attach(struct ipk_tap_point *tp, struct ipk_tap *tap);
/* Removes whatever tap is at @tp and waits until no packet-path thread is inside it (see
 * above); returns it (NULL if none). Control thread. */
struct ipk_tap *ipk_tap_detach(struct ipk_tap_point *tp);

/* The packet path's entry when a tap may be attached: copies @pkt (NULL is ignored) into
 * the tap's ring, or counts it as skipped. @pkt stays with the caller, unchanged. Never
 * blocks or allocates. Any packet-path thread. */
void ipk_tap_pass(struct ipk_tap_point *tp, const struct ipk_pkt *pkt);

/* The one line at a hook: nothing but a relaxed load while no tap is attached. The
 * ordering that makes the tap's contents visible is in ipk_tap_pass(). */
static inline void ipk_tap_hook(struct ipk_tap_point *tp, const struct ipk_pkt *pkt)
{
	if (unlikely(atomic_load_explicit(&tp->tap, memory_order_relaxed) != NULL))
		ipk_tap_pass(tp, pkt);
}

/* Writes every complete record the ring holds to the file, up to `count`; closes the file
 * once `count` are written. Returns how many it wrote. One consumer at a time: only
 * when the writer thread was not started (tests, a caller polling). */
uint32_t ipk_tap_flush(struct ipk_tap *tap);

/* Reads the counters (relaxed). Any thread. */
void ipk_tap_stats_read(const struct ipk_tap *tap, struct ipk_tap_stats *st);

#endif
