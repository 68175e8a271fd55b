// SPDX-License-Identifier: BSD-2-Clause
#include "exp/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The paper's figures (min/avg/max RTT in ms, loss in %), for the tables. */
struct paper_row {
	const char *name;
	double min, avg, max, loss;
};

static const struct paper_row paper_t1[] = {
    {"Linux 2.6", 0.2, 13.8, 28.0, 29},
    {"IPseCK", 0.0, 0.1, 0.2, 0},
};

static const struct paper_row paper_t2[] = {
    {"Linux 2.6", 1.0, 22.8, 46.2, 52},
    {"IPseCK", 44.6, 45.9, 47.0, 47},
    {"IPseCK QoS", 0.7, 1.1, 1.6, 0},
};

static const struct paper_row *paper_for(enum ipk_tb_probe t, enum ipk_tb_design d)
{
	if (d == IPK_TB_COUPLED)
		return t == IPK_TB_PROBE_PLAIN ? &paper_t1[0] : &paper_t2[0];
	if (t == IPK_TB_PROBE_PLAIN)
		return &paper_t1[1];
	return d == IPK_TB_QOS ? &paper_t2[2] : &paper_t2[1];
}

FILE *ipk_report_open(const struct ipk_report *d, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", d->out, name);
	return fopen(path, "w");
}

static void print_table(const struct ipk_report *d, FILE *f, enum ipk_tb_probe t)
{
	fprintf(f, "\nTable %s: %s during the flood (RTT in ms)\n", t ? "II" : "I",
		t ? "EF probes inside IPsec" : "probes without IPsec");
	fprintf(f, "%-15s %7s %7s %7s %7s %7s %6s | %-11s %6s %6s %6s %5s\n", "measured", "min",
		"avg", "max", "p50", "p99", "loss", "paper", "min", "avg", "max", "loss");
	for (unsigned i = 0; i < d->n_runs; i++) {
		const struct ipk_report_run *r = &d->runs[i];
		const struct ipk_prober_summary *s = &r->res.loaded;
		const struct paper_row *p = paper_for(t, r->design);

		if (r->table != t)
			continue;
		fprintf(f,
			"%-15s %7.2f %7.2f %7.2f %7.2f %7.2f %5.0f%% | %-11s %6.1f %6.1f %6.1f "
			"%4.0f%%\n",
			ipk_tb_design_name(r->design), s->min_ms, s->avg_ms, s->max_ms, s->p50_ms,
			s->p99_ms, s->loss_pct, p->name, p->min, p->avg, p->max, p->loss);
	}
}

void ipk_report_setup(const struct ipk_report *d, FILE *f)
{
	const struct ipk_tb_config *c = &d->base;

	fprintf(f,
		"ipseck demo: %u hosts x %.0f Mbit/s of %s ESP (%u-byte packets) into a "
		"gateway\nwhose crypto processes %.0f Mbit/s; links %.0f Mbit/s, %.0f us; "
		"%u probes every %.0f ms\n(the paper: 100 every 100 ms)%s; machine: %s, %ld CPUs\n",
		c->n_hosts, c->host_rate_bps / 1e6, c->alg, c->flood_size, c->cap_bps / 1e6,
		c->link.rate_bps / 1e6, c->link.delay_ns / 1e3, c->probes, c->interval_ns / 1e6,
		d->quick ? ", quick run" : "", d->cpu, sysconf(_SC_NPROCESSORS_ONLN));
}

