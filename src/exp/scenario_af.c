// SPDX-License-Identifier: BSD-2-Clause
/*
 * An AF class with RED next to EF and best effort (exp/scenarios.h). The flood's four
 * hosts stay best effort; a fifth host sends one AF11 flow through its own SA.
 */
#include "exp/scenarios.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exp/flowstat.h"

#define AF_DSCP 10 /* AF11 (RFC 2597 §6) */
#define GROUP_AF 0
#define GROUP_BE 1

/*
 * Hooks 3 and 5: strict priority for EF over a node where deficit round robin with
 * weights 1:1 serves AF (RED) and best effort (FIFO): AF is guaranteed half of what EF
 * leaves, and takes more when best effort is idle. RED's weight 0.02 lets the average
 * follow within some 50 AF arrivals (~15 ms at 10 Mbit/s); thresholds of 8..32 packets
 * keep an AF flow above its share within ~15 ms of queueing at queue 3 (a 1456-byte
 * packet takes 0.42 ms at half of 55 Mbit/s). Queue 1 only needs EF first: the scheduler
 * drains it at memory speed.
 */
#define AF_CHAIN(h, be, red)                                                                       \
	"qos add name c" h " kind dscp ef 0 default 1\n"                                           \
	"qos add name ef" h " kind fifo limit 64\n"                                                \
	"qos add name a" h " kind dscp af11 0 af12 0 af13 0 default 1\n"                           \
	"qos add name af" h " kind red " red " max-p 0.1 weight 0.02\n"                            \
	"qos add name be" h " kind fifo limit " be "\n"                                            \
	"qos add name w" h " kind drr quantum 1500 weights 1,1\n"                                  \
	"qos node name r" h " classify a" h " children af" h ",be" h " schedule w" h "\n"          \
	"qos add name sp" h " kind prio\n"                                                         \
	"qos node name n" h " classify c" h " children ef" h ",r" h " schedule sp" h "\n"          \
	"hook attach " h " n" h "\n"

static const char af_qos_text[] =
    "qos add name c1 kind dscp ef 0 default 1\n"
    "qos add name ef1 kind fifo limit 64\n"
    "qos add name be1 kind fifo limit 2048\n"
    "qos add name sp1 kind prio\n"
    "qos node name n1 classify c1 children ef1,be1 schedule sp1\n"
    "hook attach 1 n1\n" AF_CHAIN("3", "256", "limit 128 min-th 8 max-th 32")
	AF_CHAIN("5", "32", "limit 64 min-th 4 max-th 16");

/* AF within its guaranteed share without and with QoS, then above it (RED at work). */
static const struct {
	const char *name;
	bool qos;
	uint64_t af_rate_bps;
} af_plan[IPK_SCN_AF_RUNS] = {
    {"decoupled", false, 10000000},
    {"decoupled+af", true, 10000000},
    {"decoupled+af", true, 40000000},
};

/* Class @g's figures from the flows of group @g. */
static void fill_class(struct ipk_scn_class *k, const struct ipk_flowstat *fs, unsigned g)
{
	for (uint32_t i = 0; i < fs->n_flows; i++) {
		if (fs->group[i] != g)
			continue;
		k->sent += fs->sent[i];
		k->delivered += fs->pkts[i];
		k->offered_bps += ipk_flowstat_offered_bps(fs, i);
		k->delivered_bps += ipk_flowstat_delivered_bps(fs, i);
	}
	k->loss_pct = k->sent && k->delivered < k->sent
			  ? 100.0 * (double)(k->sent - k->delivered) / (double)k->sent
			  : 0;
	k->p50_ms = ipk_flowstat_delay_ms(fs, g, 50);
	k->p99_ms = ipk_flowstat_delay_ms(fs, g, 99);
}

