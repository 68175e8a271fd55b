/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The engine: everything between the I/O back end's receive and transmit (DESIGN.md "The
 * packet path"). The back end puts packets in with ipk_engine_rx() and takes the results
 * out with ipk_engine_tx_dequeue(); it does not know what happens in between.
 *
 * Decoupled mode (the default): queue 1 -> packet scheduler -> queue 3 -> crypto
 * dispatcher (hook 5) -> N crypto units -> queue 4 -> scheduler -> queue 2; bypass
 * packets go from the scheduler to queue 2 directly. Threads: one scheduler, one
 * dispatcher, N units (default one per online CPU).
 * Coupled mode (the baseline): queue 1 is one shared drop-tail FIFO in front of one
 * worker running the inline path (engine/coupled.h), then queue 2; `unit`'s rate cap
 * applies to that worker.
 *
 * Conservation: every packet that enters (ipk_engine_rx*, or a datagram built by
 * reassembly) is delivered (taken from queue 2), dropped with a reason at one place (a
 * queue, the scheduler, the dispatcher, a unit, the reassembly, the inline worker),
 * absorbed into a reassembled datagram, or still in flight. ipk_engine_balance() counts
 * each term; at rest in == out + drops + absorbed + in_flight exactly.
 *
 * SAs and policies: the SAD must have been created with at least as many workers as the
 * engine has units (ipk_sad_create(&sad, n_units)), so that each unit has its own crypto
 * context in every SA. SPD and SAD changes are serialised with traffic by the caller:
 * in decoupled mode with ipk_engine_hold_lookups(), which parks the one thread that reads
 * them (engine/scheduler.h says what that covers), or by draining the engine.
 *
 * Threads: rx from any number of I/O threads, tx_dequeue from any number of consumers,
 * stats from any thread at any time (relaxed reads, traffic is not stopped);
 * create/stop/destroy from the control thread.
 */
#ifndef IPK_ENGINE_ENGINE_H
#define IPK_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/err.h"
#include "core/pkt.h"
#include "crypto/alg.h"
#include "engine/unit.h"
#include "sa/sa.h"

struct ipk_sad;
struct ipk_spd;
struct ipk_engine;
struct ipk_equeue;

enum ipk_engine_mode { IPK_ENGINE_DECOUPLED = 0, IPK_ENGINE_COUPLED = 1 };

/* Queues by their number in the paper: 1 incoming main, 2 outgoing main, 3 incoming
 * crypto, 4 outgoing crypto; 5 is the dispatcher's hook-5 queue. */
#define IPK_ENGINE_QUEUES 5
#define IPK_ENGINE_MAX_UNITS IPK_SA_MAX_WORKERS

struct ipk_engine_config {
	enum ipk_engine_mode mode;
	uint32_t n_units;             /* 0: one per online CPU; at most IPK_ENGINE_MAX_UNITS */
	struct ipk_unit_config unit;  /* every unit, unless `units` is set */
	const struct ipk_unit_config *units; /* optional: n_units entries, one per unit */
	uint32_t limit_pkts[IPK_ENGINE_QUEUES];  /* per queue 1..5 (index 0..4) */
	uint64_t limit_bytes[IPK_ENGINE_QUEUES]; /* 0: no byte limit */
	uint16_t natt_port;           /* RFC 3948 UDP port; 0: none */
	struct ipk_pool *reasm_pool;  /* packets for reassembled datagrams; NULL: none */
	uint64_t drain_timeout_ns;    /* how long stop waits for packets in flight */
};

/* Defaults: decoupled, one unit per CPU with the unit defaults, queues 1 and 2 4096
 * packets, 3 and 4 1024, hook 5 256, NAT-T port 4500, no reassembly, drain 2 s. */
void ipk_engine_config_init(struct ipk_engine_config *cfg);

/* Creates the engine over @sad and @spd and starts its threads. Returns 0, -EINVAL
 * (message in @err: bad limits, water marks, too many units, an SA with fewer crypto
 * contexts than units), -ENOMEM or a pthread errno. */
int ipk_engine_create(struct ipk_engine **out, const struct ipk_engine_config *cfg,
		      struct ipk_sad *sad, struct ipk_spd *spd, struct ipk_err *err);
/* Stops accepting packets (later ones drop as hook-detached at queue 1), waits up to the
 * drain timeout for every packet in flight to reach queue 2 or be dropped, stops the
 * threads and drops what is left anywhere but queue 2 (hook-detached, counted where it
 * was). Queue 2 can still be read afterwards. Idempotent. */
void ipk_engine_stop(struct ipk_engine *e);
/* Stops if needed, drops what queue 2 still holds (counted) and frees everything. */
void ipk_engine_destroy(struct ipk_engine *e);

/* Hands a received packet to the engine (queue 1). Consumes @pkt: queued, or dropped
 * and counted at queue 1 (queue-full, or hook-detached after stop). Never blocks.
 * meta.dir is set to @dir (IPK_DIR_OUT: from the plaintext side), meta.rx_ns to now.
 * Returns 0 or the drop reason. Any thread. */
int ipk_engine_rx(struct ipk_engine *e, struct ipk_pkt *pkt, enum ipk_dir dir);
/* As ipk_engine_rx(), but waits up to @timeout_ns for room in queue 1 (an offline
 * source such as the pcap mode applies back-pressure instead of dropping). */
