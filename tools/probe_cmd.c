// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck probe`: the experiments' prober (exp/prober.h) on a real host. ICMP echo
 * requests at an interval, plain or inside the prober's own ESP tunnel SA (marked EF by
 * default), leave through a raw IPv4 socket (exp/sockio.h); a second thread receives the
 * echo replies (decrypting ESP replies with the inbound SA) and records each RTT. The
 * target is any host that answers ping: the kernel of the host behind the gateway.
 * Prints min/avg/max/p50/p99/loss and writes the per-probe series.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "exp/gen.h"
#include "exp/prober.h"
#include "exp/sockio.h"
#include "sa/sad.h"
#include "tools/commands.h"
#include "tools/exp_opt.h"

#define PROBE_POOL_PKTS 512
#define PROBE_RCVBUF (1 << 20)

struct probe_args {
	const char *src, *dst; /* the probe's own addresses (inner with --esp) */
	const char *outer_src, *outer_dst, *alg, *series;
	uint32_t count, size, spi_out, spi_in, first_seq;
	uint16_t ident;
	uint8_t dscp;
	double interval_ms, timeout_ms, jitter;
	bool esp, show_sa;
};

struct probe_run {
	struct probe_args a;
	struct ipk_sad *sad;
	struct ipk_pool *pool;
	struct ipk_prober prober;
	bool prober_ready;
	struct ipk_sockio_stats io;
	int tx_fd, rx_fd;
	_Atomic bool stop;
	pthread_t rx_thread;
};

#define PA(field) offsetof(struct probe_args, field)

static const struct ipseck_opt opt_specs[] = {
    {"src", IPSECK_OPT_STR, PA(src), 0},
    {"dst", IPSECK_OPT_STR, PA(dst), 0},
    {"count", IPSECK_OPT_U32, PA(count), 10000000},
    {"interval", IPSECK_OPT_DOUBLE, PA(interval_ms), 0},
    {"jitter", IPSECK_OPT_DOUBLE, PA(jitter), 0},
    {"timeout", IPSECK_OPT_DOUBLE, PA(timeout_ms), 0},
    {"size", IPSECK_OPT_U32, PA(size), 1500},
    {"dscp", IPSECK_OPT_U8, PA(dscp), 63},
    {"ident", IPSECK_OPT_U16, PA(ident), 65535},
    {"esp", IPSECK_OPT_FLAG, PA(esp), 0},
    {"outer-src", IPSECK_OPT_STR, PA(outer_src), 0},
    {"outer-dst", IPSECK_OPT_STR, PA(outer_dst), 0},
    {"spi-out", IPSECK_OPT_U32, PA(spi_out), UINT32_MAX},
    {"spi-in", IPSECK_OPT_U32, PA(spi_in), UINT32_MAX},
    {"first-seq", IPSECK_OPT_U32, PA(first_seq), UINT32_MAX - 1},
    {"alg", IPSECK_OPT_STR, PA(alg), 0},
    {"series", IPSECK_OPT_STR, PA(series), 0},
    {"show-sa", IPSECK_OPT_FLAG, PA(show_sa), 0},
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: ipseck probe --src ADDR --dst ADDR [--count N] [--interval MS] [--jitter F]\n"
	    "                    [--timeout MS] [--size BYTES] [--dscp D] [--ident ID]\n"
	    "                    [--esp --outer-src ADDR --outer-dst ADDR [--spi-out SPI]\n"
	    "                     [--spi-in SPI] [--alg ALG] [--first-seq N]] [--series FILE]\n"
	    "                    [--show-sa]\n"
	    "ICMP echo requests from --src to --dst (default 100, one every 100 ms, 84 bytes,\n"
	    "DSCP 46 (EF)); a reply after --timeout (default 1000 ms) counts as lost.\n"
	    "--jitter F (0..1) delays each probe by a random fraction of F intervals. With\n"
	    "--esp they travel inside the tunnel SA 'p-in' (SPI 0x2000) from --outer-src to\n"
	    "--outer-dst, and replies come back in 'p-out' (SPI 0x2001); keys derived from\n"
	    "the SPIs (exp/sockio.h). --first-seq N starts p-in's sequence numbers after N,\n"
	    "for a series after another against the same gateway (its replay window).\n"
	    "--show-sa prints both SAs as the gateway needs them and exits. --series writes\n"
	    "'probe send_ms rtt_ms' per probe (NaN: lost). Needs CAP_NET_RAW.\n");
}

