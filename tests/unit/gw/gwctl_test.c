// SPDX-License-Identifier: BSD-2-Clause
/* Tests for start-up and control of the gateway (src/gw/gwctl.c, gateway.c, gwstats.c):
 * loading files (a numbered table of failures, each leaving nothing behind), the control
 * handler on a started gateway (read-only commands, batches under the pause, refusals), and
 * the stats sections. Ports are `udp` on 127.0.0.1, which needs no privilege. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/config.h"
#include "ctl/json.h"
#include "gw/gateway.h"
#include "gw/gwctl.h"
#include "gw/gwstats.h"
#include "sa/sad.h"

#define KEY "0x00112233445566778899aabbccddeeffc0c1c2c3"
#define SA_A "sa add name a spi 0x1000 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 " \
	     "proposal aes128gcm16 key " KEY "\n"
#define SA_B "sa add name b spi 0x2000 dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 " \
	     "proposal aes128gcm16 key " KEY "\n"

/* A QoS chain at queue 1 (examples/recommended-qos.conf's first). */
#define QOS_Q1 "qos add name q1-cls kind dscp ef 0 default 1\n" \
	       "qos add name q1-ef kind fifo limit 64\n" \
	       "qos add name q1-rest kind fifo limit 2048\n" \
	       "qos add name q1-prio kind prio\n" \
	       "qos node name q1 classify q1-cls children q1-ef,q1-rest schedule q1-prio\n" \
	       "hook attach 1 q1\n"

static unsigned free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

static bool port_free(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(0x7f000001) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;

	close(fd);
	return ok;
}

/* Writes @len bytes of @text to a new temporary file; returns its path (static). */
static const char *write_conf(const char *text, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ipk-gwctl-test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static struct ipk_gateway *load_ok(const char *text)
{
	const char *path = write_conf(text, strlen(text));
	struct ipk_gateway *gw = NULL;
	struct ipk_err err;

	if (ipk_gwctl_load(path, &gw, &err))
		fail_msg("load: %s", err.msg);
	unlink(path);
	return gw;
}

static void test_load(void **state)
{
	unsigned port = free_port();
	char text[512];
	struct ipk_gateway *gw;
	struct ipk_config_ctx ctx;

	snprintf(text, sizeof(text), "engine units 1 high 8 buffers 2048\n"
		 "interface add name u1 kind udp side protected family 4 local 127.0.0.1 "
		 "port %u\n" SA_A "policy add name p dir out action protect sa a\n", port);
	gw = load_ok(text);
	ipk_gateway_config_ctx(gw, &ctx);
	assert_int_equal(ipk_gateway_settings(gw)->engine.n_units, 1);
	assert_int_equal(ipk_gateway_settings(gw)->engine.unit.high, 8);
	assert_int_equal(ipk_gateway_settings(gw)->buffers, 2048);
	assert_int_equal(ipk_engine_n_units(ipk_gateway_engine(gw)), 1);
	assert_non_null(ipk_gateway_port(gw, "u1"));
	assert_non_null(ipk_sad_find(ctx.sad, "a"));
	assert_false(port_free(port));
	ipk_gateway_destroy(gw);
	assert_true(port_free(port));
}

struct fail_row {
	const char *text; /* NULL: no such file */
	size_t len;       /* 0: strlen(text) */
	const char *msg;  /* after "PATH" */
};

static void test_load_failures(void **state)
{
	unsigned port = free_port();
	char iface[160], late[512];
	const struct fail_row rows[] = {
		/* 0 */ { NULL, 0, ": cannot open: No such file or directory" },
		/* 1 */ { "engine units 1\nengine high 0\n", 0, ":2: engine: given twice" },
		/* 2 */ { "engine units 1 bogus 3\n", 0, ":1: 'bogus'" },
		/* 3: the port was opened for the check, then the batch failed: closed again */
		{ late, 0, ":4: policy p: " },
		/* 4 */ { "engine units 1\n\0sa del name a\n", 29, ": NUL byte in a text file" },
		/* 5: runtime-only refusals hold at start-up too */
		{ "engine units 1\ninterface add name x kind tun side protected\n", 0,
		  ":2: 'side': a tun interface is on the plain side" },
	};

	snprintf(iface, sizeof(iface), "interface add name u1 kind udp side protected family 4 "
		 "local 127.0.0.1 port %u\n", port);
	snprintf(late, sizeof(late), "engine units 1 buffers 1024\n%s" SA_A
		 "policy add name p dir out action protect sa nosuch\n", iface);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		const char *path = rows[i].text ? write_conf(rows[i].text, rows[i].len ?
							 rows[i].len : strlen(rows[i].text)) :
						  "/nonexistent/ipk.conf";
		struct ipk_gateway *gw = NULL;
		struct ipk_err err;
		char want[256];

		print_message("row %zu\n", i);
		assert_true(ipk_gwctl_load(path, &gw, &err) < 0);
		assert_null(gw);
		snprintf(want, sizeof(want), "%s%s", path, rows[i].msg);
		if (strncmp(err.msg, want, strlen(want)) != 0)
			fail_msg("row %zu: got '%s', want '%s...'", i, err.msg, want);
		if (rows[i].text)
			unlink(path);
		assert_true(port_free(port));
	}
}

