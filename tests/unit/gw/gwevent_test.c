// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/gw/gwevent.c: a numbered script over one SAD whose event hook is the event
 * log (adds, deletes, soft and hard packet lifetimes, sequence-number exhaustion), with
 * the events expected after each step; the log keeps the IPK_GWEVENT_LOG_MAX most recent;
 * the event command runs with the event as arguments and environment (it writes a file);
 * a command that fails is counted; `event-command` refuses relative and missing paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "gw/gwevent.h"
#include "sa/sad.h"

static void make_params(struct ipk_sa_params *p, const char *name, enum ipk_dir dir,
			uint32_t spi)
{
	ipk_sa_params_init(p);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->spi = spi;
	p->dir = dir;
	p->alg = ipk_alg_find("null-sha256");
	assert_non_null(p->alg);
	p->auth_key_len = 32;
	memset(p->auth_key, 0x11, 32);
	assert_int_equal(ipk_addr_parse("192.0.2.2", &p->dst), 0);
	assert_int_equal(ipk_addr_parse("192.0.2.1", &p->src), 0);
	p->soft.packets = 2;
	p->hard.packets = 4;
}

enum op { ADD, DEL, PACKET, SEQ };

struct step {
	enum op op;
	const char *name;
	uint32_t spi;
	const char *want; /* the events this step adds: "kind:sa:spi ..." */
};

static const struct step script[] = {
	/* 1 */ { ADD, "a", 0x1001, "sa-added:a:1001" },
	/* 2 */ { ADD, "b", 0x2001, "sa-added:b:2001" },
	/* 3 */ { PACKET, "a", 0, "" },
	/* 4: the second packet reaches soft packets 2 */
	{ PACKET, "a", 0, "soft-expired:a:1001" },
	/* 5 */ { PACKET, "a", 0, "" },
	/* 6: hard packets 4 */
	{ PACKET, "a", 0, "hard-expired:a:1001" },
	/* 7: raised once */
	{ PACKET, "a", 0, "" },
	/* 8: b runs out of sequence numbers, once */
	{ SEQ, "b", 0, "seq-exhausted:b:2001" },
	/* 9 */ { SEQ, "b", 0, "" },
	/* 10: deletion of the first, then a new SA of the same name */
	{ DEL, "a", 0, "sa-deleted:a:1001" },
	/* 11 */ { ADD, "a", 0x1002, "sa-added:a:1002" },
	/* 12 */ { DEL, "b", 0, "sa-deleted:b:2001" },
};

static void render(struct ipk_gwevents *ev, uint64_t from, char *buf, size_t size)
{
	static struct ipk_gwevent_rec recs[IPK_GWEVENT_LOG_MAX];
	size_t n = ipk_gwevent_read(ev, recs, IPK_GWEVENT_LOG_MAX), len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (recs[i].seq > from)
			len += (size_t)snprintf(buf + len, size - len, "%s%s:%s:%x",
						len ? " " : "", ipk_gwevent_kind_name(recs[i].kind),
						recs[i].sa, recs[i].spi);
}

static void run_step(struct ipk_sad *sad, struct ipk_gwevents *ev, const struct step *s)
{
	struct ipk_sa_params p;
	struct ipk_err err;
	struct ipk_sa *sa;
	uint64_t seq;

	switch (s->op) {
	case ADD:
		make_params(&p, s->name, IPK_DIR_OUT, s->spi);
		assert_int_equal(ipk_sad_add(sad, &p, &err), 0);
		break;
	case DEL:
		assert_int_equal(ipk_sad_del(sad, s->name, &err), 0);
		break;
	case PACKET:
		ipk_sa_account(ipk_sad_find(sad, s->name), 100);
		break;
	case SEQ:
		sa = ipk_sad_find(sad, s->name);
		atomic_store(&sa->rt.seq_out, UINT32_MAX);
		assert_false(ipk_sa_next_seq(sa, &seq));
		break;
	}
}

static void test_script(void **state)
{
	struct ipk_gwevents *ev;
	struct ipk_sad *sad;
	char got[512];

	(void)state;
	assert_int_equal(ipk_gwevent_create(&ev), 0);
	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	ipk_sad_set_event(sad, ipk_gwevent_sa_event, ev);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(script); i++) {
		struct ipk_gwevent_counts c;

		ipk_gwevent_counts(ev, &c);
		run_step(sad, ev, &script[i]);
		assert_int_equal(ipk_gwevent_sync(ev, sad), 0);
		ipk_gwevent_process(ev);
		render(ev, c.total, got, sizeof(got));
		if (strcmp(got, script[i].want) != 0)
			fail_msg("step %zu: got '%s', want '%s'", i + 1, got, script[i].want);
	}
	ipk_sad_destroy(sad);
	ipk_gwevent_destroy(ev);
}

