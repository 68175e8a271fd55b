// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/ctl/show.c and src/ctl/ctl.c: SAD and SPD built through the configuration
 * language, then `show sa`, `show policy` and `stats` run through ipk_ctl_execute(), as
 * numbered tables of commands and the text they must (and must not) print; the JSON
 * forms are parsed by Python's json module and queried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/json.h"
#include "ctl/show.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define K16 "00112233445566778899aabbccddeeff"
#define K20 K16 "c0c1c2c3"
#define K32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define A32 "a0a1a2a3a4a5a6a7a8a9aaabacadaeaff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define PYTHON "/usr/bin/python3"
#define OUT_MAX (1u << 20)

/* Outbound SA over IPv4 (AES-GCM), inbound SA over IPv6 with NAT-T (AES-CBC/HMAC), three
 * policies. */
#define SETUP                                                                                 \
	"sa add name gw-out spi 0x1001 dir out mode tunnel src 192.0.2.1 dst 192.0.2.2 "     \
	"proposal aes128gcm16 key 0x" K20 " lifetime bytes 1M seconds 3600 "                 \
	"soft-lifetime bytes 512K\n"                                                         \
	"sa add name gw-in spi 0x2002 dir in mode tunnel src 2001:db8::2 dst 2001:db8::1 "   \
	"proposal aes256-sha256 enc-key 0x" K32 " auth-key 0x" A32 " esn replay-window 64 "  \
	"encap udp\n"                                                                        \
	"policy add name p1 dir out src 10.1.0.0/16 dst 10.2.0.0/16 proto udp dport 53 "     \
	"dscp ef action protect sa gw-out priority 10\n"                                     \
	"policy add name p2 dir out proto tcp sport 1000-2000 action bypass\n"               \
	"policy add name pin dir in src 2001:db8:2::/48 action protect sa gw-in\n"

struct env {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_config_ctx ctx;
	struct ipk_outbuf out;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ipk_err err;
	struct ipk_sa *sa;

	assert_non_null(e);
	ipk_clock_set_fake(1000 * IPK_NSEC_PER_SEC);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	e->ctx = (struct ipk_config_ctx){ .sad = e->sad, .spd = e->spd };
	assert_int_equal(ipk_config_apply(&e->ctx, SETUP, "t.conf", &err), 0);
	ipk_clock_advance(42 * IPK_NSEC_PER_SEC);
	/* Traffic, as the packet path would have counted it. */
	sa = ipk_sad_find(e->sad, "gw-in");
	atomic_store(&sa->stats.packets, 10);
	atomic_store(&sa->stats.bytes, 1200);
	atomic_store(&sa->stats.drops.count[IPK_DROP_BAD_ICV], 3);
	atomic_store(&sa->stats.drops.count[IPK_DROP_REPLAY_DUPLICATE], 2);
	atomic_store(&sa->rt.soft_expired, true);
	atomic_store(&ipk_spd_find(e->spd, "p1")->matches, 5);
	ipk_out_init(&e->out, OUT_MAX);
	*state = e;
	return 0;
}

static void emit_test(void *arg, struct ipk_stats_emit *e);

/* Static, so that a failed test cannot leave a dangling provider behind; the teardown
 * removes them all. */
static struct ipk_drop_stats test_drops;
static struct ipk_stats_provider prov_test = { .name = "test", .emit = emit_test,
					       .arg = &test_drops };
static struct ipk_stats_provider prov_engine = { .name = "engine", .emit = emit_test,
						 .arg = &test_drops };
static struct ipk_stats_provider prov_hook = { .name = "hook1", .emit = emit_test,
					       .arg = &test_drops };
static struct ipk_stats_provider prov_dup = { .name = "engine", .emit = emit_test,
					      .arg = &test_drops };

static int env_teardown(void **state)
{
	struct ipk_stats_provider *all[] = { &prov_test, &prov_engine, &prov_hook, &prov_dup };
	struct env *e = *state;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(all); i++)
		ipk_stats_unregister(all[i]);
	memset(&test_drops, 0, sizeof(test_drops));

	ipk_out_fini(&e->out);
	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	ipk_clock_use_real();
	free(e);
	return 0;
}

static const char *run(struct env *e, const char *text, bool json)
{
	struct ipk_err err = { "" };
	int ret;

	ipk_out_reset(&e->out);
	ret = ipk_ctl_execute(&e->ctx, text, json, &e->out, &err);
	if (ret)
		print_message("  %s\n", err.msg);
	assert_int_equal(ret, 0);
	return ipk_out_str(&e->out);
}

#define MUST_MAX 8

static void assert_has(const char *text, const char *needle)
{
	if (strstr(text, needle))
		return;
	print_message("missing '%s' in:\n%s", needle ? needle : "", text ? text : "");
	fail();
}

