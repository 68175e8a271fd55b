// SPDX-License-Identifier: BSD-2-Clause
/*
 * The capture commands (src/gw/gwcapture.c) against a gateway whose engine runs, without
 * I/O threads: packets go in with ipk_engine_rx() and out with ipk_engine_tx_dequeue()
 * through a bypass policy. Checks the files at hooks 1a and 2b (exact bytes, the count),
 * `show captures` in text and JSON, `capture stop`, a numbered table of refusals with their
 * messages, and a gateway destroyed with a capture running (its file complete).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/json.h"
#include "engine/engine.h"
#include "gw/gateway.h"
#include "gw/gwctl.h"
#include "proto/ip.h"

#define CONF "engine units 1\npolicy add name by dir out action bypass\n"
#define PKT_LEN 120

static struct ipk_pool *pool;
static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ipk-gwcapture-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ipk_pool_create(&pool, 64, IPK_PKT_DEFAULT_ROOM), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	ipk_pool_destroy(pool);
	return 0;
}

static struct ipk_gateway *load(void)
{
	char path[96];
	struct ipk_gateway *gw = NULL;
	struct ipk_err err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/gw.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(CONF, f);
	fclose(f);
	if (ipk_gwctl_load(path, &gw, &err))
		fail_msg("load: %s", err.msg);
	return gw;
}

/* Runs @text; returns its status, the output or the message in @buf. */
static int ctl(struct ipk_gateway *gw, const char *text, bool json, char *buf, size_t size)
{
	struct ipk_outbuf out;
	struct ipk_err err = { { 0 } };
	int ret;

	ipk_out_init(&out, 1 << 20);
	ret = ipk_gwctl_handler(gw, text, json, &out, &err);
	snprintf(buf, size, "%s", ret ? err.msg : ipk_out_str(&out));
	ipk_out_fini(&out);
	return ret;
}

/* An IPv4/UDP packet 10.1.0.2 -> 10.2.0.2 numbered @id in its IP ID and payload. */
static void fill(uint8_t *p, uint16_t id)
{
	memset(p, 0, PKT_LEN);
	p[0] = 0x45;
	p[2] = PKT_LEN >> 8;
	p[3] = PKT_LEN & 0xff;
	p[4] = (uint8_t)(id >> 8);
	p[5] = (uint8_t)id;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, (const uint8_t[]){ 10, 1, 0, 2, 10, 2, 0, 2 }, 8);
	ipk_ipv4_set_checksum(p);
	p[21] = 100; /* sport 100 */
	p[23] = 200; /* dport 200 */
	p[25] = PKT_LEN - 20;
	for (unsigned i = 28; i < PKT_LEN; i++)
		p[i] = (uint8_t)(id + i);
}

/* Sends @n packets from @first through the engine and takes them out of queue 2. */
static void pass(struct ipk_gateway *gw, uint16_t first, unsigned n)
{
	struct ipk_engine *e = ipk_gateway_engine(gw);
	uint8_t data[PKT_LEN];

	for (unsigned i = 0; i < n; i++) {
		struct ipk_pkt *pkt;

		fill(data, (uint16_t)(first + i));
		pkt = ipk_pkt_from_bytes(pool, data, sizeof(data));
		assert_non_null(pkt);
		assert_int_equal(ipk_engine_rx(e, pkt, IPK_DIR_OUT), 0);
		pkt = ipk_engine_tx_dequeue(e, 2000000000ull);
		assert_non_null(pkt);
		ipk_pkt_free(pkt);
	}
}

/* Polls `show captures` until @line appears (bounded: 5 s). */
static void wait_show(struct ipk_gateway *gw, const char *line)
{
	char buf[4096];

	for (int i = 0; i < 500; i++) {
		assert_int_equal(ctl(gw, "show captures", false, buf, sizeof(buf)), 0);
		if (strstr(buf, line))
			return;
		usleep(10000);
	}
	fail_msg("'%s' not in: %s", line, buf);
}

/* The file @name of the test directory holds packets first.. of ids, exact bytes. */
static void check_file(const char *name, uint16_t first, unsigned n)
{
	char errbuf[PCAP_ERRBUF_SIZE], path[128];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t want[PKT_LEN];
	unsigned got = 0;
	pcap_t *p;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	p = pcap_open_offline(path, errbuf);
	if (!p)
		fail_msg("%s: %s", path, errbuf);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_true(got < n);
		fill(want, (uint16_t)(first + got));
		assert_int_equal(h->caplen, PKT_LEN);
		assert_memory_equal(data, want, PKT_LEN);
		got++;
	}
	pcap_close(p);
	assert_int_equal(got, n);
}