/* More events than the log holds: the most recent ones stay, numbered on. */
static void test_bounded(void **state)
{
	static struct ipk_gwevent_rec recs[IPK_GWEVENT_LOG_MAX];
	struct ipk_gwevent_counts c;
	struct ipk_gwevents *ev;
	struct ipk_sad *sad;
	struct ipk_sa_params p;
	struct ipk_err err;
	size_t n;

	(void)state;
	assert_int_equal(ipk_gwevent_create(&ev), 0);
	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	for (unsigned i = 0; i < IPK_GWEVENT_LOG_MAX + 10; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", i);
		make_params(&p, name, IPK_DIR_OUT, 0x1000 + i);
		assert_int_equal(ipk_sad_add(sad, &p, &err), 0);
	}
	assert_int_equal(ipk_gwevent_sync(ev, sad), 0);
	ipk_gwevent_counts(ev, &c);
	assert_int_equal(c.total, IPK_GWEVENT_LOG_MAX + 10);
	n = ipk_gwevent_read(ev, recs, IPK_GWEVENT_LOG_MAX);
	assert_int_equal(n, IPK_GWEVENT_LOG_MAX);
	assert_int_equal(recs[0].seq, 11);
	assert_string_equal(recs[0].sa, "s10");
	assert_int_equal(recs[n - 1].seq, IPK_GWEVENT_LOG_MAX + 10);
	assert_int_equal(ipk_gwevent_read(ev, recs, 3), 3);
	assert_int_equal(recs[0].seq, IPK_GWEVENT_LOG_MAX + 8);
	ipk_sad_destroy(sad);
	ipk_gwevent_destroy(ev);
}

/* Runs ipk_gwevent_process until the commands finished (bounded: 5 s). */
static void wait_commands(struct ipk_gwevents *ev, uint64_t runs)
{
	const struct timespec nap = { .tv_nsec = 10000000 };
	struct ipk_gwevent_counts c;

	for (int i = 0; i < 500; i++) {
		ipk_gwevent_process(ev);
		ipk_gwevent_counts(ev, &c);
		if (c.runs == runs && c.running == 0)
			return;
		nanosleep(&nap, NULL);
	}
	fail_msg("commands did not finish");
}

static void swap(char *a, char *b)
{
	char t[256];

	memcpy(t, a, sizeof(t));
	memcpy(a, b, sizeof(t));
	memcpy(b, t, sizeof(t));
}

static void test_command(void **state)
{
	char dir[] = "/tmp/ipk-gwevent-XXXXXX", script_path[128], out_path[128], got[256];
	char got2[256];
	struct ipk_gwevent_counts c;
	struct ipk_gwevents *ev;
	struct ipk_sad *sad;
	struct ipk_sa_params p;
	struct ipk_err err;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(script_path, sizeof(script_path), "%s/cmd.sh", dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	f = fopen(script_path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$1 $2 $3 $4 $IPSECK_EVENT $IPSECK_SA $IPSECK_SPI "
		   "$IPSECK_DIR $IPSECK_SEQ\" >> %s\n[ \"$2\" != bad ]\n", out_path);
	fclose(f);
	assert_int_equal(chmod(script_path, 0700), 0);
	assert_int_equal(ipk_gwevent_create(&ev), 0);
	assert_int_equal(ipk_gwevent_set_command(ev, "cmd.sh", &err), -EINVAL);
	assert_string_equal(err.msg, "event-command: 'cmd.sh' is not an absolute path");
	assert_int_equal(ipk_gwevent_set_command(ev, "/nonexistent/x", &err), -EINVAL);
	assert_int_equal(ipk_gwevent_set_command(ev, script_path, &err), 0);
	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	make_params(&p, "good", IPK_DIR_IN, 0x4242);
	assert_int_equal(ipk_sad_add(sad, &p, &err), 0);
	make_params(&p, "bad", IPK_DIR_OUT, 0x4343);
	assert_int_equal(ipk_sad_add(sad, &p, &err), 0);
	assert_int_equal(ipk_gwevent_sync(ev, sad), 0);
	wait_commands(ev, 2);
	ipk_gwevent_counts(ev, &c);
	assert_int_equal(c.runs, 2);
	assert_int_equal(c.failed, 1); /* "bad" exits 1 */
	/* The two commands run at the same time: their lines come in either order. */
	f = fopen(out_path, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	assert_non_null(fgets(got2, sizeof(got2), f));
	fclose(f);
	if (strstr(got, " bad "))
		swap(got, got2);
	assert_string_equal(got, "sa-added good 0x00004242 in sa-added good 0x00004242 in 1\n");
	assert_string_equal(got2, "sa-added bad 0x00004343 out sa-added bad 0x00004343 out 2\n");
	ipk_sad_destroy(sad);
	ipk_gwevent_destroy(ev);
	unlink(out_path);
	unlink(script_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
