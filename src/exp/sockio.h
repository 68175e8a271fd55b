/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sockets and SAs for the experiment tools that run on real hosts (`ipseck gen`,
 * `ipseck probe`; docs/experiments.md "In network namespaces"): the generator's and the
 * prober's packets (exp/gen.h, exp/prober.h) are whole IPv4 packets, plain or ESP tunnel
 * packets sealed by the project's ESP, so they leave through a raw IPv4 socket with the
 * header included (IPPROTO_RAW: the kernel routes on the header's destination and fills
 * in only the checksum and an empty identification). Replies come back through a raw
 * socket of their protocol (ICMP, UDP or ESP), which hands over the whole IP packet.
 *
 * SAs: the tools and the gateway must hold the same keys. ipk_sockio_sa_line() writes an
 * `sa add` line whose keys are derived from the SPI (the in-process testbed's rule:
 * cipher byte i = (spi * 7 + i * 13) mod 256, auth byte i = (spi * 11 + i * 5) mod 256):
 * a tool prints it (`--show-sa`) and the gateway's configuration takes it with the
 * direction swapped. Secrecy is not the point of an experiment: SPIs equal modulo 256
 * (0x1001 and 0x2001) even share their keys, so never use these SAs for real traffic.
 *
 * Threads: a socket is sent on by one thread and received on by one thread.
 */
#ifndef IPK_EXP_SOCKIO_H
#define IPK_EXP_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/pkt.h"

struct ipk_sad;

struct ipk_sockio_stats {
	uint64_t sent, bytes; /* accepted by the kernel */
	uint64_t errors;      /* sendto failed (ENOBUFS when the qdisc is full, ...) */
};

/* Opens a raw IPv4 socket for sending whole packets. Returns the fd or a negative errno
 * (message in @err; EPERM without CAP_NET_RAW). */
int ipk_sockio_open_tx(struct ipk_err *err);
/* Opens a raw IPv4 socket receiving protocol @proto (1 ICMP, 17 UDP, 50 ESP); asks for
 * a receive buffer of @rcvbuf bytes when non-zero (the kernel may give less). Returns the
 * fd or a negative errno (message in @err). */
int ipk_sockio_open_rx(int proto, int rcvbuf, struct ipk_err *err);
/* Sends the IPv4 packet in @pkt to its header's destination and frees it. Consumes
 * @pkt. Returns true when the kernel took it; counts in @st (may be NULL). */
bool ipk_sockio_send(int fd, struct ipk_pkt *pkt, struct ipk_sockio_stats *st);
/* Waits up to @timeout_ms for a packet and reads it into the empty @pkt. Returns its
 * length, 0 on timeout, or a negative errno. @pkt stays with the caller. */
int ipk_sockio_recv(int fd, struct ipk_pkt *pkt, int timeout_ms);

/* Writes "sa add name NAME spi 0xSPI dir DIR mode tunnel src SRC dst DST proposal ALG
 * key(s)" (no newline) into @buf. Returns 0, -EINVAL (unknown or insecure algorithm,
 * message in @err) or -ENOSPC. */
int ipk_sockio_sa_line(char *buf, size_t size, const char *alg, const char *name, uint32_t spi,
		       const char *dir, const char *src, const char *dst, struct ipk_err *err);
/* Adds that SA to @sad, with the `sa add` options in @extra (NULL: none; "seq 1000"
 * starts an outbound SA's sequence numbers there). Returns 0 or a negative errno
 * (message in @err). */
int ipk_sockio_sa_add(struct ipk_sad *sad, const char *alg, const char *name, uint32_t spi,
		      const char *dir, const char *src, const char *dst, const char *extra,
		      struct ipk_err *err);

/* Parses a rate with an optional decimal suffix k, M or G ("25M" is 25,000,000).
 * Returns 0 or -EINVAL. */
int ipk_sockio_parse_rate(const char *text, uint64_t *out);
/* Timer slack 1 ns for the calling thread and those it creates, so paced sleeps end on
 * time (the default 50 us would stretch each one). */
void ipk_sockio_precise_timers(void);

#endif
