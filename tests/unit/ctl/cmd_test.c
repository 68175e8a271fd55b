// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/cmd.c helpers that the language tests reach only in part: numbers
 * (decimal, hex, size suffixes, overflow), object names, and the redaction of words that
 * look like keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/cmd.h"

static const struct {
	const char *text;
	bool suffix;
	int ret;
	uint64_t value;
} numbers[] = {
	/* 1 */ { "0", false, 0, 0 },
	/* 2 */ { "4096", false, 0, 4096 },
	/* 3 */ { "0x1000", false, 0, 4096 },
	/* 4 */ { "0XfF", false, 0, 255 },
	/* 5 */ { "010", false, 0, 10 }, /* decimal, never octal */
	/* 6 */ { "18446744073709551615", false, 0, UINT64_MAX },
	/* 7 */ { "18446744073709551616", false, -EINVAL, 0 },
	/* 8 */ { "0xffffffffffffffff", false, 0, UINT64_MAX },
	/* 9 */ { "0x10000000000000000", false, -EINVAL, 0 },
	/* 10 */ { "", false, -EINVAL, 0 },
	/* 11 */ { "0x", false, -EINVAL, 0 },
	/* 12 */ { "-1", false, -EINVAL, 0 },
	/* 13 */ { "+1", false, -EINVAL, 0 },
	/* 14 */ { "1K", false, -EINVAL, 0 },
	/* 15 */ { "1K", true, 0, 1024 },
	/* 16 */ { "3m", true, 0, 3 << 20 },
	/* 17 */ { "2G", true, 0, 2ull << 30 },
	/* 18 */ { "K", true, -EINVAL, 0 },
	/* 19 */ { "1KB", true, -EINVAL, 0 },
	/* 20 */ { "0x10K", true, -EINVAL, 0 }, /* suffixes are for decimal */
	/* 21 */ { "17179869183G", true, 0, 17179869183ull << 30 },
	/* 22 */ { "17179869184G", true, -EINVAL, 0 },
	/* 23 */ { "1 ", false, -EINVAL, 0 },
};

static void parses_numbers(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(numbers); i++) {
		uint64_t v = 12345;

		print_message("row %zu: '%s'\n", i + 1, numbers[i].text);
		assert_int_equal(ipk_cmd_parse_u64(numbers[i].text, numbers[i].suffix, &v),
				 numbers[i].ret);
		assert_int_equal(v, numbers[i].ret ? 12345 : numbers[i].value);
	}
}

static const struct {
	const char *name;
	bool ok;
} names[] = {
	/* 1 */ { "gw-out", true },
	/* 2 */ { "site_a.v6", true },
	/* 3 */ { "A", true },
	/* 4 */ { "0123456789012345678901234567890", true }, /* 31 characters */
	/* 5 */ { "01234567890123456789012345678901", false }, /* 32 */
	/* 6 */ { "", false },
	/* 7 */ { "a b", false },
	/* 8 */ { "a,b", false }, /* the bundle separator */
	/* 9 */ { "a/b", false },
	/* 10 */ { "~check0", false }, /* kept free for the SPD check of re-added rules */
	/* 11 */ { "é", false },
};

static void checks_names(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(names); i++) {
		print_message("row %zu: '%s'\n", i + 1, names[i].name);
		assert_int_equal(ipk_cmd_name_ok(names[i].name), names[i].ok);
	}
}

static const struct {
	const char *word;
	const char *shown;
} shown[] = {
	/* 1 */ { "spi", "spi" },
	/* 2 */ { "0xffffffff", "0xffffffff" },
	/* 3 */ { "18446744073709551615", "18446744073709551615" },
	/* 4 */ { "0xffffffffffffffff", "0xffffffffffffffff" },
	/* 5 */ { "0123456789abcdef01234567", "0123456789abcdef01234567" }, /* 24 */
	/* 6 */ { "0123456789abcdef012345678", "<25 hex characters, not shown>" },
	/* 7 */ { "0x00112233445566778899aabbccddeeff", "<34 hex characters, not shown>" },
	/* 8 */ { "0X00112233445566778899AABBCCDDEEFF", "<34 hex characters, not shown>" },
	/* 9 */ { "aes128gcm16-with-a-long-typo", "aes128gcm16-with-a-long-typo" },
};

static void hides_keys(void **state)
{
	char buf[64];

	for (size_t i = 0; i < IPK_ARRAY_SIZE(shown); i++) {
		print_message("row %zu\n", i + 1);
		assert_string_equal(ipk_cmd_shown(shown[i].word, buf, sizeof(buf)), shown[i].shown);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_numbers),
		cmocka_unit_test(checks_names),
		cmocka_unit_test(hides_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
