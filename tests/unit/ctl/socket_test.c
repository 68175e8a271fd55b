// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/socket.c: a server on its own thread serving the configuration
 * language (ipk_ctl_handler) and clients that follow the protocol or break it: batches
 * and show commands, a failed batch changing nothing, oversize, unknown and truncated
 * messages, a silent client not holding up others, too many clients, the socket file's
 * mode, stale and live sockets, and the peer rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/ctl.h"
#include "ctl/show.h"
#include "ctl/socket.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define K20 "00112233445566778899aabbccddeeffc0c1c2c3"
#define SA_ADD(name, spi)                                                                     \
	"sa add name " name " spi " spi " dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "  \
	"proposal aes128gcm16 key 0x" K20 "\n"
#define WAIT_MS 5000
#define SILENT_TIMEOUT_MS 1000

struct env {
	char dir[64];
	char path[128];
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_config_ctx ctx;
	struct ipk_ctlsock *srv;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	int serve_ret;       /* the last ipk_ctlsock_handle() result */
	unsigned timeout_ms; /* the server's, when not 0 */
	struct ipk_ctlsock_stats stats; /* after stop_server() */
};

static void *serve(void *arg)
{
	struct env *e = arg;

	/* No cmocka assertions on this thread: a failure is reported by stop_server(). */
	while (!atomic_load(&e->stop) && e->serve_ret >= 0)
		e->serve_ret = ipk_ctlsock_handle(e->srv, 20, ipk_ctl_handler, &e->ctx);
	return NULL;
}

static void start_server(struct env *e)
{
	struct ipk_err err;

	assert_int_equal(ipk_ctlsock_open(e->path, &e->srv, &err), 0);
	if (e->timeout_ms)
		ipk_ctlsock_set_timeout(e->srv, e->timeout_ms);
	atomic_store(&e->stop, false);
	e->serve_ret = 0;
	assert_int_equal(pthread_create(&e->thread, NULL, serve, e), 0);
	e->running = true;
}

