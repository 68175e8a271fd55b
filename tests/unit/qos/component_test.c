// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/component.c: the shared argument parsers (numbers with suffixes,
 * times with units, fractions, lists, field=value rules, key checks), packet lists, the
 * creation path and the counting wrappers.
 */
#include "qos_test.h"

static void parse_u64_table(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t v;
	} rows[] = {
		/* 1 */ { "0", 0, 0 },
		/* 2 */ { "1500", 0, 1500 },
		/* 3 */ { "10k", 0, 10000 },
		/* 4 */ { "10K", 0, 10000 },
		/* 5 */ { "2M", 0, 2000000 },
		/* 6 */ { "3G", 0, 3000000000ull },
		/* 7 */ { "18446744073709551615", 0, UINT64_MAX },
		/* 8 */ { "18446744073709551616", -EINVAL, 0 },
		/* 9 */ { "20000000000G", -EINVAL, 0 },
		/* 10 */ { "", -EINVAL, 0 },
		/* 11 */ { "-1", -EINVAL, 0 },
		/* 12 */ { "1.5", -EINVAL, 0 },
		/* 13 */ { "10m", -EINVAL, 0 },
		/* 14 */ { "10MM", -EINVAL, 0 },
		/* 15 */ { "0x10", -EINVAL, 0 },
		/* 16 */ { " 1", -EINVAL, 0 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint64_t v = 12345;
		int rc = ipk_qos_parse_u64(rows[r].text, &v);

		if (rc != rows[r].rc || (rc == 0 && v != rows[r].v))
			fail_msg("row %zu '%s': rc %d v %llu", r + 1, rows[r].text, rc,
				 (unsigned long long)v);
	}
}

static void arg_ns_and_frac_tables(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t ns;
	} ns_rows[] = {
		/* 1 */ { "5ms", 0, 5000000 }, /* 2 */ { "100us", 0, 100000 },
		/* 3 */ { "1s", 0, 1000000000 }, /* 4 */ { "250ns", 0, 250 },
		/* 5 */ { "5", -EINVAL, 0 }, /* 6 */ { "ms", -EINVAL, 0 },
		/* 7 */ { "5min", -EINVAL, 0 }, /* 8 */ { "1.5ms", -EINVAL, 0 },
	};
	static const struct {
		const char *text;
		int rc;
		double v;
	} frac_rows[] = {
		/* 1 */ { "0.5", 0, 0.5 }, /* 2 */ { ".25", 0, 0.25 }, /* 3 */ { "1", 0, 1 },
		/* 4 */ { "1e-3", 0, 0.001 }, /* 5 */ { "abc", -EINVAL, 0 },
		/* 6 */ { "0.5x", -EINVAL, 0 }, /* 7 */ { "-0.1", -EINVAL, 0 },
		/* 8 */ { "2", -EINVAL, 0 }, /* 9 */ { "nan", -EINVAL, 0 },
	};
	struct test_args t;
	char line[64];

	for (size_t r = 0; r < sizeof(ns_rows) / sizeof(ns_rows[0]); r++) {
		uint64_t v = 0;

		snprintf(line, sizeof(line), "t %s", ns_rows[r].text);
		int rc = ipk_qos_arg_ns(targs(&t, line), "t", 0, 0, UINT64_MAX, &v, "x", NULL);

		if (rc != ns_rows[r].rc || (rc == 0 && v != ns_rows[r].ns))
			fail_msg("ns row %zu: rc %d v %llu", r + 1, rc, (unsigned long long)v);
	}
	for (size_t r = 0; r < sizeof(frac_rows) / sizeof(frac_rows[0]); r++) {
		double v = -1;

		snprintf(line, sizeof(line), "p %s", frac_rows[r].text);
		int rc = ipk_qos_arg_frac(targs(&t, line), "p", 0, 0, 1, &v, "x", NULL);

		if (rc != frac_rows[r].rc || (rc == 0 && v != frac_rows[r].v))
			fail_msg("frac row %zu: rc %d v %g", r + 1, rc, v);
	}
}

static void lists_and_specs(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint32_t n;
		uint64_t first, last;
	} list_rows[] = {
		/* 1 */ { "4,1,1", 0, 3, 4, 1 }, /* 2 */ { "7", 0, 1, 7, 7 },
		/* 3 */ { "1,2,3,4,5,6", 0, 6, 1, 6 }, /* 4 */ { "", -EINVAL, 0, 0, 0 },
		/* 5 */ { "1,,2", -EINVAL, 0, 0, 0 }, /* 6 */ { ",1", -EINVAL, 0, 0, 0 },
		/* 7 */ { "1,", -EINVAL, 0, 0, 0 }, /* 8 */ { "1,0", -EINVAL, 0, 0, 0 },
	};
	static const struct {
		const char *text;
		int rc;
		uint32_t n;
	} spec_rows[] = {
		/* 1 */ { "a=1,b=2", 0, 2 }, /* 2 */ { "src=2001:db8::/32,class=1", 0, 2 },
		/* 3 */ { "a", -EINVAL, 0 }, /* 4 */ { "=1", -EINVAL, 0 },
		/* 5 */ { "a=", -EINVAL, 0 }, /* 6 */ { "a=1,", -EINVAL, 0 },
		/* 7 */ { "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13", -EINVAL, 0 },
	};

	for (size_t r = 0; r < sizeof(list_rows) / sizeof(list_rows[0]); r++) {
		uint64_t vals[8] = { 0 };
		uint32_t n = 0;
		int rc = ipk_qos_parse_list(list_rows[r].text, 1, 10, vals, 8, &n, "x", "w", NULL);

		if (rc != list_rows[r].rc || (rc == 0 && (n != list_rows[r].n ||
							  vals[0] != list_rows[r].first ||
							  vals[n - 1] != list_rows[r].last)))
			fail_msg("list row %zu: rc %d n %u", r + 1, rc, n);
	}
	for (size_t r = 0; r < sizeof(spec_rows) / sizeof(spec_rows[0]); r++) {
		struct ipk_qos_spec spec;
		int rc = ipk_qos_spec_split(spec_rows[r].text, &spec, "x", NULL);

		if (rc != spec_rows[r].rc || (rc == 0 && spec.n != spec_rows[r].n))
			fail_msg("spec row %zu: rc %d", r + 1, rc);
	}
}

