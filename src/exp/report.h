/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reports of the experiments (`ipseck demo`): the paper's Tables I and II with its
 * figures beside ours, the best-effort and drop table, results.json with every figure,
 * the per-probe series and gnuplot scripts for plots in the layout of the paper's Figs. 8
 * and 9, and the overload sweep's table, JSON and plot. Runs are measured elsewhere
 * (exp/testbed.h); this module only writes them out.
 *
 * Threads: the control thread, after the runs.
 */
#ifndef IPK_EXP_REPORT_H
#define IPK_EXP_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "exp/testbed.h"

#define IPK_REPORT_MAX_RUNS 16

struct ipk_report_run {
	enum ipk_tb_probe table;   /* Table I (plain) or II (EF inside IPsec) */
	enum ipk_tb_design design;
	double load;               /* sweep: offered / capacity; 0 in the tables */
	struct ipk_tb_result res;
	char series[64];           /* per-probe series file in the output directory */
};

struct ipk_report {
	const char *out;           /* output directory */
	bool quick, sweep;
	struct ipk_tb_config base;
	struct ipk_report_run runs[IPK_REPORT_MAX_RUNS];
	unsigned n_runs;
	char cpu[128];             /* model name from /proc/cpuinfo */
	double load_before, load_after; /* 1-minute load average around the runs */
	double foreign_cpus;       /* CPUs other processes kept busy, on average */
	/* Optional: writes more members of results.json's top object, each preceded by
	 * ",\n" (the scenarios of exp/scenarios.h). */
	void (*json_more)(const struct ipk_report *r, FILE *f);
	const void *more;
};

/* Opens @name in the output directory for writing; NULL (errno set) on failure. */
FILE *ipk_report_open(const struct ipk_report *r, const char *name);
/* The set-up in two or three lines: flood, capacity, links, probes, machine. */
void ipk_report_setup(const struct ipk_report *r, FILE *f);
/* Tables I and II beside the paper's, then the flood and drop table. */
void ipk_report_tables(const struct ipk_report *r, FILE *f);
/* tables.txt, results.json, fig8/fig9 scripts and (with gnuplot) their PNG and SVG.
 * Returns 0 or a negative errno. */
int ipk_report_write(const struct ipk_report *r);
/* The sweep: prints its table and writes sweep.txt, sweep.json, sweep.dat, sweep.gp and
 * (with gnuplot) sweep.png and sweep.svg. Returns 0 or a negative errno. */
int ipk_report_write_sweep(const struct ipk_report *r);

#endif