static void text_output(void **state)
{
	static const struct {
		const char *cmd;
		const char *must[MUST_MAX];
		const char *must_not[MUST_MAX];
	} rows[] = {
		/* 1 */ { "show sa",
			  { "sa gw-out spi 0x00001001 dir out mode tunnel src 192.0.2.1 dst "
			    "192.0.2.2\n",
			    /* 20 IPv4 + 8 ESP + 8 IV + 3 pad + 2 trailer + 16 ICV */
			    "\tproposal aes128gcm16 esn off seq 0 encap none ttl 64 overhead 57\n",
			    "\tlifetime hard bytes 1048576 packets - seconds 3600 soft bytes 524288 "
			    "packets - seconds -\n",
			    "\tage 42s packets 0 bytes 0 flags -\n",
			    "sa gw-in spi 0x00002002 dir in mode tunnel src 2001:db8::2 dst "
			    "2001:db8::1\n",
			    /* 40 IPv6 + 8 UDP + 8 ESP + 16 IV + 15 pad + 2 + 16 ICV */
			    "\tproposal aes256-sha256 esn on replay-window 64 encap udp sport 4500 "
			    "dport 4500 ttl 64 overhead 105\n",
			    "\tage 42s packets 10 bytes 1200 flags soft-expired\n"
			    "\tdrops bad-icv 3 replay-duplicate 2\n" },
			  { "key", "00112233", "a0a1a2a3", "0001020304", "unknown-spi" } },
		/* 2 */ { "show sa name gw-in",
			  { "sa gw-in spi 0x00002002", "drops bad-icv 3" },
			  { "gw-out", "key" } },
		/* 3 */ { "show sa name gw-out keys",
			  { "sa gw-out", "\tkey 0x" K20 "\n" },
			  { "gw-in", "auth-key" } },
		/* 4 */ { "show  sa keys name gw-in",
			  { "\tenc-key 0x" K32 " auth-key 0x" A32 "\n" },
			  { "gw-out" } },
		/* 5 */ { "show policy",
			  { "policy pin dir in priority 1000\n"
			    "\tsrc 2001:db8:2::/48 dst any proto any sport any dport any dscp any\n"
			    "\taction protect sa gw-in (resolved) matches 0\n"
			    "policy p1 dir out priority 10\n"
			    "\tsrc 10.1.0.0/16 dst 10.2.0.0/16 proto udp sport any dport 53 dscp ef\n"
			    "\taction protect sa gw-out (resolved) matches 5\n"
			    "policy p2 dir out priority 1000\n"
			    "\tsrc any dst any proto tcp sport 1000-2000 dport any dscp any\n"
			    "\taction bypass matches 0\n" },
			  { "unresolved" } },
		/* 6 */ { "show policy dir out", { "policy p1", "policy p2" }, { "pin" } },
		/* 7 */ { "show policy dir in", { "policy pin" }, { "p1", "p2" } },
		/* 8 */ { "# a comment\nstats\n",
			  { "sa in 1 out 1 soft-expired 1 dead 0 packets 10 bytes 1200\n",
			    "policy in 1 out 2 matches 5\n",
			    "drops (all SAs)\n\ttruncated-ip 0\n",
			    "\tbad-icv 3\n", "\treplay-duplicate 2\n", "\thook-detached 0\n" },
			  { "key" } },
	};
	struct env *e = *state;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		const char *text;

		print_message("row %zu\n", i + 1);
		text = run(e, rows[i].cmd, false);
		for (int k = 0; k < MUST_MAX && rows[i].must[k]; k++)
			assert_has(text, rows[i].must[k]);
		for (int k = 0; k < MUST_MAX && rows[i].must_not[k]; k++)
			assert_null(strstr(text, rows[i].must_not[k]));
	}
}

/* Runs @expr (Python, on the parsed document d) over @json; returns its printed value. */
static void py_query(const char *json, const char *expr, char *result, size_t size)
{
	char path[] = "/tmp/ipk-show-test-XXXXXX";
	char cmd[512];
	FILE *f, *p;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(json, f) >= 0, 1);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 PYTHON " -c 'import json,sys; d=json.load(sys.stdin); print((%s))' < %s", expr,
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(result, (int)size, p))
		result[0] = '\0';
	result[strcspn(result, "\n")] = '\0';
	assert_int_equal(pclose(p), 0);
	unlink(path);
}

static void emit_test(void *arg, struct ipk_stats_emit *e)
{
	const struct ipk_drop_stats *drops = arg;

	ipk_stats_counter(e, "unit0.packets", 7);
	ipk_stats_drops(e, "unit0.drops", drops);
}

