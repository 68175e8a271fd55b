/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Experiments beyond the paper, on the in-process testbed (exp/testbed.h), for
 * `ipseck demo --af`, `--fairness` and `--reconfig` (docs/experiments.md has the
 * figures):
 *
 *  - AF (scenario_af.c): the paper's future work, an assured-forwarding class next to EF
 *    and best effort. EF probes inside IPsec, one AF11 flow and the best-effort flood;
 *    QoS: strict priority for EF, then deficit round robin between AF (a RED queue) and
 *    best effort, weights 1:1, so AF is guaranteed half of what EF leaves. Per class:
 *    offered, delivered, loss, delay p50/p99, and drops by reason (RED's under `red`),
 *    against the decoupled engine without QoS.
 *  - Fairness (scenario_fair.c): 50 users behind the gateway, each through its own SA;
 *    one sends ten times its share, the others a little less than theirs, together above
 *    the unit's capacity. Per-user goodput and Jain's index
 *    J = (sum x)^2 / (n sum x^2) over the 49 well-behaved users, with a plain FIFO and
 *    with deficit round robin per user (the `user` classifier, by SA name) at queue 3.
 *  - Reconfiguration (scenario_reconfig.c): the decoupled engine without QoS under the
 *    flood, EF probes inside IPsec; halfway through, the strict-priority chains are
 *    attached at hooks 1, 3 and 5 with the commands an operator sends with ipseckctl,
 *    while packets flow. The per-probe series shows when it takes effect; the engine's
 *    conservation counters show that the change lost no packet.
 *
 * Threads: the control thread; each run starts and stops its own testbed.
 */
#ifndef IPK_EXP_SCENARIOS_H
#define IPK_EXP_SCENARIOS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"
#include "engine/engine.h"
#include "exp/report.h"
#include "exp/testbed.h"

/* One traffic class of a run. EF: probes (RTT, both directions through the gateway);
 * AF and BE: flood packets sent in the measured window (one-way delay host -> sink). */
struct ipk_scn_class {
	const char *name;
	uint64_t sent, delivered;
	double offered_bps, delivered_bps; /* ESP bits/s; 0 for EF */
	double loss_pct, p50_ms, p99_ms;
};

enum { IPK_SCN_EF, IPK_SCN_AF, IPK_SCN_BE, IPK_SCN_CLASSES };

#define IPK_SCN_AF_RUNS 3

struct ipk_scn_af_run {
	const char *name; /* "decoupled", "decoupled+af" */
	bool qos;
	uint64_t af_rate_bps;
	struct ipk_scn_class cls[IPK_SCN_CLASSES];
	uint64_t drops_red, drops_queue_full, drops_other; /* every engine place */
	uint64_t red_at_hook5, red_at_q3;
	struct ipk_tb_result res;
};

struct ipk_scn_af {
	struct ipk_scn_af_run run[IPK_SCN_AF_RUNS];
	unsigned n_runs;
};

#define IPK_SCN_USERS 50

struct ipk_scn_fair_run {
	bool drr;
	double offered_bps[IPK_SCN_USERS], goodput_bps[IPK_SCN_USERS];
	double min_bps, median_bps, max_bps; /* the 49 well-behaved users */
	double greedy_bps, greedy_share;     /* share of all goodput */
	double delivered_ratio;		     /* well-behaved: delivered / offered */
	double jain, jain_all;		     /* 49 well-behaved; all 50 */
	struct ipk_tb_result res;
};

struct ipk_scn_fair {
	uint32_t users;
	double share_bps, greedy_rate_bps, user_rate_bps;
	struct ipk_scn_fair_run run[2]; /* FIFO, per-user DRR */
};

struct ipk_scn_reconfig {
	uint32_t probes, change_probe;
	double interval_ms, apply_ms, settle_ms;
	struct ipk_prober_summary before, after;
	uint32_t q3_len, h5_len;	  /* held by the FIFOs just before the change */
	uint64_t window_in, window_drops; /* at the queues while the request ran */
	uint64_t lost_by_change;	  /* drops there beyond arrivals */
	struct ipk_engine_balance end;
	uint64_t drops_queue_full, drops_hook_detached, drops_other;
	int apply_rc;
	char apply_msg[256];
	struct ipk_tb_result res;
};

struct ipk_scn {
	bool af, fair, reconfig;
	bool tables_only; /* `ipseck demo --tables`: none of them */
	struct ipk_scn_af af_res;
	struct ipk_scn_fair fair_res;
	struct ipk_scn_reconfig reconfig_res;
};

/* Probes, interval and warm-up of the scenarios from the demo's base set-up: 150 probes
 * every 20 ms (200 every 5 ms with @quick). */
void ipk_scn_config(struct ipk_tb_config *c, bool quick);

/* Each runs its scenario from @base (ipk_scn_config applied), printing one progress line
 * per run. Return 0 or a negative errno (message in @err). */
int ipk_scn_af_run(const struct ipk_tb_config *base, struct ipk_scn_af *out, struct ipk_err *err);
int ipk_scn_fair_run(const struct ipk_tb_config *base, struct ipk_scn_fair *out,
		     struct ipk_err *err);
int ipk_scn_reconfig_run(const struct ipk_tb_config *base, const struct ipk_report *r,
			 struct ipk_scn_reconfig *out, struct ipk_err *err);

/* Tables for the terminal and the report. */
void ipk_scn_af_print(const struct ipk_scn_af *s, FILE *f);
void ipk_scn_fair_print(const struct ipk_scn_fair *s, FILE *f);
void ipk_scn_reconfig_print(const struct ipk_scn_reconfig *s, FILE *f);

/* JSON members ("af": {...}) for results.json, each preceded by ",\n". */
void ipk_scn_af_json(const struct ipk_scn_af *s, FILE *f);
void ipk_scn_fair_json(const struct ipk_scn_fair *s, FILE *f);
void ipk_scn_reconfig_json(const struct ipk_scn_reconfig *s, FILE *f);

/* Data files and gnuplot scripts (fairness.dat/.gp, reconfig.dat/.gp) in the output
 * directory, drawn when gnuplot is there. Returns 0 or a negative errno. */
int ipk_scn_fair_plot(const struct ipk_report *r, const struct ipk_scn_fair *s);
int ipk_scn_reconfig_plot(const struct ipk_report *r, const struct ipk_scn_reconfig *s);

/* Runs the scenarios @s asks for (af, fair, reconfig) with the set-up of @r->base
 * (ipk_scn_config applied; the reconfiguration's series goes to @r->out). */
int ipk_scn_run(const struct ipk_report *r, struct ipk_scn *s, struct ipk_err *err);
/* Prints the tables, writes scenarios.txt, the plots and, with @json, a results.json of
 * its own (a run with scenarios only; otherwise ipk_scn_json_members goes into the
 * report's as its json_more, with @r->more the struct ipk_scn). */
int ipk_scn_write(const struct ipk_report *r, const struct ipk_scn *s, bool json);
void ipk_scn_json_members(const struct ipk_report *r, FILE *f);
void ipk_scn_print(const struct ipk_scn *s, FILE *f);

/* Drops of every engine place (queues, scheduler, dispatcher, units) by reason. */
void ipk_scn_engine_drops(struct ipk_engine *e, uint64_t drops[IPK_DROP_COUNT]);
/* Runs a gnuplot script of the output directory; false when gnuplot is missing or
 * failed (said on stdout). */
bool ipk_scn_gnuplot(const struct ipk_report *r, const char *script);

#endif
