/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Coupled baseline (DESIGN.md): what a classic kernel stack does. One shared FIFO for all
 * traffic (the engine's queue 1, drop-tail) in front of one worker thread that runs the
 * whole IPsec path inline (engine/inline.h) on every packet, then queue 2. No
 * decoupling: a bypass packet waits behind every packet queued before it, protected or
 * not. It exists to be measured against the decoupled engine in the same run.
 *
 * Rate cap: like a crypto unit's (engine/pace.h), applied to each packet the worker
 * protected or decrypted, after it did so: the worker is busy for that packet's cost, and
 * everything queued behind it waits, bypass packets included, as on a slow processor.
 *
 * Fragments are reassembled here (engine/defrag.h) before the inline path sees them, so
 * the engine's conservation law counts them the same way in both modes.
 *
 * Threads: one worker thread; stats are read from any thread.
 */
#ifndef IPK_ENGINE_COUPLED_H
#define IPK_ENGINE_COUPLED_H

#include <pthread.h>
#include <stdbool.h>

#include "engine/defrag.h"
#include "engine/pace.h"
#include "engine/inline.h"

struct ipk_equeue;

struct ipk_coupled {
	struct ipk_equeue *in;  /* the shared FIFO (queue 1) */
	struct ipk_equeue *out; /* queue 2 */
	struct ipk_inline ctx;  /* crypto context `worker` 0; its drops are this place's */
	struct ipk_defrag defrag;
	struct ipk_pace pace;   /* rate cap; off unless configured */
	_Atomic bool hurry;     /* stopping: no more pacing */
	_Atomic bool busy;      /* holds a packet between the two queues */
	bool started;
	pthread_t thread;
};

/* Returns 0 or a negative errno. Set c->pace after init for a rate cap. Control plane. */
int ipk_coupled_init(struct ipk_coupled *c, struct ipk_equeue *in, struct ipk_equeue *out,
		     struct ipk_sad *sad, struct ipk_spd *spd, uint16_t natt_port,
		     struct ipk_pool *reasm_pool);
int ipk_coupled_start(struct ipk_coupled *c);
/* The worker exits once the shared FIFO is closed (ipk_equeue_close) and empty, no longer
 * pacing; joins it. Close the FIFO first. */
void ipk_coupled_stop(struct ipk_coupled *c);
void ipk_coupled_fini(struct ipk_coupled *c);

#endif