/* Returns 0, 1 (--help) or -EINVAL. */
static int parse_args(struct probe_args *a, int argc, char **argv)
{
	int rc;

	*a = (struct probe_args){.count = 100,
				 .size = 84,
				 .dscp = IPK_DSCP_EF,
				 .ident = (uint16_t)getpid(),
				 .interval_ms = 100,
				 .timeout_ms = 1000,
				 .spi_out = 0x2000,
				 .spi_in = 0x2001,
				 .alg = "aes128gcm16"};
	rc = ipseck_opt_parse("probe", opt_specs, sizeof(opt_specs) / sizeof(opt_specs[0]), a, argc,
			      argv, usage);
	if (rc)
		return rc;
	if (!a->show_sa && (!a->src || !a->dst)) {
		fprintf(stderr, "ipseck probe: --src and --dst are required\n");
		return -EINVAL;
	}
	if (a->jitter >= 1) {
		fprintf(stderr, "ipseck probe: --jitter %g not below 1\n", a->jitter);
		return -EINVAL;
	}
	if ((a->esp || a->show_sa) && (!a->outer_src || !a->outer_dst)) {
		fprintf(stderr, "ipseck probe: --esp needs --outer-src and --outer-dst\n");
		return -EINVAL;
	}
	return 0;
}

/* The prober's SAs: added to @sad as the prober holds them (p-in outbound, from
 * --first-seq), or with @sad NULL printed as the gateway needs them (directions swapped). */
static int sa_lines(const struct probe_args *a, struct ipk_sad *sad, struct ipk_err *err)
{
	const char *o = a->outer_src, *g = a->outer_dst;
	char line[512];
	int rc;

	if (sad) {
		snprintf(line, sizeof(line), "seq %u", a->first_seq);
		rc = ipk_sockio_sa_add(sad, a->alg, "p-in", a->spi_out, "out", o, g, line, err);
		return rc ? rc
			  : ipk_sockio_sa_add(sad, a->alg, "p-out", a->spi_in, "in", g, o, NULL,
					      err);
	}
	rc = ipk_sockio_sa_line(line, sizeof(line), a->alg, "p-in", a->spi_out, "in", o, g, err);
	if (rc)
		return rc;
	printf("%s\n", line);
	rc = ipk_sockio_sa_line(line, sizeof(line), a->alg, "p-out", a->spi_in, "out", g, o, err);
	if (!rc)
		printf("%s\n", line);
	return rc;
}

static int set_up(struct probe_run *r, struct ipk_err *err)
{
	const struct probe_args *a = &r->a;
	struct ipk_prober_config pc = {.kind = IPK_PROBE_ICMP,
				       .ident = a->ident,
				       .dscp = a->dscp,
				       .size = a->size,
				       .count = a->count,
				       .timeout_ns = (uint64_t)(a->timeout_ms * 1e6)};
	int rc = ipk_sad_create(&r->sad, 1);

	if (!rc)
		rc = ipk_pool_create(&r->pool, PROBE_POOL_PKTS, IPK_PKT_DEFAULT_ROOM);
	if (rc)
		return ipk_err_set(err, rc, "probe: out of memory");
	if (ipk_addr_parse(a->src, &pc.src) || ipk_addr_parse(a->dst, &pc.dst))
		return ipk_err_set(err, -EINVAL, "probe: bad --src or --dst");
	if (a->esp) {
		rc = sa_lines(a, r->sad, err);
		if (rc)
			return rc;
		pc.sa_out = ipk_sad_find(r->sad, "p-in");
		pc.sa_in = ipk_sad_find(r->sad, "p-out");
	}
	rc = ipk_prober_init(&r->prober, &pc, err);
	if (rc)
		return rc;
	r->prober_ready = true;
	r->tx_fd = ipk_sockio_open_tx(err);
	if (r->tx_fd < 0)
		return r->tx_fd;
	r->rx_fd = ipk_sockio_open_rx(a->esp ? IPPROTO_ESP : IPPROTO_ICMP, PROBE_RCVBUF, err);
	return r->rx_fd < 0 ? r->rx_fd : 0;
}

/* Receives replies until asked to stop; every packet goes back to the pool. */
static void *rx_main(void *arg)
{
	struct probe_run *r = arg;

	pthread_setname_np(pthread_self(), "probe-rx");
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		struct ipk_pkt *pkt = ipk_pkt_alloc(r->pool);
		int n;

		if (!pkt) {
			ipk_gen_sleep_until(ipk_gen_now_ns() + 1000000);
			continue;
		}
		n = ipk_sockio_recv(r->rx_fd, pkt, 20);
		if (n > 0)
			ipk_prober_receive(&r->prober, pkt, ipk_gen_now_ns());
		ipk_pkt_free(pkt);
	}
	return NULL;
}

/* xorshift64 (Marsaglia 2003): the jitter needs no more than a cheap uniform draw. */
static double uniform(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) / (double)(UINT64_C(1) << 53);
}

