// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fairness between 50 users behind one gateway (exp/scenarios.h): host i is user i, with
 * its own SA h<i>; user 1 is greedy. Per-user deficit round robin at queue 3, where the
 * flood waits for the crypto unit; the `user` classifier names users by their SA.
 */
#include "exp/scenarios.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exp/flowstat.h"

#define GREEDY 0	 /* host index of the greedy user */
#define GREEDY_FACTOR 10 /* times its share */
/* Well-behaved users send 90% of their share: together with the greedy one the offered
 * load is 108% of the capacity, so someone must lose, and a fair gateway makes it the
 * one who sends too much. */
#define USER_SHARE_PCT 90
#define USER_QUEUE_PKTS 16

/* "user" classifier by SA name, one FIFO per user (and one for unknown traffic), DRR
 * with equal quanta over them: every backlogged user sends one 1500-byte quantum per
 * round. */
static int fair_text(char *buf, size_t size, uint32_t users)
{
	size_t len = 0;
	int n;

#define PUT(...)                                                                                   \
	do {                                                                                       \
		n = snprintf(buf + len, size - len, __VA_ARGS__);                                  \
		if (n < 0 || (size_t)n >= size - len)                                              \
			return -ENOSPC;                                                            \
		len += (size_t)n;                                                                  \
	} while (0)
	PUT("qos add name users kind user map ");
	for (uint32_t u = 1; u <= users; u++)
		PUT("h%u:%u%s", u, u, u < users ? "," : " default 0\n");
	for (uint32_t u = 1; u <= users; u++)
		PUT("qos add name u%u kind fifo limit %u\n", u, USER_QUEUE_PKTS);
	PUT("qos add name uo kind fifo limit %u\n", USER_QUEUE_PKTS);
	PUT("qos add name fair kind drr quantum 1500\nqos node name q3 classify users children ");
	for (uint32_t u = 1; u <= users; u++)
		PUT("u%u,", u);
	PUT("uo schedule fair\nhook attach 3 q3\n");
#undef PUT
	return 0;
}

/* Jain's fairness index of @n values @x[0..n-1]: 1 when all are equal, 1/n when one
 * takes everything (Jain, Chiu, Hawe 1984). */
static double jain(const double *x, uint32_t n)
{
	double sum = 0, sq = 0;

	for (uint32_t i = 0; i < n; i++) {
		sum += x[i];
		sq += x[i] * x[i];
	}
	return sq > 0 ? sum * sum / ((double)n * sq) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void fill_fair(struct ipk_scn_fair_run *r, const struct ipk_flowstat *fs, uint32_t users)
{
	double good[IPK_SCN_USERS], total = 0, offered = 0, delivered = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < users; i++) {
		r->offered_bps[i] = ipk_flowstat_offered_bps(fs, i);
		r->goodput_bps[i] = ipk_flowstat_delivered_bps(fs, i);
		total += r->goodput_bps[i];
		if (i == GREEDY)
			continue;
		good[n++] = r->goodput_bps[i];
		offered += r->offered_bps[i];
		delivered += r->goodput_bps[i];
	}
	r->jain = jain(good, n);
	r->jain_all = jain(r->goodput_bps, users);
	qsort(good, n, sizeof(good[0]), cmp_double);
	r->min_bps = good[0];
	r->median_bps = good[n / 2];
	r->max_bps = good[n - 1];
	r->greedy_bps = r->goodput_bps[GREEDY];
	r->greedy_share = total > 0 ? r->greedy_bps / total : 0;
	r->delivered_ratio = offered > 0 ? delivered / offered : 0;
}

static int fair_one(const struct ipk_tb_config *base, struct ipk_scn_fair *s,
		    struct ipk_scn_fair_run *r, struct ipk_err *err)
{
	struct ipk_flowstat *fs = calloc(1, sizeof(*fs));
	char *text = malloc(16384);
	struct ipk_tb_config c = *base;
	uint8_t group[IPK_TB_MAX_HOSTS] = {0};
	struct ipk_testbed *tb = NULL;
	int rc = fs && text ? 0 : -ENOMEM;

	c.design = IPK_TB_DECOUPLED;
	c.probe = IPK_TB_PROBE_PLAIN;
	c.n_hosts = s->users;
	c.host_rate_bps = (uint64_t)s->user_rate_bps;
	c.host[GREEDY].rate_bps = (uint64_t)s->greedy_rate_bps;
	if (!rc && r->drr)
		rc = fair_text(text, 16384, s->users);
	c.qos_text = r->drr ? text : NULL;
	if (!rc)
		rc = ipk_flowstat_init(fs, c.n_hosts, group);
	c.obs = (struct ipk_tb_observer){ipk_flowstat_phase, ipk_flowstat_sink, fs};
	if (!rc)
		rc = ipk_testbed_create(&tb, &c, err);
	if (!rc)
		rc = ipk_testbed_run(tb, &r->res, err);
	if (!rc)
		fill_fair(r, fs, s->users);
	ipk_testbed_destroy(tb);
	if (fs)
		ipk_flowstat_fini(fs);
	free(fs);
	free(text);
	return rc;
}

int ipk_scn_fair_run(const struct ipk_tb_config *base, struct ipk_scn_fair *out,
		     struct ipk_err *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->users = IPK_SCN_USERS;
	out->share_bps = (double)base->cap_bps / out->users;
	out->greedy_rate_bps = GREEDY_FACTOR * out->share_bps;
	out->user_rate_bps = out->share_bps * USER_SHARE_PCT / 100;
	for (unsigned i = 0; i < 2 && !rc; i++) {
		struct ipk_scn_fair_run *r = &out->run[i];

		r->drr = i == 1;
		printf("[fairness %u/2] %u users, %-13s ", i + 1, out->users,
		       r->drr ? "per-user DRR" : "FIFO");
		fflush(stdout);
		rc = fair_one(base, out, r, err);
		if (!rc)
			printf("%5.1f s  J %.3f  greedy %.1f%% of the goodput\n", r->res.seconds,
			       r->jain, 100 * r->greedy_share);
	}
	return rc;
}