static void fill_run(struct ipk_scn_af_run *r, const struct ipk_flowstat *fs, struct ipk_engine *e)
{
	struct ipk_scn_class *ef = &r->cls[IPK_SCN_EF];
	uint64_t drops[IPK_DROP_COUNT], total = 0;
	struct ipk_engine_stats *st;

	ef->name = "EF";
	ef->sent = r->res.loaded.sent;
	ef->delivered = r->res.loaded.received;
	ef->loss_pct = r->res.loaded.loss_pct;
	ef->p50_ms = r->res.loaded.p50_ms;
	ef->p99_ms = r->res.loaded.p99_ms;
	r->cls[IPK_SCN_AF].name = "AF";
	r->cls[IPK_SCN_BE].name = "BE";
	fill_class(&r->cls[IPK_SCN_AF], fs, GROUP_AF);
	fill_class(&r->cls[IPK_SCN_BE], fs, GROUP_BE);
	ipk_scn_engine_drops(e, drops);
	for (unsigned k = 0; k < IPK_DROP_COUNT; k++)
		total += drops[k];
	r->drops_red = drops[IPK_DROP_RED];
	r->drops_queue_full = drops[IPK_DROP_QUEUE_FULL];
	r->drops_other = total - r->drops_red - r->drops_queue_full;
	if (ipk_engine_stats_read(e, &st))
		return;
	if (st->n_queues >= 5) {
		r->red_at_q3 = st->queue[2].drops[IPK_DROP_RED];
		r->red_at_hook5 = st->queue[4].drops[IPK_DROP_RED];
	}
	ipk_engine_stats_free(st);
}

static int af_one(const struct ipk_tb_config *base, struct ipk_scn_af_run *r, struct ipk_err *err)
{
	struct ipk_flowstat *fs = calloc(1, sizeof(*fs));
	struct ipk_tb_config c = *base;
	uint8_t group[IPK_TB_MAX_HOSTS];
	struct ipk_testbed *tb = NULL;
	uint32_t af = base->n_hosts;
	int rc = fs ? 0 : -ENOMEM;

	c.design = IPK_TB_DECOUPLED;
	c.probe = IPK_TB_PROBE_IPSEC;
	c.n_hosts = af + 1;
	c.host[af].rate_bps = r->af_rate_bps;
	c.host[af].dscp = AF_DSCP;
	c.qos_text = r->qos ? af_qos_text : NULL;
	for (uint32_t i = 0; i < c.n_hosts; i++)
		group[i] = i == af ? GROUP_AF : GROUP_BE;
	if (!rc)
		rc = ipk_flowstat_init(fs, c.n_hosts, group);
	c.obs = (struct ipk_tb_observer){ipk_flowstat_phase, ipk_flowstat_sink, fs};
	if (!rc)
		rc = ipk_testbed_create(&tb, &c, err);
	if (!rc)
		rc = ipk_testbed_run(tb, &r->res, err);
	if (!rc)
		fill_run(r, fs, ipk_testbed_engine(tb));
	ipk_testbed_destroy(tb);
	if (fs)
		ipk_flowstat_fini(fs);
	free(fs);
	return rc;
}

int ipk_scn_af_run(const struct ipk_tb_config *base, struct ipk_scn_af *out, struct ipk_err *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < IPK_SCN_AF_RUNS && !rc; i++) {
		struct ipk_scn_af_run *r = &out->run[i];

		r->name = af_plan[i].name;
		r->qos = af_plan[i].qos;
		r->af_rate_bps = af_plan[i].af_rate_bps;
		printf("[af %u/%u] %-13s AF11 %2.0f Mbit/s ", i + 1, IPK_SCN_AF_RUNS, r->name,
		       r->af_rate_bps / 1e6);
		fflush(stdout);
		rc = af_one(base, r, err);
		if (!rc)
			printf("%5.1f s  EF loss %5.1f%%  AF loss %5.1f%%  BE loss %5.1f%%\n",
			       r->res.seconds, r->cls[IPK_SCN_EF].loss_pct,
			       r->cls[IPK_SCN_AF].loss_pct, r->cls[IPK_SCN_BE].loss_pct);
		out->n_runs = i + 1;
	}
	return rc;
}