static void args_check_messages(void **state)
{
	static const char *const keys[] = { "limit", "rule+", NULL };
	static const struct {
		const char *line;
		const char *msg;  /* NULL: accepted */
	} rows[] = {
		/* 1 */ { "limit 3 rule a rule b", NULL },
		/* 2 */ { "", NULL },
		/* 3 */ { "limit 3 limit 4", "c: 'limit' given twice" },
		/* 4 */ { "rule a limit", "c: 'limit' has no value" },
		/* 5 */ { "size 3", "c: unknown argument 'size'" },
		/* 6 */ { "rul a", "c: unknown argument 'rul'" },
		/* 7 */ { "rule+ a", "c: unknown argument 'rule+'" },
	};
	struct test_args t;

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_err err = { { 0 } };
		int rc = ipk_qos_args_check(targs(&t, rows[r].line), keys, "c", &err);

		if (rows[r].msg ? rc != -EINVAL || strcmp(err.msg, rows[r].msg) : rc != 0)
			fail_msg("row %zu: rc %d \"%s\"", r + 1, rc, err.msg);
	}
	assert_string_equal(ipk_qos_arg(targs(&t, "rule a rule b"), "rule"), "a");
	assert_null(ipk_qos_arg(targs(&t, "rule a"), "limit"));
}

static void packet_lists(void **state)
{
	struct ipk_pool *pool = test_pool(8);
	struct ipk_pkt_list a = { 0 }, b = { 0 };
	struct ipk_pkt *pkt;

	for (uint32_t i = 0; i < 3; i++)
		ipk_pkt_list_push(&a, pkt_len(pool, 100 * (i + 1)));
	for (uint32_t i = 0; i < 2; i++)
		ipk_pkt_list_push(&b, pkt_len(pool, 1000));
	assert_int_equal(a.count, 3);
	assert_int_equal(a.bytes, 600);
	ipk_pkt_list_splice(&a, &b);
	assert_int_equal(a.count, 5);
	assert_int_equal(a.bytes, 2600);
	assert_int_equal(b.count, 0);
	assert_null(b.head);
	ipk_pkt_list_splice(&b, &a);
	assert_int_equal(b.count, 5);
	pkt = ipk_pkt_list_pop(&b);
	assert_int_equal(pkt->len, 100);
	assert_null(pkt->next);
	ipk_pkt_free(pkt);
	assert_int_equal(b.bytes, 2500);
	assert_int_equal(list_free(&b), 4);
	assert_null(ipk_pkt_list_pop(&b));
	assert_null(b.tail);
	assert_int_equal(ipk_pool_available(pool), 8);
	ipk_pool_destroy(pool);
}

static void create_and_wrappers(void **state)
{
	struct ipk_qos_args many = { .argc = IPK_QOS_MAX_ARGS + 1 };
	struct ipk_err err = { { 0 } };
	struct ipk_qos *q = NULL;
	struct ipk_qos_stat st[16];
	uint32_t n;

	assert_int_equal(ipk_qos_create(&q, "fifo", NULL, NULL, &err), 0);
	assert_string_equal(q->name, "fifo");
	n = ipk_qos_stats(q, st, 16);
	assert_true(n >= 3);
	assert_string_equal(st[0].name, "in");
	assert_string_equal(st[1].name, "out");
	assert_string_equal(st[2].name, "drops");
	assert_int_equal(ipk_qos_stats(q, st, 2), 2);
	assert_int_equal(ipk_qos_next_ns(q, 5), UINT64_MAX);
	ipk_qos_destroy(q);
	ipk_qos_destroy(NULL);
	assert_int_equal(ipk_qos_create(&q, "fifo", "x", &many, &err), -EINVAL);
	assert_string_equal(err.msg, "fifo: 33 arguments, at most 32 words");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_u64_table),
		cmocka_unit_test(arg_ns_and_frac_tables),
		cmocka_unit_test(lists_and_specs),
		cmocka_unit_test(args_check_messages),
		cmocka_unit_test(packet_lists),
		cmocka_unit_test(create_and_wrappers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
