/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-flow accounting at the sink of the in-process testbed (exp/testbed.h): packets and
 * bytes delivered per generator flow, and the one-way delay (the sink's arrival time
 * minus the send time exp/gen.c stamps into every packet) per group of flows (a traffic
 * class: AF, BE). Both clocks are the process's CLOCK_MONOTONIC, so the delay needs no
 * synchronisation.
 *
 * A window of send times chooses what counts: a packet sent before `from_ns` (the
 * warm-up) or at or after `until_ns` is ignored, whenever it arrives. So a packet sent in
 * the window counts as delivered even when it arrives after the window closed, and the
 * offered side is the generator's count over the same window (snapshots of its per-flow
 * counters when the window opens and closes).
 *
 * Delays go into a histogram of IPK_FLOWSTAT_BIN_NS bins (later ones into the last), one
 * per group, allocated once at init: recording allocates nothing.
 *
 * Threads: ipk_flowstat_record on one thread (the network's); the window is set from the
 * control thread (relaxed atomics: a packet recorded a few microseconds around the moment
 * the window moves may fall on either side); results are read after that thread stopped.
 */
#ifndef IPK_EXP_FLOWSTAT_H
#define IPK_EXP_FLOWSTAT_H

#include <stdatomic.h>
#include <stdint.h>

#include "exp/gen.h"
#include "exp/testbed.h"

#define IPK_FLOWSTAT_GROUPS 4
#define IPK_FLOWSTAT_BIN_NS 20000u /* 20 us */
#define IPK_FLOWSTAT_BINS 50000u   /* up to 1 s */

struct ipk_flowstat {
	_Atomic uint64_t from_ns, until_ns; /* window of send times; until 0: open */
	uint32_t n_flows;
	uint8_t group[IPK_GEN_MAX_FLOWS]; /* group of each flow */
	uint64_t pkts[IPK_GEN_MAX_FLOWS], bytes[IPK_GEN_MAX_FLOWS];
	uint64_t group_pkts[IPK_FLOWSTAT_GROUPS];
	uint32_t *hist[IPK_FLOWSTAT_GROUPS];
	uint64_t foreign;      /* not a generator packet, or no such flow */
	uint64_t t0_ns, t1_ns; /* the window, as the control thread saw it */
	uint64_t sent[IPK_GEN_MAX_FLOWS], sent_bytes[IPK_GEN_MAX_FLOWS]; /* offered in it */
};

/* Sets up @n_flows flows, flow i in group @group[i] (< IPK_FLOWSTAT_GROUPS), with a closed
 * window (nothing counts until ipk_flowstat_open). Returns 0, -EINVAL or -ENOMEM. */
int ipk_flowstat_init(struct ipk_flowstat *fs, uint32_t n_flows, const uint8_t *group);
void ipk_flowstat_fini(struct ipk_flowstat *fs);
/* Counts packets sent from @from_ns on; ipk_flowstat_close ends the window at @until_ns.
 * Both snapshot @gen's per-flow counters (the offered side). Control thread. */
void ipk_flowstat_open(struct ipk_flowstat *fs, const struct ipk_gen *gen, uint64_t from_ns);
void ipk_flowstat_close(struct ipk_flowstat *fs, const struct ipk_gen *gen, uint64_t until_ns);
/* Observer callbacks (struct ipk_tb_observer, @arg the flowstat): the window is the
 * loaded phase (IPK_TB_PHASE_LOADED to IPK_TB_PHASE_END); the sink records. */
void ipk_flowstat_phase(void *fs, struct ipk_testbed *tb, enum ipk_tb_phase ph, uint64_t now_ns);
void ipk_flowstat_sink(void *fs, const uint8_t *ip, uint32_t len, uint64_t now_ns);
/* Offered bits/s of flow @i (ESP bytes as sent) and delivered bits/s counted in ESP bytes
 * (the flow's mean ESP size per delivered packet), over the window. */
double ipk_flowstat_offered_bps(const struct ipk_flowstat *fs, uint32_t i);
double ipk_flowstat_delivered_bps(const struct ipk_flowstat *fs, uint32_t i);
/* Records the plain IPv4 packet @ip (@len bytes) arriving at @now_ns. */
void ipk_flowstat_record(struct ipk_flowstat *fs, const uint8_t *ip, uint32_t len, uint64_t now_ns);
/* The @pct-th percentile (nearest rank) of group @g's delays in ms; 0 without packets. */
double ipk_flowstat_delay_ms(const struct ipk_flowstat *fs, unsigned g, double pct);

#endif