void ipk_scn_af_print(const struct ipk_scn_af *s, FILE *f)
{
	fprintf(f, "\nAF next to EF and best effort: EF probes inside IPsec (RTT), one AF11 flow, "
		   "best effort\nfrom four hosts (one-way delay host -> sink); Mbit/s of ESP "
		   "packets, delays in ms\n");
	fprintf(f, "%-13s %6s %-5s %9s %9s %7s %8s %8s\n", "run", "AF", "class", "offered",
		"delivered", "loss", "p50", "p99");
	for (unsigned i = 0; i < s->n_runs; i++) {
		const struct ipk_scn_af_run *r = &s->run[i];

		for (unsigned k = 0; k < IPK_SCN_CLASSES; k++) {
			const struct ipk_scn_class *c = &r->cls[k];

			if (k == IPK_SCN_EF)
				fprintf(f, "%-13s %6.0f %-5s %9s %9s", r->name,
					r->af_rate_bps / 1e6, c->name, "probes", "");
			else
				fprintf(f, "%-13s %6s %-5s %9.1f %9.1f", "", "", c->name,
					c->offered_bps / 1e6, c->delivered_bps / 1e6);
			fprintf(f, " %6.1f%% %8.2f %8.2f\n", c->loss_pct, c->p50_ms, c->p99_ms);
		}
		fprintf(f,
			"%-13s drops: red %llu (hook 5: %llu, queue 3: %llu), queue-full %llu, "
			"other %llu; conservation %s\n",
			"", (unsigned long long)r->drops_red, (unsigned long long)r->red_at_hook5,
			(unsigned long long)r->red_at_q3, (unsigned long long)r->drops_queue_full,
			(unsigned long long)r->drops_other, r->res.balanced ? "exact" : "BROKEN");
	}
}

static void json_class(FILE *f, const struct ipk_scn_class *c, bool last)
{
	fprintf(f,
		"\"%s\": {\"sent\": %llu, \"delivered\": %llu, \"offered_bps\": %.0f, "
		"\"delivered_bps\": %.0f, \"loss_pct\": %.3f, \"p50_ms\": %.4f, "
		"\"p99_ms\": %.4f}%s",
		c->name, (unsigned long long)c->sent, (unsigned long long)c->delivered,
		c->offered_bps, c->delivered_bps, c->loss_pct, c->p50_ms, c->p99_ms,
		last ? "" : ", ");
}

void ipk_scn_af_json(const struct ipk_scn_af *s, FILE *f)
{
	fprintf(f, ",\n  \"af\": {\"af_dscp\": %d, \"runs\": [\n", AF_DSCP);
	for (unsigned i = 0; i < s->n_runs; i++) {
		const struct ipk_scn_af_run *r = &s->run[i];

		fprintf(f, "    {\"name\": \"%s\", \"qos\": %s, \"af_rate_bps\": %llu,\n     ",
			r->name, r->qos ? "true" : "false", (unsigned long long)r->af_rate_bps);
		fprintf(f, "\"classes\": {");
		for (unsigned k = 0; k < IPK_SCN_CLASSES; k++)
			json_class(f, &r->cls[k], k + 1 == IPK_SCN_CLASSES);
		fprintf(
		    f,
		    "},\n     \"drops\": {\"red\": %llu, \"red_hook5\": %llu, \"red_q3\": %llu, "
		    "\"queue_full\": %llu, \"other\": %llu}, \"link_drops\": %llu, "
		    "\"balanced\": %s, \"seconds\": %.2f}%s\n",
		    (unsigned long long)r->drops_red, (unsigned long long)r->red_at_hook5,
		    (unsigned long long)r->red_at_q3, (unsigned long long)r->drops_queue_full,
		    (unsigned long long)r->drops_other, (unsigned long long)r->res.link_drops,
		    r->res.balanced ? "true" : "false", r->res.seconds,
		    i + 1 < s->n_runs ? "," : "");
	}
	fprintf(f, "  ]}");
}