static void json_output(void **state)
{
	static const struct {
		const char *cmd;
		const char *expr;
		const char *value;
	} rows[] = {
		/* 1 */ { "show sa", "len(d[\"sa\"])", "2" },
		/* 2 */ { "show sa", "[s[\"name\"] for s in d[\"sa\"]]", "['gw-out', 'gw-in']" },
		/* 3 */ { "show sa", "d[\"sa\"][0][\"spi\"], d[\"sa\"][0][\"overhead\"]", "(4097, 57)" },
		/* 4 */ { "show sa", "d[\"sa\"][1][\"drops\"]", "{'bad-icv': 3, 'replay-duplicate': 2}" },
		/* 5 */ { "show sa", "d[\"sa\"][1][\"encap\"]",
			  "{'udp': True, 'sport': 4500, 'dport': 4500}" },
		/* 6 */ { "show sa", "d[\"sa\"][0][\"lifetime\"], d[\"sa\"][0][\"soft_lifetime\"]",
			  "({'bytes': 1048576, 'packets': 0, 'seconds': 3600}, "
			  "{'bytes': 524288, 'packets': 0, 'seconds': 0})" },
		/* 7 */ { "show sa", "[k for s in d[\"sa\"] for k in s if \"key\" in k]", "[]" },
		/* 8 */ { "show sa", "d[\"sa\"][1][\"soft_expired\"], d[\"sa\"][1][\"dead\"], "
			  "d[\"sa\"][1][\"age_seconds\"], d[\"sa\"][1][\"esn\"]",
			  "(True, False, 42, True)" },
		/* 9 */ { "show sa name gw-out keys", "d[\"sa\"][0][\"key\"]", "0x" K20 },
		/* 10 */ { "show sa name gw-in keys", "d[\"sa\"][0][\"auth-key\"]", "0x" A32 },
		/* 11 */ { "show policy", "[p[\"name\"] for p in d[\"policy\"]]",
			   "['pin', 'p1', 'p2']" },
		/* 12 */ { "show policy", "d[\"policy\"][1][\"bundle\"], d[\"policy\"][1][\"matches\"]",
			   "([{'sa': 'gw-out', 'resolved': True}], 5)" },
		/* 13 */ { "show policy dir out", "d[\"policy\"][1][\"sport\"], d[\"policy\"][1][\"dscp\"]",
			   "({'lo': 1000, 'hi': 2000}, 'any')" },
		/* 14 */ { "stats", "d[\"drops\"][\"bad-icv\"], d[\"drops\"][\"unknown-spi\"]",
			   "(3, 0)" },
		/* 15 */ { "stats", "len(d[\"drops\"])", NULL }, /* every reason, zero or not */
		/* 16 */ { "stats", "d[\"sa\"]",
			   "{'in': 1, 'out': 1, 'soft_expired': 1, 'dead': 0, 'packets': 10, "
			   "'bytes': 1200}" },
		/* 17 */ { "stats", "d[\"providers\"]",
			   "{'test': {'unit0.packets': 7, 'unit0.drops.queue-full': 5}}" },
	};
	struct env *e = *state;
	char value[512], n_reasons[16];

	snprintf(n_reasons, sizeof(n_reasons), "%d", IPK_DROP_COUNT - 1);
	if (access(PYTHON, X_OK) != 0)
		skip();
	atomic_store(&test_drops.count[IPK_DROP_QUEUE_FULL], 5);
	assert_int_equal(ipk_stats_register(&prov_test), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		print_message("row %zu\n", i + 1);
		py_query(run(e, rows[i].cmd, true), rows[i].expr, value, sizeof(value));
		assert_string_equal(value, rows[i].value ? rows[i].value : n_reasons);
	}
	ipk_stats_unregister(&prov_test);
}

/* Every SA and policy name, to see that a refused request changed nothing. */
static void names(struct ipk_sa *sa, void *arg)
{
	strcat(arg, sa->params.name);
	strcat(arg, " ");
}

static void policy_names(struct ipk_policy *pol, void *arg)
{
	strcat(arg, pol->params.name);
	strcat(arg, " ");
}

static void snapshot(const struct env *e, char *buf)
{
	buf[0] = '\0';
	ipk_sad_foreach(e->sad, names, buf);
	ipk_spd_foreach(e->spd, IPK_DIR_IN, policy_names, buf);
	ipk_spd_foreach(e->spd, IPK_DIR_OUT, policy_names, buf);
}