void ipk_scn_fair_print(const struct ipk_scn_fair *s, FILE *f)
{
	fprintf(f,
		"\nFairness: %u users, each its own SA; user 1 offers %.1f Mbit/s (%ux its share "
		"of %.2f),\nthe others %.2f each; Mbit/s of ESP packets; J = Jain's index\n",
		s->users, s->greedy_rate_bps / 1e6, GREEDY_FACTOR, s->share_bps / 1e6,
		s->user_rate_bps / 1e6);
	fprintf(f, "%-13s %8s %8s %8s %9s %8s %8s %8s %8s\n", "queue 3", "min", "median", "max",
		"delivered", "greedy", "share", "J(49)", "J(50)");
	for (unsigned i = 0; i < 2; i++) {
		const struct ipk_scn_fair_run *r = &s->run[i];

		fprintf(f, "%-13s %8.3f %8.3f %8.3f %8.1f%% %8.2f %7.1f%% %8.4f %8.4f\n",
			r->drr ? "per-user DRR" : "FIFO", r->min_bps / 1e6, r->median_bps / 1e6,
			r->max_bps / 1e6, 100 * r->delivered_ratio, r->greedy_bps / 1e6,
			100 * r->greedy_share, r->jain, r->jain_all);
	}
	fprintf(f, "(min/median/max/delivered: the 49 well-behaved users; share: the greedy "
		   "user's part of all goodput)\n");
}

void ipk_scn_fair_json(const struct ipk_scn_fair *s, FILE *f)
{
	fprintf(
	    f,
	    ",\n  \"fairness\": {\"users\": %u, \"share_bps\": %.0f, \"greedy_rate_bps\": %.0f, "
	    "\"user_rate_bps\": %.0f, \"runs\": [\n",
	    s->users, s->share_bps, s->greedy_rate_bps, s->user_rate_bps);
	for (unsigned i = 0; i < 2; i++) {
		const struct ipk_scn_fair_run *r = &s->run[i];

		fprintf(f,
			"    {\"queue3\": \"%s\", \"jain\": %.5f, \"jain_all\": %.5f, "
			"\"min_bps\": %.0f, \"median_bps\": %.0f, \"max_bps\": %.0f, "
			"\"greedy_bps\": %.0f, \"greedy_share\": %.5f, \"delivered_ratio\": %.5f, "
			"\"balanced\": %s, \"link_drops\": %llu,\n     \"goodput_bps\": [",
			r->drr ? "drr" : "fifo", r->jain, r->jain_all, r->min_bps, r->median_bps,
			r->max_bps, r->greedy_bps, r->greedy_share, r->delivered_ratio,
			r->res.balanced ? "true" : "false", (unsigned long long)r->res.link_drops);
		for (uint32_t u = 0; u < s->users; u++)
			fprintf(f, "%.0f%s", r->goodput_bps[u], u + 1 < s->users ? ", " : "");
		fprintf(f, "]}%s\n", i ? "" : ",");
	}
	fprintf(f, "  ]}");
}

int ipk_scn_fair_plot(const struct ipk_report *rep, const struct ipk_scn_fair *s)
{
	FILE *dat = ipk_report_open(rep, "fairness.dat"), *gp;

	if (!dat)
		return -errno;
	fprintf(dat, "# user offered_mbps fifo_goodput_mbps drr_goodput_mbps\n");
	for (uint32_t u = 0; u < s->users; u++)
		fprintf(dat, "%u %.4f %.4f %.4f\n", u + 1, s->run[1].offered_bps[u] / 1e6,
			s->run[0].goodput_bps[u] / 1e6, s->run[1].goodput_bps[u] / 1e6);
	fclose(dat);
	gp = ipk_report_open(rep, "fairness.gp");
	if (!gp)
		return -errno;
	/* Left: everyone, the greedy user included; right: the 49 others, close up. */
	for (unsigned t = 0; t < 2; t++)
		fprintf(
		    gp,
		    "set terminal %s size 1200,480\nset output 'fairness.%s'\n"
		    "set multiplot layout 1,2 title 'Goodput per user (Mbit/s of ESP): FIFO "
		    "J(49)=%.3f, per-user DRR J(49)=%.3f'\n"
		    "set xlabel 'user (1: greedy)'\nset boxwidth 0.4\nset style fill solid 0.6\n"
		    "set key top right\nset grid ytics\nset xrange [0:%u]\nset yrange [0:*]\n"
		    "plot 'fairness.dat' using ($1-0.2):3 with boxes title 'FIFO', "
		    "'' using ($1+0.2):4 with boxes title 'per-user DRR', "
		    "'' using 1:2 with points pt 2 title 'offered'\n"
		    "set xrange [1.5:%u]\nset yrange [%.3f:%.3f]\nunset key\n"
		    "replot\nunset multiplot\nunset output\nunset xrange\nunset yrange\n",
		    t ? "svg" : "pngcairo", t ? "svg" : "png", s->run[0].jain, s->run[1].jain,
		    s->users + 1, s->users + 1, 0.7 * s->user_rate_bps / 1e6,
		    1.1 * s->user_rate_bps / 1e6);
	fclose(gp);
	ipk_scn_gnuplot(rep, "fairness.gp");
	return 0;
}
