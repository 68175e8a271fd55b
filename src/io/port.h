/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O ports: the common face of the Linux back ends (DESIGN.md "I/O back ends").
 *
 * A port is an instance header (struct ipk_io_port) plus `priv_size` private bytes that
 * ipk_io_open() allocates; its behaviour is a const struct ipk_io_ops (STYLE §2), listed
 * in io/registry.c:
 *
 *   tun   plaintext side: a TUN device (io/tun.h)
 *   esp   protected side: raw IP protocol 50 sockets (io/rawesp.h)
 *   udp   protected side: UDP encapsulation, RFC 3948 (io/udpencap.h)
 *   wire  bump in the wire: one interface through AF_PACKET (io/afpacket.h)
 *
 * Arguments are `key value` word pairs, as in the configuration language:
 * `tun name ipk0 address 10.0.0.1/24 mtu 1500 overhead 73`. parse() validates them and
 * touches nothing; open() creates the sockets and devices. Each back end picks its fast
 * paths (family, batching, fix-ups) once at open.
 *
 * Data path. rx_burst() moves up to @max packets from the kernel into packets taken from
 * @pool: the caller owns what it returns. It waits at most @timeout_ms for the first
 * packet (0: never waits) and returns 0 on timeout. tx_burst() consumes packets from the
 * front of the array: each is sent, or dropped and counted once (a drop reason in
 * stats.drops, or the tx-syscall error). It stops early only when the kernel queue is full
 * (tx-busy); the packets it did not consume stay with the caller, at the end of the array.
 * No allocation on the packet path; syscall errors are counted, never logged per packet.
 *
 * Packets carry their port in meta.in_port (the @id given at open). The back ends use
 * the top byte of meta.flags (IPK_IO_F_*); the engine uses the low byte.
 *
 * Threads: one thread calls rx_burst and one (possibly another) calls tx_burst on a port;
 * stats may be read from any thread (relaxed atomics); open and close from the control
 * thread while no data-path call runs.
 */
#ifndef IPK_IO_PORT_H
#define IPK_IO_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/err.h"
#include "core/pkt.h"

#define IPK_IO_MAX_ARGS 32
#define IPK_IO_BATCH_MAX 64     /* largest recvmmsg/sendmmsg batch */
#define IPK_IO_BATCH_DEFAULT 32
#define IPK_IO_MAX_FDS 16       /* fds one port may ask to be polled */

/* meta.flags bits owned by the I/O back ends. */
#define IPK_IO_F_NOT_IP 0x8000  /* wire: a whole non-IP frame (ARP, LLDP...): bypass or drop */
#define IPK_IO_F_L2 0x4000      /* wire: the Ethernet header is in the L2 store (io/ether.h) */
#define IPK_IO_F_CSUM 0x2000    /* wire: the kernel left the L4 checksum to us; completed */
/* 0x1000 is IPK_PKT_F_REPLY (core/pkt.h): an answer to the frame whose link data it carries */

/*
 * Errors of system calls and losses the kernel reports, per port. A row that counts
 * packets says so; the others count events. X(enum suffix, name, meaning)
 */
#define IPK_IO_ERRORS(X)                                                                     \
	X(RX_SYSCALL, "rx-syscall", "a receive call failed (events)")                        \
	X(RX_TRUNCATED, "rx-truncated", "larger than the packet buffer, dropped (packets)")  \
	X(RX_KERNEL, "rx-kernel-drop", "dropped by the kernel before ipseck (packets)")     \
	X(TX_SYSCALL, "tx-syscall", "a send failed, packet dropped (packets)")             \
	X(TX_BUSY, "tx-busy", "kernel queue full, packets left with the caller (events)")   \
	X(POLL, "poll", "poll failed (events)")

enum ipk_io_error {
#define IPK_IO_ERR_ENUM(id, name, help) IPK_IO_ERR_##id,
	IPK_IO_ERRORS(IPK_IO_ERR_ENUM)
#undef IPK_IO_ERR_ENUM
	IPK_IO_ERR_COUNT
};

/* Counters of one port. Relaxed atomics, updated once per burst. */
struct ipk_io_stats {
	_Atomic uint64_t rx_pkts;
	_Atomic uint64_t rx_bytes;
	_Atomic uint64_t tx_pkts;
	_Atomic uint64_t tx_bytes;
	_Atomic uint64_t err[IPK_IO_ERR_COUNT];
	/* Packets the port dropped: no-buffer (pool empty on rx: the kernel is drained anyway,
	 * so that ipseck, not a socket buffer, decides what is lost), truncated-ip,
	 * bad-ip-version, too-big, not-esp, unsupported. */
	struct ipk_drop_stats drops;
};

/* Arguments as word pairs: argv = { "name", "ipk0", "mtu", "1400" }. */
struct ipk_io_args {
	int argc;
	const char *argv[IPK_IO_MAX_ARGS];
};

/* One named figure (a generic counter or a back end's own). */
struct ipk_io_stat {
	const char *name;
	uint64_t value;
};

struct ipk_io_port;

struct ipk_io_ops {
	const char *name;       /* "tun", "esp", "udp", "wire" */
	size_t priv_size;
	/* Validates @args; touches nothing. Returns 0 or -EINVAL with a message. */
	int (*parse)(const struct ipk_io_args *args, struct ipk_err *err);
	/* Opens the zeroed private part from valid @args. Returns 0 or a negative errno with
	 * a message; on failure everything it did is undone. */
	int (*open)(struct ipk_io_port *port, const struct ipk_io_args *args, struct ipk_err *err);
	/* Closes fds, unmaps rings, frees what open allocated. */
	void (*close)(struct ipk_io_port *port);
	/* See "Data path" above. */
	uint32_t (*rx_burst)(struct ipk_io_port *port, struct ipk_pool *pool, struct ipk_pkt **pkts,
			     uint32_t max, int timeout_ms);
	uint32_t (*tx_burst)(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n);
	/* Writes the fds to poll for input (POLLIN) into @fds; returns how many. */
	uint32_t (*fds)(const struct ipk_io_port *port, int *fds, uint32_t max);
	/* Optional: the back end's own figures (ring blocks, queues); returns how many. */
	uint32_t (*stats)(const struct ipk_io_port *port, struct ipk_io_stat *out, uint32_t max);
};

