// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/user.c: users by SA name (checked first) and by longest matching
 * source prefix, IPv4 and IPv6; user ids written to the packet; class numbering in order
 * of first appearance; 4096 users in one instance (and the 4097th refused); argument
 * errors.
 */
#include "qos_test.h"

#include <stdlib.h>

#include "crypto/alg.h"
#include "qos/user.h"
#include "sa/sa.h"

static struct ipk_sa *sa_named(const char *name, uint32_t spi)
{
	struct ipk_sa_params p;
	struct ipk_sa *sa = NULL;

	ipk_sa_params_init(&p);
	strcpy(p.name, name);
	p.spi = spi;
	p.dir = IPK_DIR_OUT;
	assert_int_equal(ipk_addr_parse("192.0.2.1", &p.src), 0);
	assert_int_equal(ipk_addr_parse("192.0.2.2", &p.dst), 0);
	p.alg = ipk_alg_find("null-sha256");
	p.auth_key_len = 32;
	assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
	return sa;
}

static void user_classes(void **state)
{
	static const struct {
		const char *sa;   /* SA name or NULL */
		const char *src;  /* NULL: not an IP packet */
		uint32_t cls, user;
	} rows[] = {
		/* users in order of appearance: 7 -> 0, 9 -> 1, 11 -> 2, 12 -> 3, 13 -> 4 */
		/* 1 */ { "alice", "192.0.2.1", 0, 7 },
		/* 2 */ { "bob", "10.0.0.5", 1, 9 },        /* the SA name wins */
		/* 3 */ { "carol", "10.0.0.5", 4, 13 },     /* unmapped SA: /32 beats /24 */
		/* 4 */ { NULL, "10.0.0.6", 0, 7 },         /* /24 */
		/* 5 */ { NULL, "10.0.0.200", 2, 11 },      /* /25 beats /24 */
		/* 6 */ { NULL, "10.0.0.127", 0, 7 },
		/* 7 */ { NULL, "10.0.1.1", 5, 99 },        /* default */
		/* 8 */ { NULL, "2001:db8:0:1::1", 3, 12 },
		/* 9 */ { NULL, "2001:db9::1", 5, 99 },
		/* 10 */ { NULL, NULL, 5, 99 },
		/* 11 */ { "carol", NULL, 5, 99 },
	};
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *q = qos_new("user", "map alice:7,bob:9,10.0.0.0/24:7,10.0.0.128/25:11,"
					    "2001:db8::/48:12 map 10.0.0.5:13 default 99");
	struct ipk_sa *sas[3] = { sa_named("alice", 0x1001), sa_named("bob", 0x1002),
				  sa_named("carol", 0x1003) };

	assert_int_equal(q->ops->n_classes(q), 6);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_pkt *pkt = rows[r].src ? pkt_dscp(pool, rows[r].src, 0, 0, 100) :
						    pkt_len(pool, 100);
		uint32_t cls;

		for (int i = 0; rows[r].sa && i < 3; i++)
			if (strcmp(sas[i]->params.name, rows[r].sa) == 0) {
				ipk_sa_get(sas[i]);
				pkt->meta.sa = sas[i];
			}
		cls = ipk_qos_classify(q, pkt);
		if (cls != rows[r].cls || pkt->meta.user_id != rows[r].user)
			fail_msg("row %zu: class %u user %u, expected %u %u", r + 1, cls,
				 pkt->meta.user_id, rows[r].cls, rows[r].user);
		assert_int_equal(pkt->meta.class_id, cls);
		assert_int_equal(ipk_user_id_of(q, cls), rows[r].user);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(q, "users"), 5);
	assert_int_equal(stat_of(q, "keys"), 6);
	assert_int_equal(stat_of(q, "defaulted"), 4);
	assert_int_equal(stat_of(q, "unparsed"), 2);
	for (int i = 0; i < 3; i++)
		ipk_sa_put(sas[i]);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

/* "10.A.B.0/24:ID" for users first..first+n-1; @out must be large enough. */
static void user_map(char *out, uint32_t first, uint32_t n)
{
	size_t off = 0;

	for (uint32_t i = first; i < first + n; i++)
		off += (size_t)sprintf(out + off, "%s10.%u.%u.0/24:%u", off ? "," : "",
				       i / 256, i % 256, 1000 + i);
}

/* One instance, 4096 users: every user found by its own /24, one class each. */
static void user_4096_users(void **state)
{
	char *map = malloc(4097 * 24);
	struct ipk_qos_args args = { 4, { "map", map, "default", "0" } };
	struct ipk_err err = { { 0 } };
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *q = NULL;

	assert_non_null(map);
	user_map(map, 0, IPK_USER_MAX);
	if (ipk_qos_create(&q, "user", "users", &args, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(q->ops->n_classes(q), IPK_USER_MAX + 1);
	for (uint32_t i = 0; i < IPK_USER_MAX; i++) {
		char src[32];
		struct ipk_pkt *pkt;

		snprintf(src, sizeof(src), "10.%u.%u.%u", i / 256, i % 256, i % 200 + 1);
		pkt = pkt_dscp(pool, src, 0, 0, 64);
		assert_int_equal(ipk_qos_classify(q, pkt), i);
		assert_int_equal(pkt->meta.user_id, 1000 + i);
		ipk_pkt_free(pkt);
	}
	ipk_qos_destroy(q);
	/* One user more is refused. */
	user_map(map, 0, IPK_USER_MAX + 1);
	assert_int_equal(ipk_qos_create(&q, "user", "users", &args, &err), -EINVAL);
	assert_string_equal(err.msg, "user: more than 4096 users");
	free(map);
	ipk_pool_destroy(pool);
}

static void user_rejects_bad_arguments(void **state)
{
	qos_new_fails("user", "default 3", "user: no map (e.g. 'map alice:1,10.0.0.0/8:2')");
	qos_new_fails("user", "map alice", "user: 'alice' is not <sa name or prefix>:<user id>");
	qos_new_fails("user", "map alice:x", "user: user id 'x' not in 0..4294967294");
	qos_new_fails("user", "map alice:4294967295", "user: user id '4294967295' not in "
			      "0..4294967294");
	qos_new_fails("user", "map 10.0.0.1/24:1", "user: '10.0.0.1/24' is neither a prefix "
			      "nor an SA name");
	qos_new_fails("user", "map alice:1,bob:2 map alice:3", "user: 'alice' mapped twice");
	qos_new_fails("user", "map 10.0.0.0/8:1,10.0.0.0/8:2", "user: '10.0.0.0/8' mapped "
			      "twice");
	qos_new_fails("user", "map a:1,,b:2", "user: bad map entry in 'a:1,,b:2'");
	qos_new_fails("user", "map a:1 users 5", "user: unknown argument 'users'");
	qos_new_fails("user", "map a:1 default -1", "user: default '-1' is not a number");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_classes),
		cmocka_unit_test(user_4096_users),
		cmocka_unit_test(user_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
