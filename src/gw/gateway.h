/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gateway: the objects `ipseckd` runs, owned in one place (DESIGN.md "The packet
 * path", "I/O back ends", "Threads and cores").
 *
 *   SAD, SPD           created with as many crypto contexts per SA as the engine has units
 *   engine             queues 1-5, scheduler, dispatcher, crypto units (engine/engine.h)
 *   hooks              the QoS objects and their attachments (engine/hooks.h)
 *   pool               every packet buffer, sized once at creation
 *   ports              I/O ports (io/port.h), each on the plaintext or the protected side
 *   I/O threads        one receive thread per port (gw/pump.h), one transmit thread
 *
 * Life cycle: create (engine running, no port, no I/O thread) -> ports added by the
 * configuration (`interface add`, ctl/config_gw.h) -> start (I/O threads) -> runtime
 * changes through the control socket -> destroy (receive threads stopped, engine drained,
 * transmit thread stopped, ports closed, hooks and SAD destroyed: keys wiped).
 *
 * Runtime changes of the SAD and SPD: the engine reads both from its packet scheduler
 * without a lock. The gateway serialises them with ipk_gateway_hold_tables(), which parks
 * that one thread between two packets while the others go on (engine/scheduler.h), or,
 * where that is not enough, with ipk_gateway_pause(): it closes a gate the receive threads
 * pass for every burst they hand to the engine, then waits until every packet that entered
 * the engine has reached queue 2 (which reads neither table) or was dropped. Nothing reads
 * the SAD or SPD until ipk_gateway_resume(). Packets that arrive meanwhile wait in the
 * receive threads' hands and the kernel's socket buffers. gw/README.md has which request
 * takes which.
 *
 * Ports added at runtime are opened in the check pass of their batch and held "staged"
 * until the apply pass commits them, so that a port that cannot be opened fails the batch
 * before anything changed (all or nothing); ipk_gateway_batch_end() closes what a failed
 * batch staged and what `interface del` retired.
 *
 * Threads: everything here is called from the control thread (one at a time), except where
 * a comment says otherwise.
 */
#ifndef IPK_GW_GATEWAY_H
#define IPK_GW_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "engine/engine.h"
#include "gw/pump.h"
#include "io/port.h"
#include "sa/sa.h"

#define IPK_GW_MAX_PORTS IPK_PUMP_MAX_PORTS
#define IPK_GW_DEFAULT_BUFFERS 16384u /* above the engine's queue limits together */
#define IPK_GW_MIN_BUFFERS 1024u
#define IPK_GW_MAX_BUFFERS (1u << 20)
#define IPK_GW_PAUSE_TIMEOUT_NS 2000000000ull

struct ipk_gateway;
struct ipk_config_ctx;
struct ipk_gwevents;

/* What the `engine` command sets; the daemon reads it before the gateway exists. */
struct ipk_gw_settings {
	struct ipk_engine_config engine;
	uint32_t buffers; /* packets in the pool */
};

/* One `interface add`. Arguments are the back end's (io/port.h), pointing into storage
 * the caller keeps until the call returns. */
struct ipk_gw_port_spec {
	char name[IPK_NAME_MAX];
	char kind[8];             /* "tun", "esp", "udp", "wire" */
	enum ipk_gw_side side;
	bool non_ip_pass;         /* wire: non-IP frames go to the other side (else dropped) */
	struct ipk_io_args args;
};

/* Engine defaults (engine/engine.h) and IPK_GW_DEFAULT_BUFFERS. */
void ipk_gateway_settings_init(struct ipk_gw_settings *s);

/* Creates SAD, SPD, pool, engine (its threads run) and hooks from @s. n_units 0 becomes
 * the number of online CPUs. Returns 0, -EINVAL (message in @err), -ENOMEM or a pthread
 * errno. */
int ipk_gateway_create(struct ipk_gateway **out, const struct ipk_gw_settings *s,
		       struct ipk_err *err);
/* Stops and frees everything (see the life cycle above). NULL is fine. */
void ipk_gateway_destroy(struct ipk_gateway *gw);

/* Fills @ctx with the SAD, SPD, hooks and the gateway, for ipk_config_apply(). */
void ipk_gateway_config_ctx(struct ipk_gateway *gw, struct ipk_config_ctx *ctx);
/* The settings the engine runs with (n_units resolved). */
const struct ipk_gw_settings *ipk_gateway_settings(const struct ipk_gateway *gw);
/* Replaces the crypto units at runtime (ipk_engine_set_units) and records the new settings.
 * At most ipk_gateway_max_units() units. Returns 0 or a negative errno (message in @err). */
int ipk_gateway_set_units(struct ipk_gateway *gw, uint32_t n, const struct ipk_unit_config *uc,
			  struct ipk_err *err);
/* The most units the gateway can run: every SA holds this many crypto contexts (the larger
 * of the start-up unit count and the online CPUs). */
uint32_t ipk_gateway_max_units(const struct ipk_gateway *gw);
struct ipk_engine *ipk_gateway_engine(struct ipk_gateway *gw);

/* Starts the transmit thread and a receive thread per port; ports committed later start
 * at once. Returns 0 or a pthread errno (message in @err). */
int ipk_gateway_start(struct ipk_gateway *gw, struct ipk_err *err);

/* The live (committed) port named @name, or NULL. */
struct ipk_io_port *ipk_gateway_port(struct ipk_gateway *gw, const char *name);
/* Number of live ports; ipk_gateway_port_at(gw, i) for i below it (stats). */
uint32_t ipk_gateway_n_ports(const struct ipk_gateway *gw);
struct ipk_io_port *ipk_gateway_port_at(struct ipk_gateway *gw, uint32_t i,
					const char **name, enum ipk_gw_side *side);

/* Opens the port of @spec and holds it staged under @tag (the command that asked). Returns
 * 0, -ENOSPC (IPK_GW_MAX_PORTS live and staged), or the back end's error, message in
 * @err. */
int ipk_gateway_port_stage(struct ipk_gateway *gw, const struct ipk_gw_port_spec *spec,
			   const void *tag, struct ipk_err *err);
/* Makes the port staged under @tag live (its receive thread starts when the gateway has
 * started). Returns 0, -ENOENT (nothing staged under @tag) or a pthread errno. */
int ipk_gateway_port_commit(struct ipk_gateway *gw, const void *tag, struct ipk_err *err);
/* Takes the live port @name out of service: no packet leaves by it any more; its receive
 * thread stops and it is closed in ipk_gateway_batch_end(). Returns 0 or -ENOENT. */
int ipk_gateway_port_retire(struct ipk_gateway *gw, const char *name);
/* Ends a batch: closes ports still staged (their batch failed) and retired ones. */
void ipk_gateway_batch_end(struct ipk_gateway *gw);

/* Stops packets from reaching the SAD and SPD (see above). Returns 0, or -EBUSY with a
 * message when packets are still in the engine after IPK_GW_PAUSE_TIMEOUT_NS (the gate
 * is open again then). A no-op before start. */
int ipk_gateway_pause(struct ipk_gateway *gw, struct ipk_err *err);
void ipk_gateway_resume(struct ipk_gateway *gw);

/* For a request that changes only the SAD and SPD: parks the packet scheduler, the one
 * thread that reads them (ipk_engine_hold_lookups), while every other thread keeps moving
 * packets: a stall of one packet's processing instead of the engine's drain. Falls back
 * to ipk_gateway_pause() in the coupled baseline, whose worker reads the tables with
 * crypto in hand. Returns 0 or -EBUSY with a message (nothing held then). Release with
 * ipk_gateway_release_tables(). */
int ipk_gateway_hold_tables(struct ipk_gateway *gw, struct ipk_err *err);
void ipk_gateway_release_tables(struct ipk_gateway *gw);

/* How long control requests have stalled traffic, since start, per kind: pauses (gate
 * closed, engine drained) and holds (scheduler parked). What an operator reads to see
 * what changes cost; QoS and units changes stall nothing. */
struct ipk_gw_stall {
	uint64_t count;    /* stalls, those that timed out included */
	uint64_t timeouts; /* those that gave up (-EBUSY) */
	uint64_t total_ns; /* stalled time, summed */
	uint64_t max_ns;   /* the longest one */
};
const struct ipk_gw_stall *ipk_gateway_pauses(const struct ipk_gateway *gw);
const struct ipk_gw_stall *ipk_gateway_holds(const struct ipk_gateway *gw);

/* The event log (gw/gwevent.h): SA lifetime events and SA changes. */
struct ipk_gwevents *ipk_gateway_events(struct ipk_gateway *gw);

/* Drops the gateway itself counted (no port on the packet's side, non-IP frames by
 * policy, transmit queue of a port full for too long). Any thread. */
const struct ipk_drop_stats *ipk_gateway_drops(const struct ipk_gateway *gw);

#endif