static void print_extra(const struct ipk_report *d, FILE *f)
{
	fprintf(f, "\nBest-effort flood during the probes (Mbit/s of ESP packets) and drops\n");
	fprintf(f, "%-6s %-15s %8s %8s %8s %8s %9s %9s %9s\n", "table", "design", "offered",
		"goodput", "capacity", "idle-p50", "q1-drops", "q3-drops", "h5-drops");
	for (unsigned i = 0; i < d->n_runs; i++) {
		const struct ipk_report_run *r = &d->runs[i];

		fprintf(f, "%-6s %-15s %8.1f %8.1f %8.1f %8.2f %9llu %9llu %9llu\n",
			r->table ? "II" : "I", ipk_tb_design_name(r->design),
			r->res.offered_bps / 1e6, r->res.goodput_bps / 1e6,
			r->res.capacity_bps / 1e6, r->res.idle.p50_ms,
			(unsigned long long)r->res.queue_drops[0],
			(unsigned long long)r->res.queue_drops[2],
			(unsigned long long)r->res.queue_drops[4]);
	}
	fprintf(f,
		"\nload average (1 min) %.2f before the runs, %.2f after; other processes "
		"kept %.2f CPUs busy\n",
		d->load_before, d->load_after, d->foreign_cpus);
	fprintf(f,
		"\ncoupled: one shared drop-tail FIFO (%u packets) in front of the inline "
		"worker, slowed\nto %.0f Mbit/s for every packet it encrypts or decrypts; "
		"decoupled: queue 3 holds %u\nbest-effort packets; +qos: strict priority for "
		"EF at queues 1, 3 and the dispatcher.\n",
		d->base.queue_pkts, d->base.cap_bps / 1e6, d->base.queue_pkts);
}

void ipk_report_tables(const struct ipk_report *d, FILE *f)
{
	print_table(d, f, IPK_TB_PROBE_PLAIN);
	print_table(d, f, IPK_TB_PROBE_IPSEC);
	print_extra(d, f);
}

static void json_summary(FILE *f, const char *key, const struct ipk_prober_summary *s)
{
	fprintf(f,
		"\"%s\": {\"sent\": %u, \"received\": %u, \"loss_pct\": %.3f, "
		"\"min_ms\": %.4f, \"avg_ms\": %.4f, \"max_ms\": %.4f, \"p50_ms\": %.4f, "
		"\"p99_ms\": %.4f}",
		key, s->sent, s->received, s->loss_pct, s->min_ms, s->avg_ms, s->max_ms, s->p50_ms,
		s->p99_ms);
}

static void json_run(FILE *f, const struct ipk_report_run *r)
{
	const struct ipk_tb_result *x = &r->res;
	const struct paper_row *p = paper_for(r->table, r->design);

	fprintf(f,
		"    {\"table\": \"%s\", \"design\": \"%s\", \"load\": %g, "
		"\"series\": \"%s\", ",
		r->table ? "II" : "I", ipk_tb_design_name(r->design), r->load, r->series);
	json_summary(f, "idle", &x->idle);
	fprintf(f, ",\n     ");
	json_summary(f, "loaded", &x->loaded);
	fprintf(f,
		",\n     \"offered_bps\": %.0f, \"goodput_bps\": %.0f, "
		"\"goodput_inner_bps\": %.0f, \"capacity_bps\": %.0f, \"gen_sent\": %llu, "
		"\"gen_late\": %llu, \"link_drops\": %llu, \"engine_drops\": %llu, "
		"\"queue_drops\": [%llu, %llu, %llu, %llu, %llu], \"balanced\": %s, "
		"\"seconds\": %.2f,\n     \"paper\": {\"row\": \"%s\", \"min_ms\": %.1f, "
		"\"avg_ms\": %.1f, \"max_ms\": %.1f, \"loss_pct\": %.0f}}",
		x->offered_bps, x->goodput_bps, x->goodput_inner_bps, x->capacity_bps,
		(unsigned long long)x->gen_sent, (unsigned long long)x->gen_late,
		(unsigned long long)x->link_drops, (unsigned long long)x->engine_drops,
		(unsigned long long)x->queue_drops[0], (unsigned long long)x->queue_drops[1],
		(unsigned long long)x->queue_drops[2], (unsigned long long)x->queue_drops[3],
		(unsigned long long)x->queue_drops[4], x->balanced ? "true" : "false", x->seconds,
		p->name, p->min, p->avg, p->max, p->loss);
}

