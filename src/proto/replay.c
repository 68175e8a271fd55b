// SPDX-License-Identifier: BSD-2-Clause
#include "proto/replay.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

/*
 * The window is [top - window + 1, top]. Number s is bit (s % 64) of block (s / 64) % nblocks
 * of a ring of 64-bit blocks (RFC 6479 §2). The ring has at least one block more than the
 * window needs, so that when top moves into a new block that block can be cleared while
 * every number still inside the window keeps its bit; nblocks is a power of two so that
 * the ring index is a mask. Moving top forward clears whole blocks, never shifts bits.
 */
struct ipk_replay {
	pthread_spinlock_t lock;
	uint64_t top;	     /* highest number accepted; 0 before the first */
	uint32_t window;     /* acceptance width in packets, as created */
	uint32_t block_mask; /* nblocks - 1 */
	bool esn;
	uint64_t bitmap[]; /* nblocks blocks */
};

static uint32_t ring_blocks(uint32_t window)
{
	uint32_t need = (window + 63) / 64 + 1;
	uint32_t n = 1;

	while (n < need)
		n <<= 1;
	return n;
}

int ipk_replay_create(struct ipk_replay **out, uint32_t window, bool esn)
{
	struct ipk_replay *r;
	uint32_t nblocks;
	size_t size;

	if (window < IPK_REPLAY_MIN || window > IPK_REPLAY_MAX)
		return -EINVAL;
	nblocks = ring_blocks(window);
	size = sizeof(*r) + (size_t)nblocks * sizeof(r->bitmap[0]);
	/* Own cache lines: several crypto units take this lock. */
	size = (size + IPK_CACHELINE - 1) & ~(size_t)(IPK_CACHELINE - 1);
	r = aligned_alloc(IPK_CACHELINE, size);
	if (!r)
		return -ENOMEM;
	memset(r, 0, size);
	if (pthread_spin_init(&r->lock, PTHREAD_PROCESS_PRIVATE) != 0) {
		free(r);
		return -ENOMEM;
	}
	r->window = window;
	r->block_mask = nblocks - 1;
	r->esn = esn;
	*out = r;
	return 0;
}

void ipk_replay_destroy(struct ipk_replay *r)
{
	if (!r)
		return;
	pthread_spin_destroy(&r->lock);
	free(r);
}

static uint64_t *block_of(struct ipk_replay *r, uint64_t seq)
{
	return &r->bitmap[(seq >> 6) & r->block_mask];
}

static uint64_t bit_of(uint64_t seq)
{
	return 1ull << (seq & 63);
}

/*
 * RFC 4303 Appendix A2.2: guesses the high 32 bits of the sequence number so that the
 * result lies in [top - W + 1, top - W + 2^32], i.e. in the window or ahead of it.
 * Returns false when that number does not exist (before the first packet, or past 2^64-1).
 */
static bool esn_infer(uint64_t top, uint32_t w, uint32_t seql, uint64_t *seq)
{
	uint32_t th = (uint32_t)(top >> 32);
	uint32_t tl = (uint32_t)top;
	uint32_t left = tl - w + 1; /* mod 2^32 on purpose, as in the RFC */
	uint64_t seqh;

	if (tl >= w - 1) {
		/* Case A: the window lies within one 2^32 subspace. */
		if (seql >= left)
			seqh = th;
		else if (th == UINT32_MAX)
			return false;
		else
			seqh = (uint64_t)th + 1;
	} else {
		/* Case B: the window spans subspaces Th - 1 and Th. */
		if (seql < left)
			seqh = th;
		else if (th == 0)
			return false;
		else
			seqh = th - 1;
	}
	*seq = seqh << 32 | seql;
	return true;
}

/* RFC 4303 §3.4.3 window test of a full number; the caller holds the lock. */
static int window_test(struct ipk_replay *r, uint64_t seq)
{
	if (seq > r->top)
		return 0;
	/* Number 0 is never sent (RFC 4303 §2.2), so it can only be a forgery or a replay. */
	if (seq == 0 || r->top - seq >= r->window)
		return IPK_DROP_REPLAY_TOO_OLD;
	if (*block_of(r, seq) & bit_of(seq))
		return IPK_DROP_REPLAY_DUPLICATE;
	return 0;
}

/* Moves top to @seq (> top), clearing the blocks top enters (RFC 6479 §2). */
static void window_advance(struct ipk_replay *r, uint64_t seq)
{
	uint64_t cur = r->top >> 6;
	uint64_t diff = (seq >> 6) - cur;

	/* Past a full turn of the ring every block is stale. */
	if (diff > (uint64_t)r->block_mask + 1)
		diff = (uint64_t)r->block_mask + 1;
	for (uint64_t i = 1; i <= diff; i++)
		r->bitmap[(cur + i) & r->block_mask] = 0;
	r->top = seq;
}

int ipk_replay_check(struct ipk_replay *r, uint32_t seq_lo, uint64_t *seq)
{
	uint64_t full = seq_lo;
	int ret = 0;

	pthread_spin_lock(&r->lock);
	if (r->esn && !esn_infer(r->top, r->window, seq_lo, &full))
		ret = IPK_DROP_REPLAY_TOO_OLD;
	if (ret == 0)
		ret = window_test(r, full);
	pthread_spin_unlock(&r->lock);
	if (ret == 0)
		*seq = full;
	return ret;
}

int ipk_replay_update(struct ipk_replay *r, uint64_t seq)
{
	int ret;

	pthread_spin_lock(&r->lock);
	/* Test again: another unit may have accepted @seq, or moved past it, since check. */
	ret = window_test(r, seq);
	if (ret == 0) {
		if (seq > r->top)
			window_advance(r, seq);
		*block_of(r, seq) |= bit_of(seq);
	}
	pthread_spin_unlock(&r->lock);
	return ret;
}

uint64_t ipk_replay_top(struct ipk_replay *r)
{
	uint64_t top;

	pthread_spin_lock(&r->lock);
	top = r->top;
	pthread_spin_unlock(&r->lock);
	return top;
}

uint32_t ipk_replay_window(const struct ipk_replay *r)
{
	return r->window;
}

void ipk_replay_seed(struct ipk_replay *r, uint64_t top)
{
	pthread_spin_lock(&r->lock);
	memset(r->bitmap, 0, ((size_t)r->block_mask + 1) * sizeof(r->bitmap[0]));
	r->top = top;
	/* Seeding at 0 is a reset: nothing received, and number 0 is never valid anyway. */
	if (top)
		*block_of(r, top) |= bit_of(top);
	pthread_spin_unlock(&r->lock);
}
