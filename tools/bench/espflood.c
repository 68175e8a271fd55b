// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipseck-espflood: well-formed ESP packets (RFC 4303 §2: SPI, sequence number, then 64
 * bytes of random-looking payload) at a fixed rate from a raw IP socket (protocol 50, the
 * kernel builds the IPv4 header), for the bad-input tests: a flood of SPIs nobody
 * installed must cost the gateway a lookup and a counter each, nothing more.
 *
 *   ipseck-espflood DST SPI_FIRST SPI_COUNT PPS SECONDS  -> "sent N errors E seconds S"
 *
 * SPIs cycle through SPI_FIRST .. SPI_FIRST+SPI_COUNT-1 (each packet the next), sequence
 * numbers count up from 1. Packets leave in sendmmsg batches of up to 64, paced every
 * millisecond against the clock, so the rate holds on average; E counts packets the kernel
 * refused (ENOBUFS under a full queue). Python sends a few ten thousand raw packets a
 * second here, too few for a 100 kpps flood; this sends several hundred thousand.
 *
 * IPv4 only, root (raw socket). Exit 0, or 1 with a message on standard error.
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
#define PAYLOAD 72 /* 8 bytes of SPI and sequence number, 64 of payload */
#define TICK_NS 1000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "ipseck-espflood: %s: %s\n", what, strerror(errno));
	return 1;
}

struct flood {
	int fd;
	struct sockaddr_in dst;
	uint32_t spi_first, spi_count;
	uint64_t sent, errors, seq;
	uint8_t buf[BATCH][PAYLOAD];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
};

static void fill(struct flood *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t spi = htonl(f->spi_first + (uint32_t)((f->sent + i) % f->spi_count));
		uint32_t seq = htonl((uint32_t)++f->seq);

		memcpy(f->buf[i], &spi, 4);
		memcpy(f->buf[i] + 4, &seq, 4);
		for (unsigned b = 8; b < PAYLOAD; b++)
			f->buf[i][b] = (uint8_t)(f->seq * 131 + b * 7);
	}
}

/* Sends @n packets; returns how many the kernel took (the rest are counted as errors). */
static void send_batch(struct flood *f, unsigned n)
{
	unsigned done = 0;

	fill(f, n);
	while (done < n) {
		int got = sendmmsg(f->fd, f->msg + done, n - done, 0);

		if (got <= 0) {
			f->errors += n - done; /* ENOBUFS: the queue is full, move on */
			break;
		}
		done += (unsigned)got;
	}
	f->sent += n;
}

static int setup(struct flood *f, const char *dst)
{
	memset(&f->dst, 0, sizeof(f->dst));
	f->dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, dst, &f->dst.sin_addr) != 1) {
		errno = EINVAL;
		return die(dst);
	}
	f->fd = socket(AF_INET, SOCK_RAW, IPPROTO_ESP);
	if (f->fd < 0)
		return die("socket(SOCK_RAW, IPPROTO_ESP)");
	for (unsigned i = 0; i < BATCH; i++) {
		f->iov[i] = (struct iovec){ .iov_base = f->buf[i], .iov_len = PAYLOAD };
		f->msg[i].msg_hdr = (struct msghdr){ .msg_name = &f->dst,
						     .msg_namelen = sizeof(f->dst),
						     .msg_iov = &f->iov[i],
						     .msg_iovlen = 1 };
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct flood f;
	uint64_t start, end, pps, due = 0;
	double seconds;

	if (argc != 6) {
		fprintf(stderr, "usage: ipseck-espflood DST SPI_FIRST SPI_COUNT PPS SECONDS\n");
		return 1;
	}
	f.spi_first = (uint32_t)strtoul(argv[2], NULL, 0);
	f.spi_count = (uint32_t)strtoul(argv[3], NULL, 0);
	pps = strtoull(argv[4], NULL, 0);
	seconds = strtod(argv[5], NULL);
	if (!f.spi_count || !pps || seconds <= 0) {
		fprintf(stderr, "ipseck-espflood: bad arguments\n");
		return 1;
	}
	if (setup(&f, argv[1]))
		return 1;
	start = now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	for (uint64_t t = start; t < end; t = now_ns()) {
		/* Packets due by now, at most a batch at a time; then sleep to the next tick. */
		due = (t - start) * pps / 1000000000ull;
		while (f.sent < due)
			send_batch(&f, due - f.sent > BATCH ? BATCH : (unsigned)(due - f.sent));
		struct timespec nap = { .tv_nsec = (long)(TICK_NS - (now_ns() - start) % TICK_NS) };
		nanosleep(&nap, NULL);
	}
	printf("sent %llu errors %llu seconds %.3f\n", (unsigned long long)f.sent,
	       (unsigned long long)f.errors, (double)(now_ns() - start) / 1e9);
	close(f.fd);
	return 0;
}