static void mistakes(void **state)
{
	static const struct {
		const char *text;
		int ret;
		const char *msg;
	} rows[] = {
		/* 1 */ { "show sa name nope", -ENOENT, "ipseckctl:1: show sa: sa 'nope' does not exist" },
		/* 2 */ { "show sa frob", -EINVAL, "ipseckctl:1: 'frob': unknown keyword for show sa" },
		/* 3 */ { "show policy dir sideways", -EINVAL,
			  "ipseckctl:1: 'dir': expected one of in, out, got 'sideways'" },
		/* 4 */ { "sa add name x spi 0x3000 dir out mode tunnel src 192.0.2.1 dst 192.0.2.9 "
			  "proposal aes128gcm16 key 0x" K20 "\nshow sa\n", -EINVAL,
			  "ipseckctl:2: show sa: a read-only command; send it alone, not in a batch" },
		/* 5 */ { "show sa\nshow sa", -EINVAL,
			  "ipseckctl:1: show sa: a read-only command; send it alone" },
		/* 6 */ { "show", -EINVAL,
			  "ipseckctl:1: 'show': incomplete command (expected show " },
		/* 7 */ { "stats now", -EINVAL, "ipseckctl:1: 'now': unexpected word" },
		/* 8 */ { "sa del name gw-out\nsa del name nope", -ENOENT,
			  "ipseckctl:2: sa del: sa 'nope' does not exist" },
		/* 9 */ { "show sa name", -EINVAL, "ipseckctl:1: 'name': expected" },
	};
	struct env *e = *state;
	char before[256], after[256];

	snapshot(e, before);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_err err = { "" };
		int ret;

		print_message("row %zu\n", i + 1);
		ipk_out_reset(&e->out);
		ipk_out_printf(&e->out, "kept");
		ret = ipk_ctl_execute(&e->ctx, rows[i].text, false, &e->out, &err);
		print_message("  %s\n", err.msg);
		assert_int_equal(ret, rows[i].ret);
		assert_non_null(strstr(err.msg, rows[i].msg));
		assert_null(strstr(err.msg, "00112233"));
		assert_string_equal(ipk_out_str(&e->out), "kept");
		snapshot(e, after);
		assert_string_equal(before, after);
	}
}

/* A batch through ipk_ctl_execute() applies and prints nothing; deleting an SA leaves its
 * policy unresolved, which show policy marks. */
static void batch_and_unresolved(void **state)
{
	struct env *e = *state;
	const char *text;

	text = run(e, "sa del name gw-out\n", false);
	assert_string_equal(text, "");
	assert_null(ipk_sad_find(e->sad, "gw-out"));
	text = run(e, "show policy dir out", false);
	assert_non_null(strstr(text, "\taction protect sa gw-out (unresolved) matches 5\n"));
	text = run(e, "stats", false);
	assert_non_null(strstr(text, "sa in 1 out 0 "));
	text = run(e, "sa add name gw-out spi 0x1001 dir out mode tunnel src 192.0.2.1 "
		   "dst 192.0.2.2 proposal aes128gcm16 key 0x" K20, false);
	assert_string_equal(text, "");
	text = run(e, "show policy dir out", false);
	assert_non_null(strstr(text, "sa gw-out (resolved)"));
}

/* Providers appear in the order registered, in text too; names are unique; removed ones
 * are gone. */
static void stats_providers(void **state)
{
	struct env *e = *state;
	const char *text;

	atomic_store(&test_drops.count[IPK_DROP_CODEL], 9);
	assert_int_equal(ipk_stats_register(&prov_engine), 0);
	assert_int_equal(ipk_stats_register(&prov_hook), 0);
	assert_int_equal(ipk_stats_register(&prov_dup), -EEXIST);
	text = run(e, "stats", false);
	assert_non_null(strstr(text, "engine\n\tunit0.packets 7\n\tunit0.drops.codel 9\n"
				     "hook1\n\tunit0.packets 7\n\tunit0.drops.codel 9\n"));
	ipk_stats_unregister(&prov_engine);
	text = run(e, "stats", false);
	assert_null(strstr(text, "engine\n"));
	assert_non_null(strstr(text, "hook1\n"));
	ipk_stats_unregister(&prov_hook);
	text = run(e, "stats", false);
	assert_null(strstr(text, "hook1\n"));
}

/* Output past the buffer's limit is an error, and the partial output (keys!) is gone. */
static void output_limit(void **state)
{
	struct env *e = *state;
	struct ipk_outbuf small;
	struct ipk_err err;

	ipk_out_init(&small, 100);
	assert_int_equal(ipk_ctl_execute(&e->ctx, "show sa keys", false, &small, &err), -EFBIG);
	assert_string_equal(err.msg, "ipseckctl: output larger than 100 bytes");
	assert_int_equal(small.len, 0);
	assert_false(small.overflow);
	assert_string_equal(ipk_out_str(&small), "");
	assert_int_equal(ipk_ctl_execute(&e->ctx, "show sa keys", false, &e->out, &err), 0);
	ipk_out_fini(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(text_output, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(json_output, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(mistakes, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(batch_and_unresolved, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(stats_providers, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(output_limit, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
