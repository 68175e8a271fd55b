/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Anti-replay window (RFC 4303 §3.4.3), with extended sequence numbers (RFC 4303 §2.2.1
 * and Appendix A), kept as a ring of 64-bit blocks (the RFC 6479 idea): moving the window
 * forward clears whole blocks instead of shifting a long bitmap.
 *
 * Use, per inbound packet:
 *   1. ipk_replay_check() before the ICV: rebuilds the full 64-bit sequence number from
 *      the 32 bits in the packet (Appendix A guess of the high half when ESN is on) and
 *      rejects duplicates and numbers left of the window. Changes nothing.
 *   2. verify the ICV with that 64-bit number.
 *   3. ipk_replay_update() only after the ICV verified: checks again (another crypto unit
 *      may have accepted the same number meanwhile) and marks the number seen.
 * So forged packets never move the window.
 *
 * Threads: check and update may be called from several crypto units at once; the window
 * has its own lock (held for a few instructions).
 */
#ifndef IPK_PROTO_REPLAY_H
#define IPK_PROTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"

#define IPK_REPLAY_MIN 32
#define IPK_REPLAY_MAX 65536
#define IPK_REPLAY_DEFAULT 1024

struct ipk_replay;

/* Creates a window of @window packets (IPK_REPLAY_MIN..IPK_REPLAY_MAX; rounded up to a
 * multiple of 64 internally, the acceptance width is exactly @window). Returns 0,
 * -EINVAL or -ENOMEM. */
int ipk_replay_create(struct ipk_replay **out, uint32_t window, bool esn);
void ipk_replay_destroy(struct ipk_replay *r);

/* Step 1 (see above). @seq_lo is the packet's 32-bit sequence number. On success writes
 * the full number to @seq and returns 0; otherwise returns IPK_DROP_REPLAY_DUPLICATE or
 * IPK_DROP_REPLAY_TOO_OLD (as a positive enum value). Sequence number 0 is never valid
 * without ESN (RFC 4303 §2.2: the first packet has number 1) and counts as too old. */
int ipk_replay_check(struct ipk_replay *r, uint32_t seq_lo, uint64_t *seq);

/* Step 3: marks @seq received, moving the window when it is the new highest. Returns 0,
 * or IPK_DROP_REPLAY_DUPLICATE / IPK_DROP_REPLAY_TOO_OLD when another thread accepted it
 * (or moved past it) between check and update. */
int ipk_replay_update(struct ipk_replay *r, uint64_t seq);

/* Highest sequence number accepted so far (0 before the first). */
uint64_t ipk_replay_top(struct ipk_replay *r);
/* Window width in packets, as created. */
uint32_t ipk_replay_window(const struct ipk_replay *r);
/* Starts the window at @top as if @top had been received: for known-answer tests whose
 * vectors carry a 64-bit ESN, and for SAs installed mid-stream (rekey hand-over). */
void ipk_replay_seed(struct ipk_replay *r, uint64_t top);

#endif