/* Joins the server thread, keeps its counters and closes it. */
static void stop_server(struct env *e)
{
	if (!e->running)
		return;
	atomic_store(&e->stop, true);
	pthread_join(e->thread, NULL);
	e->running = false;
	assert_true(e->serve_ret >= 0);
	ipk_ctlsock_get_stats(e->srv, &e->stats);
	ipk_ctlsock_close(e->srv);
	e->srv = NULL;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	strcpy(e->dir, "/tmp/ipk-ctlsock-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof(e->path), "%s/ctl.sock", e->dir);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	e->ctx = (struct ipk_config_ctx){ .sad = e->sad, .spd = e->spd };
	start_server(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	stop_server(e);
	unlink(e->path);
	rmdir(e->dir);
	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	free(e);
	return 0;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int connect_to(const struct env *e)
{
	struct ipk_err err;
	int fd;

	assert_int_equal(ipk_ctlsock_connect(e->path, &fd, &err), 0);
	return fd;
}

/* One EXEC on @fd; returns the reply type, the payload in @reply (free it). */
static uint32_t exec_on(int fd, const char *text, uint32_t flags, char **reply)
{
	struct ipk_ctlmsg_hdr hdr;
	size_t len;

	assert_int_equal(ipk_ctlsock_send(fd, IPK_CTLMSG_EXEC, flags, text, strlen(text)), 0);
	assert_int_equal(ipk_ctlsock_recv(fd, WAIT_MS, &hdr, reply, &len,
					  IPK_CTLSOCK_REPLY_MAX), 0);
	assert_int_equal(strlen(*reply), len);
	return hdr.type;
}

static uint32_t exec(const struct env *e, const char *text, uint32_t flags, char **reply)
{
	int fd = connect_to(e);
	uint32_t type = exec_on(fd, text, flags, reply);

	close(fd);
	return type;
}

/* After a refusal the server has closed the connection. */
static void assert_closed(int fd)
{
	struct ipk_ctlmsg_hdr hdr;
	char *reply = NULL;
	size_t len;

	int ret = ipk_ctlsock_recv(fd, WAIT_MS, &hdr, &reply, &len, 1024);

	/* A reset when the server closed with our bytes unread. */
	assert_true(ret == -EPIPE || ret == -ECONNRESET);
	assert_null(reply);
}

static void batch_then_show(void **state)
{
	struct env *e = *state;
	char *reply;
	int fd;

	assert_int_equal(exec(e, SA_ADD("gw-out", "0x1001") SA_ADD("gw2", "0x1002"), 0, &reply),
			 IPK_CTLMSG_OK);
	assert_string_equal(reply, "");
	free(reply);
	/* Several requests on one connection. */
	fd = connect_to(e);
	assert_int_equal(exec_on(fd, "show sa", 0, &reply), IPK_CTLMSG_OK);
	assert_non_null(strstr(reply, "sa gw-out spi 0x00001001 dir out mode tunnel"));
	assert_non_null(strstr(reply, "sa gw2 spi 0x00001002"));
	assert_null(strstr(reply, "00112233"));
	free(reply);
	assert_int_equal(exec_on(fd, "show sa name gw2", IPK_CTLMSG_JSON, &reply), IPK_CTLMSG_OK);
	assert_true(strncmp(reply, "{\"sa\":[{\"name\":\"gw2\",\"spi\":4098,", 32) == 0);
	free(reply);
	assert_int_equal(exec_on(fd, "sa del name gw2", 0, &reply), IPK_CTLMSG_OK);
	free(reply);
	close(fd);
	stop_server(e); /* before reading the SAD the server thread changed */
	assert_non_null(ipk_sad_find(e->sad, "gw-out"));
	assert_null(ipk_sad_find(e->sad, "gw2"));
	assert_int_equal(e->stats.accepted, 2);
	assert_int_equal(e->stats.requests, 4);
	assert_int_equal(e->stats.errors, 0);
}

static void failed_batch_changes_nothing(void **state)
{
	struct env *e = *state;
	char *reply;

	assert_int_equal(exec(e, SA_ADD("a", "0x1001"), 0, &reply), IPK_CTLMSG_OK);
	free(reply);
	assert_int_equal(exec(e, SA_ADD("b", "0x1002") "sa del name a\nsa add name c spi 7", 0,
			      &reply), IPK_CTLMSG_ERR);
	assert_string_equal(reply, "ipseckctl:3: 'spi': expected a number in 256..4294967295 "
				   "(0..255 are reserved, RFC 4303 §2.1), got '7'");
	free(reply);
	assert_int_equal(exec(e, "show sa", 0, &reply), IPK_CTLMSG_OK);
	assert_non_null(strstr(reply, "sa a spi"));
	assert_null(strstr(reply, "sa b "));
	free(reply);
	assert_int_equal(exec(e, "show sa name zz", 0, &reply), IPK_CTLMSG_ERR);
	assert_string_equal(reply, "ipseckctl:1: show sa: sa 'zz' does not exist");
	free(reply);
	stop_server(e);
	assert_int_equal(e->stats.requests, 4);
	assert_int_equal(e->stats.errors, 2);
	assert_int_equal(ipk_sad_count(e->sad), 1);
}

/* Rows: a raw header and how many payload bytes follow; the ERR expected, or NULL when
 * the server must close without a word (a message cut short). */
static void bad_messages(void **state)
{
	static const struct {
		struct ipk_ctlmsg_hdr hdr;
		size_t send;
		const char *err;
	} rows[] = {
		/* 1 */ { { IPK_CTLMSG_EXEC, 0, IPK_CTLSOCK_REQUEST_MAX + 1 }, 0,
			  "request of 1048577 bytes is over the limit of 1048576" },
		/* 2 */ { { IPK_CTLMSG_EXEC, 0, UINT32_MAX }, 64,
			  "request of 4294967295 bytes is over the limit of 1048576" },
		/* 3 */ { { 99, 0, 4 }, 4, "unknown message type 99" },
		/* 4 */ { { IPK_CTLMSG_OK, 0, 0 }, 0, "unknown message type 2" },
		/* 5 */ { { IPK_CTLMSG_EXEC, 0, 100 }, 10, NULL },
		/* 6 */ { { IPK_CTLMSG_EXEC, 0, 0 }, 0, NULL }, /* 7 bytes of the header */
		/* 7 */ { { IPK_CTLMSG_EXEC, 0, 9 }, 9, "request holds a NUL byte" },
	};
	struct env *e = *state;
	char payload[128] = "show sa";
	char *reply;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_ctlmsg_hdr hdr = rows[i].hdr;
		size_t hdr_len = sizeof(hdr), len;
		int fd = connect_to(e);

		print_message("row %zu\n", i + 1);
		if (i == 5)
			hdr_len = 7;
		assert_int_equal(write(fd, &hdr, hdr_len), (ssize_t)hdr_len);
		/* May fail: the server refuses some headers before reading on. */
		if (rows[i].send && send(fd, payload, rows[i].send, MSG_NOSIGNAL) < 0)
			print_message("  payload not sent: %s\n", strerror(errno));
		if (!rows[i].err) {
			shutdown(fd, SHUT_WR);
			assert_closed(fd);
			close(fd);
			continue;
		}
		assert_int_equal(ipk_ctlsock_recv(fd, WAIT_MS, &hdr, &reply, &len, 1024), 0);
		assert_int_equal(hdr.type, IPK_CTLMSG_ERR);
		assert_string_equal(reply, rows[i].err);
		free(reply);
		assert_closed(fd);
		close(fd);
	}
	/* The server is still there. */
	assert_int_equal(exec(e, "stats", 0, &reply), IPK_CTLMSG_OK);
	assert_non_null(strstr(reply, "sa in 0 out 0"));
	free(reply);
	stop_server(e);
	assert_int_equal(e->stats.bad_messages, IPK_ARRAY_SIZE(rows));
	assert_int_equal(e->stats.requests, 1);
}

/* A request of exactly IPK_CTLSOCK_REQUEST_MAX bytes is taken (one byte more is not: see
 * bad_messages); two requests written at once are answered in order. */
static void limits_and_pipelining(void **state)
{
	static const char two[] = "show sa";
	struct ipk_ctlmsg_hdr hdr = { IPK_CTLMSG_EXEC, 0, sizeof(two) - 1 };
	struct env *e = *state;
	char *big = malloc(IPK_CTLSOCK_REQUEST_MAX + 1u), *reply, buf[64];
	size_t len;
	int fd;

	assert_non_null(big);
	memset(big, ' ', IPK_CTLSOCK_REQUEST_MAX);
	memcpy(big, "# a comment, then spaces", 24);
	big[IPK_CTLSOCK_REQUEST_MAX - 1] = '\n';
	big[IPK_CTLSOCK_REQUEST_MAX] = '\0';
	assert_int_equal(exec(e, big, 0, &reply), IPK_CTLMSG_OK);
	assert_string_equal(reply, "");
	free(reply);
	free(big);
	/* Both messages in one write. */
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), two, hdr.length);
	memcpy(buf + sizeof(hdr) + hdr.length, buf, sizeof(hdr) + hdr.length);
	fd = connect_to(e);
	assert_int_equal(write(fd, buf, 2 * (sizeof(hdr) + hdr.length)),
			 (ssize_t)(2 * (sizeof(hdr) + hdr.length)));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ipk_ctlsock_recv(fd, WAIT_MS, &hdr, &reply, &len, 1024), 0);
		assert_int_equal(hdr.type, IPK_CTLMSG_OK);
		assert_string_equal(reply, "");
		free(reply);
	}
	close(fd);
	stop_server(e);
	assert_int_equal(e->stats.requests, 3);
	assert_int_equal(e->stats.bad_messages, 0);
}

