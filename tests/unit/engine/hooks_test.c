// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/engine/hooks.c and the qos/hook commands of the configuration language
 * (src/ctl/config_qos.c): chains built from the language, attached, replaced and
 * detached at a live engine queue with packets held, none lost, duplicated or reordered;
 * mistakes refused with their messages and nothing changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/json.h"
#include "engine/engine.h"
#include "engine/equeue.h"
#include "engine/hooks.h"
#include "proto/ip.h"
#include "sa/sad.h"
#include "sa/spd.h"

struct env {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_engine *engine;
	struct ipk_hooks *hooks;
	struct ipk_pool *pool;
	struct ipk_config_ctx ctx;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ipk_engine_config cfg;
	struct ipk_err err = { "" };

	assert_non_null(e);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	assert_int_equal(ipk_pool_create(&e->pool, 512, IPK_PKT_DEFAULT_ROOM), 0);
	ipk_engine_config_init(&cfg);
	cfg.n_units = 1;
	if (ipk_engine_create(&e->engine, &cfg, e->sad, e->spd, &err))
		fail_msg("engine: %s", err.msg);
	assert_int_equal(ipk_hooks_create(&e->hooks, e->engine), 0);
	e->ctx.sad = e->sad;
	e->ctx.spd = e->spd;
	e->ctx.hooks = e->hooks;
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	ipk_hooks_destroy(e->hooks);
	ipk_engine_destroy(e->engine);
	assert_int_equal(ipk_pool_available(e->pool), 512);
	ipk_pool_destroy(e->pool);
	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	free(e);
	return 0;
}

static void apply_ok(struct env *e, const char *text)
{
	struct ipk_err err = { "" };

	if (ipk_config_apply(&e->ctx, text, "test", &err))
		fail_msg("unexpected error: %s", err.msg);
}

/* An IPv4 UDP packet with @dscp whose payload starts with @seq. */
static struct ipk_pkt *make_pkt(struct env *e, uint8_t dscp, uint32_t seq)
{
	struct ipk_pkt *pkt = ipk_pkt_alloc(e->pool);
	uint8_t *p = ipk_pkt_put(pkt, 64);
	struct ipk_addr a, b;

	ipk_addr_parse("10.1.0.1", &a);
	ipk_addr_parse("10.2.0.1", &b);
	memset(p, 0, 64);
	ipk_ipv4_build(p, &a, &b, IPK_PROTO_UDP, 64, (uint8_t)(dscp << 2), 64, false, 1);
	memcpy(p + 28, &seq, sizeof(seq));
	return pkt;
}

static uint32_t pkt_seq(struct ipk_pkt *pkt)
{
	uint32_t seq;

	memcpy(&seq, ipk_pkt_data(pkt) + 28, sizeof(seq));
	return seq;
}

#define TWO_CLASS_CHAIN(P)                                                         \
	"qos add name " P "ef kind fifo limit 500\n"                              \
	"qos add name " P "be kind fifo limit 500\n"                              \
	"qos add name " P "cls kind dscp ef 0 default 1\n"                        \
	"qos add name " P "sp kind prio\n"                                        \
	"qos node name " P "root classify " P "cls children " P "ef," P "be schedule " P "sp\n"

/*
 * Queue 2 is read only by whoever transmits, so packets stay there while chains are
 * attached, replaced and detached under them. Each class must come out complete and in
 * its order; strict priority puts EF first while the chain is attached.
 */
