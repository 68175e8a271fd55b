// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipseck-netblast: the traffic of scripts/bench-net. A UDP sender at the highest rate the
 * kernel takes (sendmmsg in batches), a UDP receiver that counts what arrives (recvmmsg),
 * and a bulk TCP pair, each for a fixed time, printing one line of counts. Python sends
 * some 150 kpps of small datagrams on this project's 2-vCPU machine, less than a gateway
 * forwards, so it would measure the sender; this sends several times that.
 *
 *   ipseck-netblast udp-send DST PORT PAYLOAD SECONDS   -> "sent N errors E seconds S"
 *   ipseck-netblast udp-recv ADDR PORT SECONDS          -> "received N bytes B"
 *       (stops SECONDS after start, or after 1 s of silence once something arrived)
 *   ipseck-netblast tcp-recv ADDR PORT SECONDS          -> "received B seconds S"
 *       (one connection; S from its first byte to its end)
 *   ipseck-netblast tcp-send DST PORT SECONDS           -> "sent B seconds S"
 *
 * IPv4 only. Exit 0, or 1 with a message on standard error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 65507
#define TCP_CHUNK (128 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	fprintf(stderr, "ipseck-netblast: %s: %s\n", what, strerror(errno));
	return 1;
}

static int sockaddr_of(const char *addr, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "ipseck-netblast: '%s' is not an IPv4 address\n", addr);
		return -1;
	}
	return 0;
}

static int udp_send(const struct sockaddr_in *dst, size_t payload, double seconds)
{
	static uint8_t buf[MAX_PAYLOAD];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t sent = 0, errors = 0;
	double start, end;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		return die("udp socket");
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ buf, payload };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_s();
	end = start + seconds;
	while (now_s() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += (uint64_t)n;
		else
			errors++; /* ENOBUFS, ECONNREFUSED from an ICMP error: try again */
	}
	printf("sent %llu errors %llu seconds %.3f\n", (unsigned long long)sent,
	       (unsigned long long)errors, now_s() - start);
	close(fd);
	return 0;
}

static int udp_recv(const struct sockaddr_in *addr, double seconds)
{
	static uint8_t bufs[BATCH][2048];
	struct timeval tv = { 0, 200000 };
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t received = 0, bytes = 0;
	double end = now_s() + seconds, last = 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rcvbuf = 8 << 20;

	if (fd < 0 || bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		return die("udp bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		double t = now_s();
		int n;

		if (t >= end || (received && t - last > 1.0))
			break;
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		received += (uint64_t)n;
		for (int i = 0; i < n; i++)
			bytes += msgs[i].msg_len;
		last = now_s();
	}
	printf("received %llu bytes %llu\n", (unsigned long long)received,
	       (unsigned long long)bytes);
	close(fd);
	return 0;
}

static int tcp_recv(const struct sockaddr_in *addr, double seconds)
{
	static uint8_t buf[TCP_CHUNK];
	struct timeval tv = { (time_t)seconds, 0 };
	uint64_t bytes = 0;
	double first = 0, last = 0;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0), c;
	ssize_t n;

	if (fd < 0)
		return die("tcp socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 1) < 0)
		return die("tcp bind");
	c = accept(fd, NULL, NULL);
	if (c < 0)
		return die("tcp accept");
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (!bytes)
			first = now_s();
		bytes += (uint64_t)n;
		last = now_s();
	}
	printf("received %llu seconds %.3f\n", (unsigned long long)bytes, last - first);
	close(c);
	close(fd);
	return 0;
}

/* Connects, retrying for 5 s while nobody listens yet (a receiver started just before
 * on a loaded machine). */
static int tcp_connect(const struct sockaddr_in *dst)
{
	double give_up = now_s() + 5.0;

	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == 0)
			return fd;
		close(fd);
		if (errno != ECONNREFUSED || now_s() > give_up)
			return -1;
		usleep(50000);
	}
}

static int tcp_send(const struct sockaddr_in *dst, double seconds)
{
	static uint8_t buf[TCP_CHUNK];
	uint64_t bytes = 0;
	double start, end;
	int fd = tcp_connect(dst);

	if (fd < 0)
		return die("tcp connect");
	start = now_s();
	end = start + seconds;
	while (now_s() < end) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n <= 0)
			return die("tcp write");
		bytes += (uint64_t)n;
	}
	close(fd);
	printf("sent %llu seconds %.3f\n", (unsigned long long)bytes, now_s() - start);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ipseck-netblast udp-send DST PORT PAYLOAD SECONDS\n"
			"       ipseck-netblast udp-recv ADDR PORT SECONDS\n"
			"       ipseck-netblast tcp-recv ADDR PORT SECONDS\n"
			"       ipseck-netblast tcp-send DST PORT SECONDS\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5 || sockaddr_of(argv[2], argv[3], &sa))
		return usage();
	if (!strcmp(argv[1], "udp-send") && argc == 6) {
		size_t payload = (size_t)atol(argv[4]);

		if (payload < 1 || payload > MAX_PAYLOAD)
			return usage();
		return udp_send(&sa, payload, atof(argv[5]));
	}
	if (!strcmp(argv[1], "udp-recv"))
		return udp_recv(&sa, atof(argv[4]));
	if (!strcmp(argv[1], "tcp-recv"))
		return tcp_recv(&sa, atof(argv[4]));
	if (!strcmp(argv[1], "tcp-send"))
		return tcp_send(&sa, atof(argv[4]));
	return usage();
}
