// SPDX-License-Identifier: BSD-2-Clause
/* Tests for the gateway's commands (src/ctl/config_gw.c): numbered tables of mistakes
 * with the message expected, the start-up prescan of `engine`, runtime `engine` refusals,
 * and `interface add/del` against a real gateway with `udp` ports on 127.0.0.1 (no
 * privilege needed), including all or nothing when a later command of the batch fails. */
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
#include "ctl/config_gw.h"
#include "gw/gateway.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define KEY "0x00112233445566778899aabbccddeeffc0c1c2c3"
#define SA_A "sa add name a spi 0x1000 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 " \
	     "proposal aes128gcm16 key " KEY "\n"

/* A UDP port number free on 127.0.0.1 right now. */
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

/* True when nobody holds UDP @port on 127.0.0.1 (the port was closed). */
static bool port_free(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(0x7f000001) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;

	close(fd);
	return ok;
}

static int apply(struct ipk_config_ctx *ctx, const char *text, struct ipk_err *err)
{
	int ret;

	memset(err, 0, sizeof(*err));
	ret = ipk_config_apply(ctx, text, "t.conf", err);
	if (ctx->gw)
		ipk_gateway_batch_end(ctx->gw);
	return ret;
}

struct bad_row {
	const char *text;
	const char *msg; /* the whole message starts with this */
};

/* Without a gateway, or wrong in themselves: every row fails with its message. */
static const struct bad_row bad_rows[] = {
	/* 0 */ { "engine units 2\n", "t.conf:1: engine: not available here" },
	/* 1 */ { "interface add name x kind udp side protected\n",
		  "t.conf:1: interface: not available here" },
	/* 2 */ { "interface del name x\n", "t.conf:1: interface: not available here" },
	/* 3 */ { "interface add name x kind foo side plain\n",
		  "t.conf:1: 'kind': expected one of tun, esp, udp, wire, got 'foo'" },
	/* 4 */ { "interface add name x kind tun side protected\n",
		  "t.conf:1: 'side': a tun interface is on the plain side" },
	/* 5 */ { "interface add name x kind esp side plain\n",
		  "t.conf:1: 'side': an esp interface is on the protected side" },
	/* 6 */ { "interface add kind tun side plain\n", "t.conf:1: interface add: missing 'name'" },
	/* 7 */ { "interface add name x side plain\n", "t.conf:1: interface add: missing 'kind'" },
	/* 8 */ { "interface add name x kind udp\n",
		  "t.conf:1: interface add: missing 'side' (plain or protected)" },
	/* 9 */ { "interface add name x kind udp side protected non-ip drop\n",
		  "t.conf:1: 'non-ip': only wire interfaces see non-IP frames" },
	/* 10 */ { "interface add name x kind udp side protected bogus 1\n",
		   "t.conf:1: interface x: udp: unknown argument 'bogus'" },
	/* 11 */ { "interface add name x kind udp side protected port\n",
		   "t.conf:1: 'port': expected a value, got end of line" },
	/* 12 */ { "interface add name x kind wire side middle dev eth0\n",
		   "t.conf:1: 'side': expected plain or protected, got 'middle'" },
	/* 13 */ { "interface add name x/y kind udp side protected\n",
		   "t.conf:1: 'name': expected a name, got 'x/y'" },
	/* 14 */ { "engine units 99\n", "t.conf:1: 'units': expected a number in 1..64" },
	/* 15 */ { "engine high 2 low 3\n", "t.conf:1: 'low': 3 is above high 2" },
	/* 16 */ { "engine mode fast\n", "t.conf:1: 'mode': expected one of decoupled" },
	/* 17 */ { "engine buffers 10\n", "t.conf:1: 'buffers': expected a number in 1024.." },
	/* 18 */ { "interface del\n", "t.conf:1: interface del: missing 'name'" },
};