/*
 * Sends every probe: probe i at start + i * interval, later by a random fraction of
 * `jitter` intervals when asked. Exactly periodic probes can lock in phase with a
 * periodic process on their path (the 1 ms block timer of an AF_PACKET ring hands a
 * gateway its frames in bursts) and then always arrive at the same point of its cycle,
 * which independent hosts would not.
 */
static void send_all(struct probe_run *r, uint64_t start_ns)
{
	const struct probe_args *a = &r->a;
	uint64_t interval_ns = (uint64_t)(a->interval_ms * 1e6), seed = start_ns | 1;

	for (uint32_t i = 0; i < a->count; i++) {
		uint64_t delay = (uint64_t)(uniform(&seed) * a->jitter * (double)interval_ns);
		struct ipk_pkt *pkt;

		ipk_gen_sleep_until(start_ns + i * interval_ns + delay);
		pkt = ipk_pkt_alloc(r->pool);
		if (!pkt)
			continue;
		if (ipk_prober_make(&r->prober, i, pkt, ipk_gen_now_ns())) {
			ipk_pkt_free(pkt);
			continue;
		}
		ipk_sockio_send(r->tx_fd, pkt, &r->io);
	}
}

static void print_summary(const struct probe_run *r, const struct ipk_prober_summary *s)
{
	const struct ipk_prober_stats *st = &r->prober.stats;

	printf("probe: %u sent, %u received, %u lost (%.1f%%); RTT ms min %.3f avg %.3f max "
	       "%.3f p50 %.3f p99 %.3f\n",
	       s->sent, s->received, s->lost, s->loss_pct, s->min_ms, s->avg_ms, s->max_ms,
	       s->p50_ms, s->p99_ms);
	printf("probe-result sent=%u received=%u lost=%u loss_pct=%.2f min_ms=%.4f avg_ms=%.4f "
	       "max_ms=%.4f p50_ms=%.4f p99_ms=%.4f late=%llu bad_esp=%llu send_errors=%llu\n",
	       s->sent, s->received, s->lost, s->loss_pct, s->min_ms, s->avg_ms, s->max_ms,
	       s->p50_ms, s->p99_ms, (unsigned long long)atomic_load(&st->late),
	       (unsigned long long)atomic_load(&st->bad_esp), (unsigned long long)r->io.errors);
}

static int run(struct probe_run *r, struct ipk_err *err)
{
	const struct probe_args *a = &r->a;
	struct ipk_prober_summary s;
	uint64_t start;
	int rc;

	ipk_sockio_precise_timers();
	rc = -pthread_create(&r->rx_thread, NULL, rx_main, r);
	if (rc)
		return ipk_err_set(err, rc, "probe: cannot start the receive thread");
	start = ipk_gen_now_ns() + 10000000;
	send_all(r, start);
	/* Replies in flight count until the timeout, as ping waits for them. */
	ipk_gen_sleep_until(ipk_gen_now_ns() + (uint64_t)(a->timeout_ms * 1e6));
	atomic_store_explicit(&r->stop, true, memory_order_relaxed);
	pthread_join(r->rx_thread, NULL);
	ipk_prober_summarize(&r->prober, 0, a->count, &s);
	print_summary(r, &s);
	if (a->series) {
		FILE *f = fopen(a->series, "w");

		if (!f)
			return ipk_err_set(err, -errno, "probe: cannot write %s: %s", a->series,
					   strerror(errno));
		ipk_prober_write_series(&r->prober, 0, a->count, f);
		fclose(f);
	}
	return 0;
}

int ipseck_cmd_probe(int argc, char **argv)
{
	struct probe_run *r = calloc(1, sizeof(*r));
	struct ipk_err err = {""};
	int rc;

	if (!r)
		return 1;
	r->tx_fd = r->rx_fd = -1;
	rc = parse_args(&r->a, argc, argv);
	if (rc == 1) {
		rc = 0;
		goto out;
	}
	if (!rc && r->a.show_sa) {
		rc = sa_lines(&r->a, NULL, &err);
		goto out;
	}
	if (!rc)
		rc = set_up(r, &err);
	if (!rc)
		rc = run(r, &err);
out:
	if (rc && err.msg[0])
		fprintf(stderr, "ipseck probe: %s\n", err.msg);
	if (r->tx_fd >= 0)
		close(r->tx_fd);
	if (r->rx_fd >= 0)
		close(r->rx_fd);
	if (r->prober_ready)
		ipk_prober_fini(&r->prober);
	if (r->pool)
		ipk_pool_destroy(r->pool);
	if (r->sad)
		ipk_sad_destroy(r->sad);
	free(r);
	return rc ? 1 : 0;
}