static void write_json(const struct ipk_report *d, FILE *f)
{
	const struct ipk_tb_config *c = &d->base;

	fprintf(f,
		"{\n  \"machine\": {\"cpu\": \"%s\", \"cpus\": %ld, \"load_before\": %.2f, "
		"\"load_after\": %.2f, \"foreign_cpus\": %.3f},\n",
		d->cpu, sysconf(_SC_NPROCESSORS_ONLN), d->load_before, d->load_after,
		d->foreign_cpus);
	fprintf(f,
		"  \"config\": {\"quick\": %s, \"alg\": \"%s\", \"hosts\": %u, "
		"\"host_rate_bps\": %llu, \"flood_size\": %u, \"cap_bps\": %llu, "
		"\"queue_pkts\": %u, \"unit_high\": %u, \"unit_low\": %u, \"link_bps\": %llu, "
		"\"link_delay_ns\": %llu, \"probes\": %u, \"interval_ms\": %.1f, "
		"\"idle_probes\": %u, \"timeout_ms\": %.0f},\n  \"runs\": [\n",
		d->quick ? "true" : "false", c->alg, c->n_hosts,
		(unsigned long long)c->host_rate_bps, c->flood_size, (unsigned long long)c->cap_bps,
		c->queue_pkts, c->unit_high, c->unit_low, (unsigned long long)c->link.rate_bps,
		(unsigned long long)c->link.delay_ns, c->probes, c->interval_ns / 1e6,
		c->idle_probes, c->timeout_ns / 1e6);
	for (unsigned i = 0; i < d->n_runs; i++) {
		json_run(f, &d->runs[i]);
		fprintf(f, "%s\n", i + 1 < d->n_runs ? "," : "");
	}
	fprintf(f, "  ]");
	if (d->json_more)
		d->json_more(d, f);
	fprintf(f, "\n}\n");
}

/* One gnuplot script per figure, both terminals; lost probes as crosses at the top. */
static void write_plot(const struct ipk_report *d, FILE *f, unsigned fig, enum ipk_tb_probe t)
{
	static const char *const terms[][2] = {{"pngcairo size 960,540", "png"},
					       {"svg size 960,540", "svg"}};
	double top = d->base.timeout_ns / 1e6;

	for (unsigned k = 0; k < 2; k++) {
		fprintf(f, "set terminal %s\nset output 'fig%u.%s'\n", terms[k][0], fig,
			terms[k][1]);
		fprintf(f,
			"set title 'Fig. %u (in-process): %s during the flood'\n"
			"set xlabel 'probe'\nset ylabel 'RTT [ms] (x: lost)'\nset logscale y\n"
			"set yrange [0.05:%g]\nset key outside right\nset grid\nplot ",
			fig, t ? "EF probes inside IPsec" : "probes without IPsec", top * 2.5);
		for (unsigned i = 0, first = 1; i < d->n_runs; i++) {
			const struct ipk_report_run *r = &d->runs[i];

			if (r->table != t)
				continue;
			/* One colour per design for its line and its lost-probe crosses, which
			 * sit in a band of their own above the timeout. */
			fprintf(f,
				"%s'%s' using 1:3 with linespoints pt 7 ps 0.5 lc %u title '%s', "
				"'%s' using 1:(strcol(3) eq 'NaN' ? %g : 1/0) with points pt 2 "
				"lc %u notitle",
				first ? "" : ", ", r->series, r->design + 1,
				ipk_tb_design_name(r->design), r->series,
				top * (1.2 + 0.25 * r->design), r->design + 1);
			first = 0;
		}
		fprintf(f, "\nunset output\n");
	}
}

static void plots(const struct ipk_report *d, bool draw)
{
	for (unsigned fig = 8; fig <= 9; fig++) {
		char name[32], cmd[4200];
		FILE *f;

		snprintf(name, sizeof(name), "fig%u.gp", fig);
		f = ipk_report_open(d, name);
		if (!f)
			continue;
		write_plot(d, f, fig, fig == 8 ? IPK_TB_PROBE_PLAIN : IPK_TB_PROBE_IPSEC);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot %s 2>&1", d->out, name);
		if (draw && system(cmd))
			printf("gnuplot failed on %s/%s\n", d->out, name);
	}
}

static bool have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

int ipk_report_write(const struct ipk_report *d)
{
	FILE *f = ipk_report_open(d, "results.json");

	if (!f)
		return -errno;
	write_json(d, f);
	fclose(f);
	f = ipk_report_open(d, "tables.txt");
	if (!f)
		return -errno;
	ipk_report_setup(d, f);
	ipk_report_tables(d, f);
	fclose(f);
	plots(d, have_gnuplot());
	if (!have_gnuplot())
		printf("gnuplot is missing (Debian: gnuplot-nox): fig8/fig9 .png and .svg were "
		       "not drawn; the series (.dat), the scripts (.gp) and results.json are "
		       "written.\n");
	printf("\nwrote %s/results.json, tables.txt, fig8/fig9 (.dat per design, .gp%s)\n",
	       d->out, have_gnuplot() ? ", .png, .svg" : "");
	return 0;
}

