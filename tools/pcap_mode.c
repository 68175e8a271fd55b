// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck pcap`: runs every packet of a capture through the SPD/SAD/ESP path inline and
 * writes what comes out. Plaintext goes outbound (protect, bypass or discard); ESP (IP
 * protocol 50 or UDP 4500) goes inbound (verified, decrypted, policy-checked). Each drop
 * is printed with the frame number and reason, then a summary.
 */
#include "tools/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/inline.h"
#include "io/pcapfile.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define PCAP_POOL_PKTS 1024
#define REASM_POOL_PKTS 64
#define REASM_ROOM (IPK_PKT_HEADROOM + 65536 + IPK_PKT_TAILROOM)

struct pcap_run {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_pool *pool;
	struct ipk_pool *reasm_pool;
	struct ipk_inline path;
	struct ipk_pcap_in *in;
	struct ipk_pcap_out *out;
	uint64_t frames, written, dropped, held;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ipseck pcap -f CONFIG --in IN.pcap --out OUT.pcap [-q]\n"
		   "  Runs IN through the SPD/SAD/ESP path of CONFIG and writes OUT.\n"
		   "  -q  do not print one line per dropped packet\n");
}

static int setup(struct pcap_run *run, const char *config, const char *in, const char *out)
{
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_err err = { "" };
	int rc;

	if (ipk_sad_create(&run->sad, 1) || ipk_spd_create(&run->spd) ||
	    ipk_pool_create(&run->pool, PCAP_POOL_PKTS, IPK_PKT_DEFAULT_ROOM) ||
	    ipk_pool_create(&run->reasm_pool, REASM_POOL_PKTS, REASM_ROOM)) {
		fprintf(stderr, "ipseck pcap: out of memory\n");
		return -1;
	}
	ctx.sad = run->sad;
	ctx.spd = run->spd;
	rc = ipk_config_load_file(&ctx, config, &err);
	if (!rc)
		rc = ipk_pcap_open_in(&run->in, in, &err);
	if (!rc)
		rc = ipk_pcap_open_out(&run->out, out, run->in, &err);
	if (!rc)
		rc = ipk_inline_init(&run->path, run->sad, run->spd, run->reasm_pool);
	if (rc) {
		fprintf(stderr, "ipseck pcap: %s\n", err.msg[0] ? err.msg : "setup failed");
		return -1;
	}
	return 0;
}

static void teardown(struct pcap_run *run)
{
	ipk_inline_fini(&run->path);
	ipk_pcap_close_out(run->out);
	ipk_pcap_close_in(run->in);
	ipk_spd_destroy(run->spd);
	ipk_sad_destroy(run->sad);
	ipk_pool_destroy(run->reasm_pool);
	ipk_pool_destroy(run->pool);
}

static void report_drop(struct pcap_run *run, uint64_t frame, enum ipk_drop_reason why)
{
	run->dropped++;
	if (!run->quiet)
		printf("drop %llu %s\n", (unsigned long long)frame, ipk_drop_name(why));
}

static int process_one(struct pcap_run *run, struct ipk_pkt *pkt)
{
	enum ipk_inline_result res;
	enum ipk_drop_reason why = IPK_DROP_NONE;
	struct ipk_pkt *out = NULL;
	uint64_t frame = pkt->index;
	int rc = 0;

	res = ipk_inline_auto(&run->path, pkt, &out, &why);
	if (res == IPK_INLINE_HELD)
		run->held++;
	else if (res == IPK_INLINE_DROPPED)
		report_drop(run, frame, why);
	if (!out)
		out = ipk_inline_next(&run->path);
	/* *out first, then the further fragments and ICMP errors the path made
	 * (engine/mtu.h). */
	while (out) {
		if (!rc) {
			rc = ipk_pcap_write(run->out, run->in, out);
			run->written += rc == 0;
		}
		ipk_pkt_free(out);
		out = ipk_inline_next(&run->path);
	}
	return rc;
}

static int run_capture(struct pcap_run *run)
{
	struct ipk_err err = { "" };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt;
	int rc;

	while ((rc = ipk_pcap_read(run->in, run->pool, &pkt, &why, &err)) == 1) {
		run->frames++;
		if (!pkt) {
			ipk_drop_count(&run->path.drops, why);
			report_drop(run, run->frames, why);
			continue;
		}
		if (process_one(run, pkt)) {
			fprintf(stderr, "ipseck pcap: cannot write output\n");
			return -1;
		}
	}
	if (rc < 0)
		fprintf(stderr, "ipseck pcap: %s\n", err.msg);
	return rc;
}

static void print_summary(struct pcap_run *run)
{
	const struct ipk_inline_stats *s = &run->path.stats;

	printf("frames %llu  written %llu  protected %llu  decrypted %llu  bypassed %llu  "
	       "dropped %llu\n",
	       (unsigned long long)run->frames, (unsigned long long)run->written,
	       (unsigned long long)s->protected_pkts, (unsigned long long)s->decrypted,
	       (unsigned long long)s->bypassed, (unsigned long long)ipk_drop_total(&run->path.drops));
	for (unsigned r = 1; r < IPK_DROP_COUNT; r++) {
		uint64_t n = ipk_drop_read(&run->path.drops, (enum ipk_drop_reason)r);

		if (n)
			printf("  drop %-22s %llu\n", ipk_drop_name((enum ipk_drop_reason)r),
			       (unsigned long long)n);
	}
}

int ipseck_cmd_pcap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *in = NULL, *out = NULL;
	struct pcap_run run;
	int c, rc;

	memset(&run, 0, sizeof(run));
	while ((c = getopt_long(argc, argv, "f:i:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': config = optarg; break;
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'q': run.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || !in || !out) {
		usage(stderr);
		return 2;
	}
	rc = setup(&run, config, in, out);
	if (!rc)
		rc = run_capture(&run);
	/* Whatever reassembly still holds counts as dropped before the summary. */
	ipk_inline_fini(&run.path);
	if (!rc)
		print_summary(&run);
	teardown(&run);
	return rc ? 1 : 0;
}
