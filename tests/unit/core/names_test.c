// SPDX-License-Identifier: BSD-2-Clause
/* core/names: objects found by name while the table grows, shrinks and is re-filled. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/names.h"

struct thing {
	char name[24];
	unsigned id;
	struct ipk_name_node node;
};

static struct thing *find(const struct ipk_names *t, const char *name)
{
	struct ipk_name_node *node = ipk_names_find(t, name);

	return node ? ipk_names_entry(node, struct thing, node) : NULL;
}

static void add(struct ipk_names *t, struct thing *x, unsigned id)
{
	snprintf(x->name, sizeof(x->name), "thing-%u", id);
	x->id = id;
	x->node.name = x->name;
	assert_int_equal(ipk_names_reserve(t), 0);
	ipk_names_link(t, &x->node);
}

/* 10,000 names through many doublings: each found, as itself; unlinking every third
 * loses exactly those; their names can be linked again. */
static void grows_finds_unlinks(void **state)
{
	enum { N = 10000 };
	struct thing *things = calloc(N, sizeof(*things));
	struct ipk_names t;
	char name[24];

	(void)state;
	assert_non_null(things);
	assert_int_equal(ipk_names_init(&t), 0);
	assert_null(find(&t, "thing-0"));
	for (unsigned i = 0; i < N; i++)
		add(&t, &things[i], i);
	assert_int_equal(t.count, N);
	/* one node per bucket at most: the chains stay short */
	assert_true(t.mask + 1 >= N);
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "thing-%u", i);
		assert_ptr_equal(find(&t, name), &things[i]);
	}
	for (unsigned i = 0; i < N; i += 3)
		ipk_names_unlink(&t, &things[i].node);
	assert_int_equal(t.count, N - (N + 2) / 3);
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "thing-%u", i);
		if (i % 3 == 0)
			assert_null(find(&t, name));
		else
			assert_int_equal(find(&t, name)->id, i);
	}
	for (unsigned i = 0; i < N; i += 3)
		add(&t, &things[i], i);
	assert_int_equal(t.count, N);
	assert_ptr_equal(find(&t, "thing-9999"), &things[9999]);
	/* names that share a prefix or differ in one byte are different names */
	assert_null(find(&t, "thing-"));
	assert_null(find(&t, "thing-10000"));
	assert_null(find(&t, "Thing-1"));
	ipk_names_fini(&t);
	free(things);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(grows_finds_unlinks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
