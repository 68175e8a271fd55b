// SPDX-License-Identifier: BSD-2-Clause
/*
 * io_echo: opens I/O ports (src/io) in the current network namespace and turns packets
 * around, for the netns tests of the back ends. Not installed.
 *
 * usage: io_echo [-t SECONDS] [-n PACKETS] [-v] ACTION KIND ARGS... [-- KIND ARGS...]
 *   icmp-echo  answers ICMP / ICMPv6 echo requests read from the port, on the same port
 *   reflect    sends each packet back on its port with addresses (and UDP ports) swapped
 *   forward    two ports: what one receives leaves by the other
 * Prints "ready PORTNAME..." once the ports are open, with -v one line per packet (the
 * first 10000): what the ESP layer's ipk_esp_locate() makes of it, and at the end every
 * port's counters as "stat PORT NAME VALUE" lines and "io_echo: rx N tx M". Stops after
 * SECONDS (default 60), PACKETS received (default unlimited) or SIGTERM/SIGINT.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/pkt.h"
#include "io/port.h"
#include "proto/esp.h"
#include "proto/ip.h"

#define BURST 32
#define MAX_VERBOSE 10000

enum action { ICMP_ECHO, REFLECT, FORWARD };

static volatile sig_atomic_t stop;
static struct ipk_io_port *ports[2];
static unsigned n_ports;
static bool verbose;
static uint64_t n_rx, n_tx, n_ignored, n_lines;

static void on_signal(int sig)
{
	stop = sig;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Swaps source and destination; the IPv4 header checksum does not change (a sum). */
static void swap_addresses(uint8_t *ip, const struct ipk_ip_info *info)
{
	if (info->version == 4)
		swap_bytes(ip + 12, ip + 16, 4);
	else
		swap_bytes(ip + 8, ip + 24, 16);
}

/* Turns an echo request into its reply; false for anything else. */
static bool icmp_reply(uint8_t *ip, uint32_t len)
{
	struct ipk_ip_info info;
	uint8_t *icmp;
	uint32_t icmp_len, sum = 0;

	if (ipk_ip_parse(ip, len, &info) || info.is_fragment)
		return false;
	icmp = ip + info.hdr_len;
	icmp_len = info.total_len - info.hdr_len;
	if (icmp_len < 8)
		return false;
	if (info.version == 4 && info.proto == IPK_PROTO_ICMP && icmp[0] == 8)
		icmp[0] = 0;
	else if (info.version == 6 && info.proto == IPK_PROTO_ICMPV6 && icmp[0] == 128)
		icmp[0] = 129;
	else
		return false;
	swap_addresses(ip, &info);
	put16(icmp + 2, 0);
	if (info.version == 6) /* RFC 4443 §2.3: pseudo-header */
		sum = ipk_csum_add(0, ip + 8, 32) + IPK_PROTO_ICMPV6 + icmp_len;
	put16(icmp + 2, (uint16_t)~ipk_csum_fold(ipk_csum_add(sum, icmp, icmp_len)));
	return true;
}

static bool reflect(uint8_t *ip, uint32_t len)
{
	struct ipk_ip_info info;

	if (ipk_ip_parse(ip, len, &info))
		return false;
	swap_addresses(ip, &info);
	if (info.proto == IPK_PROTO_UDP && info.total_len >= info.hdr_len + 8u)
		swap_bytes(ip + info.hdr_len, ip + info.hdr_len + 2, 2);
	return true;
}

static void describe(const struct ipk_io_port *port, struct ipk_pkt *pkt)
{
	const uint8_t *d = ipk_pkt_data(pkt);
	struct ipk_ip_info info;
	uint32_t esp_off = 0, spi = 0;
	int rc;

	if (!verbose || n_lines++ >= MAX_VERBOSE)
		return;
	if (pkt->meta.flags & IPK_IO_F_NOT_IP) {
		printf("rx %s frame len %u not-ip\n", port->name, pkt->len);
		return;
	}
	if (strcmp(port->ops->name, "wire") == 0 && !(pkt->meta.flags & IPK_IO_F_L2)) {
		printf("rx %s frame len %u ethertype 0x%02x%02x\n", port->name, pkt->len, d[12],
		       d[13]);
		return;
	}
	rc = ipk_ip_parse(d, pkt->len, &info);
	if (rc) {
		printf("rx %s len %u bad %s\n", port->name, pkt->len, ipk_drop_name(rc));
		return;
	}
	printf("rx %s v%u len %u proto %u tos 0x%02x ttl %u", port->name, info.version, pkt->len,
	       info.proto, ipk_ip_get_tos(d), d[info.version == 6 ? 7 : 8]);
	rc = ipk_esp_locate(d, pkt->len, &info, 4500, &esp_off, &spi);
	if (rc)
		printf(" %s\n", ipk_drop_name(rc));
	else
		printf(" esp_off %u spi 0x%08x\n", esp_off, spi);
}

/* Sends @n packets on @port, retrying a full queue for a while; frees what never left. */
static void send_all(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n)
{
	uint32_t done = 0;

	for (int tries = 0; done < n && tries < 100; tries++) {
		done += ipk_io_tx_burst(port, pkts + done, n - done);
		if (done < n)
			usleep(200);
	}
	n_tx += done;
	for (; done < n; done++) {
		ipk_pkt_free(pkts[done]);
		n_ignored++;
	}
}

