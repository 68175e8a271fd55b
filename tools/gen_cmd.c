// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck gen`: the experiments' traffic generator (exp/gen.h) on a real host. N senders,
 * each UDP inside its own ESP tunnel SA (or plain UDP with --plain), leave through a raw
 * IPv4 socket (exp/sockio.h) at a rate, packet size and DSCP, for a given time, paced on
 * absolute deadlines. The socket does not wait for the gateway, so the generator offers
 * whatever it is asked to, more than the gateway can process included.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/clock.h"
#include "ctl/config.h"
#include "exp/gen.h"
#include "exp/sockio.h"
#include "sa/sa.h"
#include "sa/sad.h"
#include "tools/commands.h"
#include "tools/exp_opt.h"

#define GEN_POOL_PKTS 256

struct gen_args {
	uint32_t flows, first, spi_base;
	const char *alg, *src, *dst, *inner_src, *inner_dst, *sa_conf;
	uint16_t sport, dport;
	uint32_t size;
	uint8_t dscp;
	uint64_t rate_bps, rate_pps;
	double seconds;
	bool plain, show_sa;
};

struct gen_run {
	struct gen_args a;
	struct ipk_sad *sad;
	struct ipk_pool *pool;
	struct ipk_gen gen;
	struct ipk_sockio_stats io;
	int fd;
};

static struct ipk_gen *volatile running;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipseck gen --src ADDR --dst ADDR [--inner-src ADDR] [--inner-dst ADDR]\n"
		"                  [--flows N] [--index I] [--spi-base SPI] [--alg ALG]\n"
		"                  [--sa-conf FILE] [--rate BITS | --pps N] [--size BYTES]\n"
		"                  [--dscp D] [--sport P] [--dport P] [--time SECONDS] [--plain]\n"
		"                  [--show-sa]\n"
		"N senders (default 1), sender k with SA 'h<I+k>' of SPI SPI+I+k (default\n"
		"0x1000+1+k; keys derived from the SPI, exp/sockio.h) from --src to --dst,\n"
		"carrying UDP from --inner-src (port P+k) to --inner-dst; or the outbound SAs of\n"
		"--sa-conf (a file of `sa add` lines) in file order. Each sends --rate bits/s of\n"
		"packets as sent (ESP included; suffixes k, M, G) or --pps packets/s, of\n"
		"--size-byte inner packets (default 1400), for --time seconds (default 10).\n"
		"--plain sends the UDP packets without ESP. --show-sa prints the SA lines the\n"
		"gateway needs (with dir in) and exits. Needs CAP_NET_RAW.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		atomic_store_explicit(&running->stop, true, memory_order_relaxed);
}

#define GA(field) offsetof(struct gen_args, field)

static const struct ipseck_opt opt_specs[] = {
    {"flows", IPSECK_OPT_U32, GA(flows), IPK_GEN_MAX_FLOWS},
    {"index", IPSECK_OPT_U32, GA(first), 65535},
    {"spi-base", IPSECK_OPT_U32, GA(spi_base), UINT32_MAX},
    {"alg", IPSECK_OPT_STR, GA(alg), 0},
    {"src", IPSECK_OPT_STR, GA(src), 0},
    {"dst", IPSECK_OPT_STR, GA(dst), 0},
    {"inner-src", IPSECK_OPT_STR, GA(inner_src), 0},
    {"inner-dst", IPSECK_OPT_STR, GA(inner_dst), 0},
    {"sa-conf", IPSECK_OPT_STR, GA(sa_conf), 0},
    {"rate", IPSECK_OPT_RATE, GA(rate_bps), 0},
    {"pps", IPSECK_OPT_RATE, GA(rate_pps), 0},
    {"size", IPSECK_OPT_U32, GA(size), 1500},
    {"dscp", IPSECK_OPT_U8, GA(dscp), 63},
    {"sport", IPSECK_OPT_U16, GA(sport), 65535},
    {"dport", IPSECK_OPT_U16, GA(dport), 65535},
    {"time", IPSECK_OPT_DOUBLE, GA(seconds), 0},
    {"plain", IPSECK_OPT_FLAG, GA(plain), 0},
    {"show-sa", IPSECK_OPT_FLAG, GA(show_sa), 0},
};

