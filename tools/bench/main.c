// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipseck-bench: prints the throughput of ipseck's ESP path and the cost of its SPD and
 * SAD lookups, measured on one core, with the figures the project's targets are checked
 * against. Usage: ipseck-bench {esp|spd|sad|all} [--seconds S] [--algs a,b]
 * [--sizes 64,512,1400]. The last line, "json: {...}", carries every figure.
 */
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tools/bench/bench.h"

/* Targets (the project's performance goals). */
#define TARGET_GCM_RAW_SHARE 0.85 /* aes128gcm16 1400-byte encap vs raw EVP */
#define TARGET_64_MPPS 2.0	  /* aes128gcm16 64-byte encap */
#define TARGET_SPD_RATIO 3.0	  /* 10,000 rules vs 10 */
#define TARGET_SAD_RATIO 2.0	  /* 100,000 SAs vs 10: "flat" */

struct section {
	const char *name;
	int (*run)(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t);
};

static const struct section sections[] = {
    {"esp", bench_esp},
    {"spd", bench_spd},
    {"sad", bench_sad},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipseck-bench {esp|spd|sad|all} [--seconds S] [--algs a,b] "
		"[--sizes 64,512,1400]\n"
		"  --seconds S  timed part of each measurement (default %.1f)\n"
		"  --algs       ESP algorithms (default: every secure one)\n"
		"  --sizes      inner IPv4/UDP packet sizes in bytes (default 64,512,1400)\n",
		BENCH_DEFAULT_SECONDS);
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
	    {"seconds", required_argument, NULL, 's'},
	    {"algs", required_argument, NULL, 'a'},
	    {"sizes", required_argument, NULL, 'z'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	o->seconds = BENCH_DEFAULT_SECONDS;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (*end || !(o->seconds > 0 && o->seconds <= 60)) {
				fprintf(stderr, "ipseck-bench: --seconds %s not in (0, 60]\n",
					optarg);
				return -1;
			}
			break;
		case 'a':
			o->algs = optarg;
			break;
		case 'z':
			o->sizes = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* Measurements on one core: pin to CPU 0 so the scheduler does not move the thread
 * between caches mid-measurement. */
static int pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], *colon;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) != 0 || !(colon = strchr(line, ':')))
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

static void header(const char *cmd, const struct bench_opts *o, bool pinned, struct bench_json *j)
{
	char cpu[256];
	const char *ossl = OpenSSL_version(OPENSSL_VERSION);
	long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);

	cpu_model(cpu, sizeof(cpu));
	printf("ipseck-bench %s\n", cmd);
	printf("cpu:     %s (%ld online), thread %s\n", cpu, n_cpus,
	       pinned ? "pinned to CPU 0" : "NOT pinned (affinity refused)");
	printf("openssl: %s\n", ossl);
	printf("timing:  %.3f s per cell after warm-up, CLOCK_MONOTONIC\n", o->seconds);
	bench_json_add(j, "{\"cpu\":");
	bench_json_str(j, cpu);
	bench_json_add(j, ",\"online_cpus\":%ld,\"pinned_cpu0\":%s,\"openssl\":", n_cpus,
		       pinned ? "true" : "false");
	bench_json_str(j, ossl);
	bench_json_add(j, ",\"seconds\":%.3f", o->seconds);
}

/* Prints one target's verdict and appends it to the JSON; skipped when not measured. */
static void target(struct bench_json *j, bool *first, const char *key, const char *what,
		   double value, double limit, bool at_least)
{
	bool ok;

	if (isnan(value))
		return;
	ok = at_least ? value >= limit : value <= limit;
	printf("  %-4s %-46s %8.3f (%s %.2f)\n", ok ? "MET" : "MISS", what, value,
	       at_least ? ">=" : "<=", limit);
	bench_json_add(j, "%s\"%s\":{\"value\":%.4f,\"limit\":%.2f,\"met\":%s}", *first ? "" : ",",
		       key, value, limit, ok ? "true" : "false");
	*first = false;
}

static void check_targets(const struct bench_targets *t, struct bench_json *j)
{
	bool first = true;

	printf("\n== targets ==\n");
	bench_json_add(j, ",\"targets\":{");
	target(j, &first, "gcm1400_encap_over_raw", "aes128gcm16 1400 B encap / raw EVP",
	       t->gcm_1400_encap_over_raw, TARGET_GCM_RAW_SHARE, true);
	target(j, &first, "gcm64_encap_mpps", "aes128gcm16 64 B encap Mpps", t->gcm_64_encap_mpps,
	       TARGET_64_MPPS, true);
	target(j, &first, "spd_10k_over_10", "SPD ns/lookup 10,000 rules / 10 rules",
	       t->spd_10k_ns / t->spd_10_ns, TARGET_SPD_RATIO, false);
	target(j, &first, "sad_100k_over_10", "SAD ns/lookup 100,000 SAs / 10 SAs",
	       t->sad_100k_ns / t->sad_10_ns, TARGET_SAD_RATIO, false);
	bench_json_add(j, "}");
}

static bool known_command(const char *cmd)
{
	if (strcmp(cmd, "all") == 0)
		return true;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(sections); i++)
		if (strcmp(cmd, sections[i].name) == 0)
			return true;
	return false;
}

static int run(const char *cmd, const struct bench_opts *o)
{
	struct bench_targets t = {NAN, NAN, NAN, NAN, NAN, NAN};
	struct bench_json j = {NULL, 0, 0};
	bool all = strcmp(cmd, "all") == 0;
	uint64_t t0 = bench_now_ns();
	int failed = 0;

	header(cmd, o, pin_cpu0() == 0, &j);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(sections); i++)
		if (all || strcmp(cmd, sections[i].name) == 0)
			failed |= sections[i].run(o, &j, &t);
	check_targets(&t, &j);
	/* Below ~0.9 another process shared the core: the medians still hold, the means
	 * in the JSON less so. */
	printf("\nlowest on-CPU share of a measurement: %.0f%%\n", bench_min_on_cpu() * 100);
	printf("total run time: %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
	bench_json_add(&j, ",\"min_on_cpu_share\":%.3f,\"failed\":%s}", bench_min_on_cpu(),
		       failed ? "true" : "false");
	printf("json: %s\n", j.buf ? j.buf : "{}");
	free(j.buf);
	return failed;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {BENCH_DEFAULT_SECONDS, NULL, NULL};
	const char *cmd;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (!known_command(cmd)) {
		fprintf(stderr, "ipseck-bench: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (parse_opts(argc - 1, argv + 1, &o)) {
		usage(stderr);
		return 2;
	}
	bench_rand_seed();
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run(cmd, &o);
}