int ipk_engine_rx_wait(struct ipk_engine *e, struct ipk_pkt *pkt, enum ipk_dir dir,
		       uint64_t timeout_ns);
/* Takes the next packet to transmit from queue 2 (the caller owns it; meta.dir says which
 * side it goes out of: IPK_DIR_OUT to the protected side). @timeout_ns 0 does not block;
 * UINT64_MAX waits until a packet comes or the engine is stopped and queue 2 is empty.
 * NULL when there is none. Any thread. */
struct ipk_pkt *ipk_engine_tx_dequeue(struct ipk_engine *e, uint64_t timeout_ns);

/* Queue @n (1..5), e.g. to attach a chain at its hooks; NULL if out of range or absent
 * (coupled mode has only 1 and 2). */
struct ipk_equeue *ipk_engine_queue(struct ipk_engine *e, unsigned n);
uint32_t ipk_engine_n_units(const struct ipk_engine *e);
/* Decoupled mode: parks the packet scheduler between two packets, so that the caller may
 * change the SAD and SPD until ipk_engine_release_lookups(); every other thread keeps
 * moving packets. Returns 0,
 * -EOPNOTSUPP in coupled mode (its worker reads the tables with crypto in hand: drain it
 * instead), or -ETIMEDOUT after @timeout_ns. Control plane. */
int ipk_engine_hold_lookups(struct ipk_engine *e, uint64_t timeout_ns);
void ipk_engine_release_lookups(struct ipk_engine *e);
/* Replaces the crypto units (decoupled mode) by @n units configured by @uc, while traffic
 * flows: no packet is lost (engine.c says how). @n is at most ipk_sad_workers() of the
 * SAD. A unit's own counters start again from zero; the engine's totals and the balance
 * keep what the old units counted. Control plane, serialised with ipk_engine_stats_read().
 * Returns 0 or a negative errno with a message: -EINVAL (bad config), -EOPNOTSUPP
 * (coupled mode), -EBUSY (a unit did not finish within the drain timeout; nothing
 * changed), -ENOMEM. */
int ipk_engine_set_units(struct ipk_engine *e, uint32_t n, const struct ipk_unit_config *uc,
			 struct ipk_err *err);
enum ipk_engine_mode ipk_engine_mode(const struct ipk_engine *e);

/* The conservation terms. */
struct ipk_engine_balance {
	uint64_t in;        /* received (every rx call) + datagrams built by reassembly */
	uint64_t out;       /* delivered: taken from queue 2 by tx_dequeue */
	uint64_t drops;     /* counted at every place, all reasons */
	uint64_t absorbed;  /* fragments merged into datagrams or held by the reassembly */
	uint64_t in_flight; /* in queues, the dispatcher, units, a worker's hands */
};
/* Reads the terms (relaxed, while traffic flows). Returns true when in == out + drops +
 * absorbed + in_flight, which is exact at rest (after stop, or with no traffic moving)
 * and may be off by the packets a thread holds between two places while traffic flows. */
bool ipk_engine_balance(struct ipk_engine *e, struct ipk_engine_balance *b);

struct ipk_engine_queue_stats {
	char name[16];
	uint64_t in, out, len_pkts, len_bytes, max_len, limit_pkts;
	uint64_t drops[IPK_DROP_COUNT];
};

struct ipk_engine_place_stats {
	char name[16]; /* "scheduler", "dispatcher", "reassembly", "inline" */
	uint64_t drops[IPK_DROP_COUNT];
};

struct ipk_engine_unit_stats {
	uint32_t worker, caps, low, high, occupancy, max_occupancy;
	uint64_t received, processed, bytes, asks;
	uint64_t by_alg[IPK_ALG_COUNT];
	uint64_t drops[IPK_DROP_COUNT];
};

struct ipk_engine_sa_stats {
	char name[IPK_NAME_MAX];
	uint32_t spi;
	uint8_t dir;
	uint64_t packets, bytes;
	uint64_t drops[IPK_DROP_COUNT];
};

struct ipk_engine_stats {
	enum ipk_engine_mode mode;
	struct ipk_engine_balance balance;
	bool balanced;
	uint32_t n_queues;
	struct ipk_engine_queue_stats queue[IPK_ENGINE_QUEUES]; /* queue[0] is queue 1 */
	uint32_t n_places;
	struct ipk_engine_place_stats place[4];
	/* scheduler */
	uint64_t from_main, from_crypto, bypassed, to_crypto, protected_pkts, decrypted;
	/* dispatcher */
	uint64_t dispatched, dispatcher_waits, pending;
	uint32_t n_units;
	struct ipk_engine_unit_stats *unit;
	uint32_t n_sas;
	struct ipk_engine_sa_stats *sa;
};

/* Reads every counter without stopping traffic into a new *@out (free it with
 * ipk_engine_stats_free). Returns 0 or -ENOMEM. Any thread; the SAD must not change
 * meanwhile (control-plane serialisation). */
int ipk_engine_stats_read(struct ipk_engine *e, struct ipk_engine_stats **out);
void ipk_engine_stats_free(struct ipk_engine_stats *st);

#endif