static void print_sweep(const struct ipk_report *d, FILE *f)
{
	fprintf(f,
		"\nOverload sweep: EF probes inside IPsec while best effort is offered at a "
		"multiple\nof the %.0f Mbit/s capacity (100 probes every 10 ms per point)\n",
		d->base.cap_bps / 1e6);
	fprintf(f, "%-5s %-15s %8s %8s %8s %9s %9s\n", "load", "design", "offered", "goodput",
		"EF-loss", "EF-p50", "EF-p99");
	for (unsigned i = 0; i < d->n_runs; i++) {
		const struct ipk_report_run *r = &d->runs[i];

		fprintf(f, "%4.1fx %-15s %8.1f %8.1f %7.1f%% %9.2f %9.2f\n", r->load,
			ipk_tb_design_name(r->design), r->res.offered_bps / 1e6,
			r->res.goodput_bps / 1e6, r->res.loaded.loss_pct, r->res.loaded.p50_ms,
			r->res.loaded.p99_ms);
	}
	fprintf(f,
		"load average (1 min) %.2f before, %.2f after; other processes kept %.2f "
		"CPUs busy\n",
		d->load_before, d->load_after, d->foreign_cpus);
}

/* sweep.dat: one row per load, per design: EF p99, EF loss, goodput (3 columns each). */
static void sweep_plot(const struct ipk_report *d, FILE *dat, FILE *gp)
{
	static const char *const terms[][2] = {{"pngcairo size 1100,480", "png"},
					       {"svg size 1100,480", "svg"}};

	for (unsigned i = 0; i + 2 < d->n_runs; i += 3) {
		fprintf(dat, "%g", d->runs[i].load);
		for (unsigned k = 0; k < 3; k++)
			fprintf(dat, " %.4f %.2f %.3f", d->runs[i + k].res.loaded.p99_ms,
				d->runs[i + k].res.loaded.loss_pct,
				d->runs[i + k].res.goodput_bps / 1e6);
		fprintf(dat, "\n");
	}
	for (unsigned t = 0; t < 2; t++)
		fprintf(gp,
			"set terminal %s\nset output 'sweep.%s'\nset multiplot layout 1,2\n"
			"set logscale x\nset xlabel 'offered best effort / capacity'\nset grid\n"
			"set key top left\nset logscale y\nset ylabel 'EF p99 RTT [ms]'\n"
			"plot for [k=0:2] 'sweep.dat' using 1:(column(2+3*k)) with linespoints "
			"title word('coupled decoupled decoupled+qos', k+1)\nunset logscale y\n"
			"set ylabel 'best-effort goodput [Mbit/s]'\nset yrange [0:*]\n"
			"plot for [k=0:2] 'sweep.dat' using 1:(column(4+3*k)) with linespoints "
			"title word('coupled decoupled decoupled+qos', k+1)\nunset multiplot\n"
			"unset output\nunset yrange\n",
			terms[t][0], terms[t][1]);
}

int ipk_report_write_sweep(const struct ipk_report *d)
{
	FILE *f = ipk_report_open(d, "sweep.json"), *dat, *gp;

	if (!f)
		return -errno;
	write_json(d, f);
	fclose(f);
	print_sweep(d, stdout);
	f = ipk_report_open(d, "sweep.txt");
	dat = ipk_report_open(d, "sweep.dat");
	gp = ipk_report_open(d, "sweep.gp");
	if (f)
		print_sweep(d, f);
	if (dat && gp)
		sweep_plot(d, dat, gp);
	if (f)
		fclose(f);
	if (dat)
		fclose(dat);
	if (gp)
		fclose(gp);
	if (have_gnuplot()) {
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot sweep.gp 2>&1", d->out);
		if (system(cmd))
			printf("gnuplot failed on %s/sweep.gp\n", d->out);
	}
	printf("\nwrote %s/sweep.txt, sweep.json, sweep.dat, sweep.gp%s\n", d->out,
	       have_gnuplot() ? ", sweep.png, sweep.svg" : " (no gnuplot: no plot)");
	return 0;
}
