/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * In-process testbed: the paper's experiment (Völker, Schöller, Zitterbart 2007, §5)
 * without root or network namespaces. Everything runs in one process over virtual links
 * (exp/link.h):
 *
 *   host 1..N (exp/gen.h, ESP) ==link==+
 *   prober (exp/prober.h)      ==link==+==> gateway engine  ==link==> responder / sink
 *        ^                             |    (ipk_engine_rx IN      |   (answers probes,
 *        +=========== link ============+     from the protected    |    counts the flood)
 *                                           side, OUT from the    |
 *                                           plaintext side)  <====+ link
 *
 * Hosts 192.0.2.i (inner 10.1.i.1) send ESP tunnels to the gateway 192.0.2.254, which
 * decrypts them towards the sink 10.9.0.1. The prober (192.0.2.100) pings 10.9.0.1
 * either plain (bypass policies both ways: the paper's Table I) or inside its own ESP
 * tunnel from 10.1.100.1, EF-marked (Table II): the responder's reply goes back out
 * through the gateway, encrypted with the prober's inbound SA, so the RTT holds both
 * directions through the gateway, as the paper's ping did.
 *
 * The gateway's processor is one crypto unit capped at `cap_bps` (the paper's 50-60
 * Mbit/s 3DES box). Designs:
 *  - COUPLED: IPK_ENGINE_COUPLED: queue 1 is one shared drop-tail FIFO of `queue_pkts`
 *    in front of the inline worker, which the same cap slows down for every packet it
 *    encrypts or decrypts (engine/coupled.h). Plain packets cost nothing but wait in
 *    that FIFO behind the flood, as in a kernel's single input queue.
 *  - DECOUPLED: the engine's default pipeline, plain FIFOs; queue 3 holds `queue_pkts`.
 *  - QOS: DECOUPLED with strict priority for EF at queues 1 and 3 and at the
 *    dispatcher (examples/recommended-qos.conf, adapted to two classes).
 *
 * Threads: create/run/destroy from one control thread (it sends the probes itself);
 * the testbed starts the network, generator and gateway-transmit threads and the engine.
 */
#ifndef IPK_EXP_TESTBED_H
#define IPK_EXP_TESTBED_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "exp/link.h"
#include "exp/prober.h"

struct ipk_engine;
struct ipk_gen;

enum ipk_tb_design { IPK_TB_COUPLED, IPK_TB_DECOUPLED, IPK_TB_QOS };
enum ipk_tb_probe { IPK_TB_PROBE_PLAIN, IPK_TB_PROBE_IPSEC };

#define IPK_TB_MAX_HOSTS 56

struct ipk_testbed;

/* Moments of the loaded phase an observer hears of (exp/scenarios.h): the first loaded
 * probe is about to go, probe `event_probe` is about to go, the last probe's interval
 * ended (the flood still runs). */
enum ipk_tb_phase { IPK_TB_PHASE_LOADED, IPK_TB_PHASE_EVENT, IPK_TB_PHASE_END };

/* Optional callbacks for experiments beyond the paper's. @phase runs on the control
 * thread (it may apply configuration with ipk_testbed_ctl); @sink on the network thread,
 * for every flood packet the sink receives (a plain IPv4 packet made by exp/gen.c). */
struct ipk_tb_observer {
	void (*phase)(void *arg, struct ipk_testbed *tb, enum ipk_tb_phase ph, uint64_t now_ns);
	void (*sink)(void *arg, const uint8_t *ip, uint32_t len, uint64_t now_ns);
	void *arg;
};

/* Per-host overrides of the flood; zero keeps the common values. */
struct ipk_tb_host {
	uint64_t rate_bps; /* 0: host_rate_bps */
	uint8_t dscp;      /* inner DSCP, copied to the ESP header; 0: best effort */
};

