/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Crypto unit (DESIGN.md "The packet path"): a worker thread that applies or removes one
 * ESP layer per packet (ipk_esp_encap / ipk_esp_decap with its own crypto context, index
 * `worker`) and hands the result to queue 4; a failure is dropped with its reason and
 * counted here.
 *
 * Water marks (the pull model): a unit holds at most `high` packets (waiting in its small
 * queue plus the one being processed). When, taking a packet to process, it sees fewer
 * than `low` still waiting, it asks for work: it sets `wanting` and rings the
 * dispatcher. The dispatcher gives packets only to a unit that asked, and never past
 * `high`; reaching `high` clears `wanting`. So at most `high` packets are committed to
 * a unit ahead of an expedited one. Defaults: high 4, low 1.
 *
 * Capabilities: a bitmask over enum ipk_alg_id (bit 1 << IPK_ALG_x); the dispatcher gives
 * a unit only packets whose SA's algorithm is in the set.
 *
 * Rate cap (to emulate a slow processor): rate_pps and/or rate_bps. A token bucket one
 * packet deep: before a packet, the unit sleeps until the bucket holds that packet's cost
 * (1/rate_pps s, len*8/rate_bps s; the larger of the two when both are set).
 *
 * Threads: ipk_unit_offer() from the dispatcher thread only; the unit's own thread does
 * the rest; stats are read from any thread.
 */
#ifndef IPK_ENGINE_UNIT_H
#define IPK_ENGINE_UNIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "crypto/alg.h"
#include "engine/pace.h"

struct ipk_equeue;
struct ipk_event;
struct ipk_err;

#define IPK_UNIT_ALL_ALGS ((1u << IPK_ALG_COUNT) - 1u)
#define IPK_UNIT_DEFAULT_HIGH 4
#define IPK_UNIT_DEFAULT_LOW 1
#define IPK_UNIT_MAX_HIGH 1024

struct ipk_unit_config {
	uint32_t caps;     /* algorithms (1 << enum ipk_alg_id); 0 means all */
	uint32_t high;     /* most packets held; 1..IPK_UNIT_MAX_HIGH */
	uint32_t low;      /* ask for work below this many waiting; 1..high */
	uint64_t rate_pps; /* 0: no cap */
	uint64_t rate_bps; /* 0: no cap */
};

struct ipk_unit_stats {
	_Atomic uint64_t processed[IPK_ALG_COUNT]; /* done and handed to queue 4, per algorithm */
	_Atomic uint64_t bytes;     /* bytes handed on */
	_Atomic uint64_t asks;      /* times it asked for work */
	_Atomic uint64_t received;  /* packets the dispatcher gave it */
	_Atomic uint32_t occupancy; /* held now: waiting + being processed */
	_Atomic uint32_t max_occupancy; /* most ever held; never above high */
};

struct ipk_unit {
	unsigned worker;            /* crypto context index in every SA */
	struct ipk_unit_config cfg;
	uint16_t natt_port;
	struct ipk_equeue *out;     /* queue 4 */
	struct ipk_event *ask;      /* the dispatcher's doorbell */
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* CLOCK_MONOTONIC: work arrived, or stop */
	struct ipk_pkt **ring;      /* `high` slots */
	uint32_t ring_head;
	uint32_t waiting;           /* packets in ring */
	bool busy;                  /* processing one */
	bool wanting;               /* asked for work, not yet filled to high */
	bool refused;               /* an offer found it wanting but full: ring when done */
	bool stop;
	bool started;
	struct ipk_pace pace;       /* the rate cap */
	pthread_t thread;
	struct ipk_drop_stats drops;
	struct ipk_unit_stats stats;
};

/* Fills the defaults: all algorithms, high 4, low 1, no rate cap. */
void ipk_unit_config_init(struct ipk_unit_config *cfg);
/* Checks water marks. Returns 0 or -EINVAL with a message. */
int ipk_unit_config_check(const struct ipk_unit_config *cfg, struct ipk_err *err);

/* Sets up unit number @worker feeding @out and asking @ask for work. Returns 0, -EINVAL
 * (bad config, message in @err) or -ENOMEM. Control plane. */
int ipk_unit_init(struct ipk_unit *u, unsigned worker, const struct ipk_unit_config *cfg,
		  uint16_t natt_port, struct ipk_equeue *out, struct ipk_event *ask,
		  struct ipk_err *err);
int ipk_unit_start(struct ipk_unit *u);
/* Makes the thread exit after the packet it is processing (a rate-capped unit stops
 * waiting for its bucket), and joins it. What is still waiting stays (dropped by fini).
 * Close queue 4 first: a unit may be blocked handing a packet to it. */
void ipk_unit_stop(struct ipk_unit *u);
/* Drops the packets still waiting (hook-detached, counted here); returns how many. After
 * stop. */
uint32_t ipk_unit_flush(struct ipk_unit *u);
/* Flushes and frees. After stop. */
void ipk_unit_fini(struct ipk_unit *u);

/* True when the unit can apply @alg. */
static inline bool ipk_unit_can(const struct ipk_unit *u, enum ipk_alg_id alg)
{
	return (u->cfg.caps >> alg) & 1u;
}

/* Gives @pkt (meta.sa set) to the unit if it asked for work, has room below high and can
 * apply the packet's algorithm. Returns true if it took @pkt (consumed); false leaves
 * @pkt with the caller. Dispatcher thread only. */
bool ipk_unit_offer(struct ipk_unit *u, struct ipk_pkt *pkt);
/* True when the unit asked for work and has room below high, so it would take a packet
 * it can apply. Only the dispatcher fills a unit, so the answer stays true until the
 * dispatcher's next offer. Dispatcher thread only. */
bool ipk_unit_wants(struct ipk_unit *u);
/* Packets held now. */
uint32_t ipk_unit_occupancy(const struct ipk_unit *u);

#endif
