// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/lexer.c: words, comments, continuation lines and the line of each
 * word, as tables of input and the commands read back (rendered "LINE:word ..." per
 * command, commands separated by " | "). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/lexer.h"

static const struct {
	const char *text;
	const char *want;
} good[] = {
	/* 1 */ { "", "" },
	/* 2 */ { "\n\n   \n\t\n", "" },
	/* 3 */ { "sa del name x", "1:sa 1:del 1:name 1:x" },
	/* 4 */ { "sa del name x\n", "1:sa 1:del 1:name 1:x" },
	/* 5 */ { "a b\nc d\n", "1:a 1:b | 2:c 2:d" },
	/* 6 */ { "  a\t\tb  \n", "1:a 1:b" },
	/* 7 */ { "# only a comment\n", "" },
	/* 8 */ { "a b # comment c d\ne", "1:a 1:b | 2:e" },
	/* 9 */ { "a b#c d", "1:a 1:b#c 1:d" },           /* '#' inside a word */
	/* 10 */ { "a #b\n", "1:a" },
	/* 11 */ { "a \\\n b\n", "1:a 2:b" },
	/* 12 */ { "a\\\nb\n", "1:a 2:b" },               /* backslash ends the word */
	/* 13 */ { "a \\   \n b\n", "1:a 2:b" },          /* blanks after the backslash */
	/* 14 */ { "a \\\n b \\\n c\nd", "1:a 2:b 3:c | 4:d" },
	/* 15 */ { "a \\\n\nb\n", "1:a | 3:b" },          /* empty line ends the command */
	/* 16 */ { "a \\\n# c\nb\n", "1:a | 3:b" },       /* so does a comment line */
	/* 17 */ { "a b\r\nc\r\n", "1:a 1:b | 2:c" },     /* CRLF */
	/* 18 */ { "\n\n\na\n", "4:a" },
	/* 19 */ { "a \\\n\\\n b\n", "1:a 3:b" },         /* a line holding only a backslash */
	/* 20 */ { "a \\\n b", "1:a 2:b" },               /* no newline at the end */
};

static const struct {
	const char *text;
	unsigned line;
	const char *msg;
} bad[] = {
	/* 1 */ { "a \\", 1, "continues past the end of the input" },
	/* 2 */ { "a \\\n", 1, "continues past the end of the input" },
	/* 3 */ { "a\nb \\  \n", 2, "continues past the end of the input" },
	/* 4 */ { "a \\ b\n", 1, "a backslash continues a command only at the end of a line" },
	/* 5 */ { "a\nb\\c\n", 2, "a backslash continues a command only at the end of a line" },
	/* 6 */ { "a \\ # comment\nb\n", 1, "only at the end of a line" },
};

static void render(struct ipk_lex *lx, char *out, size_t size)
{
	struct ipk_lex_line line;
	struct ipk_err err;
	int ret;

	out[0] = '\0';
	while ((ret = ipk_lex_next(lx, &line, &err)) > 0) {
		if (out[0])
			strncat(out, " | ", size - strlen(out) - 1);
		for (unsigned i = 0; i < line.n; i++) {
			size_t len = strlen(out);

			snprintf(out + len, size - len, "%s%u:%s", i ? " " : "", line.lineno[i],
				 line.word[i]);
		}
	}
	assert_int_equal(ret, 0);
}

static void reads_commands(void **state)
{
	char out[256];

	for (size_t i = 0; i < IPK_ARRAY_SIZE(good); i++) {
		struct ipk_lex lx;

		print_message("row %zu\n", i + 1);
		assert_int_equal(ipk_lex_init(&lx, good[i].text), 0);
		render(&lx, out, sizeof(out));
		assert_string_equal(out, good[i].want);
		ipk_lex_fini(&lx);
	}
}

static void reports_errors(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bad); i++) {
		struct ipk_lex_line line;
		struct ipk_err err = { "" };
		struct ipk_lex lx;
		int ret;

		print_message("row %zu\n", i + 1);
		assert_int_equal(ipk_lex_init(&lx, bad[i].text), 0);
		while ((ret = ipk_lex_next(&lx, &line, &err)) > 0)
			;
		assert_int_equal(ret, -EINVAL);
		assert_int_equal(lx.err_line, bad[i].line);
		assert_non_null(strstr(err.msg, bad[i].msg));
		ipk_lex_fini(&lx);
	}
}

static void too_many_words(void **state)
{
	char text[IPK_LEX_WORDS_MAX * 2 + 8];
	struct ipk_lex_line line;
	struct ipk_err err;
	struct ipk_lex lx;

	/* Exactly the maximum passes... */
	for (int i = 0; i < IPK_LEX_WORDS_MAX; i++)
		memcpy(text + 2 * i, "w ", 2);
	text[2 * IPK_LEX_WORDS_MAX] = '\0';
	assert_int_equal(ipk_lex_init(&lx, text), 0);
	assert_int_equal(ipk_lex_next(&lx, &line, &err), 1);
	assert_int_equal(line.n, IPK_LEX_WORDS_MAX);
	ipk_lex_fini(&lx);
	/* ...one more does not. */
	strcat(text, "x");
	assert_int_equal(ipk_lex_init(&lx, text), 0);
	assert_int_equal(ipk_lex_next(&lx, &line, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too many words"));
	ipk_lex_fini(&lx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_commands),
		cmocka_unit_test(reports_errors),
		cmocka_unit_test(too_many_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
