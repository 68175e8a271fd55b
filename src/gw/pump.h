/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gateway's I/O threads (DESIGN.md "Threads and cores"): they move packets between
 * the ports (io/port.h) and the engine (engine/engine.h).
 *
 * Receive: one thread per port. It reads bursts (rx_burst, waiting at most
 * IPK_PUMP_RX_WAIT_MS so that it notices a stop) and hands every packet to
 * ipk_engine_rx(), which never blocks: dir IPK_DIR_OUT for a port on the plaintext side,
 * IPK_DIR_IN on the protected side. So the thread drains the kernel at the speed of a
 * classification, not of crypto: under overload packets are dropped at queue 1 or at their
 * class queue by ipseck's policy, or as no-buffer when the pool is empty, never left to
 * overflow a socket buffer where expedited packets would die with the rest.
 * Wire ports yield non-IP frames (ARP, LLDP...) flagged IPK_IO_F_NOT_IP: the SPD cannot
 * judge them, so they leave by the first port of the other side at once (`non-ip pass`,
 * the default, which a bump in the wire needs for ARP) or are dropped and counted
 * (`non-ip drop`). They never enter the engine.
 *
 * Transmit: one thread. It takes packets from queue 2 (ipk_engine_tx_dequeue) in bursts
 * of up to IPK_PUMP_BURST and sends each by a port of the side meta.dir names: IPK_DIR_OUT
 * leaves on the protected side (a UDP packet by a `udp` port if there is one, anything
 * else by an `esp` port, else by the first port of that side), IPK_DIR_IN on the
 * plaintext side (its first port). Consecutive packets for one port go in one tx_burst,
 * so order is kept per port. A port whose kernel queue stays full for
 * IPK_PUMP_TX_RETRIES short waits drops the rest of the burst (queue-full); a packet for a
 * side with no port is dropped (unsupported). Both are counted in ipk_pump.drops.
 *
 * The gate: receive threads hold the read side of a writer-preferring rwlock while they
 * hand a burst to the engine (not while they wait for the kernel), so the control thread
 * can close it to keep packets from the SAD and SPD (gw/gateway.h).
 *
 * Threads: ipk_pump_* from the control thread; the tx view of the port table (link,
 * unlink) is under tx_lock, which the transmit thread and non-IP bypasses hold while they
 * send, so no two threads call tx_burst on one port at once (io/port.h).
 */
#ifndef IPK_GW_PUMP_H
#define IPK_GW_PUMP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/drop.h"
#include "core/pkt.h"
#include "io/port.h"

#define IPK_PUMP_MAX_PORTS 16
#define IPK_PUMP_BURST 32
#define IPK_PUMP_RX_WAIT_MS 50        /* how soon a receive thread sees a stop */
#define IPK_PUMP_TX_WAIT_NS 50000000u /* how soon the transmit thread sees a stop */
#define IPK_PUMP_TX_RETRIES 200       /* x 50 us: 10 ms of a full kernel queue */

struct ipk_engine;

/* Which side of the gateway a port is on. */
enum ipk_gw_side { IPK_GW_PLAIN = 0, IPK_GW_PROTECTED = 1 };

struct ipk_pump;

/* One port and its receive thread. */
struct ipk_pump_port {
	struct ipk_pump *pump;
	struct ipk_io_port *io;
	enum ipk_gw_side side;
	bool non_ip_pass;
	bool running;           /* the receive thread was started and not yet joined */
	_Atomic bool stop;
	pthread_t thread;
};

struct ipk_pump {
	struct ipk_engine *engine;
	struct ipk_pool *pool;
	pthread_rwlock_t gate;
	pthread_mutex_t tx_lock;
	/* The tx view, under tx_lock. */
	struct ipk_pump_port *linked[IPK_PUMP_MAX_PORTS];
	uint32_t n_linked;
	struct ipk_drop_stats drops;
	bool tx_running;
	_Atomic bool tx_stop;
	pthread_t tx_thread;
};

/* Returns 0 or a pthread errno. */
int ipk_pump_init(struct ipk_pump *p, struct ipk_engine *engine, struct ipk_pool *pool);
/* The transmit thread must have been stopped. */
void ipk_pump_fini(struct ipk_pump *p);

/* Starts the transmit thread. Returns 0 or a pthread errno. */
int ipk_pump_tx_start(struct ipk_pump *p);
/* Stops it once queue 2 is empty; call after ipk_engine_stop() so that nothing more
 * comes. */
void ipk_pump_tx_stop(struct ipk_pump *p);

/* Adds @pp to / removes it from the ports packets may leave by. */
void ipk_pump_link(struct ipk_pump *p, struct ipk_pump_port *pp);
void ipk_pump_unlink(struct ipk_pump *p, struct ipk_pump_port *pp);

/* Starts @pp's receive thread. Returns 0 or a pthread errno. */
int ipk_pump_rx_start(struct ipk_pump_port *pp);
/* Asks it to stop (returns at once) / waits for it (at most one burst's wait later). */
void ipk_pump_rx_signal(struct ipk_pump_port *pp);
void ipk_pump_rx_join(struct ipk_pump_port *pp);

/* Closes / opens the gate (see above). */
void ipk_pump_gate_close(struct ipk_pump *p);
void ipk_pump_gate_open(struct ipk_pump *p);

#endif