static void handle(enum action act, unsigned from, struct ipk_pkt **pkts, uint32_t n)
{
	struct ipk_pkt *out[BURST];
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct ipk_pkt *pkt = pkts[i];
		bool keep = true;

		describe(ports[from], pkt);
		if (act == ICMP_ECHO)
			keep = icmp_reply(ipk_pkt_data(pkt), pkt->len);
		else if (act == REFLECT)
			keep = reflect(ipk_pkt_data(pkt), pkt->len);
		if (keep) {
			out[k++] = pkt;
		} else {
			ipk_pkt_free(pkt);
			n_ignored++;
		}
	}
	send_all(ports[act == FORWARD ? 1 - from : from], out, k);
}

static void run(enum action act, struct ipk_pool *pool, uint64_t seconds, uint64_t max_pkts)
{
	uint64_t end = ipk_clock_now_ns() + seconds * IPK_NSEC_PER_SEC;
	struct pollfd pfd[2 * IPK_IO_MAX_FDS];
	struct ipk_pkt *pkts[BURST];
	int fds[IPK_IO_MAX_FDS];
	nfds_t nfd = 0;

	for (unsigned p = 0; p < n_ports; p++) {
		uint32_t k = ipk_io_fds(ports[p], fds, IPK_IO_MAX_FDS);

		for (uint32_t i = 0; i < k; i++)
			pfd[nfd++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	}
	while (!stop && ipk_clock_now_ns() < end && (!max_pkts || n_rx < max_pkts)) {
		if (poll(pfd, nfd, 100) < 0 && errno != EINTR)
			break;
		for (unsigned p = 0; p < n_ports; p++) {
			uint32_t n = ipk_io_rx_burst(ports[p], pool, pkts, BURST, 0);

			n_rx += n;
			if (n)
				handle(act, p, pkts, n);
		}
	}
}

static void print_stats(void)
{
	struct ipk_io_stat st[128];

	for (unsigned p = 0; p < n_ports; p++) {
		uint32_t n = ipk_io_stats_read(ports[p], st, 128);

		for (uint32_t i = 0; i < n; i++)
			printf("stat %s %s %llu\n", ports[p]->name, st[i].name,
			       (unsigned long long)st[i].value);
	}
	printf("io_echo: rx %llu tx %llu ignored %llu\n", (unsigned long long)n_rx,
	       (unsigned long long)n_tx, (unsigned long long)n_ignored);
}

/* Opens the port described by argv[0] (the kind) and its word pairs up to "--". */
static int open_port(int argc, char **argv, int *used)
{
	struct ipk_io_args args = { .argc = 0 };
	struct ipk_err err = { .msg = "" };
	int i, rc;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (args.argc == IPK_IO_MAX_ARGS)
			break;
		args.argv[args.argc++] = argv[i];
	}
	*used = i;
	rc = ipk_io_open(&ports[n_ports], argv[0], &args, (uint8_t)n_ports, &err);
	if (rc) {
		fprintf(stderr, "io_echo: %s\n", err.msg);
		return rc;
	}
	n_ports++;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: io_echo [-t SECONDS] [-n PACKETS] [-v] icmp-echo|reflect|forward "
			"KIND ARGS... [-- KIND ARGS...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long long seconds = 60, max_pkts = 0;
	struct ipk_pool *pool;
	enum action act;
	int opt, used, rc = 0;

	while ((opt = getopt(argc, argv, "+t:n:v")) != -1) {
		if (opt == 't')
			seconds = strtoull(optarg, NULL, 0);
		else if (opt == 'n')
			max_pkts = strtoull(optarg, NULL, 0);
		else if (opt == 'v')
			verbose = true;
		else
			return usage();
	}
	if (argc - optind < 2)
		return usage();
	if (strcmp(argv[optind], "icmp-echo") == 0)
		act = ICMP_ECHO;
	else if (strcmp(argv[optind], "reflect") == 0)
		act = REFLECT;
	else if (strcmp(argv[optind], "forward") == 0)
		act = FORWARD;
	else
		return usage();
	for (int i = optind + 1; i < argc && n_ports < 2 && !rc; i += used + 1)
		rc = open_port(argc - i, argv + i, &used);
	if (rc || (act == FORWARD) != (n_ports == 2)) {
		for (unsigned p = 0; p < n_ports; p++)
			ipk_io_close(ports[p]);
		return rc ? 1 : usage();
	}
	if (ipk_pool_create(&pool, 4096, IPK_PKT_DEFAULT_ROOM))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready");
	for (unsigned p = 0; p < n_ports; p++)
		printf(" %s", ports[p]->name);
	printf("\n");
	fflush(stdout);
	run(act, pool, seconds, max_pkts);
	print_stats();
	for (unsigned p = 0; p < n_ports; p++)
		ipk_io_close(ports[p]);
	rc = ipk_pool_available(pool) == 4096 ? 0 : 1;
	if (rc)
		printf("io_echo: %u packets not back in the pool\n", 4096 - ipk_pool_available(pool));
	ipk_pool_destroy(pool);
	return rc;
}
