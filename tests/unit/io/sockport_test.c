// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/io/sockport.c through the `udp` port on the loopback interface (no
 * privileges needed): datagrams come up as whole IP + UDP packets with the sender's marks,
 * go back out by tx_burst, bad packets in a burst are dropped in place and counted, and
 * the pool-empty, truncation, kernel-drop and timeout paths count what they must. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/pkt.h"
#include "io/port.h"
#include "proto/ip.h"

#define TOS 0xb8
#define TTL 9

struct fixture {
	uint8_t family;
	struct ipk_io_port *port;
	uint16_t port_no;
	int peer;             /* the far end: a plain UDP socket */
	struct sockaddr_storage gw;
	socklen_t gw_len;
	struct ipk_pool *pool;
};

static const char *loopback(uint8_t family)
{
	return family == 6 ? "::1" : "127.0.0.1";
}

/* Opens the port on a free high port of the loopback address, plus the peer socket. */
static int open_fixture(struct fixture *f, uint8_t family, const char *extra)
{
	struct sockaddr_storage ss = { .ss_family = 0 };
	int rc = -EADDRINUSE;

	memset(f, 0, sizeof(*f));
	f->family = family;
	for (int i = 0; i < 50 && rc == -EADDRINUSE; i++) {
		char line[160], *w;
		struct ipk_io_args args = { .argc = 0 };
		struct ipk_err err;

		f->port_no = (uint16_t)(40000 + (getpid() * 7 + i * 131) % 20000);
		snprintf(line, sizeof(line), "family %u local %s port %u batch 4 %s", family,
			 loopback(family), f->port_no, extra);
		for (w = strtok(line, " "); w; w = strtok(NULL, " "))
			args.argv[args.argc++] = strdup(w);
		rc = ipk_io_open(&f->port, "udp", &args, 3, &err);
		for (int a = 0; a < args.argc; a++)
			free((void *)args.argv[a]);
	}
	if (rc)
		return rc;
	f->peer = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	assert_true(f->peer >= 0);
	if (family == 6) {
		int tc = TOS, hops = TTL, on = 1;
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss, *g = (void *)&f->gw;

		a->sin6_family = g->sin6_family = AF_INET6;
		a->sin6_addr = g->sin6_addr = in6addr_loopback;
		g->sin6_port = htons(f->port_no);
		f->gw_len = sizeof(*g);
		setsockopt(f->peer, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof(tc));
		setsockopt(f->peer, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops));
		setsockopt(f->peer, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof(on));
	} else {
		int tos = TOS, ttl = TTL, on = 1;
		struct sockaddr_in *a = (struct sockaddr_in *)&ss, *g = (void *)&f->gw;

		a->sin_family = g->sin_family = AF_INET;
		a->sin_addr.s_addr = g->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		g->sin_port = htons(f->port_no);
		f->gw_len = sizeof(*g);
		setsockopt(f->peer, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		setsockopt(f->peer, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		setsockopt(f->peer, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
	}
	assert_int_equal(bind(f->peer, (struct sockaddr *)&ss, f->gw_len), 0);
	assert_int_equal(ipk_pool_create(&f->pool, 64, IPK_PKT_DEFAULT_ROOM), 0);
	return 0;
}

static void close_fixture(struct fixture *f)
{
	ipk_io_close(f->port);
	close(f->peer);
	assert_int_equal(ipk_pool_available(f->pool), 64);
	ipk_pool_destroy(f->pool);
}

static void send_payload(struct fixture *f, const void *data, size_t len)
{
	assert_int_equal(sendto(f->peer, data, len, 0, (struct sockaddr *)&f->gw, f->gw_len),
			 (ssize_t)len);
}

/* Receives until @want packets or 2 s. */
static uint32_t receive(struct fixture *f, struct ipk_pool *pool, struct ipk_pkt **pkts,
			uint32_t want)
{
	uint64_t end = ipk_clock_now_ns() + 2 * IPK_NSEC_PER_SEC;
	uint32_t n = 0;

	while (n < want && ipk_clock_now_ns() < end)
		n += ipk_io_rx_burst(f->port, pool, pkts + n, want - n, 100);
	return n;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The packets as the ESP layer sees them, then reflected to the peer. */
static void round_trip(uint8_t family)
{
	struct fixture f;
	struct ipk_pkt *pkts[16];
	uint8_t buf[64], ctl[64];
	uint32_t hl = family == 6 ? 48 : 28;
	struct ipk_ip_info ip;

	if (open_fixture(&f, family, "") != 0)
		skip();
	send_payload(&f, "\xff", 1);
	for (uint8_t i = 1; i <= 9; i++) {
		uint8_t esp[12] = { 0x10, 0, 0, 1, 0, 0, 0, i, i, i, i, i };

		send_payload(&f, esp, sizeof(esp));
	}
	assert_int_equal(receive(&f, f.pool, pkts, 10), 10);
	for (uint32_t i = 0; i < 10; i++) {
		uint8_t *d = ipk_pkt_data(pkts[i]);

		print_message("packet %u\n", i);
		assert_int_equal(pkts[i]->len, hl + (i ? 12 : 1));
		assert_int_equal(ipk_ip_parse(d, pkts[i]->len, &ip), 0);
		assert_int_equal(ip.proto, IPK_PROTO_UDP);
		assert_int_equal(ipk_ip_get_tos(d), TOS);
		assert_int_equal(d[family == 6 ? 7 : 8], TTL);
		assert_int_equal(rd16(d + hl - 6), f.port_no);        /* UDP destination */
		assert_int_equal(d[hl], i ? 0x10 : 0xff);
		assert_int_equal(pkts[i]->meta.in_port, 3);
		assert_int_equal(pkts[i]->meta.l3_family, family);
		assert_int_equal(ipk_pkt_headroom(pkts[i]), IPK_PKT_HEADROOM);
		/* Back to where it came from. */
		if (family == 6) {
			uint8_t t[16];

			memcpy(t, d + 8, 16);
			memcpy(d + 8, d + 24, 16);
			memcpy(d + 24, t, 16);
		}
		memcpy(buf, d + hl - 8, 2);
		memcpy(d + hl - 8, d + hl - 6, 2);
		memcpy(d + hl - 6, buf, 2);
	}
	assert_int_equal(ipk_io_tx_burst(f.port, pkts, 10), 10);
	for (uint32_t i = 0; i < 10; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				      .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(f.peer, &msg, 0);
		int tos = -1;

		assert_int_equal(n, i ? 12 : 1);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			tos = c->cmsg_len == CMSG_LEN(1) ? *CMSG_DATA(c) : *(int *)CMSG_DATA(c);
		assert_int_equal(tos, TOS);
	}
	assert_int_equal(ipk_io_stat_get(f.port, "rx-packets"), 10);
	assert_int_equal(ipk_io_stat_get(f.port, "tx-packets"), 10);
	assert_int_equal(ipk_io_stat_get(f.port, "rx-bytes"), 10 * hl + 1 + 9 * 12);
	close_fixture(&f);
}

static void round_trip_ipv4(void **state)
{
	round_trip(4);
}

static void round_trip_ipv6(void **state)
{
	round_trip(6);
}

/* Bad packets inside a burst are consumed in place, counted once each; the good ones
 * around them still leave. */
static void bad_packets_in_a_burst(void **state)
{
	static const struct {
		const char *what;
		const char *stat;
		uint8_t first;      /* version/IHL byte */
		uint8_t proto;
		uint32_t len;
	} rows[] = {
		/* 0 */ { "good", NULL, 0x45, 17, 32 },
		/* 1 */ { "tcp", "not-esp", 0x45, 6, 40 },
		/* 2 */ { "good", NULL, 0x45, 17, 32 },
		/* 3 */ { "ipv6 on an IPv4 port", "unsupported", 0x60, 17, 56 },
		/* 4 */ { "version 7", "bad-ip-version", 0x75, 17, 32 },
		/* 5 */ { "empty", "truncated-ip", 0x45, 17, 0 },
		/* 6 */ { "good", NULL, 0x45, 17, 32 },
	};
	struct fixture f;
	struct ipk_pkt *pkts[8];
	struct ipk_addr lo;
	uint8_t buf[64];

	if (open_fixture(&f, 4, "") != 0)
		skip();
	ipk_addr_parse("127.0.0.1", &lo);
	for (size_t i = 0; i < 7; i++) {
		uint8_t *d;

		pkts[i] = ipk_pkt_alloc(f.pool);
		d = ipk_pkt_put(pkts[i], rows[i].len);
		memset(d, 0, rows[i].len);
		if (rows[i].first == 0x60)
			ipk_ipv6_build(d, &lo, &lo, rows[i].proto, 16, 0, 64);
		else if (rows[i].len)
			ipk_ipv4_build(d, &lo, &lo, rows[i].proto, (uint16_t)rows[i].len, 0, 64,
				       false, 0);
		if (rows[i].len)
			d[0] = d[0] == 0x45 ? rows[i].first : d[0];
		if (rows[i].proto == 17 && rows[i].first == 0x45) {
			d[20] = 0x11;
			d[21] = 0x94; /* source port 4500 */
			d[25] = 12;   /* UDP length: header and 4 bytes */
		}
	}
	/* Send the good ones to the peer's own address and port. */
	{
		struct sockaddr_in me;
		socklen_t l = sizeof(me);

		getsockname(f.peer, (struct sockaddr *)&me, &l);
		for (size_t i = 0; i < 7; i++)
			if (!rows[i].stat) {
				uint8_t *d = ipk_pkt_data(pkts[i]);

				memcpy(d + 22, &me.sin_port, 2);
			}
	}
	assert_int_equal(ipk_io_tx_burst(f.port, pkts, 7), 7);
	for (size_t i = 0; i < 7; i++)
		if (rows[i].stat) {
			print_message("row %zu: %s\n", i, rows[i].what);
			assert_int_equal(ipk_io_stat_get(f.port, rows[i].stat), 1);
		}
	assert_int_equal(ipk_io_stat_get(f.port, "tx-packets"), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recv(f.peer, buf, sizeof(buf), 0), 4);
	close_fixture(&f);
}

/* No packet in the pool: the datagrams are taken anyway and counted as no-buffer. Too big
 * for the buffer: rx-truncated. */
static void pool_empty_and_truncation(void **state)
{
	struct fixture f;
	struct ipk_pool *tiny;
	struct ipk_pkt *held, *pkts[4];
	uint8_t big[200];

	if (open_fixture(&f, 4, "") != 0)
		skip();
	assert_int_equal(ipk_pool_create(&tiny, 1, IPK_PKT_HEADROOM + IPK_PKT_TAILROOM + 64), 0);
	held = ipk_pkt_alloc(tiny);
	for (int i = 0; i < 3; i++)
		send_payload(&f, "\xff", 1);
	usleep(20000);
	assert_int_equal(ipk_io_rx_burst(f.port, tiny, pkts, 4, 100), 0);
	assert_int_equal(ipk_io_stat_get(f.port, "no-buffer"), 3);
	ipk_pkt_free(held);
	/* 64 bytes of room: 28 of header leave 36 for a 200-byte payload. */
	memset(big, 0xab, sizeof(big));
	send_payload(&f, big, sizeof(big));
	send_payload(&f, big, 30);
	assert_int_equal(receive(&f, tiny, pkts, 1), 1);
	assert_int_equal(pkts[0]->len, 28 + 30);
	ipk_pkt_free(pkts[0]);
	assert_int_equal(ipk_io_stat_get(f.port, "rx-truncated"), 1);
	assert_int_equal(ipk_io_stat_get(f.port, "rx-packets"), 1);
	ipk_pool_destroy(tiny);
	close_fixture(&f);
}

/* A receive buffer far too small: what the kernel dropped is reported by SO_RXQ_OVFL on
 * the next datagram, so received + rx-kernel-drop = sent. */
static void kernel_drops_counted(void **state)
{
	struct fixture f;
	struct ipk_pkt *pkts[64];
	uint8_t payload[100];
	uint32_t n = 0, got;

	if (open_fixture(&f, 4, "rcvbuf 1") != 0)
		skip();
	memset(payload, 0x5a, sizeof(payload));
	for (int i = 0; i < 100; i++)
		send_payload(&f, payload, sizeof(payload));
	while ((got = ipk_io_rx_burst(f.port, f.pool, pkts, 64, 50)) > 0) {
		for (uint32_t i = 0; i < got; i++)
			ipk_pkt_free(pkts[i]);
		n += got;
	}
	/* One more after the drops, to carry the final count. */
	send_payload(&f, payload, sizeof(payload));
	got = receive(&f, f.pool, pkts, 1);
	assert_int_equal(got, 1);
	ipk_pkt_free(pkts[0]);
	print_message("received %u of 100, kernel dropped %llu\n", n,
		      (unsigned long long)ipk_io_stat_get(f.port, "rx-kernel-drop"));
	assert_true(n < 100);
	assert_int_equal(n + ipk_io_stat_get(f.port, "rx-kernel-drop"), 100);
	close_fixture(&f);
}

static void timeouts_are_bounded(void **state)
{
	struct fixture f;
	struct ipk_pkt *pkts[4];
	uint64_t t0, dt;

	if (open_fixture(&f, 4, "") != 0)
		skip();
	t0 = ipk_clock_now_ns();
	assert_int_equal(ipk_io_rx_burst(f.port, f.pool, pkts, 4, 0), 0);
	assert_true(ipk_clock_now_ns() - t0 < 20000000ull);
	t0 = ipk_clock_now_ns();
	assert_int_equal(ipk_io_rx_burst(f.port, f.pool, pkts, 4, 80), 0);
	dt = ipk_clock_now_ns() - t0;
	assert_true(dt >= 70000000ull && dt < 1000000000ull);
	close_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_ipv4),
		cmocka_unit_test(round_trip_ipv6),
		cmocka_unit_test(bad_packets_in_a_burst),
		cmocka_unit_test(pool_empty_and_truncation),
		cmocka_unit_test(kernel_drops_counted),
		cmocka_unit_test(timeouts_are_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