static void replace_and_detach_keep_every_packet(void **state)
{
	struct env *e = *state;
	struct ipk_equeue *q2 = ipk_engine_queue(e->engine, 2);
	uint32_t next_ef = 0, next_be = 1001, got = 0;
	struct ipk_pkt *pkt;
	char show[4096];

	for (uint32_t i = 0; i < 300; i++) {
		bool ef = i % 3 == 0;

		assert_int_equal(ipk_equeue_enqueue(q2, make_pkt(e, ef ? 46 : 0,
								  ef ? i / 3 : 1000 + i)), 0);
	}
	apply_ok(e, TWO_CLASS_CHAIN("a-") "hook attach 2 a-root\n");
	ipk_hooks_show(e->hooks, show, sizeof(show));
	assert_non_null(strstr(show, "hook 2 (queue 2, outgoing main):\n  node a-root  len 300"));
	assert_non_null(strstr(show, "fifo a-ef  len 100"));
	/* Replace: the held packets move to the new chain; the old one is gone. */
	apply_ok(e, TWO_CLASS_CHAIN("b-") "hook attach 2b b-root\n");
	assert_string_equal(ipk_hooks_attached(e->hooks, 2), "b-root");
	{
		struct ipk_outbuf out;
		struct ipk_err err = { "" };

		/* The control tool sees the same tree. */
		ipk_out_init(&out, 1 << 20);
		assert_int_equal(ipk_ctl_execute(&e->ctx, "show hooks", false, &out, &err), 0);
		assert_non_null(strstr(ipk_out_str(&out), "node b-root  len 300"));
		ipk_out_fini(&out);
	}
	ipk_hooks_show(e->hooks, show, sizeof(show));
	assert_null(strstr(show, "a-root"));
	assert_int_equal(ipk_equeue_len(q2), 300);
	/* 100 EF first (strict priority), in order. */
	for (uint32_t i = 0; i < 100; i++) {
		pkt = ipk_engine_tx_dequeue(e->engine, 0);
		assert_non_null(pkt);
		assert_int_equal(pkt_seq(pkt), next_ef++);
		ipk_pkt_free(pkt);
		got++;
	}
	apply_ok(e, "hook detach 2\n");
	assert_null(ipk_hooks_attached(e->hooks, 2));
	while ((pkt = ipk_engine_tx_dequeue(e->engine, 0))) {
		uint32_t seq = pkt_seq(pkt);

		if (seq != next_be)
			fail_msg("best effort out of order: %u after %u", seq, next_be - 1);
		/* Best effort is every i not a multiple of 3, numbered 1000 + i. */
		next_be = seq + ((seq - 1000) % 3 == 2 ? 2 : 1);
		ipk_pkt_free(pkt);
		got++;
	}
	assert_int_equal(got, 300);
	assert_int_equal(ipk_drop_total(&q2->drops), 0);
}

static void mistakes_change_nothing(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} rows[] = {
		{ "qos add name x kind nosuch\n", "unknown QoS component 'nosuch'" },          /* 1 */
		{ "qos add name x kind fifo limit 0\n", "fifo" },                              /* 2 */
		{ "qos add name x kind fifo\nqos add name x kind fifo\n", "already exists" },  /* 3 */
		{ "qos add name q kind fifo\nqos add name r kind fifo\n"
		  "qos node name n children q,r\n",
		  "children need a classifier" },                                               /* 4 */
		{ "qos add name q kind fifo\nqos add name r kind fifo\n"
		  "qos add name c kind dscp ef 0 af41 1 default 2\nqos add name s kind prio\n"
		  "qos node name n classify c children q,r schedule s\n",
		  "classifier 'c' has 3 classes for 2 children" },                              /* 5 */
		{ "qos add name q kind fifo\nqos node name n children q\n"
		  "qos node name m children q\n", "'q' is already in use" },                    /* 6 */
		{ "qos add name c kind dscp ef 0\nhook attach 3 c\n", "not a queue or node" },  /* 7 */
		{ "hook detach 4\n", "nothing attached at hook 4" },                           /* 8 */
		{ "hook attach 6 q\n", "expected a hook 1..5" },                               /* 9 */
		{ "qos node name n children ghost\n", "child 'ghost' does not exist" },         /* 10 */
		{ "qos add name q kind fifo\nqos node name n children q\nqos del name q\n",
		  "is in use" },                                                                /* 11 */
		{ "qos add name t kind tb rate 1M\nqos add name q kind fifo\n"
		  "qos node name n meter q children t\n", "'q' cannot be a meter" },            /* 12 */
	};
	struct env *e = *state;
	char before[4096], after[4096];

	ipk_hooks_show(e->hooks, before, sizeof(before));
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_err err = { "" };

		if (!ipk_config_apply(&e->ctx, rows[i].text, "t", &err))
			fail_msg("row %u: accepted", i + 1);
		if (!strstr(err.msg, rows[i].msg))
			fail_msg("row %u: message '%s' lacks '%s'", i + 1, err.msg, rows[i].msg);
		ipk_hooks_show(e->hooks, after, sizeof(after));
		if (strcmp(before, after) != 0)
			fail_msg("row %u changed the hooks:\n%s", i + 1, after);
	}
}

static void delete_a_free_node_with_its_parts(void **state)
{
	struct env *e = *state;
	struct ipk_hooks_info info;

	apply_ok(e, TWO_CLASS_CHAIN("c-"));
	assert_int_equal(ipk_hooks_lookup(e->hooks, "c-ef", &info), 0);
	assert_true(info.in_use);
	apply_ok(e, "qos del name c-root\n");
	assert_int_equal(ipk_hooks_lookup(e->hooks, "c-root", &info), -ENOENT);
	assert_int_equal(ipk_hooks_lookup(e->hooks, "c-ef", &info), -ENOENT);
	/* The names are free again. */
	apply_ok(e, TWO_CLASS_CHAIN("c-"));
}

