// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck demo`: the paper's experiment (Völker, Schöller, Zitterbart 2007, Tables I
 * and II, Figs. 8 and 9) in one process, without root or namespaces (exp/testbed.h):
 * four hosts flood a gateway whose processor does 55 Mbit/s with 4 x 25 Mbit/s of
 * best-effort ESP while a prober measures RTT and loss, plain (Table I) and EF inside
 * IPsec (Table II), for the coupled baseline, the decoupled engine and the decoupled
 * engine with QoS. Prints both tables beside the paper's figures and writes the
 * per-probe series, plots (gnuplot) and a JSON of every figure into --out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exp/gen.h"
#include "exp/report.h"
#include "exp/scenarios.h"
#include "exp/testbed.h"
#include "tools/commands.h"

/* Overload sweep: best effort offered at these multiples of the capacity. */
static const double sweep_loads[] = {0.5, 1, 2, 5, 10};
#define SWEEP_POINTS (sizeof(sweep_loads) / sizeof(sweep_loads[0]))
_Static_assert(SWEEP_POINTS * 3 <= IPK_REPORT_MAX_RUNS, "the sweep must fit the report");

static void read_cpu(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, size, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		snprintf(buf, size, "%s", colon + 2);
		buf[strcspn(buf, "\n")] = 0;
		break;
	}
	if (f)
		fclose(f);
}

/* The 1-minute load average: other processes on the machine delay the testbed's
 * threads, and the figures should say under which conditions they were taken. */
static double load_average(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double load = -1;

	if (f) {
		if (fscanf(f, "%lf", &load) != 1)
			load = -1;
		fclose(f);
	}
	return load;
}

/* CPU seconds every process used so far (/proc/stat: user, nice, system, irq, softirq
 * and steal; idle and iowait are not work), and this process alone. Their difference
 * over the runs is what other processes, or the hypervisor, took from the testbed. */
static double cpu_all_s(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (f) {
		n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]);
		fclose(f);
	}
	if (n != 8)
		return 0;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf(_SC_CLK_TCK);
}

static double cpu_self_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipseck demo [--out DIR] [--quick] [--alg NAME] [--cap MBITS]\n"
		"                   [--probes N] [--interval MS] [--sweep]\n"
		"                   [--af] [--fairness] [--reconfig] [--tables]\n"
		"Runs the paper's Tables I and II in one process for three designs (coupled\n"
		"baseline, decoupled, decoupled + QoS) and writes tables, per-probe series, plots\n"
		"and results.json into DIR (default ./demo-out). --quick: about 20 s.\n"
		"--sweep instead offers best effort at 0.5x..10x the capacity (EF inside IPsec,\n"
		"100 probes every 10 ms per point) and writes sweep.txt, sweep.json, sweep.png.\n"
		"The full run adds three scenarios beyond the paper (docs/experiments.md); alone\n"
		"(short with --quick, which otherwise runs the tables only):\n"
		"--af: an AF11 flow (RED, guaranteed DRR share) next to EF and best effort;\n"
		"--fairness: 50 users with their own SAs, one greedy: FIFO vs per-user DRR;\n"
		"--reconfig: QoS attached by a control request in the middle of the flood.\n"
		"--tables: Tables I and II only, without the scenarios.\n");
}

/* The quick run sends probes every 5 ms rather than 100 ms: 200 of them fit in a second
 * of flood, enough for the p99 to be the 198th value rather than the maximum. */
static void quick_config(struct ipk_tb_config *c)
{
	c->idle_probes = 20;
	c->idle_interval_ns = 5000000;
	c->probes = 200;
	c->interval_ns = 5000000;
	c->timeout_ns = 500000000;
	c->warmup_ns = 300000000;
}

static void apply_overrides(struct ipk_report *d, uint32_t probes, uint32_t interval_ms)
{
	if (d->quick)
		quick_config(&d->base);
	if (probes)
		d->base.probes = probes;
	if (interval_ms)
		d->base.interval_ns = interval_ms * 1000000ull;
}

