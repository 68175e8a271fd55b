// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/io/port.c and src/io/registry.c: every kind is registered once; argument
 * validation names the problem and touches nothing (a table of rows per kind); the
 * argument helpers; the counters a port reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "io/port.h"

/* Splits @line into word pairs (no quoting: the tests need none). */
static void split(char *line, struct ipk_io_args *args)
{
	args->argc = 0;
	for (char *w = strtok(line, " "); w; w = strtok(NULL, " "))
		args->argv[args->argc++] = w;
}

static void registry_lists_each_kind(void **state)
{
	static const char *const names[] = { "tun", "esp", "udp", "wire" };
	uint32_t n;
	const struct ipk_io_ops *const *kinds = ipk_io_kinds(&n);

	assert_int_equal(n, 4);
	for (uint32_t i = 0; i < n; i++) {
		const struct ipk_io_ops *ops = ipk_io_find(names[i]);

		assert_ptr_equal(ops, kinds[i]);
		assert_string_equal(ops->name, names[i]);
		assert_non_null(ops->parse);
		assert_non_null(ops->open);
		assert_non_null(ops->close);
		assert_non_null(ops->rx_burst);
		assert_non_null(ops->tx_burst);
		assert_non_null(ops->fds);
		assert_true(ops->priv_size > 0);
	}
	assert_null(ipk_io_find("pcap"));
	assert_null(ipk_io_find(""));
}

struct parse_row {
	const char *kind;
	const char *args;
	int rc;
	const char *msg; /* a part of the message, for failures */
};

static const struct parse_row parse_rows[] = {
	/* 0 */ { "tun", "", 0, NULL },
	/* 1 */ { "tun", "name ipk7 address 10.0.0.1/24 address fd00::1/64 mtu 1500 overhead 73 "
		  "queues 4", 0, NULL },
	/* 2 */ { "tun", "mtu 70000", -EINVAL, "tun: mtu '70000' not in 68..65535" },
	/* 3 */ { "tun", "address 10.0.0.1", -EINVAL, "is not ADDRESS/LENGTH" },
	/* 4 */ { "tun", "address 10.0.0.1/33", -EINVAL, "prefix length '33' not in 0..32" },
	/* 5 */ { "tun", "address 10.0.0.300/24", -EINVAL, "'10.0.0.300' is not an address" },
	/* 6: IPv6 needs 1280 (RFC 8200 §5) */
	/* 6 */ { "tun", "address fd00::1/64 mtu 1300 overhead 73", -EINVAL,
		  "mtu 1300 - overhead 73 is below 1280" },
	/* 7 */ { "tun", "mtu 100 overhead 40", -EINVAL, "is below 68" },
	/* 8 */ { "tun", "queues 17", -EINVAL, "queues '17' not in 1..16" },
	/* 9 */ { "tun", "attach yes", -EINVAL, "attach needs the device's name" },
	/* 10 */ { "tun", "attach yes name ipk0 address 10.0.0.1/24", -EINVAL,
		   "attach configures nothing" },
	/* 11 */ { "tun", "attach maybe", -EINVAL, "attach 'maybe' is not yes or no" },
	/* 12 */ { "tun", "colour blue", -EINVAL, "tun: unknown argument 'colour'" },
	/* 13 */ { "tun", "name", -EINVAL, "'name' needs a value" },
	/* 14 */ { "tun", "name averyverylongname", -EINVAL, "is not an interface name" },
	/* 15 */ { "esp", "", 0, NULL },
	/* 16 */ { "esp", "family 6 local 2001:db8::1 batch 64 rcvbuf 4194304 dev eth0", 0, NULL },
	/* 17 */ { "esp", "family 4 local 2001:db8::1", -EINVAL, "but family is not 6" },
	/* 18 */ { "esp", "local 192.0.2.1 local 192.0.2.2", -EINVAL, "two local IPv4" },
	/* 19 */ { "esp", "port 4500", -EINVAL, "raw ESP has no port" },
	/* 20 */ { "esp", "batch 65", -EINVAL, "batch '65' not in 1..64" },
	/* 21 */ { "esp", "family 5", -EINVAL, "family '5' is not 4, 6 or any" },
	/* 22 */ { "udp", "port 4500 local 192.0.2.1 local 2001:db8::1", 0, NULL },
	/* 23 */ { "udp", "port 0", -EINVAL, "port '0' not in 1..65535" },
	/* 24 */ { "udp", "port -1", -EINVAL, "port '-1' not in 1..65535" },
	/* 25 */ { "udp", "local somewhere", -EINVAL, "local 'somewhere' is not an address" },
	/* 26 */ { "wire", "", -EINVAL, "wire: dev IFNAME is required" },
	/* 27 */ { "wire", "dev eth0 promisc yes strip yes csum no blocks 64 block-size 262144 "
		   "block-timeout 5 batch 8 qdisc-bypass on", 0, NULL },
	/* 28 */ { "wire", "dev eth0 block-size 5000", -EINVAL, "5000 is not a power of two" },
	/* 29 */ { "wire", "dev eth0 blocks 1", -EINVAL, "blocks '1' not in 2..1024" },
	/* 30 */ { "wire", "dev eth0 strip maybe", -EINVAL, "strip 'maybe' is not yes or no" },
	/* 31 */ { "wire", "dev eth0 block-timeout 0", -EINVAL, "not in 1..1000" },
	/* 32 */ { "pcap", "", -ENOENT, "io: unknown port kind 'pcap'" },
};