/* Without an engine (the pcap mode, a configuration only checked) an attach fails in the
 * check step: the batch before it must not have changed anything (found by fuzzing). */
/* A detach deletes the chain, also for the rest of its batch: its name can be made again
 * in the same batch (an operator replacing a chain by hand), but not deleted twice. */
static void detach_deletes_within_the_batch(void **state)
{
	static const char chain[] =
		"qos add name c kind dscp ef 0 default 1\nqos add name e kind fifo limit 64\n"
		"qos add name b kind fifo\nqos add name p kind prio\n"
		"qos node name n classify c children e,b schedule p\n";
	struct env *e = *state;
	struct ipk_hooks_info info;
	struct ipk_err err = { "" };
	char text[512];

	apply_ok(e, chain);
	apply_ok(e, "hook attach 3 n\n");
	apply_ok(e, "hook detach 3\nqos add name n kind fifo limit 10\nhook attach 3 n\n");
	assert_string_equal(ipk_hooks_attached(e->hooks, 3), "n");
	assert_int_equal(ipk_hooks_lookup(e->hooks, "c", &info), -ENOENT);
	snprintf(text, sizeof(text), "hook detach 3\n%shook attach 5 n\nhook detach 5\n", chain);
	apply_ok(e, text);
	assert_null(ipk_hooks_attached(e->hooks, 3));
	assert_null(ipk_hooks_attached(e->hooks, 5));
	assert_int_equal(ipk_hooks_lookup(e->hooks, "n", &info), -ENOENT);
	apply_ok(e, chain);
	apply_ok(e, "hook attach 3 n\n");
	assert_int_equal(ipk_config_apply(&e->ctx, "hook detach 3\nqos del name n\n", "t", &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "t:2: qos del: 'n' does not exist"));
	assert_int_equal(ipk_config_apply(&e->ctx, "hook detach 3\nhook detach 3\n", "t", &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "nothing attached at hook 3"));
	assert_string_equal(ipk_hooks_attached(e->hooks, 3), "n");
}

static void attach_without_engine_changes_nothing(void **state)
{
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_hooks_info info;
	struct ipk_hooks *hooks;
	struct ipk_err err = { "" };

	assert_int_equal(ipk_sad_create(&ctx.sad, 1), 0);
	assert_int_equal(ipk_spd_create(&ctx.spd), 0);
	assert_int_equal(ipk_hooks_create(&hooks, NULL), 0);
	ctx.hooks = hooks;
	assert_int_equal(ipk_config_apply(&ctx, "policy add name p dir out action discard\n"
					  "qos add name f kind fifo limit 10\n"
					  "hook attach 1 f\n", "t", &err), -ENODEV);
	assert_non_null(strstr(err.msg, "t:3: hook attach: no queue 1 to attach to here"));
	assert_int_equal(ipk_spd_count(ctx.spd), 0);
	assert_int_equal(ipk_hooks_lookup(hooks, "f", &info), -ENOENT);
	ipk_hooks_destroy(hooks);
	ipk_spd_destroy(ctx.spd);
	ipk_sad_destroy(ctx.sad);
}

/* The shipped configurations load as they are, and replace each other at runtime. */
static void shipped_configurations_load(void **state)
{
	static const char *const files[] = { "paper-fig6.conf", "recommended-qos.conf" };
	struct env *e = *state;
	struct ipk_err err = { "" };
	char path[512], show[8192];

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(files); i++) {
		if (i)
			apply_ok(e, "hook detach 1\nhook detach 3\nhook detach 5\n");
		snprintf(path, sizeof(path), "%s/../examples/%s", IPK_TEST_DATA_DIR, files[i]);
		if (ipk_config_load_file(&e->ctx, path, &err))
			fail_msg("%s: %s", files[i], err.msg);
		ipk_hooks_show(e->hooks, show, sizeof(show));
		assert_non_null(strstr(show, "hook 5 (crypto dispatcher 5a/5b):\n  node dispatch"));
		assert_null(strstr(show, "not attached"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replace_and_detach_keep_every_packet, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(mistakes_change_nothing, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(delete_a_free_node_with_its_parts, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(detach_deletes_within_the_batch, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(shipped_configurations_load, env_setup,
						env_teardown),
		cmocka_unit_test(attach_without_engine_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
