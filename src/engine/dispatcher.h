/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Crypto dispatcher (DESIGN.md "The packet path"): the thread between queue 3 (incoming
 * crypto) and the crypto units. It moves packets from queue 3 into its own hook-5 queue
 * (hook 5a is that queue's enqueue side, 5b its dequeue side; with no chain attached one
 * FIFO) while that queue has room, and hands packets from 5b to the units that asked for
 * work (unit.h: water marks), round robin, and only to a unit whose capability set holds
 * the packet's algorithm. A packet no unit can apply is dropped (unsupported, counted
 * here).
 *
 * A packet leaves 5b only when some unit wants work, so until the last moment the hook-5
 * chain decides which packet goes next (an EF packet that arrives while every unit is
 * full is the next one given). Only when the units that want work cannot apply the head
 * packet's algorithm does the dispatcher keep that packet (`pending`) for a capable unit.
 * It sleeps until a unit asks for work or new packets arrive; it never spins.
 *
 * Threads: one dispatcher thread per engine; stats are read from any thread.
 */
#ifndef IPK_ENGINE_DISPATCHER_H
#define IPK_ENGINE_DISPATCHER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "engine/equeue.h"
#include "engine/event.h"

struct ipk_unit;

/* Packets moved from queue 3 into hook 5 per round, so that handing out is not starved. */
#define IPK_DISPATCH_BATCH 32

struct ipk_dispatch {
	struct ipk_equeue *q_crypto_in; /* 3 */
	struct ipk_equeue hook5;        /* hooks 5a / 5b */
	struct ipk_unit *units;
	uint32_t n_units;
	uint32_t caps_any;              /* union of the units' capability sets */
	uint32_t rr;                    /* next unit to offer to */
	struct ipk_pkt *pending;        /* taken from 5b, not yet given to a unit */
	_Atomic uint32_t n_pending;     /* 0 or 1, for stats and the conservation check */
	struct ipk_event ev;            /* rung by queue 3, by units asking, by stop */
	_Atomic bool stop;
	bool started;
	pthread_t thread;
	_Atomic uint64_t dispatched;
	_Atomic uint64_t waits;         /* times it slept */
	struct ipk_drop_stats drops;
};

/* Sets up a dispatcher between @q_crypto_in and @n_units units (their `ask` must be
 * &d->ev: init units after this) with a hook-5 queue of @hook5_limit packets. Returns 0
 * or a negative errno. */
int ipk_dispatch_init(struct ipk_dispatch *d, struct ipk_equeue *q_crypto_in,
		      struct ipk_unit *units, uint32_t n_units, uint32_t hook5_limit);
/* Starts the thread (after the units are initialised). */
int ipk_dispatch_start(struct ipk_dispatch *d);
/* Makes the thread exit after its current round, and joins it; what it holds stays
 * (flushed by fini). */
void ipk_dispatch_stop(struct ipk_dispatch *d);
/* Drops what it still holds (hook-detached: pending here, hook 5 at that queue); returns
 * how many. After stop. */
uint32_t ipk_dispatch_flush(struct ipk_dispatch *d);
/* Flushes and frees. After stop. */
void ipk_dispatch_fini(struct ipk_dispatch *d);
/* Packets the dispatcher holds: hook 5 plus pending. */
uint32_t ipk_dispatch_held(const struct ipk_dispatch *d);

#endif