static void test_bad_rows(void **state)
{
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_err err;

	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	assert_int_equal(ipk_spd_create(&spd), 0);
	ctx.sad = sad;
	ctx.spd = spd;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bad_rows); i++) {
		print_message("row %zu: %s", i, bad_rows[i].text);
		assert_true(apply(&ctx, bad_rows[i].text, &err) < 0);
		if (strncmp(err.msg, bad_rows[i].msg, strlen(bad_rows[i].msg)) != 0)
			fail_msg("row %zu: got '%s'", i, err.msg);
	}
	ipk_spd_destroy(spd);
	ipk_sad_destroy(sad);
}

struct prescan_row {
	const char *text;
	int ret;
	const char *msg; /* error prefix, when ret < 0 */
	uint32_t units, high, low, buffers;
	enum ipk_engine_mode mode;
	uint64_t rate_bps, rate_pps;
};

static const struct prescan_row prescan_rows[] = {
	/* 0: defaults */
	{ "", 0, NULL, 0, 4, 1, IPK_GW_DEFAULT_BUFFERS, IPK_ENGINE_DECOUPLED, 0, 0 },
	/* 1 */
	{ "engine units 3 high 8 low 2\n", 0, NULL, 3, 8, 2, IPK_GW_DEFAULT_BUFFERS,
	  IPK_ENGINE_DECOUPLED, 0, 0 },
	/* 2: other commands are left alone */
	{ SA_A "engine mode coupled pps 1000 buffers 2048\n", 0, NULL, 0, 4, 1, 2048,
	  IPK_ENGINE_COUPLED, 0, 1000 },
	/* 3 */
	{ "engine rate 10M\n", 0, NULL, 0, 4, 1, IPK_GW_DEFAULT_BUFFERS, IPK_ENGINE_DECOUPLED,
	  10u << 20, 0 },
	/* 4 */
	{ "engine units 2\n# x\nengine units 3\n", -EINVAL,
	  "t.conf:3: engine: given twice (first on line 1)", 0, 0, 0, 0, 0, 0, 0 },
	/* 5 */
	{ "engine units 0\n", -EINVAL, "t.conf:1: 'units': expected a number in 1..64", 0, 0, 0, 0,
	  0, 0, 0 },
	/* 6: a continued engine line: the fault is on the line of its word */
	{ "engine units 2 \\\n  high zero\n", -EINVAL, "t.conf:2: 'high': expected a number",
	  0, 0, 0, 0, 0, 0, 0 },
	/* 7: the lexer's errors are the batch's to report */
	{ "engine units 2 \\", 0, NULL, 0, 4, 1, IPK_GW_DEFAULT_BUFFERS, IPK_ENGINE_DECOUPLED,
	  0, 0 },
};

static void test_prescan(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(prescan_rows); i++) {
		const struct prescan_row *r = &prescan_rows[i];
		struct ipk_gw_settings s;
		struct ipk_err err = { 0 };
		int ret;

		print_message("row %zu\n", i);
		ipk_gateway_settings_init(&s);
		ret = ipk_config_gw_prescan(r->text, "t.conf", &s, &err);
		assert_int_equal(ret, r->ret);
		if (ret) {
			if (strncmp(err.msg, r->msg, strlen(r->msg)) != 0)
				fail_msg("row %zu: got '%s'", i, err.msg);
			continue;
		}
		assert_int_equal(s.engine.n_units, r->units);
		assert_int_equal(s.engine.unit.high, r->high);
		assert_int_equal(s.engine.unit.low, r->low);
		assert_int_equal(s.buffers, r->buffers);
		assert_int_equal(s.engine.mode, r->mode);
		assert_int_equal(s.engine.unit.rate_bps, r->rate_bps);
		assert_int_equal(s.engine.unit.rate_pps, r->rate_pps);
	}
}

struct gw_env {
	struct ipk_gateway *gw;
	struct ipk_config_ctx ctx;
};

static int gw_setup(void **state)
{
	struct gw_env *e = calloc(1, sizeof(*e));
	struct ipk_gw_settings s;
	struct ipk_err err;

	assert_non_null(e);
	ipk_gateway_settings_init(&s);
	s.engine.n_units = 1;
	s.buffers = IPK_GW_MIN_BUFFERS;
	assert_int_equal(ipk_gateway_create(&e->gw, &s, &err), 0);
	ipk_gateway_config_ctx(e->gw, &e->ctx);
	*state = e;
	return 0;
}

