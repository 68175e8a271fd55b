// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/keyfile.c: which modes and contents draw the "chmod 600" warning, as a
 * table of (mode, text, expected message or none); then the logging entry point on real
 * files of mode 0644 and 0600, with stderr captured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/keyfile.h"

#define SA_KEY "sa add name x spi 0x1001 dir out key 0xa1a1\n"
#define SA_SPLIT "sa add name x spi 0x1001 dir out enc-key 0x01 auth-key 0x02\n"

static const struct {
	unsigned mode;
	const char *text;
	const char *want; /* NULL: no warning */
} rows[] = {
	/* 1 */ { 0644, SA_KEY, "f.conf: holds keys but its mode 0644 lets others read or write it; "
				"run chmod 600 f.conf" },
	/* 2 */ { 0600, SA_KEY, NULL },
	/* 3 */ { 0400, SA_KEY, NULL },
	/* 4 */ { 0640, SA_KEY, "f.conf: holds keys but its mode 0640 lets its group read or "
				"write it; run chmod 600 f.conf" },
	/* 5 */ { 0620, SA_SPLIT, "f.conf: holds keys but its mode 0620 lets its group read or "
				  "write it; run chmod 600 f.conf" },
	/* 6 */ { 0602, SA_SPLIT, "f.conf: holds keys but its mode 0602 lets others read or "
				  "write it; run chmod 600 f.conf" },
	/* 7 */ { 0644, "engine units 2\npolicy add name p dir out action bypass\n", NULL },
	/* 8 */ { 0644, "# key 0xa1a1 in a comment only\n", NULL },
	/* 9 */ { 0644, "policy add name key dir out action bypass\n", "f.conf: holds keys" },
	/* 10 */ { 0777, "x \\\n auth-key 0x01\n", "f.conf: holds keys but its mode 0777" },
	/* 11 */ { 0644, "", NULL },
};

static void test_table(void **state)
{
	char msg[512];

	(void)state;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		bool got;

		msg[0] = '\0';
		got = ipk_keyfile_exposed("f.conf", S_IFREG | rows[i].mode, rows[i].text, msg,
					  sizeof(msg));
		if (got != (rows[i].want != NULL) ||
		    (rows[i].want && strncmp(msg, rows[i].want, strlen(rows[i].want)) != 0))
			fail_msg("row %zu: got %d '%s', want '%s'", i + 1, got, msg,
				 rows[i].want ? rows[i].want : "(none)");
	}
}

/* Writes @text to a new file of @mode, calls ipk_keyfile_warn with stderr sent to a second
 * file, and returns what was logged. */
static char *warn_output(unsigned mode, const char *text)
{
	char path[] = "/tmp/ipk-keyfile-XXXXXX", logp[] = "/tmp/ipk-keyfile-log-XXXXXX";
	int fd = mkstemp(path), log_fd = mkstemp(logp), saved = dup(STDERR_FILENO);
	static char out[1024];
	ssize_t n;

	assert_true(fd >= 0 && log_fd >= 0 && saved >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	assert_true(dup2(log_fd, STDERR_FILENO) >= 0);
	ipk_keyfile_warn(path, text);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = pread(log_fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(log_fd);
	unlink(path);
	unlink(logp);
	return out;
}

static void test_logged(void **state)
{
	const char *got;

	(void)state;
	got = warn_output(0644, SA_KEY);
	assert_non_null(strstr(got, "warning: /tmp/ipk-keyfile-"));
	assert_non_null(strstr(got, "mode 0644"));
	assert_non_null(strstr(got, "chmod 600"));
	got = warn_output(0600, SA_KEY);
	assert_string_equal(got, "");
	got = warn_output(0644, "engine units 1\n");
	assert_string_equal(got, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_logged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