/* The server's own counters, as a stats provider. */
static void own_counters(void **state)
{
	struct env *e = *state;
	struct ipk_stats_provider p = { .name = "ctlsock", .emit = ipk_ctlsock_emit_stats };
	char *reply;
	int fd;

	p.arg = e->srv;
	assert_int_equal(ipk_stats_register(&p), 0);
	fd = connect_to(e);
	assert_int_equal(exec_on(fd, "sa frob", 0, &reply), IPK_CTLMSG_ERR);
	free(reply);
	assert_int_equal(exec_on(fd, "stats", 0, &reply), IPK_CTLMSG_OK);
	close(fd);
	stop_server(e);
	ipk_stats_unregister(&p);
	assert_non_null(strstr(reply, "ctlsock\n\taccepted 1\n\trefused-peer 0\n"
				      "\trefused-busy 0\n\trequests 2\n\terrors 1\n"
				      "\tbad-messages 0\n\ttimeouts 0\n"));
	free(reply);
}

/* A client that connects and says nothing holds up nobody, and is dropped at the timeout. */
static void silent_client(void **state)
{
	struct env *e = *state;
	uint64_t start;
	char *reply;
	int silent;

	stop_server(e);
	e->timeout_ms = SILENT_TIMEOUT_MS;
	start_server(e);
	start = ms_now();
	silent = connect_to(e);
	assert_int_equal(write(silent, "\x01\x00", 2), 2); /* and a partial header */
	assert_int_equal(exec(e, "show sa", 0, &reply), IPK_CTLMSG_OK);
	free(reply);
	assert_true(ms_now() - start < SILENT_TIMEOUT_MS / 2);
	assert_closed(silent);
	assert_true(ms_now() - start >= SILENT_TIMEOUT_MS - 50);
	close(silent);
	stop_server(e);
	assert_int_equal(e->stats.timeouts, 1);
	assert_int_equal(e->stats.requests, 1);
}