static int gw_teardown(void **state)
{
	struct gw_env *e = *state;

	ipk_gateway_destroy(e->gw);
	free(e);
	return 0;
}

/* Runtime `engine`: units, water marks and rate caps change; the mode and the pool are
 * refused by name; so are more units than the SAs hold crypto contexts for. */
static void test_engine_runtime(void **state)
{
	static const struct bad_row rows[] = {
		/* 0 */ { "engine units 1 high 4 low 1 mode decoupled buffers 1024\n", NULL },
		/* 1 */ { "engine high 8 low 2\n", NULL },
		/* 2 */ { "engine mode coupled\n",
			  "t.conf:1: engine: mode can only be set at start-up (running with 0)" },
		/* 3 */ { "engine pps 100\n", NULL },
		/* 4 */ { "engine buffers 4096\n",
			  "t.conf:1: engine: buffers can only be set at start-up (running with 1024)" },
		/* 5 */ { "engine low 9\n", "t.conf:1: unit: low water mark 9 not in 1..8" },
	};
	struct gw_env *e = *state;
	const struct ipk_gw_settings *s = ipk_gateway_settings(e->gw);
	uint32_t max = ipk_gateway_max_units(e->gw);
	char text[64], want[256];
	struct ipk_err err;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		int ret = apply(&e->ctx, rows[i].text, &err);

		print_message("row %zu: %s", i, rows[i].text);
		if (!rows[i].msg) {
			assert_int_equal(ret, 0);
			continue;
		}
		assert_int_equal(ret, -EINVAL);
		assert_string_equal(err.msg, rows[i].msg);
	}
	assert_int_equal(s->engine.unit.high, 8);
	assert_int_equal(s->engine.unit.low, 2);
	assert_int_equal(s->engine.unit.rate_pps, 100);
	assert_int_equal(ipk_engine_n_units(ipk_gateway_engine(e->gw)), 1);
	/* As many units as the SAs have contexts for, not one more. */
	assert_true(max >= 1);
	snprintf(text, sizeof(text), "engine units %u pps 0\n", max);
	assert_int_equal(apply(&e->ctx, text, &err), 0);
	assert_int_equal(ipk_engine_n_units(ipk_gateway_engine(e->gw)), max);
	if (max < IPK_ENGINE_MAX_UNITS) {
		snprintf(text, sizeof(text), "engine units %u\n", max + 1);
		snprintf(want, sizeof(want), "t.conf:1: engine: units %u above %u (the most this "
			 "gateway's SAs hold crypto contexts for: its CPUs, or the start-up count)",
			 max + 1, max);
		assert_int_equal(apply(&e->ctx, text, &err), -EINVAL);
		assert_string_equal(err.msg, want);
	}
}

static void udp_line(char *buf, size_t size, const char *name, const char *local, unsigned port)
{
	snprintf(buf, size, "interface add name %s kind udp side protected family 4 local %s "
			    "port %u\n", name, local, port);
}