struct ipk_tb_config {
	enum ipk_tb_design design;
	enum ipk_tb_probe probe;
	char alg[24];              /* flood and probe SAs; "aes128gcm16" */
	uint32_t n_hosts;          /* 1..IPK_TB_MAX_HOSTS */
	uint64_t host_rate_bps;    /* each host, bits of ESP packets */
	uint32_t flood_size;       /* inner IP packet bytes */
	uint64_t cap_bps;          /* the gateway processor */
	uint32_t unit_high, unit_low; /* decoupled water marks */
	uint32_t queue_pkts;       /* where the flood waits: coupled FIFO, queue 3 */
	struct ipk_link_config link;
	uint32_t probe_size;
	uint32_t idle_probes;      /* before the flood: the unloaded RTT */
	uint64_t idle_interval_ns;
	uint32_t probes;           /* during the flood */
	uint64_t interval_ns;
	uint64_t timeout_ns;
	uint64_t warmup_ns;        /* flood before the first loaded probe */
	uint64_t flood_ns;         /* 0: the whole probe series; else this long (sweeps) */
	struct ipk_tb_host host[IPK_TB_MAX_HOSTS];
	const char *qos_text;      /* DECOUPLED: chains attached at set-up; NULL: none */
	uint32_t event_probe;      /* loaded probe before which IPK_TB_PHASE_EVENT runs; 0: none */
	struct ipk_tb_observer obs;
};

struct ipk_tb_result {
	struct ipk_prober_summary idle, loaded;
	double offered_bps;        /* flood as sent by the hosts (ESP bytes) */
	double goodput_bps;        /* flood delivered to the sink, in ESP bytes, loaded phase */
	double goodput_inner_bps;  /* the same in inner IP bytes */
	double capacity_bps;       /* cap_bps */
	uint64_t gen_sent, gen_late, gen_lost;
	uint64_t link_drops;       /* dropped on full virtual links */
	uint64_t engine_drops;
	uint64_t queue_drops[5];   /* per engine queue 1..5 (all reasons) */
	uint64_t unit_bytes;       /* bytes the crypto units processed */
	bool balanced;
	double seconds;
};

/* Fills the paper's set-up: 4 hosts x 25 Mbit/s, 1400-byte packets, aes128gcm16, cap
 * 55 Mbit/s, water marks 2/1, queues of 256, links 100 Mbit/s with 50 us delay, 84-byte
 * probes, 20 idle probes every 10 ms, 100 probes every 100 ms, timeout 1 s, warm-up
 * 0.5 s. */
void ipk_tb_config_init(struct ipk_tb_config *cfg);
/* Builds the gateway, hosts, prober and links (nothing runs yet). Lowers the calling
 * thread's timer slack so every thread created after it sleeps precisely. Returns 0,
 * -EINVAL (message) or -ENOMEM. */
int ipk_testbed_create(struct ipk_testbed **out, const struct ipk_tb_config *cfg,
		       struct ipk_err *err);
/* Runs the experiment once (idle probes, flood, loaded probes) and fills @res. Blocks
 * for its duration. Returns 0 or a negative errno (message in @err). */
int ipk_testbed_run(struct ipk_testbed *tb, struct ipk_tb_result *res, struct ipk_err *err);
/* The loaded phase's per-probe series (ipk_prober_write_series). */
void ipk_testbed_write_series(const struct ipk_testbed *tb, FILE *f);
void ipk_testbed_destroy(struct ipk_testbed *tb);

const char *ipk_tb_design_name(enum ipk_tb_design d);

/* For observers and scenarios: the gateway's engine (stats, balance), the generator (per
 * flow counters) and the prober (per-probe RTTs). */
struct ipk_engine *ipk_testbed_engine(struct ipk_testbed *tb);
const struct ipk_gen *ipk_testbed_gen(const struct ipk_testbed *tb);
const struct ipk_prober *ipk_testbed_prober(const struct ipk_testbed *tb);
/* Runs @text against the gateway's SAD, SPD and hooks as ipseckctl's request would
 * (ipk_ctl_execute), while traffic flows: chains attached or replaced this way hand their
 * packets over (engine/hooks.h). Control thread, e.g. from the observer's @phase.
 * Returns 0 or a negative errno with the message in @err. */
int ipk_testbed_ctl(struct ipk_testbed *tb, const char *text, struct ipk_err *err);

#endif
