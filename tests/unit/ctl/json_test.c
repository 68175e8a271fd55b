// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/json.c: the output buffer (growth, limit, reset) and the JSON writer
 * (RFC 8259 §7 escaping, commas and keys, nesting), as numbered tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/json.h"

#define BIG (1u << 20)

static void escapes(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} rows[] = {
		/* 1 */ { "", "\"\"" },
		/* 2 */ { "plain text", "\"plain text\"" },
		/* 3 */ { "say \"hi\"", "\"say \\\"hi\\\"\"" },
		/* 4 */ { "C:\\dir\\", "\"C:\\\\dir\\\\\"" },
		/* 5 */ { "a\nb\tc\rd", "\"a\\nb\\tc\\rd\"" },
		/* 6 */ { "\b\f", "\"\\b\\f\"" },
		/* 7 */ { "\x01\x1f", "\"\\u0001\\u001f\"" },
		/* 8 */ { "\x7f", "\"\x7f\"" },
		/* 9 */ { "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x92",
			  "\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x92\"" },
		/* 10 */ { "/", "\"/\"" },
		/* 11 */ { "\"\\\"", "\"\\\"\\\\\\\"\"" },
		/* 12 */ { "x\x0by", "\"x\\u000by\"" },
	};
	struct ipk_outbuf out;

	ipk_out_init(&out, BIG);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		print_message("row %zu\n", i + 1);
		ipk_out_reset(&out);
		ipk_json_escape(&out, rows[i].in);
		assert_false(out.overflow);
		assert_string_equal(ipk_out_str(&out), rows[i].out);
		assert_int_equal(out.len, strlen(rows[i].out));
	}
	ipk_out_fini(&out);
}

static void nesting(void **state)
{
	struct ipk_outbuf out;
	struct ipk_json j;

	ipk_out_init(&out, BIG);
	ipk_json_init(&j, &out);
	ipk_json_obj_begin(&j, NULL);
	ipk_json_str(&j, "name", "gw");
	ipk_json_u64(&j, "spi", 4096);
	ipk_json_u64(&j, "max", UINT64_MAX);
	ipk_json_i64(&j, "neg", INT64_MIN);
	ipk_json_bool(&j, "esn", true);
	ipk_json_bool(&j, "dead", false);
	ipk_json_arr_begin(&j, "list");
	ipk_json_u64(&j, NULL, 1);
	ipk_json_obj_begin(&j, NULL);
	ipk_json_obj_end(&j);
	ipk_json_arr_begin(&j, NULL);
	ipk_json_arr_end(&j);
	ipk_json_str(&j, NULL, "a\"b");
	ipk_json_arr_end(&j);
	ipk_json_obj_begin(&j, "k\ney");
	ipk_json_u64(&j, "z", 0);
	ipk_json_obj_end(&j);
	ipk_json_obj_end(&j);
	assert_int_equal(ipk_json_finish(&j), 0);
	assert_string_equal(ipk_out_str(&out),
			    "{\"name\":\"gw\",\"spi\":4096,\"max\":18446744073709551615,"
			    "\"neg\":-9223372036854775808,\"esn\":true,\"dead\":false,"
			    "\"list\":[1,{},[],\"a\\\"b\"],\"k\\ney\":{\"z\":0}}\n");
	ipk_out_fini(&out);
}

/* Rows: how many containers to open, how many to close; 0 when the nesting is right. */
static void bad_nesting(void **state)
{
	static const struct {
		unsigned open, close;
		int ret;
	} rows[] = {
		/* 1 */ { 0, 0, 0 },
		/* 2 */ { 3, 3, 0 },
		/* 3 */ { IPK_JSON_DEPTH_MAX, IPK_JSON_DEPTH_MAX, 0 },
		/* 4 */ { 2, 1, -EINVAL },
		/* 5 */ { 1, 2, -EINVAL },
		/* 6 */ { IPK_JSON_DEPTH_MAX + 1, IPK_JSON_DEPTH_MAX + 1, -EINVAL },
	};
	struct ipk_outbuf out;
	struct ipk_json j;

	ipk_out_init(&out, BIG);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		print_message("row %zu\n", i + 1);
		ipk_out_reset(&out);
		ipk_json_init(&j, &out);
		for (unsigned k = 0; k < rows[i].open; k++)
			ipk_json_arr_begin(&j, NULL);
		for (unsigned k = 0; k < rows[i].close; k++)
			ipk_json_arr_end(&j);
		assert_int_equal(ipk_json_finish(&j), rows[i].ret);
	}
	ipk_out_fini(&out);
}

/* The buffer grows past its first allocation, and stops at its limit. */
static void buffer_limits(void **state)
{
	struct ipk_outbuf out;
	char chunk[1000];

	memset(chunk, 'x', sizeof(chunk));
	ipk_out_init(&out, 10000);
	assert_string_equal(ipk_out_str(&out), "");
	for (int i = 0; i < 10; i++)
		ipk_out_write(&out, chunk, sizeof(chunk));
	assert_false(out.overflow);
	assert_int_equal(out.len, 10000);
	assert_int_equal(strlen(ipk_out_str(&out)), 10000);
	ipk_out_write(&out, "y", 1);
	assert_true(out.overflow);
	assert_int_equal(out.len, 10000);
	/* Once full, later writes are dropped too, even small ones, until a reset. */
	ipk_out_write(&out, "", 0);
	assert_true(out.overflow);
	ipk_out_reset(&out);
	assert_false(out.overflow);
	assert_int_equal(out.len, 0);
	assert_string_equal(ipk_out_str(&out), "");
	ipk_out_printf(&out, "%d-%s", 42, "ok");
	assert_string_equal(ipk_out_str(&out), "42-ok");
	ipk_out_printf(&out, "%*s", 9996, "");
	assert_true(out.overflow);
	assert_string_equal(ipk_out_str(&out), "42-ok");
	ipk_out_printf(&out, "z");
	assert_string_equal(ipk_out_str(&out), "42-ok");
	ipk_out_fini(&out);
	assert_null(out.buf);
	assert_int_equal(out.max, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes),
		cmocka_unit_test(nesting),
		cmocka_unit_test(bad_nesting),
		cmocka_unit_test(buffer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
