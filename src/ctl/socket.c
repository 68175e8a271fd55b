// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control socket server and client (ctl/socket.h).
 *
 * Each client is a small state machine: HEADER (reading the 12-byte header), BODY
 * (reading the payload the header announced), REPLY (writing header and payload of the
 * answer). Buffers are bounded by the header's checks before anything is allocated, and
 * every socket is non-blocking, so one slow or hostile client only ever costs its own slot
 * until its deadline.
 */
#include "ctl/socket.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/show.h"

#define LISTEN_BACKLOG 16
#define EVENTS_MAX (IPK_CTLSOCK_CLIENTS_MAX + 1)
#define LISTENER_TAG 0 /* epoll tag of the listening socket; clients are index + 1 */

enum client_state { CLIENT_FREE, CLIENT_HEADER, CLIENT_BODY, CLIENT_REPLY };

struct client {
	enum client_state state;
	int fd;
	struct ipk_ctlmsg_hdr hdr;
	size_t got;            /* bytes of the header or the body read so far */
	char *body;            /* the request, length + 1 bytes */
	struct ipk_outbuf out; /* the reply: header, then payload */
	size_t sent;
	bool close_after;      /* the reply refuses the request: close once it is out */
	uint64_t deadline_ms;
};

struct ipk_ctlsock {
	int lfd;
	int epfd;
	uid_t euid;
	unsigned timeout_ms;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ipk_ctlsock_stats stats;
	struct client clients[IPK_CTLSOCK_CLIENTS_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool ipk_ctlsock_peer_ok(const struct ucred *peer, uid_t own_euid)
{
	return peer->uid == 0 || peer->uid == own_euid;
}

static int make_addr(const char *path, struct sockaddr_un *sa, struct ipk_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return ipk_err_set(err, -ENAMETOOLONG, "%s: socket path longer than %zu bytes",
				   path, sizeof(sa->sun_path) - 1);
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket file left by a server that is gone is removed; one with a live server, or a
 * file that is not a socket, is left alone and refused. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, struct ipk_err *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return ipk_err_set(err, -EEXIST, "%s: exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipk_err_set(err, -errno, "%s: socket: %s", path, strerror(errno));
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (ret == 0)
		return ipk_err_set(err, -EADDRINUSE, "%s: another server is listening", path);
	if (ret != -ECONNREFUSED)
		return ipk_err_set(err, ret, "%s: cannot probe the old socket: %s", path,
				   strerror(-ret));
	if (unlink(path) != 0 && errno != ENOENT)
		return ipk_err_set(err, -errno, "%s: cannot remove the stale socket: %s", path,
				   strerror(errno));
	return 0;
}

/* bind, then chmod, then listen: until listen() nobody can connect, so the file is never
 * reachable with wider permissions than 0600. */
static int bind_listen(struct ipk_ctlsock *srv, const struct sockaddr_un *sa,
		       struct ipk_err *err)
{
	const char *path = srv->path;
	int ret;

	if (bind(srv->lfd, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
		ret = -errno;
		if (ret == -ENOENT)
			return ipk_err_set(err, ret, "%s: the directory does not exist", path);
		return ipk_err_set(err, ret, "%s: bind: %s", path, strerror(-ret));
	}
	if (chmod(path, 0600) != 0 || listen(srv->lfd, LISTEN_BACKLOG) != 0) {
		ret = -errno;
		unlink(path);
		return ipk_err_set(err, ret, "%s: %s", path, strerror(-ret));
	}
	return 0;
}

static int watch(struct ipk_ctlsock *srv, int op, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(srv->epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

int ipk_ctlsock_open(const char *path, struct ipk_ctlsock **out, struct ipk_err *err)
{
	struct ipk_ctlsock *srv;
	struct sockaddr_un sa;
	int ret;

	ret = make_addr(path, &sa, err);
	if (ret)
		return ret;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", path);
	strcpy(srv->path, path);
	srv->euid = geteuid();
	srv->timeout_ms = IPK_CTLSOCK_TIMEOUT_MS;
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->epfd < 0 || srv->lfd < 0) {
		ret = ipk_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto err_close;
	}
	ret = clear_stale(path, &sa, err);
	if (!ret)
		ret = bind_listen(srv, &sa, err);
	if (ret)
		goto err_close;
	ret = watch(srv, EPOLL_CTL_ADD, srv->lfd, EPOLLIN, LISTENER_TAG);
	if (ret) {
		unlink(path);
		ipk_err_set(err, ret, "%s: epoll: %s", path, strerror(-ret));
		goto err_close;
	}
	*out = srv;
	return 0;
err_close:
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	free(srv);
	return ret;
}

static void client_drop(struct ipk_ctlsock *srv, struct client *c)
{
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->body) {
		/* A batch may hold keys. */
		explicit_bzero(c->body, c->hdr.length + 1u);
		free(c->body);
	}
	ipk_out_fini(&c->out);
	*c = (struct client){ .state = CLIENT_FREE, .fd = -1 };
}

void ipk_ctlsock_close(struct ipk_ctlsock *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++)
		if (srv->clients[i].state != CLIENT_FREE)
			client_drop(srv, &srv->clients[i]);
	close(srv->lfd);
	close(srv->epfd);
	unlink(srv->path);
	free(srv);
}

int ipk_ctlsock_fd(const struct ipk_ctlsock *srv)
{
	return srv->epfd;
}

void ipk_ctlsock_set_timeout(struct ipk_ctlsock *srv, unsigned ms)
{
	srv->timeout_ms = ms ? ms : 1;
}

int ipk_ctlsock_next_timeout(const struct ipk_ctlsock *srv)
{
	uint64_t now = now_ms(), first = UINT64_MAX;

	for (size_t i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++)
		if (srv->clients[i].state != CLIENT_FREE && srv->clients[i].deadline_ms < first)
			first = srv->clients[i].deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

void ipk_ctlsock_get_stats(const struct ipk_ctlsock *srv, struct ipk_ctlsock_stats *st)
{
	*st = srv->stats;
}

void ipk_ctlsock_emit_stats(void *arg, struct ipk_stats_emit *e)
{
	const struct ipk_ctlsock *srv = arg;
	const struct ipk_ctlsock_stats *st = &srv->stats;

	ipk_stats_counter(e, "accepted", st->accepted);
	ipk_stats_counter(e, "refused-peer", st->refused_peer);
	ipk_stats_counter(e, "refused-busy", st->refused_busy);
	ipk_stats_counter(e, "requests", st->requests);
	ipk_stats_counter(e, "errors", st->errors);
	ipk_stats_counter(e, "bad-messages", st->bad_messages);
	ipk_stats_counter(e, "timeouts", st->timeouts);
}

/* Starts the reply: the header now, its length patched in reply_end(). */
static void reply_begin(struct client *c, uint32_t type)
{
	struct ipk_ctlmsg_hdr hdr = { .type = type };

	ipk_out_reset(&c->out);
	ipk_out_write(&c->out, &hdr, sizeof(hdr));
}

static int reply_end(struct ipk_ctlsock *srv, struct client *c)
{
	struct ipk_ctlmsg_hdr hdr;

	memcpy(&hdr, c->out.buf, sizeof(hdr));
	hdr.length = (uint32_t)(c->out.len - sizeof(hdr));
	memcpy(c->out.buf, &hdr, sizeof(hdr));
	c->sent = 0;
	c->state = CLIENT_REPLY;
	return watch(srv, EPOLL_CTL_MOD, c->fd, EPOLLOUT, (uint32_t)(c - srv->clients) + 1u);
}

/* Answers ERR with @msg. A reply this short always fits: out.max is far larger. */
static int reply_err(struct ipk_ctlsock *srv, struct client *c, const char *msg, bool close)
{
	reply_begin(c, IPK_CTLMSG_ERR);
	ipk_out_write(&c->out, msg, strlen(msg));
	c->close_after = close;
	return reply_end(srv, c);
}

/* A message that breaks the protocol: say why, then hang up. */
static int refuse(struct ipk_ctlsock *srv, struct client *c, const char *fmt, ...)
	IPK_PRINTF(3, 4);

static int refuse(struct ipk_ctlsock *srv, struct client *c, const char *fmt, ...)
{
	char msg[IPK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srv->stats.bad_messages++;
	return reply_err(srv, c, msg, true);
}

/* Runs a complete request through the handler and queues the reply. */
static int run_request(struct ipk_ctlsock *srv, struct client *c, ipk_ctlsock_handler_fn fn,
		       void *arg)
{
	bool json = c->hdr.flags & IPK_CTLMSG_JSON;
	struct ipk_err err = { "" };
	int ret;

	c->body[c->hdr.length] = '\0';
	if (memchr(c->body, '\0', c->hdr.length))
		return refuse(srv, c, "request holds a NUL byte");
	srv->stats.requests++;
	reply_begin(c, IPK_CTLMSG_OK);
	ret = fn(arg, c->body, json, &c->out, &err);
	explicit_bzero(c->body, c->hdr.length + 1u);
	free(c->body);
	c->body = NULL;
	if (ret == 0 && !c->out.overflow)
		return reply_end(srv, c);
	srv->stats.errors++;
	if (ret == 0)
		ipk_err_set(&err, -EFBIG, "reply larger than %u bytes", IPK_CTLSOCK_REPLY_MAX);
	else if (!err.msg[0])
		ipk_err_set(&err, ret, "%s", strerror(-ret));
	return reply_err(srv, c, err.msg, false);
}

/* The one dispatch of the server: every type checks its payload size before any of the
 * payload is read or a buffer for it allocated. */
static int dispatch(struct ipk_ctlsock *srv, struct client *c)
{
	switch (c->hdr.type) {
	case IPK_CTLMSG_EXEC:
		if (c->hdr.length > IPK_CTLSOCK_REQUEST_MAX)
			return refuse(srv, c, "request of %u bytes is over the limit of %u",
				      c->hdr.length, IPK_CTLSOCK_REQUEST_MAX);
		c->body = malloc(c->hdr.length + 1u);
		if (!c->body)
			return reply_err(srv, c, "out of memory", true);
		c->got = 0;
		c->state = CLIENT_BODY;
		return 0;
	default:
		return refuse(srv, c, "unknown message type %u", c->hdr.type);
	}
}

/* Reads what is there into @buf (@want bytes in all, c->got so far). Returns 1 when
 * complete, 0 for more later, -EPIPE at the end of the stream, or another error. */
static int read_some(struct client *c, void *buf, size_t want)
{
	while (c->got < want) {
		ssize_t n = read(c->fd, (char *)buf + c->got, want - c->got);

		if (n > 0)
			c->got += (size_t)n;
		else if (n == 0)
			return -EPIPE;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno != EINTR)
			return -errno;
	}
	return 1;
}

static int client_read(struct ipk_ctlsock *srv, struct client *c, ipk_ctlsock_handler_fn fn,
		       void *arg)
{
	int ret;

	if (c->state == CLIENT_HEADER) {
		ret = read_some(c, &c->hdr, sizeof(c->hdr));
		if (ret == -EPIPE && c->got == 0)
			return -EPIPE; /* a clean hang-up between requests */
		if (ret <= 0)
			goto cut_short;
		ret = dispatch(srv, c);
		if (ret || c->state != CLIENT_BODY)
			return ret;
	}
	ret = read_some(c, c->body, c->hdr.length);
	if (ret <= 0)
		goto cut_short;
	return run_request(srv, c, fn, arg);
cut_short:
	if (ret == -EPIPE)
		srv->stats.bad_messages++;
	return ret;
}

/* Returns 0 while the reply is going out, 1 once it is done, or a negative errno. */
static int client_write(struct ipk_ctlsock *srv, struct client *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->sent, c->out.len - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->sent += (size_t)n;
			/* A reply that keeps moving is not a stalled client. */
			c->deadline_ms = now_ms() + srv->timeout_ms;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		} else if (n < 0 && errno != EINTR) {
			return -errno;
		}
	}
	return 1;
}

/* The next request of a connection. */
static int client_rearm(struct ipk_ctlsock *srv, struct client *c)
{
	ipk_out_reset(&c->out);
	c->state = CLIENT_HEADER;
	c->got = 0;
	c->deadline_ms = now_ms() + srv->timeout_ms;
	return watch(srv, EPOLL_CTL_MOD, c->fd, EPOLLIN, (uint32_t)(c - srv->clients) + 1u);
}

static void client_event(struct ipk_ctlsock *srv, struct client *c, ipk_ctlsock_handler_fn fn,
			 void *arg)
{
	int ret;

	if (c->state == CLIENT_HEADER || c->state == CLIENT_BODY)
		ret = client_read(srv, c, fn, arg);
	else
		ret = 0;
	/* A reply is tried at once: most fit in the socket buffer. */
	if (ret == 0 && c->state == CLIENT_REPLY) {
		ret = client_write(srv, c);
		if (ret == 1)
			ret = c->close_after ? -EPIPE : client_rearm(srv, c);
	}
	if (ret < 0)
		client_drop(srv, c);
}

/* Best effort: one ERR message to a client about to be closed, without waiting. */
static void tell_and_close(int fd, const char *msg)
{
	struct ipk_ctlmsg_hdr hdr = { .type = IPK_CTLMSG_ERR, .length = (uint32_t)strlen(msg) };
	char buf[sizeof(hdr) + IPK_ERR_MSG_MAX];

	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), msg, hdr.length);
	if (send(fd, buf, sizeof(hdr) + hdr.length, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* Nothing more to do: the client is going anyway. */
	}
	close(fd);
}

static struct client *free_slot(struct ipk_ctlsock *srv)
{
	for (size_t i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++)
		if (srv->clients[i].state == CLIENT_FREE)
			return &srv->clients[i];
	return NULL;
}

static void take_client(struct ipk_ctlsock *srv, int fd)
{
	struct ucred cred = { .pid = 0 };
	socklen_t len = sizeof(cred);
	struct client *c;
	char msg[IPK_ERR_MSG_MAX];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		srv->stats.refused_peer++;
		tell_and_close(fd, "permission denied: peer credentials unknown");
		return;
	}
	if (!ipk_ctlsock_peer_ok(&cred, srv->euid)) {
		srv->stats.refused_peer++;
		snprintf(msg, sizeof(msg), "permission denied: uid %u may not use %s",
			 (unsigned)cred.uid, srv->path);
		tell_and_close(fd, msg);
		return;
	}
	c = free_slot(srv);
	if (!c) {
		srv->stats.refused_busy++;
		tell_and_close(fd, "busy: too many control clients, try again");
		return;
	}
	*c = (struct client){ .state = CLIENT_HEADER, .fd = fd };
	ipk_out_init(&c->out, sizeof(struct ipk_ctlmsg_hdr) + IPK_CTLSOCK_REPLY_MAX);
	c->deadline_ms = now_ms() + srv->timeout_ms;
	if (watch(srv, EPOLL_CTL_ADD, fd, EPOLLIN, (uint32_t)(c - srv->clients) + 1u)) {
		close(fd);
		c->state = CLIENT_FREE;
		return;
	}
	srv->stats.accepted++;
}