static int parse_args(struct ipk_report *d, struct ipk_scn *scn, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"quick", no_argument, NULL, 'q'},
	    {"alg", required_argument, NULL, 'a'},
	    {"cap", required_argument, NULL, 'c'},
	    {"probes", required_argument, NULL, 'n'},
	    {"interval", required_argument, NULL, 'i'},
	    {"sweep", no_argument, NULL, 's'},
	    {"af", no_argument, NULL, 'A'},
	    {"fairness", no_argument, NULL, 'F'},
	    {"reconfig", no_argument, NULL, 'R'},
	    {"tables", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint32_t probes = 0, interval_ms = 0;
	int ch;

	ipk_tb_config_init(&d->base);
	d->out = "demo-out";
	while ((ch = getopt_long(argc, argv, "o:qa:c:n:i:sh", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			d->out = optarg;
			break;
		case 'q':
			d->quick = true;
			break;
		case 'a':
			snprintf(d->base.alg, sizeof(d->base.alg), "%s", optarg);
			break;
		case 'c':
			d->base.cap_bps = strtoull(optarg, NULL, 10) * 1000000ull;
			break;
		case 'n':
			probes = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			interval_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			d->sweep = true;
			break;
		case 'A':
			scn->af = true;
			break;
		case 'F':
			scn->fair = true;
			break;
		case 'R':
			scn->reconfig = true;
			break;
		case 'T':
			scn->tables_only = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	apply_overrides(d, probes, interval_ms);
	return 0;
}

static void plan(struct ipk_report *d)
{
	static const enum ipk_tb_design designs[] = {IPK_TB_COUPLED, IPK_TB_DECOUPLED, IPK_TB_QOS};
	unsigned n_designs = 3;

	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; i < n_designs; i++) {
			struct ipk_report_run *r = &d->runs[d->n_runs++];

			r->table = t ? IPK_TB_PROBE_IPSEC : IPK_TB_PROBE_PLAIN;
			r->design = designs[i];
			snprintf(r->series, sizeof(r->series), "fig%u-%s.dat", t ? 9 : 8,
				 ipk_tb_design_name(r->design));
		}
}

/* Sweep points: EF inside IPsec; hosts on 1 Gbit/s links so that four of them can offer
 * ten times the capacity; 100 probes every 10 ms per point. */
static void plan_sweep(struct ipk_report *d)
{
	for (unsigned k = 0; k < SWEEP_POINTS; k++)
		for (unsigned i = 0; i < 3; i++) {
			struct ipk_report_run *r = &d->runs[d->n_runs++];

			r->table = IPK_TB_PROBE_IPSEC;
			r->design = (enum ipk_tb_design)i;
			r->load = sweep_loads[k];
			snprintf(r->series, sizeof(r->series), "sweep-%s-%gx.dat",
				 ipk_tb_design_name(r->design), r->load);
		}
}

static void sweep_config(struct ipk_tb_config *c, double load)
{
	c->host_rate_bps = (uint64_t)(load * (double)c->cap_bps / c->n_hosts);
	c->link.rate_bps = 1000000000;
	c->idle_probes = 20;
	c->idle_interval_ns = 5000000;
	c->probes = 100;
	c->interval_ns = 10000000;
	c->timeout_ns = 500000000;
	c->warmup_ns = 300000000;
}

static int run_one(struct ipk_report *d, unsigned i, struct ipk_err *err)
{
	struct ipk_report_run *r = &d->runs[i];
	struct ipk_tb_config c = d->base;
	struct ipk_testbed *tb = NULL;
	FILE *f;
	int rc;

	c.design = r->design;
	c.probe = r->table;
	if (r->load)
		sweep_config(&c, r->load);
	if (r->load)
		printf("[%2u/%u] load %4.1fx  %-14s ", i + 1, d->n_runs, r->load,
		       ipk_tb_design_name(r->design));
	else
		printf("[%u/%u] Table %s  %-14s ", i + 1, d->n_runs,
		       r->table == IPK_TB_PROBE_PLAIN ? "I " : "II", ipk_tb_design_name(r->design));
	fflush(stdout);
	rc = ipk_testbed_create(&tb, &c, err);
	if (!rc)
		rc = ipk_testbed_run(tb, &r->res, err);
	if (!rc && (f = ipk_report_open(d, r->series))) {
		ipk_testbed_write_series(tb, f);
		fclose(f);
	}
	if (!rc)
		printf("%5.1f s  loss %5.1f%%  avg %8.2f ms  p99 %8.2f ms  BE %5.1f Mbit/s\n",
		       r->res.seconds, r->res.loaded.loss_pct, r->res.loaded.avg_ms,
		       r->res.loaded.p99_ms, r->res.goodput_bps / 1e6);
	ipk_testbed_destroy(tb);
	return rc;
}

/* Every planned run, with the machine's conditions around them. Returns 0 or the first
 * run's error (message in @err). */
static int run_all(struct ipk_report *d, struct ipk_scn *scn, struct ipk_err *err)
{
	uint64_t start_ns = ipk_gen_now_ns();
	double cpu_other = cpu_all_s() - cpu_self_s(), secs;
	int rc = 0;

	d->load_before = load_average();
	if (d->load_before > 1.0)
		printf("note: load average %.2f before the runs: other processes compete for the "
		       "CPUs and show up in the RTTs\n",
		       d->load_before);
	for (unsigned i = 0; i < d->n_runs && !rc; i++)
		rc = run_one(d, i, err);
	if (!rc)
		rc = ipk_scn_run(d, scn, err);
	secs = (double)(ipk_gen_now_ns() - start_ns) / 1e9;
	d->load_after = load_average();
	d->foreign_cpus = (cpu_all_s() - cpu_self_s() - cpu_other) / secs;
	if (!rc)
		printf("done in %.1f s; other processes kept %.2f CPUs busy meanwhile\n", secs,
		       d->foreign_cpus);
	return rc;
}

/* No scenario flag: Tables I and II, and in the full run (not --quick, --tables or
 * --sweep) every scenario. Scenario flags: only those scenarios (short with --quick). */
static bool plan_scenarios(struct ipk_report *d, struct ipk_scn *scn)
{
	bool only = scn->af || scn->fair || scn->reconfig;

	if (!only && !d->sweep && !d->quick && !scn->tables_only)
		scn->af = scn->fair = scn->reconfig = true;
	if (d->sweep)
		scn->af = scn->fair = scn->reconfig = false;
	d->json_more = ipk_scn_json_members;
	d->more = scn;
	return only && !d->sweep;
}

int ipseck_cmd_demo(int argc, char **argv)
{
	struct ipk_report *d = calloc(1, sizeof(*d));
	struct ipk_scn *scn = calloc(1, sizeof(*scn));
	struct ipk_err err = {""};
	bool scn_only;
	int rc = -ENOMEM;

	if (!d || !scn || parse_args(d, scn, argc, argv))
		goto out;
	scn_only = plan_scenarios(d, scn);
	read_cpu(d->cpu, sizeof(d->cpu));
	if (mkdir(d->out, 0755) && errno != EEXIST) {
		rc = -errno;
		fprintf(stderr, "ipseck demo: cannot create %s: %s\n", d->out, strerror(-rc));
		goto out;
	}
	if (d->sweep)
		plan_sweep(d);
	else if (!scn_only)
		plan(d);
	ipk_report_setup(d, stdout);
	rc = run_all(d, scn, &err);
	if (rc) {
		fprintf(stderr, "\nipseck demo: %s\n", err.msg);
		goto out;
	}
	if (d->sweep) {
		rc = ipk_report_write_sweep(d);
		goto out;
	}
	if (!scn_only) {
		ipk_report_tables(d, stdout);
		rc = ipk_report_write(d);
	}
	if (!rc && (scn->af || scn->fair || scn->reconfig))
		rc = ipk_scn_write(d, scn, scn_only);
out:
	free(scn);
	free(d);
	return rc ? 1 : 0;
}