static void test_interfaces(void **state)
{
	struct gw_env *e = *state;
	unsigned p1 = free_port(), p2;
	char text[512], line[256];
	struct ipk_err err;

	/* 1: add, live, counted; the same name again is refused. */
	udp_line(text, sizeof(text), "u1", "127.0.0.1", p1);
	assert_int_equal(apply(&e->ctx, text, &err), 0);
	assert_non_null(ipk_gateway_port(e->gw, "u1"));
	assert_int_equal(ipk_gateway_n_ports(e->gw), 1);
	assert_false(port_free(p1));
	assert_int_equal(apply(&e->ctx, text, &err), -EEXIST);
	assert_string_equal(err.msg, "t.conf:1: interface add: 'u1' already exists");

	/* 2: a later command fails the check: the port opened for u2 is closed again and
	 * nothing of the batch stays. */
	p2 = free_port();
	udp_line(line, sizeof(line), "u2", "127.0.0.1", p2);
	snprintf(text, sizeof(text), SA_A "%spolicy add name p dir out action protect sa nosuch\n",
		 line);
	assert_int_equal(apply(&e->ctx, text, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "t.conf:3: "));
	assert_null(ipk_gateway_port(e->gw, "u2"));
	assert_true(port_free(p2));
	assert_null(ipk_sad_find(e->ctx.sad, "a"));

	/* 3: a port that cannot be opened fails the batch before anything changed. */
	udp_line(line, sizeof(line), "u3", "192.0.2.77", p2);
	snprintf(text, sizeof(text), SA_A "%s", line);
	assert_true(apply(&e->ctx, text, &err) < 0);
	if (strncmp(err.msg, "t.conf:2: interface u3: udp: ", 29) != 0)
		fail_msg("got '%s'", err.msg);
	assert_null(ipk_sad_find(e->ctx.sad, "a"));
	assert_int_equal(ipk_gateway_n_ports(e->gw), 1);

	/* 4: delete: gone, its socket closed; again: refused. */
	assert_int_equal(apply(&e->ctx, "interface del name u1\n", &err), 0);
	assert_null(ipk_gateway_port(e->gw, "u1"));
	assert_true(port_free(p1));
	assert_int_equal(apply(&e->ctx, "interface del name u1\n", &err), -ENOENT);
	assert_string_equal(err.msg, "t.conf:1: interface del: 'u1' does not exist");

	/* 5: add and delete in one batch; then a name deleted earlier in a batch comes back. */
	udp_line(line, sizeof(line), "u4", "127.0.0.1", p1);
	snprintf(text, sizeof(text), "%sinterface del name u4\n", line);
	assert_int_equal(apply(&e->ctx, text, &err), 0);
	assert_int_equal(ipk_gateway_n_ports(e->gw), 0);
	assert_true(port_free(p1));
	assert_int_equal(apply(&e->ctx, line, &err), 0);
	udp_line(line, sizeof(line), "u4", "127.0.0.1", p2);
	snprintf(text, sizeof(text), "interface del name u4\n%s", line);
	assert_int_equal(apply(&e->ctx, text, &err), 0);
	assert_int_equal(ipk_gateway_n_ports(e->gw), 1);
	assert_true(port_free(p1));
	assert_false(port_free(p2));
}

/* IPK_GW_MAX_PORTS interfaces at most; the next one is refused by name, in the check. */
static void test_port_limit(void **state)
{
	struct gw_env *e = *state;
	char text[256], name[16];
	struct ipk_err err;

	for (unsigned i = 0; i < IPK_GW_MAX_PORTS; i++) {
		snprintf(name, sizeof(name), "u%u", i);
		udp_line(text, sizeof(text), name, "127.0.0.1", free_port());
		assert_int_equal(apply(&e->ctx, text, &err), 0);
	}
	assert_int_equal(ipk_gateway_n_ports(e->gw), IPK_GW_MAX_PORTS);
	udp_line(text, sizeof(text), "one-more", "127.0.0.1", free_port());
	assert_int_equal(apply(&e->ctx, text, &err), -ENOSPC);
	assert_string_equal(err.msg, "t.conf:1: interface one-more: at most 16 interfaces");
	assert_int_equal(ipk_gateway_n_ports(e->gw), IPK_GW_MAX_PORTS);
	assert_int_equal(apply(&e->ctx, "interface del name u3\n", &err), 0);
	assert_int_equal(apply(&e->ctx, text, &err), 0);
	assert_non_null(ipk_gateway_port(e->gw, "one-more"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_prescan),
		cmocka_unit_test_setup_teardown(test_engine_runtime, gw_setup, gw_teardown),
		cmocka_unit_test_setup_teardown(test_interfaces, gw_setup, gw_teardown),
		cmocka_unit_test_setup_teardown(test_port_limit, gw_setup, gw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
