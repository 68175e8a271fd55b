// SPDX-License-Identifier: BSD-2-Clause
/* What the three scenarios share: their set-up, the engine's drops by reason, gnuplot. */
#include "exp/scenarios.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ipk_scn_config(struct ipk_tb_config *c, bool quick)
{
	c->idle_probes = 20;
	c->idle_interval_ns = 5000000;
	c->probes = quick ? 200 : 150;
	c->interval_ns = quick ? 5000000 : 20000000;
	c->timeout_ns = 500000000;
	c->warmup_ns = 300000000;
}

void ipk_scn_engine_drops(struct ipk_engine *e, uint64_t drops[IPK_DROP_COUNT])
{
	struct ipk_engine_stats *st;

	memset(drops, 0, IPK_DROP_COUNT * sizeof(drops[0]));
	if (ipk_engine_stats_read(e, &st))
		return;
	for (unsigned r = 0; r < IPK_DROP_COUNT; r++) {
		for (uint32_t q = 0; q < st->n_queues; q++)
			drops[r] += st->queue[q].drops[r];
		for (uint32_t p = 0; p < st->n_places; p++)
			drops[r] += st->place[p].drops[r];
		for (uint32_t u = 0; u < st->n_units; u++)
			drops[r] += st->unit[u].drops[r];
	}
	ipk_engine_stats_free(st);
}

bool ipk_scn_gnuplot(const struct ipk_report *r, const char *script)
{
	char cmd[4200];

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		printf("gnuplot is missing (Debian: gnuplot-nox): %s/%s written, not drawn\n",
		       r->out, script);
		return false;
	}
	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot %s 2>&1", r->out, script);
	if (system(cmd)) {
		printf("gnuplot failed on %s/%s\n", r->out, script);
		return false;
	}
	return true;
}

void ipk_scn_json_members(const struct ipk_report *r, FILE *f)
{
	const struct ipk_scn *s = r->more;

	if (!s)
		return;
	if (s->af)
		ipk_scn_af_json(&s->af_res, f);
	if (s->fair)
		ipk_scn_fair_json(&s->fair_res, f);
	if (s->reconfig)
		ipk_scn_reconfig_json(&s->reconfig_res, f);
}

void ipk_scn_print(const struct ipk_scn *s, FILE *f)
{
	if (s->af)
		ipk_scn_af_print(&s->af_res, f);
	if (s->fair)
		ipk_scn_fair_print(&s->fair_res, f);
	if (s->reconfig)
		ipk_scn_reconfig_print(&s->reconfig_res, f);
}

/* results.json of a run with scenarios only: the machine, then their members. */
static int write_json(const struct ipk_report *r)
{
	FILE *f = ipk_report_open(r, "results.json");

	if (!f)
		return -errno;
	fprintf(f,
		"{\n  \"machine\": {\"cpu\": \"%s\", \"cpus\": %ld, \"load_before\": %.2f, "
		"\"load_after\": %.2f, \"foreign_cpus\": %.3f},\n  \"config\": {\"quick\": %s, "
		"\"alg\": \"%s\", \"cap_bps\": %llu}",
		r->cpu, sysconf(_SC_NPROCESSORS_ONLN), r->load_before, r->load_after,
		r->foreign_cpus, r->quick ? "true" : "false", r->base.alg,
		(unsigned long long)r->base.cap_bps);
	ipk_scn_json_members(r, f);
	fprintf(f, "\n}\n");
	fclose(f);
	return 0;
}

int ipk_scn_write(const struct ipk_report *r, const struct ipk_scn *s, bool json)
{
	FILE *f = ipk_report_open(r, "scenarios.txt");
	int rc = 0;

	ipk_scn_print(s, stdout);
	if (f) {
		ipk_scn_print(s, f);
		fprintf(f,
			"\nload average (1 min) %.2f before the runs, %.2f after; other "
			"processes kept %.2f CPUs busy\n",
			r->load_before, r->load_after, r->foreign_cpus);
		fclose(f);
	}
	if (json)
		rc = write_json(r);
	if (!rc && s->fair)
		rc = ipk_scn_fair_plot(r, &s->fair_res);
	if (!rc && s->reconfig)
		rc = ipk_scn_reconfig_plot(r, &s->reconfig_res);
	printf("\nwrote %s/scenarios.txt%s%s%s\n", r->out, json ? ", results.json" : "",
	       s->fair ? ", fairness.dat/.gp" : "", s->reconfig ? ", reconfig.dat/.gp" : "");
	return rc;
}

int ipk_scn_run(const struct ipk_report *r, struct ipk_scn *s, struct ipk_err *err)
{
	struct ipk_tb_config c = r->base;
	int rc = 0;

	ipk_scn_config(&c, r->quick);
	if (s->af)
		rc = ipk_scn_af_run(&c, &s->af_res, err);
	if (!rc && s->fair)
		rc = ipk_scn_fair_run(&c, &s->fair_res, err);
	if (!rc && s->reconfig)
		rc = ipk_scn_reconfig_run(&c, r, &s->reconfig_res, err);
	return rc;
}
