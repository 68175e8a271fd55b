/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket: a Unix stream socket on which ipseckctl sends commands to the daemon.
 *
 * Messages (STYLE §8) are a header and a payload, in host byte order (both ends are on one
 * host):
 *
 *   u32 type | u32 flags | u32 length | length bytes of payload
 *
 *   EXEC  request: the text of one read-only command or of a batch (ctl/ctl.h); flag
 *         IPK_CTLMSG_JSON asks for JSON output. At most IPK_CTLSOCK_REQUEST_MAX bytes, no
 *         NUL byte.
 *   OK    reply: the output (may be empty).
 *   ERR   reply: one line, the message for the operator.
 *
 * A connection may carry several requests, one at a time; each gets one reply. A request
 * that breaks the rules (unknown type, too long, NUL byte) gets an ERR reply and the
 * connection is closed; so is a connection that ends inside a message.
 *
 * Who may talk: the peer's credentials (SO_PEERCRED) must be uid 0 or the server's own
 * effective uid. Anyone else gets one ERR message and is closed. The socket file is
 * created with mode 0600 in a directory that must exist; a stale socket file (nobody
 * listening) is replaced, a live one is refused.
 *
 * The server never blocks on a client: every client socket is non-blocking and the server
 * keeps a small state machine per client, with bounded buffers. Each request must arrive
 * within the timeout (IPK_CTLSOCK_TIMEOUT_MS by default) and each reply must keep moving,
 * or the client is dropped. At most IPK_CTLSOCK_CLIENTS_MAX clients at a time; more are
 * told "busy" and closed.
 *
 * Use: the daemon owns the thread. ipk_ctlsock_fd() is one descriptor (an epoll instance
 * holding the listening socket and every client) that becomes readable when there is work;
 * the daemon polls it with its other descriptors, or just calls ipk_ctlsock_handle() in a
 * loop with a wait. Either way, call ipk_ctlsock_handle() at least every
 * ipk_ctlsock_next_timeout() milliseconds so that stalled clients are dropped on time.
 *
 * Threads: a server belongs to one thread; the handler runs on it.
 */
#ifndef IPK_CTL_SOCKET_H
#define IPK_CTL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/err.h"
#include "ctl/json.h"

#define IPK_CTLSOCK_PATH "/run/ipseck/ipseckd.sock" /* shared by ipseckd and ipseckctl */
#define IPK_CTLSOCK_REQUEST_MAX (1u << 20)           /* payload of a request */
#define IPK_CTLSOCK_REPLY_MAX (64u << 20)            /* payload of a reply */
#define IPK_CTLSOCK_TIMEOUT_MS 5000u
#define IPK_CTLSOCK_CLIENTS_MAX 16

enum ipk_ctlmsg_type {
	IPK_CTLMSG_EXEC = 1,
	IPK_CTLMSG_OK = 2,
	IPK_CTLMSG_ERR = 3,
};

#define IPK_CTLMSG_JSON 0x1u /* flags of EXEC: JSON output */

struct ipk_ctlmsg_hdr {
	uint32_t type;   /* enum ipk_ctlmsg_type */
	uint32_t flags;
	uint32_t length; /* of the payload that follows */
};

/* Runs the text of one EXEC request: appends the output to @out and returns 0, or returns
 * a negative errno with the message in @err. ipk_ctl_handler() (ctl/ctl.h) has this shape. */
typedef int (*ipk_ctlsock_handler_fn)(void *arg, const char *text, bool json,
				      struct ipk_outbuf *out, struct ipk_err *err);

struct ipk_ctlsock_stats {
	uint64_t accepted;     /* connections taken on */
	uint64_t refused_peer; /* closed: not uid 0 nor the server's euid */
	uint64_t refused_busy; /* closed: IPK_CTLSOCK_CLIENTS_MAX reached */
	uint64_t requests;     /* EXEC requests run */
	uint64_t errors;       /* of which the handler failed (ERR replies) */
	uint64_t bad_messages; /* unknown type, too long, NUL byte, cut short */
	uint64_t timeouts;     /* dropped for being too slow */
};

struct ipk_ctlsock;
struct ipk_stats_emit;

/* Listens on @path (see above for the rules). Returns 0, or a negative errno with a
 * message: -ENOENT (no directory), -EADDRINUSE (a server is live there), -EEXIST (not a
 * socket), -ENAMETOOLONG, -ENOMEM, or what socket calls return. */
int ipk_ctlsock_open(const char *path, struct ipk_ctlsock **out, struct ipk_err *err);
/* Closes every client and the socket, and removes the socket file. */
void ipk_ctlsock_close(struct ipk_ctlsock *srv);
/* Readable when ipk_ctlsock_handle() has work. */
int ipk_ctlsock_fd(const struct ipk_ctlsock *srv);
/* The per-request timeout, in milliseconds (at least 1). */
void ipk_ctlsock_set_timeout(struct ipk_ctlsock *srv, unsigned ms);
/* Milliseconds until the first client deadline, or -1 when there is no client. */
int ipk_ctlsock_next_timeout(const struct ipk_ctlsock *srv);
/* Waits up to @wait_ms (0: not at all; -1: no limit; capped by the next client deadline) for events,
 * then accepts, reads, runs complete requests through @fn, writes replies and drops
 * clients past their deadline. Returns the number of events handled, or a negative errno
 * when the epoll instance fails. */
int ipk_ctlsock_handle(struct ipk_ctlsock *srv, int wait_ms, ipk_ctlsock_handler_fn fn,
		       void *arg);
void ipk_ctlsock_get_stats(const struct ipk_ctlsock *srv, struct ipk_ctlsock_stats *st);
/* A stats provider's emit (ctl/show.h) for the counters above, with @srv as its argument:
 * register { .name = "ctlsock", .emit = ipk_ctlsock_emit_stats, .arg = srv } while the
 * server is open. `stats` runs on the server's thread, so the counters are read there. */
void ipk_ctlsock_emit_stats(void *srv, struct ipk_stats_emit *e);

/* The peer rule: uid 0 or @own_euid. */
bool ipk_ctlsock_peer_ok(const struct ucred *peer, uid_t own_euid);

/* Client side (ipseckctl, tests). */

/* Connects to @path. Returns 0 with the socket in @fd, or a negative errno with a message
 * naming the path. */
int ipk_ctlsock_connect(const char *path, int *fd, struct ipk_err *err);
/* Sends one message. Returns 0 or a negative errno. */
int ipk_ctlsock_send(int fd, uint32_t type, uint32_t flags, const void *payload, size_t len);
/* Receives one message with a payload of at most @max bytes, waiting at most @timeout_ms
 * (-1: no limit) between reads. On success the payload is in *@payload (NUL-terminated,
 * free() it) and its length in *@len. Returns 0, -EPIPE (closed), -ETIMEDOUT, -EMSGSIZE
 * (payload over @max; nothing read past the header), -ENOMEM or another negative errno. */
int ipk_ctlsock_recv(int fd, int timeout_ms, struct ipk_ctlmsg_hdr *hdr, char **payload,
		     size_t *len, size_t max);

#endif