/* Past IPK_CTLSOCK_CLIENTS_MAX connections, the next one is told it is busy. */
static void too_many_clients(void **state)
{
	struct env *e = *state;
	struct ipk_ctlmsg_hdr hdr;
	int fds[IPK_CTLSOCK_CLIENTS_MAX];
	char *reply;
	size_t len;
	int extra;

	for (int i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++)
		fds[i] = connect_to(e);
	/* Every one of them is taken on before the next connects. */
	assert_int_equal(exec_on(fds[0], "stats", 0, &reply), IPK_CTLMSG_OK);
	free(reply);
	extra = connect_to(e);
	assert_int_equal(ipk_ctlsock_recv(extra, WAIT_MS, &hdr, &reply, &len, 1024), 0);
	assert_int_equal(hdr.type, IPK_CTLMSG_ERR);
	assert_string_equal(reply, "busy: too many control clients, try again");
	free(reply);
	close(extra);
	assert_int_equal(exec_on(fds[IPK_CTLSOCK_CLIENTS_MAX - 1], "stats", 0, &reply),
			 IPK_CTLMSG_OK);
	free(reply);
	for (int i = 0; i < IPK_CTLSOCK_CLIENTS_MAX; i++)
		close(fds[i]);
	stop_server(e);
	assert_int_equal(e->stats.accepted, IPK_CTLSOCK_CLIENTS_MAX);
	assert_int_equal(e->stats.refused_busy, 1);
}

/* A reply far larger than the socket buffer goes out in pieces. */
static void large_reply(void **state)
{
	enum { N = 2000 };
	struct env *e = *state;
	char *batch = malloc(N * 200), *reply, *p;
	int count = 0;

	assert_non_null(batch);
	p = batch;
	for (int i = 0; i < N; i++)
		p += sprintf(p, "sa add name s%d spi %d dir out mode tunnel src 192.0.2.1 "
			     "dst 192.0.2.2 proposal aes128gcm16 key 0x" K20 "\n", i, 0x1000 + i);
	assert_int_equal(exec(e, batch, 0, &reply), IPK_CTLMSG_OK);
	free(reply);
	free(batch);
	assert_int_equal(exec(e, "show sa keys", 0, &reply), IPK_CTLMSG_OK);
	assert_true(strlen(reply) > 500000);
	for (p = reply; (p = strstr(p, "\n\tkey 0x" K20 "\n")); p++)
		count++;
	assert_int_equal(count, N);
	assert_non_null(strstr(reply, "sa s1999 spi 0x000017cf"));
	free(reply);
}

static void socket_file(void **state)
{
	struct env *e = *state;
	struct ipk_ctlsock *other;
	struct ipk_err err;
	struct stat st;
	char path[160];
	int fd;

	/* Mode 0600. */
	assert_int_equal(stat(e->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A live server is not replaced. */
	assert_int_equal(ipk_ctlsock_open(e->path, &other, &err), -EADDRINUSE);
	assert_non_null(strstr(err.msg, "another server is listening"));
	/* Closing removes the file. */
	stop_server(e);
	assert_int_equal(stat(e->path, &st), -1);
	/* A stale socket (its server died without removing it) is replaced. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sa.sun_path, e->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	assert_int_equal(stat(e->path, &st), 0);
	start_server(e);
	fd = connect_to(e);
	close(fd);
	stop_server(e);
	/* A file that is not a socket is left alone. */
	fd = open(e->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ipk_ctlsock_open(e->path, &other, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "exists and is not a socket"));
	assert_int_equal(unlink(e->path), 0);
	/* The directory must exist. */
	snprintf(path, sizeof(path), "%s/nodir/ctl.sock", e->dir);
	assert_int_equal(ipk_ctlsock_open(path, &other, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "the directory does not exist"));
	/* A path too long for sun_path. */
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(ipk_ctlsock_open(path, &other, &err), -ENAMETOOLONG);
	/* No server: the client says so. */
	assert_int_equal(ipk_ctlsock_connect(e->path, &fd, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot connect to"));
}

static void peer_rule(void **state)
{
	static const struct {
		uid_t peer, own;
		bool ok;
	} rows[] = {
		/* 1 */ { 0, 0, true },
		/* 2 */ { 0, 1000, true },
		/* 3 */ { 1000, 1000, true },
		/* 4 */ { 1001, 1000, false },
		/* 5 */ { 65534, 0, false },
		/* 6 */ { 65534, 1000, false },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ucred cred = { .pid = 1, .uid = rows[i].peer, .gid = rows[i].peer };

		print_message("row %zu\n", i + 1);
		assert_int_equal(ipk_ctlsock_peer_ok(&cred, rows[i].own), rows[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(batch_then_show, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_batch_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(limits_and_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(own_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(silent_client, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(large_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(socket_file, setup, teardown),
		cmocka_unit_test(peer_rule),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