/* Returns 0, 1 (--help) or -EINVAL. */
static int parse_args(struct gen_args *a, int argc, char **argv)
{
	int rc;

	*a = (struct gen_args){.flows = 1,
			       .first = 1,
			       .spi_base = 0x1000,
			       .alg = "aes128gcm16",
			       .sport = 5000,
			       .dport = 9,
			       .size = 1400,
			       .rate_pps = 1000,
			       .seconds = 10};
	rc = ipseck_opt_parse("gen", opt_specs, sizeof(opt_specs) / sizeof(opt_specs[0]), a, argc,
			      argv, usage);
	if (rc)
		return rc;
	if (!a->src || !a->dst || !a->flows) {
		fprintf(stderr, "ipseck gen: --src and --dst are required, --flows at least 1\n");
		return -EINVAL;
	}
	if (a->rate_bps)
		a->rate_pps = 0;
	a->inner_src = a->inner_src ? a->inner_src : a->src;
	a->inner_dst = a->inner_dst ? a->inner_dst : a->dst;
	return 0;
}

/* Adds the derived SAs h<first>..h<first+flows-1> to @sad, or prints their lines. */
static int derived_sas(const struct gen_args *a, struct ipk_sad *sad, struct ipk_err *err)
{
	for (uint32_t k = 0; k < a->flows; k++) {
		uint32_t i = a->first + k, spi = a->spi_base + i;
		char name[16], line[512];
		int rc;

		snprintf(name, sizeof(name), "h%u", i);
		if (sad) {
			rc = ipk_sockio_sa_add(sad, a->alg, name, spi, "out", a->src, a->dst, NULL,
					       err);
		} else {
			/* The gateway's view: the same SA, inbound. */
			rc = ipk_sockio_sa_line(line, sizeof(line), a->alg, name, spi, "in", a->src,
						a->dst, err);
			if (!rc)
				printf("%s\n", line);
		}
		if (rc)
			return rc;
	}
	return 0;
}

struct collect {
	struct ipk_sa **sa;
	uint32_t n, max;
};

static void collect_sa(struct ipk_sa *sa, void *arg)
{
	struct collect *c = arg;

	/* Only outbound SAs seal; inbound lines of a shared file are the gateway's. */
	if (c->n < c->max && sa->rt.dir == IPK_DIR_OUT)
		c->sa[c->n++] = sa;
}

/* The flows: sender k from inner-src, UDP port sport+k, through SA k (unless plain). */
static int make_flows(struct gen_run *r, struct ipk_gen_flow *flows, struct ipk_err *err)
{
	const struct gen_args *a = &r->a;
	struct ipk_sa *sa[IPK_GEN_MAX_FLOWS] = {NULL};
	struct collect c = {.sa = sa, .max = a->flows};

	if (!a->plain)
		ipk_sad_foreach(r->sad, collect_sa, &c);
	if (!a->plain && c.n < a->flows)
		return ipk_err_set(err, -EINVAL, "gen: %u outbound SAs for %u flows", c.n,
				   a->flows);
	memset(flows, 0, a->flows * sizeof(*flows));
	for (uint32_t k = 0; k < a->flows; k++) {
		struct ipk_gen_flow *f = &flows[k];

		f->sa = sa[k];
		if (ipk_addr_parse(a->inner_src, &f->src) || ipk_addr_parse(a->inner_dst, &f->dst))
			return ipk_err_set(err, -EINVAL, "gen: bad inner address");
		f->sport = (uint16_t)(a->sport + k);
		f->dport = a->dport;
		f->size = a->size;
		f->dscp = a->dscp;
		f->rate_bps = a->rate_bps;
		f->rate_pps = a->rate_pps;
	}
	return ipk_gen_init(&r->gen, flows, a->flows, r->pool, NULL, NULL, err);
}

