// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target: the control socket's message readers (src/ctl/socket.c).
 *
 * The server's reader (client_read, dispatch, run_request) is static and reads from the
 * descriptor of an accepted connection, so the input goes in the way a client's bytes do:
 * one server listens on a socket in a private temporary directory (made once), and for
 * each input a client connects, writes the input, shuts its sending side and the server is
 * run until it has dropped the client, the client reading the replies meanwhile. Whatever
 * the bytes, the server must answer and close without crashing, and the replies must be
 * whole OK or ERR messages. The input is also handed to the client-side reader, ipk_ctlsock_recv(),
 * through a socketpair, as if a server had sent it.
 * The handler echoes the request text (or fails for a text starting with 'E'), so that the
 * fuzzer spends its time on framing; the command language has the config target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/json.h"
#include "ctl/socket.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (64u * 1024u) /* stays within a socket buffer: one write, no blocking */
#define IDLE_ROUNDS 64

static struct ipk_ctlsock *srv;
static char dir[64] = "/tmp/ipk-ctlsock-fuzz-XXXXXX";
static char path[128];

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "ctlsock_fuzz: %s: %s\n", what, msg);
	abort();
}

static void cleanup(void)
{
	if (srv)
		ipk_ctlsock_close(srv);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ipk_err err = { .msg = "" };

	if (!mkdtemp(dir))
		die("mkdtemp", strerror(errno));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	if (ipk_ctlsock_open(path, &srv, &err))
		die("open", err.msg);
	/* A request cut short is dropped at its deadline or at end of stream; the stream
	 * always ends here, so the deadline only guards against a hang. */
	ipk_ctlsock_set_timeout(srv, 1000);
	atexit(cleanup);
	return 0;
}

static int echo(void *arg, const char *text, bool json, struct ipk_outbuf *out,
		struct ipk_err *err)
{
	if (text[0] == 'E')
		return ipk_err_set(err, -EINVAL, "fuzz: refused '%.20s'", text);
	if (json)
		ipk_out_printf(out, "{\"len\": %zu}\n", strlen(text));
	else
		ipk_out_write(out, text, strlen(text));
	return 0;
}

static void write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the server may have closed already */
		data += n;
		size -= (size_t)n;
	}
}

/* What the server sent back to one input. Each reply is at most a header and a short
 * error message or the echoed text, so this bounds them with room to spare. */
static uint8_t replies[8 * INPUT_MAX];
static size_t replies_len;

/* Takes what the server has written so far (the client reads while the server works, or
 * a long run of replies would fill the socket and stall both). True at end of stream. */
static bool drain(int fd)
{
	for (;;) {
		ssize_t n = recv(fd, replies + replies_len, sizeof(replies) - replies_len,
				 MSG_DONTWAIT);

		if (n > 0)
			replies_len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return true;
		else if (errno == EAGAIN)
			return false;
		if (replies_len == sizeof(replies))
			die("reply", "more bytes than the requests can explain");
	}
}

/* Every reply is one whole OK or ERR message. */
static void check_replies(void)
{
	size_t off = 0;

	while (off < replies_len) {
		struct ipk_ctlmsg_hdr hdr;

		if (replies_len - off < sizeof(hdr))
			die("reply", "header cut short");
		memcpy(&hdr, replies + off, sizeof(hdr));
		if (hdr.type != IPK_CTLMSG_OK && hdr.type != IPK_CTLMSG_ERR)
			die("reply", "unknown type");
		if (hdr.length > replies_len - off - sizeof(hdr))
			die("reply", "payload cut short");
		off += sizeof(hdr) + hdr.length;
	}
}

static void through_server(const uint8_t *data, size_t size)
{
	struct ipk_ctlsock_stats before, after;
	struct ipk_err err = { .msg = "" };
	bool eof = false;
	uint64_t seen;
	int fd, idle;

	ipk_ctlsock_get_stats(srv, &before);
	seen = before.requests + before.bad_messages;
	if (ipk_ctlsock_connect(path, &fd, &err))
		die("connect", err.msg);
	write_all(fd, data, size);
	shutdown(fd, SHUT_WR);
	replies_len = 0;
	/* One request is served at a time, so a stream of many takes many rounds: give up
	 * only when rounds in a row pass with no request and no message refused. */
	for (idle = 0; idle < IDLE_ROUNDS && !eof; idle++) {
		if (ipk_ctlsock_handle(srv, 10, echo, NULL) < 0)
			die("handle", "epoll failed");
		ipk_ctlsock_get_stats(srv, &after);
		eof = drain(fd);
		if (after.requests + after.bad_messages != seen) {
			seen = after.requests + after.bad_messages;
			idle = 0;
		}
	}
	if (!eof || ipk_ctlsock_next_timeout(srv) >= 0)
		die("server", "client still open after the stream ended");
	check_replies();
	close(fd);
}

/* The client-side reader, on bytes as a server would send them. */
static void through_client(const uint8_t *data, size_t size)
{
	struct ipk_ctlmsg_hdr hdr;
	char *payload = NULL;
	size_t len = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair", strerror(errno));
	write_all(sv[0], data, size);
	close(sv[0]);
	while (ipk_ctlsock_recv(sv[1], 100, &hdr, &payload, &len, 4096) == 0) {
		if (len != hdr.length || len > 4096 || payload[len] != '\0')
			die("recv", "length");
		free(payload);
		payload = NULL;
	}
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	through_client(data, size);
	through_server(data, size);
	return 0;
}