static void accept_all(struct ipk_ctlsock *srv)
{
	for (;;) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			return; /* EAGAIN, or a connection that went away */
		take_client(srv, fd);
	}
}

static void expire(struct ipk_ctlsock *srv)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++) {
		struct client *c = &srv->clients[i];

		if (c->state != CLIENT_FREE && c->deadline_ms <= now) {
			srv->stats.timeouts++;
			client_drop(srv, c);
		}
	}
}

int ipk_ctlsock_handle(struct ipk_ctlsock *srv, int wait_ms, ipk_ctlsock_handler_fn fn,
		       void *arg)
{
	struct epoll_event ev[EVENTS_MAX];
	int next = ipk_ctlsock_next_timeout(srv);
	int n;

	if (wait_ms < 0 || (next >= 0 && next < wait_ms))
		wait_ms = next;
	n = epoll_wait(srv->epfd, ev, EVENTS_MAX, wait_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == LISTENER_TAG)
			accept_all(srv);
		else if (srv->clients[tag - 1].state != CLIENT_FREE)
			client_event(srv, &srv->clients[tag - 1], fn, arg);
	}
	expire(srv);
	return n;
}

int ipk_ctlsock_connect(const char *path, int *fd, struct ipk_err *err)
{
	struct sockaddr_un sa;
	int s, ret;

	ret = make_addr(path, &sa, err);
	if (ret)
		return ret;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ipk_err_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(s, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ret = -errno;
		close(s);
		return ipk_err_set(err, ret, "cannot connect to %s: %s", path, strerror(-ret));
	}
	*fd = s;
	return 0;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ipk_ctlsock_send(int fd, uint32_t type, uint32_t flags, const void *payload, size_t len)
{
	struct ipk_ctlmsg_hdr hdr = { .type = type, .flags = flags, .length = (uint32_t)len };
	int ret;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	ret = send_all(fd, &hdr, sizeof(hdr));
	return ret ? ret : send_all(fd, payload, len);
}

static int recv_all(int fd, int timeout_ms, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ipk_ctlsock_recv(int fd, int timeout_ms, struct ipk_ctlmsg_hdr *hdr, char **payload,
		     size_t *len, size_t max)
{
	char *buf;
	int ret;

	ret = recv_all(fd, timeout_ms, hdr, sizeof(*hdr));
	if (ret)
		return ret;
	if (hdr->length > max)
		return -EMSGSIZE;
	buf = malloc((size_t)hdr->length + 1u);
	if (!buf)
		return -ENOMEM;
	ret = recv_all(fd, timeout_ms, buf, hdr->length);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[hdr->length] = '\0';
	*payload = buf;
	*len = hdr->length;
	return 0;
}