static void parse_table(void **state)
{
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *r = &parse_rows[i];
		struct ipk_io_args args;
		struct ipk_err err = { .msg = "" };
		char line[256];

		print_message("row %zu: %s %s\n", i, r->kind, r->args);
		snprintf(line, sizeof(line), "%s", r->args);
		split(line, &args);
		assert_int_equal(ipk_io_parse(r->kind, &args, &err), r->rc);
		if (r->msg)
			assert_non_null(strstr(err.msg, r->msg));
		/* open validates first: a bad row allocates and opens nothing (ASan checks the
		 * leak; nothing privileged is needed to fail here). */
		if (r->rc) {
			struct ipk_io_port *port = NULL;

			assert_int_equal(ipk_io_open(&port, r->kind, &args, 0, &err), r->rc);
			assert_null(port);
		}
	}
}

static void argument_helpers(void **state)
{
	char line[] = "address 10.0.0.1/8 mtu 0x400 address fd00::1/64 flag on mtu 1400";
	struct ipk_io_args args;
	struct ipk_err err;
	const char *v;
	uint32_t u;
	bool b;
	int pos = 0;

	split(line, &args);
	/* The last value wins; repeatable keys iterate in order. */
	assert_string_equal(ipk_io_arg(&args, "mtu"), "1400");
	assert_null(ipk_io_arg(&args, "missing"));
	v = ipk_io_arg_next(&args, "address", &pos);
	assert_string_equal(v, "10.0.0.1/8");
	v = ipk_io_arg_next(&args, "address", &pos);
	assert_string_equal(v, "fd00::1/64");
	assert_null(ipk_io_arg_next(&args, "address", &pos));
	assert_int_equal(ipk_io_arg_u32("t", &args, "mtu", 1, 68, 9000, &u, &err), 0);
	assert_int_equal(u, 1400);
	assert_int_equal(ipk_io_arg_u32("t", &args, "missing", 77, 0, 100, &u, &err), 0);
	assert_int_equal(u, 77);
	assert_int_equal(ipk_io_arg_u32("t", &args, "mtu", 1, 68, 1399, &u, &err), -EINVAL);
	assert_string_equal(err.msg, "t: mtu '1400' not in 68..1399");
	assert_int_equal(ipk_io_arg_bool("t", &args, "flag", false, &b, &err), 0);
	assert_true(b);
	assert_int_equal(ipk_io_arg_bool("t", &args, "missing", true, &b, &err), 0);
	assert_true(b);
}

/* A stand-in back end whose only op is stats, to see the report's shape. */
static uint32_t fake_stats(const struct ipk_io_port *port, struct ipk_io_stat *out,
			   uint32_t max)
{
	if (!max)
		return 0;
	out[0] = (struct ipk_io_stat){ "ring-blocks", 32 };
	return 1;
}

static void counters_reported(void **state)
{
	static const struct ipk_io_ops fake = { .name = "fake", .stats = fake_stats };
	static struct ipk_io_port port;
	struct ipk_io_stat st[64];
	uint32_t n;

	port.ops = &fake;
	ipk_io_count(&port.stats.rx_pkts, 5);
	ipk_io_count(&port.stats.rx_bytes, 500);
	ipk_io_count(&port.stats.tx_pkts, 4);
	ipk_io_count_err(&port, IPK_IO_ERR_TX_BUSY, 2);
	ipk_drop_count(&port.stats.drops, IPK_DROP_NO_BUFFER);
	ipk_drop_count(&port.stats.drops, IPK_DROP_NO_BUFFER);
	n = ipk_io_stats_read(&port, st, 64);
	/* 4 totals, every error row, the one drop reason seen, the back end's own. */
	assert_int_equal(n, 4 + IPK_IO_ERR_COUNT + 1 + 1);
	assert_string_equal(st[0].name, "rx-packets");
	assert_int_equal(st[0].value, 5);
	assert_string_equal(st[4].name, "rx-syscall");
	assert_string_equal(st[4 + IPK_IO_ERR_COUNT].name, "no-buffer");
	assert_int_equal(st[4 + IPK_IO_ERR_COUNT].value, 2);
	assert_string_equal(st[n - 1].name, "ring-blocks");
	assert_int_equal(ipk_io_stat_get(&port, "tx-busy"), 2);
	assert_int_equal(ipk_io_stat_get(&port, "rx-bytes"), 500);
	assert_int_equal(ipk_io_stat_get(&port, "ring-blocks"), 32);
	assert_int_equal(ipk_io_stat_get(&port, "no-such"), 0);
	/* A short array gets the first figures only. */
	assert_int_equal(ipk_io_stats_read(&port, st, 3), 3);
	assert_string_equal(st[2].name, "tx-packets");
	assert_string_equal(ipk_io_error_name(IPK_IO_ERR_RX_KERNEL), "rx-kernel-drop");
	assert_string_equal(ipk_io_error_name(IPK_IO_ERR_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(registry_lists_each_kind),
		cmocka_unit_test(parse_table),
		cmocka_unit_test(argument_helpers),
		cmocka_unit_test(counters_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
