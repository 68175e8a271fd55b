/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The batch engine under the `esp` and `udp` ports: one IPv4 and/or one IPv6 datagram
 * socket, recvmmsg/sendmmsg over preallocated message arrays, and the per-family
 * conversion between whole IP packets and what the socket takes (io/dgram.h).
 *
 *   kind  family  rx: kernel gives         rx: rebuilt     tx: sent as
 *   RAW   4       IP header + ESP          nothing         whole packet (IP_HDRINCL)
 *   RAW   6       ESP (after ext. headers) IPv6 header     ESP + cmsg src/tclass/hops
 *   UDP   4, 6    UDP payload              IP + UDP header UDP payload to dst:port +
 *                                                          cmsg src/tos/ttl
 *
 * The conversion functions are chosen per socket when it is added (STYLE §2). Received
 * packets start at IPK_PKT_HEADROOM with the whole IP packet; the kernel's bytes are
 * placed after the room the rebuilt header needs, so no byte is moved.
 *
 * The owning port keeps a struct ipk_sockport at the start of its private part. Threads:
 * rx from one thread, tx from one thread (separate arrays), as io/port.h.
 */
#ifndef IPK_IO_SOCKPORT_H
#define IPK_IO_SOCKPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "io/dgram.h"
#include "io/port.h"

enum ipk_sockport_kind { IPK_SOCKPORT_RAW, IPK_SOCKPORT_UDP };

struct ipk_sockport_slots {
	struct mmsghdr msg[IPK_IO_BATCH_MAX];
	struct iovec iov[IPK_IO_BATCH_MAX];
	struct sockaddr_storage name[IPK_IO_BATCH_MAX];
	uint8_t cmsg[IPK_IO_BATCH_MAX][IPK_DGRAM_CMSG_SPACE] __attribute__((aligned(8)));
	struct ipk_pkt *pkt[IPK_IO_BATCH_MAX];
};

struct ipk_sockport;

struct ipk_sockport_sock {
	int fd;                 /* -1: this family is not open */
	int frag_fd;            /* IPPROTO_RAW: outer fragments this socket cannot send; -1 */
	uint8_t family;         /* 4 or 6 */
	uint32_t rx_off;        /* bytes of rebuilt header in front of the kernel's bytes */
	uint32_t last_drops;    /* SO_RXQ_OVFL value seen last */
	bool set_src;           /* tx: pass the source address (bound to the wildcard) */
	/* Fast paths, chosen by ipk_sockport_add(). finish: turns the @n bytes the kernel put
	 * at rx_off into a whole IP packet, 0 or a drop reason. prepare: fills tx slot @i for
	 * @pkt, 0 or a drop reason. */
	int (*finish)(struct ipk_pkt *pkt, uint32_t n, const struct ipk_dgram_info *info,
		      const struct ipk_sockport *sp);
	int (*prepare)(struct ipk_sockport *sp, struct ipk_sockport_sock *s, struct ipk_pkt *pkt,
		       uint32_t i);
};

struct ipk_sockport {
	struct ipk_sockport_sock sock[2];  /* [0] IPv4, [1] IPv6 */
	uint8_t proto;                     /* IPK_PROTO_ESP or IPK_PROTO_UDP */
	uint16_t local_port;               /* UDP: the bound port, host order */
	uint32_t batch;
	unsigned rx_next;                  /* socket to read first: fairness */
	struct ipk_sockport_slots rx;
	struct ipk_sockport_slots tx;
	uint8_t scratch[2048];             /* rx target when the pool is empty */
};

/* What the `esp` and `udp` ports take as arguments:
 *   family 4|6|any   which sockets to open (default any: both)
 *   local ADDR       address to bind, at most one per family (default: the wildcard)
 *   port N           UDP only: port to bind, and the one rebuilt headers are sent to
 *                    (default 4500, RFC 3948 §2)
 *   dev IFNAME       SO_BINDTODEVICE (default none)
 *   batch N          messages per recvmmsg/sendmmsg, 1..64 (default 32)
 *   rcvbuf BYTES     socket receive buffer (default: the system's); sndbuf likewise
 */
struct ipk_sockport_cfg {
	unsigned families;          /* bit 0 IPv4, bit 1 IPv6 */
	struct ipk_addr local[2];   /* family 0: wildcard */
	uint32_t port;
	const char *dev;
	uint32_t batch;
	uint32_t rcvbuf;
	uint32_t sndbuf;
};

/* Validates @args into @cfg (pointers into @args). Returns 0 or -EINVAL with a message. */
int ipk_sockport_parse(const char *kind_name, enum ipk_sockport_kind kind,
		       const struct ipk_io_args *args, struct ipk_sockport_cfg *cfg,
		       struct ipk_err *err);
/* Opens, configures and binds the sockets of @cfg into the port's struct ipk_sockport.
 * Returns 0, or -errno with a message (nothing left open). */
int ipk_sockport_open(struct ipk_io_port *port, enum ipk_sockport_kind kind,
		      const struct ipk_sockport_cfg *cfg, struct ipk_err *err);
/* Closes the sockets. */
void ipk_sockport_close(struct ipk_sockport *sp);

/* The port ops, for ports whose private part starts with a struct ipk_sockport. */
uint32_t ipk_sockport_rx_burst(struct ipk_io_port *port, struct ipk_pool *pool,
			       struct ipk_pkt **pkts, uint32_t max, int timeout_ms);
uint32_t ipk_sockport_tx_burst(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n);
uint32_t ipk_sockport_fds(const struct ipk_io_port *port, int *fds, uint32_t max);
/* Close op for such ports. */
void ipk_sockport_port_close(struct ipk_io_port *port);

#endif