static int run(struct ipk_gateway *gw, const char *text, struct ipk_outbuf *out,
	       struct ipk_err *err)
{
	memset(err, 0, sizeof(*err));
	return ipk_gwctl_handler(gw, text, false, out, err);
}

/* A started gateway answers read-only commands and applies batches under the pause. */
static void test_handler(void **state)
{
	unsigned port = free_port();
	struct ipk_outbuf out;
	struct ipk_gwstats st, again;
	struct ipk_gateway *gw;
	struct ipk_config_ctx ctx;
	struct ipk_err err;
	char text[256];

	snprintf(text, sizeof(text), "engine units 1 buffers 1024\ninterface add name u1 kind "
		 "udp side protected family 4 local 127.0.0.1 port %u\n", port);
	ipk_out_init(&out, 1 << 20);
	gw = load_ok(text);
	ipk_gateway_config_ctx(gw, &ctx);
	assert_int_equal(ipk_gateway_start(gw, &err), 0);
	assert_int_equal(ipk_gwstats_register(&st, gw), 0);
	assert_int_equal(ipk_gwstats_register(&again, gw), -EEXIST);

	assert_int_equal(run(gw, "stats", &out, &err), 0);
	assert_non_null(out.buf);
	assert_non_null(strstr(out.buf, "engine\n\tmode 0\n\tunits 1\n"));
	assert_non_null(strstr(out.buf, "\tu1.rx-packets 0\n"));
	assert_non_null(strstr(out.buf, "gateway\n\tinterfaces 1\n"));

	/* A batch: applied while the I/O threads run. */
	assert_int_equal(run(gw, SA_A SA_B "policy add name p dir out action protect sa a\n",
			     &out, &err), 0);
	assert_non_null(ipk_sad_find(ctx.sad, "b"));
	/* A failing batch changes nothing and says why. */
	assert_int_equal(run(gw, "sa del name b\nsa del name b\n", &out, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ipseckctl:2: "));
	assert_non_null(ipk_sad_find(ctx.sad, "b"));
	assert_int_equal(run(gw, "engine mode coupled", &out, &err), -EINVAL);
	assert_string_equal(err.msg, "ipseckctl:1: engine: mode can only be set at start-up "
				     "(running with 0)");
	/* Units change while traffic flows: `stats` shows the new count. */
	assert_int_equal(run(gw, "engine units 1 high 6 low 3", &out, &err), 0);
	assert_int_equal(ipk_gateway_settings(gw)->engine.unit.high, 6);
	assert_int_equal(run(gw, "stats", &out, &err), 0);
	assert_non_null(strstr(out.buf, "\tunits 1\n"));
	/* What stalls traffic: SA and policy batches park the packet scheduler (holds);
	 * QoS chains, crypto units and read-only commands stall nothing; a batch the
	 * gateway cannot classify, interface changes, and SA changes together with a units
	 * change drain the engine (pauses). */
	assert_int_equal(ipk_gateway_holds(gw)->count, 2); /* the SA batch, the failing one */
	assert_int_equal(ipk_gateway_pauses(gw)->count, 0);
	assert_int_equal(run(gw, "engine units 1 high 6 low 3", &out, &err), 0);
	assert_int_equal(run(gw, QOS_Q1, &out, &err), 0);
	assert_int_equal(run(gw, "show hooks", &out, &err), 0);
	assert_non_null(strstr(out.buf, "q1"));
	/* Detaching deletes the chain's components too (ctl/config_qos.c). */
	assert_int_equal(run(gw, "hook detach 1\n", &out, &err), 0);
	assert_int_equal(run(gw, "stats", &out, &err), 0);
	assert_int_equal(ipk_gateway_holds(gw)->count, 2);
	assert_int_equal(ipk_gateway_pauses(gw)->count, 0);
	/* One SA command in a QoS batch makes it hold the tables. */
	assert_int_equal(run(gw, QOS_Q1 "sa del name a\n", &out, &err), 0);
	assert_int_equal(ipk_gateway_holds(gw)->count, 3);
	assert_null(ipk_sad_find(ctx.sad, "a"));
	/* Units replaced in the same batch as an SA change: the old units must finish their
	 * packets, which a held scheduler would not take; the engine is drained instead. */
	assert_int_equal(run(gw, "engine units 1 high 5 low 2\nsa del name b\n", &out, &err), 0);
	assert_int_equal(ipk_gateway_holds(gw)->count, 3);
	assert_int_equal(ipk_gateway_pauses(gw)->count, 1);
	assert_int_equal(ipk_gateway_settings(gw)->engine.unit.high, 5);
	assert_int_equal(run(gw, SA_B, &out, &err), 0);
	assert_int_equal(ipk_gateway_holds(gw)->count, 4);
	/* A line that names no command: the batch fails under the pause, with its message. */
	assert_int_equal(run(gw, "hook detach 1\nfrobnicate\n", &out, &err), -EINVAL);
	assert_int_equal(ipk_gateway_pauses(gw)->count, 2);
	/* A bundle of two SAs: packets between its passes hold references on its SAs, not on
	 * the policy (engine/scheduler.h), so changing it holds the scheduler too. */
	assert_int_equal(run(gw, SA_A "sa add name p-b spi 0x3000 dir out mode tunnel "
				 "src 192.0.2.1 dst 192.0.2.2 proposal aes128gcm16 key " KEY "\n"
				 "policy add name two dir out action protect sa a,p-b\n",
			     &out, &err), 0);
	assert_int_equal(run(gw, "policy del name two\nsa del name p-b\n", &out, &err), 0);
	assert_int_equal(ipk_gateway_holds(gw)->count, 6);
	assert_int_equal(ipk_gateway_pauses(gw)->count, 2);
	assert_int_equal(ipk_gateway_holds(gw)->timeouts, 0);
	assert_int_equal(ipk_gateway_pauses(gw)->timeouts, 0);
	assert_true(ipk_gateway_holds(gw)->max_ns <= ipk_gateway_holds(gw)->total_ns);
	assert_int_equal(run(gw, "stats", &out, &err), 0);
	assert_non_null(strstr(out.buf, "\tpauses 2\n\tpause-timeouts 0\n"));
	assert_non_null(strstr(out.buf, "\tholds 6\n\thold-timeouts 0\n"));

	/* Interfaces come and go at runtime. */
	assert_int_equal(run(gw, "interface del name u1", &out, &err), 0);
	assert_true(port_free(port));
	assert_int_equal(ipk_gateway_n_ports(gw), 0);
	assert_int_equal(ipk_gateway_pauses(gw)->count, 3);

	ipk_gwstats_unregister(&st);
	ipk_gwstats_unregister(&st);
	ipk_out_fini(&out);
	ipk_gateway_destroy(gw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_failures),
		cmocka_unit_test(test_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
