// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/core/dscp.c: every name maps to its RFC code point, numbers 0..63 parse,
 * everything else is refused, and printing gives back the canonical name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "core/dscp.h"

static const struct {
	const char *text;
	uint8_t dscp;
} good[] = {
	/* 1 */ { "be", 0 },
	/* 2 */ { "df", 0 },
	/* 3 */ { "le", 1 },     /* RFC 8622 */
	/* 4 */ { "cs0", 0 },
	/* 5 */ { "cs1", 8 },
	/* 6 */ { "cs5", 40 },
	/* 7 */ { "cs7", 56 },
	/* 8 */ { "af11", 10 },  /* RFC 2597 §6 table */
	/* 9 */ { "af12", 12 },
	/* 10 */ { "af13", 14 },
	/* 11 */ { "af21", 18 },
	/* 12 */ { "af23", 22 },
	/* 13 */ { "af31", 26 },
	/* 14 */ { "af32", 28 },
	/* 15 */ { "af41", 34 },
	/* 16 */ { "af43", 38 },
	/* 17 */ { "ef", 46 },   /* RFC 3246 */
	/* 18 */ { "va", 44 },   /* RFC 5865 */
	/* 19 */ { "EF", 46 },
	/* 20 */ { "AF41", 34 },
	/* 21 */ { "CS6", 48 },
	/* 22 */ { "0", 0 },
	/* 23 */ { "9", 9 },
	/* 24 */ { "46", 46 },
	/* 25 */ { "63", 63 },
	/* 26 */ { "07", 7 },
};

static const char *const bad[] = {
	/* 1 */ "64",
	/* 2 */ "100",
	/* 3 */ "-1",
	/* 4 */ "",
	/* 5 */ "cs8",
	/* 6 */ "af14",
	/* 7 */ "af51",
	/* 8 */ "af01",
	/* 9 */ "af1",
	/* 10 */ "cs",
	/* 11 */ "ef1",
	/* 12 */ "0x2e",
	/* 13 */ " 46",
	/* 14 */ "46 ",
	/* 15 */ "best",
	/* 16 */ "af111",
};

static const struct {
	uint8_t dscp;
	const char *text;
} names[] = {
	/* 1 */ { 0, "be" },
	/* 2 */ { 1, "le" },
	/* 3 */ { 8, "cs1" },
	/* 4 */ { 48, "cs6" },
	/* 5 */ { 56, "cs7" },
	/* 6 */ { 10, "af11" },
	/* 7 */ { 22, "af23" },
	/* 8 */ { 38, "af43" },
	/* 9 */ { 44, "va" },
	/* 10 */ { 46, "ef" },
	/* 11 */ { 2, "2" },
	/* 12 */ { 11, "11" },   /* odd: not an AF code point */
	/* 13 */ { 42, "42" },   /* class 5 has no AF */
	/* 14 */ { 63, "63" },
	/* 15 */ { 255, "255" },
};

static void names_parse(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(good); i++) {
		uint8_t dscp = 0xaa;

		print_message("row %zu: %s\n", i + 1, good[i].text);
		assert_int_equal(ipk_dscp_parse(good[i].text, &dscp), 0);
		assert_int_equal(dscp, good[i].dscp);
	}
}

static void bad_names_refused(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bad); i++) {
		uint8_t dscp = 0xaa;

		print_message("row %zu: '%s'\n", i + 1, bad[i]);
		assert_int_equal(ipk_dscp_parse(bad[i], &dscp), -EINVAL);
		assert_int_equal(dscp, 0xaa);
	}
	assert_int_equal(ipk_dscp_parse(NULL, NULL), -EINVAL);
}

static void values_print(void **state)
{
	char buf[8];

	for (size_t i = 0; i < IPK_ARRAY_SIZE(names); i++) {
		print_message("row %zu: %u\n", i + 1, names[i].dscp);
		assert_string_equal(ipk_dscp_str(names[i].dscp, buf), names[i].text);
	}
}

/* Every code point prints to a name that parses back to it. */
static void round_trip(void **state)
{
	char buf[8];

	for (unsigned v = 0; v <= 63; v++) {
		uint8_t back = 0xaa;

		assert_int_equal(ipk_dscp_parse(ipk_dscp_str((uint8_t)v, buf), &back), 0);
		assert_int_equal(back, v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_parse),
		cmocka_unit_test(bad_names_refused),
		cmocka_unit_test(values_print),
		cmocka_unit_test(round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