static void test_capture_hooks(void **state)
{
	struct ipk_gateway *gw = load();
	char cmd[256], buf[4096], line[256];

	pass(gw, 0, 3);
	snprintf(cmd, sizeof(cmd), "capture 1a %s/1a.pcap count 5", dir);
	assert_int_equal(ctl(gw, cmd, false, buf, sizeof(buf)), 0);
	snprintf(line, sizeof(line), "capture 1a: %s/1a.pcap  written 0 of 5", dir);
	assert_non_null(strstr(buf, line));
	snprintf(cmd, sizeof(cmd), "capture 2b %s/2b.pcap count 100", dir);
	assert_int_equal(ctl(gw, cmd, false, buf, sizeof(buf)), 0);
	pass(gw, 10, 8);
	snprintf(line, sizeof(line), "capture 1a: %s/1a.pcap  written 5 of 5  skipped 0  done",
		 dir);
	wait_show(gw, line);
	check_file("1a.pcap", 10, 5);
	wait_show(gw, "written 8 of 100  skipped 0  running");
	assert_int_equal(ctl(gw, "capture stop 2b", false, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "written 8 of 100  skipped 0  stopped"));
	check_file("2b.pcap", 10, 8);
	assert_int_equal(ctl(gw, "show captures", true, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\"hook\":\"1a\""));
	assert_non_null(strstr(buf, "\"written\":5"));
	assert_non_null(strstr(buf, "\"state\":\"stopped\""));
	/* A hook whose capture is done takes a new one. */
	snprintf(cmd, sizeof(cmd), "capture 1a %s/1a-again.pcap count 2", dir);
	assert_int_equal(ctl(gw, cmd, false, buf, sizeof(buf)), 0);
	pass(gw, 40, 2);
	wait_show(gw, "1a-again.pcap  written 2 of 2  skipped 0  done");
	check_file("1a-again.pcap", 40, 2);
	ipk_gateway_destroy(gw);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *msg;
	} rows[] = {
		/* 0 */ { "capture 1a", -EINVAL, "'file': expected an absolute path" },
		/* 1 */ { "capture 1a rel.pcap", -EINVAL, "got 'rel.pcap'" },
		/* 2 */ { "capture 1 /tmp/x.pcap", -EINVAL,
			  "'hook': expected a hook side 1a..4b, 5a or 5b, got '1'" },
		/* 3 */ { "capture 6b /tmp/x.pcap", -EINVAL, "got '6b'" },
		/* 4 */ { "capture 1a /tmp/x.pcap count 0", -EINVAL, "'count'" },
		/* 5 */ { "capture 1a /tmp/x.pcap count 100000001", -EINVAL, "'count'" },
		/* 6 */ { "capture stop 2b", -ENOENT, "capture stop: no capture running at hook 2b" },
		/* 7 */ { "capture stop 2b now", -EINVAL, "unexpected 'now'" },
		/* 8 */ { "show captures all", -EINVAL, "unexpected 'all'" },
		/* 9 */ { "capture 1a /tmp/x.pcap\nsa del name a", -EINVAL,
			  "a read-only command; send it alone" },
		/* 10 */ { "capture 1a /nonexistent-dir/x.pcap", -ENOENT, "cannot create" },
		/* 11 */ { "capture 1b __DIR__/a.pcap", 0, "written 0 of 1000" },
		/* 12 */ { "capture 1b __DIR__/b.pcap", -EBUSY,
			   "hook 1b is being captured to " },
	};
	struct ipk_gateway *gw = load();
	char text[256], buf[4096];

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *at = strstr(rows[i].text, "__DIR__");
		int rc;

		if (at)
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - rows[i].text),
				 rows[i].text, dir, at + 7);
		else
			snprintf(text, sizeof(text), "%s", rows[i].text);
		rc = ctl(gw, text, false, buf, sizeof(buf));
		if (rc != rows[i].rc || !strstr(buf, rows[i].msg))
			fail_msg("row %u: %d '%s', expected %d '%s'", i, rc, buf, rows[i].rc,
				 rows[i].msg);
	}
	/* Destroyed with a capture running: its file is closed, complete. */
	pass(gw, 0, 4);
	ipk_gateway_destroy(gw);
	check_file("a.pcap", 0, 4);
}

/* Without a gateway (ipseck pcap -f, a checked file) the commands say so. */
static void test_no_gateway(void **state)
{
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_outbuf out;
	struct ipk_err err;

	ipk_out_init(&out, 1 << 16);
	assert_int_equal(ipk_ctl_execute(&ctx, "capture 1a /tmp/x.pcap", false, &out, &err),
			 -ENODEV);
	assert_non_null(strstr(err.msg, "capture: only a running ipseckd captures"));
	assert_int_equal(ipk_ctl_execute(&ctx, "show captures", false, &out, &err), -ENODEV);
	ipk_out_fini(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capture_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gateway, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
