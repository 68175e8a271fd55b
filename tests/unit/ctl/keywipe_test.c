// SPDX-License-Identifier: BSD-2-Clause
/* Key material is wiped before memory is given back: every heap block ipseck frees (free()
 * is wrapped at link time, -Wl,--wrap=free) is scanned for the test key, in binary and as
 * the hex text of the configuration, while a numbered table of operations runs: a batch
 * that adds SAs (lexer words, command structs, batch text), a batch that fails after an
 * `sa add` was parsed, `show sa keys` (the output buffer), `sa del` (the SA and its crypto
 * contexts), `sa del` while a packet still holds the SA (wiped at the last put, not at the
 * delete), the SAD's destruction (the daemon's exit), and a configuration file read from
 * disk. libcrypto's own frees are its business (OPENSSL_clear_free) and are not seen here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/json.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define KEY_HEX "5ac39e17d2b46f8801a7c4e93b5d2f6e8c1a0b9d"
#define KEY2_HEX "e3d2c1b0a99887766554433221100ffe"
#define AUTH_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const uint8_t key_bin[] = { 0x5a, 0xc3, 0x9e, 0x17, 0xd2, 0xb4, 0x6f, 0x88,
				   0x01, 0xa7, 0xc4, 0xe9, 0x3b, 0x5d, 0x2f, 0x6e };
static const uint8_t key2_bin[] = { 0xe3, 0xd2, 0xc1, 0xb0, 0xa9, 0x98, 0x87, 0x76,
				    0x65, 0x54, 0x43, 0x32, 0x21, 0x10, 0x0f, 0xfe };

void __real_free(void *ptr);
void __wrap_free(void *ptr);

static bool watching;
static unsigned blocks_seen, leaks_found;
static char leak_what[128];

static bool holds(const uint8_t *p, size_t n, const void *needle, size_t len)
{
	return n >= len && memmem(p, n, needle, len) != NULL;
}

/* Every block the library frees while a row runs: does it still hold the key? */
void __wrap_free(void *ptr)
{
	if (ptr && watching) {
		size_t n = malloc_usable_size(ptr);
		const uint8_t *p = ptr;

		blocks_seen++;
		if (holds(p, n, key_bin, sizeof(key_bin)) || holds(p, n, key2_bin, sizeof(key2_bin)) ||
		    holds(p, n, KEY_HEX, 16) || holds(p, n, KEY2_HEX, 16)) {
			leaks_found++;
			snprintf(leak_what, sizeof(leak_what), "a block of %zu bytes", n);
		}
	}
	__real_free(ptr);
}

#define SA_A "sa add name a spi 0x1001 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 " \
	     "proposal aes128gcm16 key 0x" KEY_HEX "\n"
#define SA_B "sa add name b spi 0x2001 dir in mode tunnel src 192.0.2.2 dst 192.0.2.1 " \
	     "proposal aes128-sha256 enc-key 0x" KEY2_HEX " \\\n" \
	     " auth-key 0x" AUTH_HEX "\n"

struct env {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_config_ctx ctx;
	struct ipk_sa *held;
};

enum op { APPLY, FAIL, SHOW_KEYS, HOLD, PUT, DESTROY, FILE_LOAD };

static const struct row {
	enum op op;
	const char *text;
} rows[] = {
	/* 1 */ { APPLY, SA_A SA_B },
	/* 2: fails at the policy, after the SA's command struct was parsed */
	{ FAIL, "sa add name c spi 0x3001 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "
		"proposal aes128gcm16 key 0x" KEY_HEX "\npolicy add name p dir sideways\n" },
	/* 3: the key in the wrong place is not echoed into the message either */
	{ FAIL, "sa add name d spi 0x3002 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "
		"proposal 0x" KEY_HEX "\n" },
	/* 4 */ { SHOW_KEYS, "show sa keys" },
	/* 5 */ { APPLY, "sa del name a\n" },
	/* 6: a packet holds SA b across its deletion */
	{ HOLD, "b" },
	/* 7 */ { APPLY, "sa del name b\n" },
	/* 8 */ { PUT, NULL },
	/* 9 */ { APPLY, SA_A SA_B },
	/* 10: the daemon's exit */
	{ DESTROY, NULL },
	/* 11 */ { FILE_LOAD, SA_A SA_B },
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(ipk_sad_create(&e->sad, 2), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	e->ctx.sad = e->sad;
	e->ctx.spd = e->spd;
}

static void env_fini(struct env *e)
{
	if (e->spd)
		ipk_spd_destroy(e->spd);
	if (e->sad)
		ipk_sad_destroy(e->sad);
	e->spd = NULL;
	e->sad = NULL;
}

static void file_load(struct env *e, const char *text)
{
	char path[] = "/tmp/ipk-keywipe-XXXXXX";
	struct ipk_err err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	env_init(e);
	assert_int_equal(ipk_config_load_file(&e->ctx, path, &err), 0);
	unlink(path);
	env_fini(e);
}

static void run_row(struct env *e, const struct row *r)
{
	struct ipk_outbuf out;
	struct ipk_err err;

	switch (r->op) {
	case APPLY:
		assert_int_equal(ipk_config_apply(&e->ctx, r->text, "t", &err), 0);
		break;
	case FAIL:
		assert_int_not_equal(ipk_config_apply(&e->ctx, r->text, "t", &err), 0);
		assert_null(strstr(err.msg, KEY_HEX));
		break;
	case SHOW_KEYS:
		ipk_out_init(&out, 1 << 20);
		assert_int_equal(ipk_ctl_execute(&e->ctx, r->text, false, &out, &err), 0);
		assert_non_null(strstr(ipk_out_str(&out), KEY_HEX));
		ipk_out_fini(&out);
		break;
	case HOLD:
		e->held = ipk_sad_find(e->sad, r->text);
		assert_non_null(e->held);
		ipk_sa_get(e->held);
		break;
	case PUT:
		/* Still whole until now: the packet's crypto needed the keys. */
		assert_memory_equal(e->held->params.enc_key, key2_bin, sizeof(key2_bin));
		ipk_sa_put(e->held);
		e->held = NULL;
		break;
	case DESTROY:
		env_fini(e);
		break;
	case FILE_LOAD:
		file_load(e, r->text);
		break;
	}
}

static void test_table(void **state)
{
	struct env e;

	(void)state;
	env_init(&e);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		unsigned seen0 = blocks_seen;

		leaks_found = 0;
		watching = true;
		run_row(&e, &rows[i]);
		watching = false;
		if (leaks_found)
			fail_msg("row %zu: %u freed blocks still held the key (%s)", i + 1,
				 leaks_found, leak_what);
		/* A row that frees nothing would prove nothing (holding a reference frees
		 * nothing by design). */
		if (blocks_seen == seen0 && rows[i].op != HOLD)
			fail_msg("row %zu: freed no block", i + 1);
	}
	env_fini(&e);
}

/* The scanner finds a key that is not wiped (so the table above can fail). */
static void test_scanner(void **state)
{
	/* Through volatile pointers, so that the compiler cannot drop the pair. */
	void *(*volatile alloc)(size_t) = malloc;
	void (*volatile release)(void *) = free;
	char *p = alloc(64);

	(void)state;
	memcpy(p + 10, key_bin, sizeof(key_bin));
	leaks_found = 0;
	watching = true;
	release(p);
	watching = false;
	assert_int_equal(leaks_found, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