static bool emit(void *arg, unsigned flow, struct ipk_pkt *pkt)
{
	struct gen_run *r = arg;

	(void)flow;
	return ipk_sockio_send(r->fd, pkt, &r->io);
}

static int set_up(struct gen_run *r, struct ipk_err *err)
{
	struct ipk_config_ctx ctx = {0};
	struct ipk_gen_flow flows[IPK_GEN_MAX_FLOWS];
	int rc = ipk_sad_create(&r->sad, 1);

	if (!rc)
		rc = ipk_pool_create(&r->pool, GEN_POOL_PKTS, IPK_PKT_DEFAULT_ROOM);
	if (rc)
		return ipk_err_set(err, rc, "gen: out of memory");
	ctx.sad = r->sad;
	if (r->a.sa_conf)
		rc = ipk_config_load_file(&ctx, r->a.sa_conf, err);
	else if (!r->a.plain)
		rc = derived_sas(&r->a, r->sad, err);
	if (!rc)
		rc = make_flows(r, flows, err);
	if (rc)
		return rc;
	r->gen.emit = emit;
	r->gen.arg = r;
	r->fd = ipk_sockio_open_tx(err);
	return r->fd < 0 ? r->fd : 0;
}

static void report(struct gen_run *r, double secs)
{
	uint64_t sent, bytes, late, lost;

	ipk_gen_totals(&r->gen, &sent, &bytes, &late, &lost);
	printf("gen: %u flows: %llu packets, %llu bytes in %.2f s: %.2f Mbit/s, %.0f packets/s; "
	       "late %llu, not made %llu, send errors %llu\n",
	       r->a.flows, (unsigned long long)sent, (unsigned long long)bytes, secs,
	       secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0, secs > 0 ? sent / secs : 0,
	       (unsigned long long)late, (unsigned long long)lost,
	       (unsigned long long)r->io.errors);
	printf("gen-result sent=%llu bytes=%llu seconds=%.3f bps=%.0f errors=%llu late=%llu\n",
	       (unsigned long long)sent, (unsigned long long)bytes, secs,
	       secs > 0 ? (double)bytes * 8 / secs : 0, (unsigned long long)r->io.errors,
	       (unsigned long long)late);
}

static void run(struct gen_run *r)
{
	struct sigaction sa = {.sa_handler = on_signal};
	uint64_t start, end;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ipk_sockio_precise_timers();
	running = &r->gen;
	start = ipk_gen_now_ns() + 1000000;
	ipk_gen_run(&r->gen, start, (uint64_t)(r->a.seconds * 1e9));
	end = ipk_gen_now_ns();
	running = NULL;
	report(r, (double)(end - start) / 1e9);
}

int ipseck_cmd_gen(int argc, char **argv)
{
	struct gen_run *r = calloc(1, sizeof(*r));
	struct ipk_err err = {""};
	int rc = -ENOMEM;

	if (!r)
		return 1;
	r->fd = -1;
	rc = parse_args(&r->a, argc, argv);
	if (rc == 1) {
		rc = 0;
		goto out;
	}
	if (!rc && r->a.show_sa) {
		rc = derived_sas(&r->a, NULL, &err);
		goto out;
	}
	if (!rc)
		rc = set_up(r, &err);
	if (!rc)
		run(r);
out:
	if (rc && err.msg[0])
		fprintf(stderr, "ipseck gen: %s\n", err.msg);
	if (r->fd >= 0)
		close(r->fd);
	if (r->pool)
		ipk_pool_destroy(r->pool);
	if (r->sad)
		ipk_sad_destroy(r->sad);
	free(r);
	return rc ? 1 : 0;
}