struct ipk_io_port {
	const struct ipk_io_ops *ops;
	char name[32];          /* "tun", or the device name the back end chose */
	uint8_t id;             /* copied into meta.in_port on rx */
	uint8_t families;       /* IP versions it sends: bit 0 IPv4, bit 1 IPv6; 0: both */
	struct ipk_io_stats stats;
	uint8_t priv[] __attribute__((aligned(64)));
};

/* The registry (io/registry.c): the ops of @kind, or NULL. */
const struct ipk_io_ops *ipk_io_find(const char *kind);
/* Every kind, for help texts and tests. */
const struct ipk_io_ops *const *ipk_io_kinds(uint32_t *n);

/* Validates @args for @kind without side effects. Returns 0, -ENOENT (unknown kind) or
 * -EINVAL, with a message in @err. */
int ipk_io_parse(const char *kind, const struct ipk_io_args *args, struct ipk_err *err);
/* Validates, allocates and opens a port of @kind. Returns 0 with *out set, -ENOENT,
 * -EINVAL, -ENOMEM or the errno of the system call that failed (message in @err).
 * Control thread. */
int ipk_io_open(struct ipk_io_port **out, const char *kind, const struct ipk_io_args *args,
		uint8_t id, struct ipk_err *err);
/* Closes and frees @port (NULL is fine). No data-path call may be running. */
void ipk_io_close(struct ipk_io_port *port);

static inline void *ipk_io_priv(struct ipk_io_port *port)
{
	return port->priv;
}

static inline const void *ipk_io_priv_const(const struct ipk_io_port *port)
{
	return port->priv;
}

/* rx_burst of the port's back end: the caller owns the packets returned in @pkts. */
static inline uint32_t ipk_io_rx_burst(struct ipk_io_port *port, struct ipk_pool *pool,
				       struct ipk_pkt **pkts, uint32_t max, int timeout_ms)
{
	return port->ops->rx_burst(port, pool, pkts, max, timeout_ms);
}

/* tx_burst: consumes pkts[0..ret); pkts[ret..n) stay with the caller. */
static inline uint32_t ipk_io_tx_burst(struct ipk_io_port *port, struct ipk_pkt **pkts,
				       uint32_t n)
{
	return port->ops->tx_burst(port, pkts, n);
}

static inline uint32_t ipk_io_fds(const struct ipk_io_port *port, int *fds, uint32_t max)
{
	return port->ops->fds(port, fds, max);
}

/* Fills up to @max figures: rx-packets, rx-bytes, tx-packets, tx-bytes, each error
 * (IPK_IO_ERRORS names), each non-zero drop reason, then the back end's own. Any thread. */
uint32_t ipk_io_stats_read(const struct ipk_io_port *port, struct ipk_io_stat *out, uint32_t max);
/* Value of the figure @name from ipk_io_stats_read, or 0. */
uint64_t ipk_io_stat_get(const struct ipk_io_port *port, const char *name);
const char *ipk_io_error_name(enum ipk_io_error e);

/* Helpers for the back ends. */

static inline void ipk_io_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline void ipk_io_count_err(struct ipk_io_port *port, enum ipk_io_error e, uint64_t n)
{
	ipk_io_count(&port->stats.err[e], n);
}

/* Waits up to @timeout_ms for input on @fds (POLLIN). Returns true when one is readable;
 * false on timeout, EINTR or a poll error (counted). */
bool ipk_io_wait(struct ipk_io_port *port, const int *fds, uint32_t n, int timeout_ms);

/* Argument helpers. Every key in @args must be in @keys (NULL-terminated), values present:
 * returns 0 or -EINVAL ("tun: unknown argument 'foo'"). */
int ipk_io_args_check(const char *kind, const struct ipk_io_args *args,
		      const char *const *keys, struct ipk_err *err);
/* The value of the last @key, or NULL. */
const char *ipk_io_arg(const struct ipk_io_args *args, const char *key);
/* Iterates the values of a repeatable @key: start with *pos = 0; NULL at the end. */
const char *ipk_io_arg_next(const struct ipk_io_args *args, const char *key, int *pos);
/* @key as a number in min..max, @def when absent. Returns 0 or -EINVAL with a message. */
int ipk_io_arg_u32(const char *kind, const struct ipk_io_args *args, const char *key,
		   uint32_t def, uint32_t min, uint32_t max, uint32_t *out, struct ipk_err *err);
/* @key as yes/no (also on/off, true/false, 1/0), @def when absent. */
int ipk_io_arg_bool(const char *kind, const struct ipk_io_args *args, const char *key,
		    bool def, bool *out, struct ipk_err *err);
/* `family` 4, 6 or any: writes bit 0 for IPv4, bit 1 for IPv6. */
int ipk_io_arg_family(const char *kind, const struct ipk_io_args *args, unsigned *mask,
		      struct ipk_err *err);
/* An interface name for @key (1..15 characters), NULL when absent. */
int ipk_io_arg_ifname(const char *kind, const struct ipk_io_args *args, const char *key,
		      const char **out, struct ipk_err *err);

#endif
