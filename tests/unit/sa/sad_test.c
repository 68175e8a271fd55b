// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/sa/sad.c: a numbered script of adds, deletes, lookups by (SPI,
 * destination) and by name with their error messages; outbound SAs never answer an
 * inbound lookup; dead SAs are not returned; a held reference outlives deletion and the
 * table; listing keeps insertion order; lifetime events reach the SAD's hook; and 100,000
 * SAs (two destinations per SPI) all found, then deleted half by half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "sa/sad.h"

static void make_params(struct ipk_sa_params *p, const char *name, enum ipk_dir dir,
			uint32_t spi, const char *dst)
{
	ipk_sa_params_init(p);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->spi = spi;
	p->dir = dir;
	p->alg = ipk_alg_find("null-sha256");
	assert_non_null(p->alg);
	p->auth_key_len = 32;
	memset(p->auth_key, 0x11, 32);
	assert_int_equal(ipk_addr_parse(dst, &p->dst), 0);
	assert_int_equal(ipk_addr_parse(p->dst.family == 6 ? "2001:db8::99" : "198.51.100.99",
					&p->src), 0);
}

enum op { ADD, CHECK, DEL, LOOKUP, FIND, COUNT };

struct step {
	enum op op;
	const char *name;   /* ADD/CHECK/DEL/FIND; LOOKUP: the name expected, NULL none */
	enum ipk_dir dir;
	uint32_t spi;       /* ADD/CHECK/LOOKUP; COUNT: the count */
	const char *dst;
	int rc;             /* ADD/CHECK/DEL; FIND: 1 found, 0 not */
	const char *msg;
};

static const struct step script[] = {
	/* 0 */ { ADD, "in-a", IPK_DIR_IN, 0x1000, "192.0.2.2", 0, "" },
	/* 1 */ { LOOKUP, "in-a", 0, 0x1000, "192.0.2.2", 0, "" },
	/* 2 */ { LOOKUP, NULL, 0, 0x1000, "192.0.2.3", 0, "" },
	/* 3 */ { LOOKUP, NULL, 0, 0x1001, "192.0.2.2", 0, "" },
	/* 4: the same SPI towards another destination is another SA */
	{ ADD, "in-b", IPK_DIR_IN, 0x1000, "192.0.2.3", 0, "" },
	/* 5 */ { LOOKUP, "in-b", 0, 0x1000, "192.0.2.3", 0, "" },
	/* 6 */ { LOOKUP, "in-a", 0, 0x1000, "192.0.2.2", 0, "" },
	/* 7 */ { ADD, "in-c", IPK_DIR_IN, 0x1000, "2001:db8::2", 0, "" },
	/* 8 */ { LOOKUP, "in-c", 0, 0x1000, "2001:db8::2", 0, "" },
	/* 9: an IPv4-mapped IPv6 address is not the IPv4 address */
	{ LOOKUP, NULL, 0, 0x1000, "::ffff:192.0.2.2", 0, "" },
	/* 10 */ { LOOKUP, NULL, 0, 0x1000, "c000:202::", 0, "" },
	/* 11, 12: (SPI, destination) taken */
	{ CHECK, "in-dup", IPK_DIR_IN, 0x1000, "192.0.2.2", -EEXIST,
	  "sa in-dup: an inbound SA with spi 0x1000 already exists" },
	{ ADD, "in-dup", IPK_DIR_IN, 0x1000, "192.0.2.2", -EEXIST,
	  "sa in-dup: an inbound SA with spi 0x1000 already exists" },
	/* 13: names are unique across directions */
	{ ADD, "in-a", IPK_DIR_OUT, 0x2000, "192.0.2.9", -EEXIST, "sa in-a: name already in use" },
	/* 14: an outbound SA with the SPI and destination of an inbound one */
	{ ADD, "out-a", IPK_DIR_OUT, 0x1000, "192.0.2.2", 0, "" },
	/* 15 */ { LOOKUP, "in-a", 0, 0x1000, "192.0.2.2", 0, "" },
	/* 16 */ { ADD, "out-b", IPK_DIR_OUT, 0x3000, "192.0.2.2", 0, "" },
	/* 17: outbound SAs never answer an inbound lookup */
	{ LOOKUP, NULL, 0, 0x3000, "192.0.2.2", 0, "" },
	/* 18 */ { FIND, "out-b", 0, 0, NULL, 1, "" },
	/* 19 */ { COUNT, NULL, 0, 5, NULL, 0, "" },
	/* 20: invalid parameters change nothing */
	{ ADD, "bad", IPK_DIR_IN, 0x10, "192.0.2.2", -EINVAL,
	  "sa bad: spi 16 is reserved (use 256 or more)" },
	/* 21 */ { FIND, "bad", 0, 0, NULL, 0, "" },
	/* 22: a successful check adds nothing */
	{ CHECK, "in-d", IPK_DIR_IN, 0x4000, "192.0.2.2", 0, "" },
	/* 23 */ { FIND, "in-d", 0, 0, NULL, 0, "" },
	/* 24 */ { LOOKUP, NULL, 0, 0x4000, "192.0.2.2", 0, "" },
	/* 25 */ { COUNT, NULL, 0, 5, NULL, 0, "" },
	/* 26 */ { DEL, "in-a", 0, 0, NULL, 0, "" },
	/* 27 */ { LOOKUP, NULL, 0, 0x1000, "192.0.2.2", 0, "" },
	/* 28 */ { FIND, "in-a", 0, 0, NULL, 0, "" },
	/* 29 */ { LOOKUP, "in-b", 0, 0x1000, "192.0.2.3", 0, "" },
	/* 30 */ { LOOKUP, "in-c", 0, 0x1000, "2001:db8::2", 0, "" },
	/* 31 */ { FIND, "out-a", 0, 0, NULL, 1, "" },
	/* 32 */ { DEL, "in-a", 0, 0, NULL, -ENOENT, "sa in-a: no such SA" },
	/* 33 */ { COUNT, NULL, 0, 4, NULL, 0, "" },
	/* 34: the name and the (SPI, destination) are free again */
	{ ADD, "in-a", IPK_DIR_IN, 0x1000, "192.0.2.2", 0, "" },
	/* 35 */ { LOOKUP, "in-a", 0, 0x1000, "192.0.2.2", 0, "" },
	/* 36 */ { DEL, "out-a", 0, 0, NULL, 0, "" },
	/* 37 */ { LOOKUP, "in-a", 0, 0x1000, "192.0.2.2", 0, "" },
	/* 38 */ { DEL, "in-b", 0, 0, NULL, 0, "" },
	/* 39 */ { LOOKUP, "in-c", 0, 0x1000, "2001:db8::2", 0, "" },
	/* 40 */ { LOOKUP, NULL, 0, 0x1000, "192.0.2.3", 0, "" },
	/* 41 */ { DEL, "", 0, 0, NULL, -ENOENT, "sa : no such SA" },
	/* 42 */ { COUNT, NULL, 0, 3, NULL, 0, "" },
};

static void run_step(struct ipk_sad *sad, size_t i, const struct step *s)
{
	struct ipk_sa_params p;
	struct ipk_err err = { .msg = "" };
	struct ipk_addr dst;
	struct ipk_sa *sa;
	int rc = 0;

	switch (s->op) {
	case ADD:
	case CHECK:
		make_params(&p, s->name, s->dir, s->spi, s->dst);
		rc = s->op == ADD ? ipk_sad_add(sad, &p, &err) : ipk_sad_check_add(sad, &p, &err);
		break;
	case DEL:
		rc = ipk_sad_del(sad, s->name, &err);
		break;
	case LOOKUP:
		assert_int_equal(ipk_addr_parse(s->dst, &dst), 0);
		sa = ipk_sad_lookup_in(sad, s->spi, &dst);
		if (!s->name != !sa || (sa && strcmp(sa->params.name, s->name) != 0))
			fail_msg("step %zu: lookup %#x %s gave %s, want %s", i, s->spi, s->dst,
				 sa ? sa->params.name : "none", s->name ? s->name : "none");
		return;
	case FIND:
		sa = ipk_sad_find(sad, s->name);
		if ((sa != NULL) != s->rc || (sa && strcmp(sa->params.name, s->name) != 0))
			fail_msg("step %zu: find %s gave %p", i, s->name, (void *)sa);
		return;
	case COUNT:
		if (ipk_sad_count(sad) != s->spi)
			fail_msg("step %zu: count %u, want %u", i, ipk_sad_count(sad), s->spi);
		return;
	}
	if (rc != s->rc || strcmp(err.msg, s->msg) != 0)
		fail_msg("step %zu: %d '%s', want %d '%s'", i, rc, err.msg, s->rc, s->msg);
}

static void script_table(void **state)
{
	struct ipk_sad *sad;

	assert_int_equal(ipk_sad_create(&sad, 2), 0);
	assert_int_equal(ipk_sad_count(sad), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(script); i++)
		run_step(sad, i, &script[i]);
	/* Each SA got one crypto context per unit. */
	assert_int_equal(ipk_sad_find(sad, "in-c")->rt.n_crypto, 2);
	ipk_sad_destroy(sad);
	ipk_sad_destroy(NULL);
}

/* A hard-expired SA stays in the table (by name) but no longer answers lookups; a packet's
 * reference keeps an SA alive after deletion and after the table is gone. */
static void dead_and_held_sas(void **state)
{
	struct ipk_sa_params p;
	struct ipk_sad *sad;
	struct ipk_addr dst;
	struct ipk_sa *a, *b;

	assert_int_equal(ipk_sad_create(&sad, 0), 0); /* 0 units means 1 */
	make_params(&p, "a", IPK_DIR_IN, 0x5000, "192.0.2.2");
	p.hard.packets = 1;
	assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
	make_params(&p, "b", IPK_DIR_IN, 0x5001, "192.0.2.2");
	assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
	ipk_addr_parse("192.0.2.2", &dst);
	a = ipk_sad_lookup_in(sad, 0x5000, &dst);
	assert_non_null(a);
	assert_int_equal(a->rt.n_crypto, 1);
	assert_false(ipk_sa_account(a, 100)); /* hard limit reached: killed */
	assert_null(ipk_sad_lookup_in(sad, 0x5000, &dst));
	assert_ptr_equal(ipk_sad_find(sad, "a"), a);
	/* Still there, so its (SPI, destination) is still taken. */
	make_params(&p, "a2", IPK_DIR_IN, 0x5000, "192.0.2.2");
	assert_int_equal(ipk_sad_add(sad, &p, NULL), -EEXIST);
	b = ipk_sad_lookup_in(sad, 0x5001, &dst);
	ipk_sa_get(b);
	assert_int_equal(ipk_sad_del(sad, "b", NULL), 0);
	assert_true(atomic_load(&b->rt.dead));
	assert_int_equal(atomic_load(&b->rt.refcnt), 1);
	assert_null(ipk_sad_lookup_in(sad, 0x5001, &dst));
	assert_string_equal(b->params.name, "b");
	ipk_sa_get(a);
	ipk_sad_destroy(sad);
	assert_true(atomic_load(&a->rt.dead));
	assert_int_equal(a->rt.spi, 0x5000);
	ipk_sa_put(a);
	ipk_sa_put(b);
}

static void collect_names(struct ipk_sa *sa, void *arg)
{
	char *out = arg;

	strcat(out, sa->params.name);
	strcat(out, " ");
}

static void foreach_in_insertion_order(void **state)
{
	static const struct {
		enum op op;
		const char *name;
		const char *listing; /* after the step */
	} rows[] = {
		/* 0 */ { ADD, "k", "k " },
		/* 1 */ { ADD, "c", "k c " },
		/* 2 */ { ADD, "x", "k c x " },
		/* 3 */ { ADD, "a", "k c x a " },
		/* 4 */ { ADD, "m", "k c x a m " },
		/* 5 */ { DEL, "x", "k c a m " },
		/* 6 */ { DEL, "k", "c a m " },
		/* 7 */ { ADD, "k", "c a m k " },
		/* 8 */ { DEL, "k", "c a m " },
		/* 9 */ { ADD, "b", "c a m b " },
		/* 10 */ { DEL, "b", "c a m " },
		/* 11 */ { DEL, "c", "a m " },
		/* 12 */ { DEL, "m", "a " },
		/* 13 */ { DEL, "a", "" },
		/* 14 */ { ADD, "z", "z " },
	};
	struct ipk_sad *sad;
	uint32_t spi = 0x7000;

	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_sa_params p;
		char listing[256] = "";

		if (rows[i].op == ADD) {
			make_params(&p, rows[i].name, spi % 2 ? IPK_DIR_OUT : IPK_DIR_IN, spi,
				    "192.0.2.2");
			spi++;
			assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
		} else {
			assert_int_equal(ipk_sad_del(sad, rows[i].name, NULL), 0);
		}
		ipk_sad_foreach(sad, collect_names, listing);
		if (strcmp(listing, rows[i].listing) != 0)
			fail_msg("row %zu: '%s', want '%s'", i, listing, rows[i].listing);
	}
	ipk_sad_destroy(sad);
}

struct hook {
	unsigned soft, hard;
	struct ipk_sa *last;
};

static void on_event(struct ipk_sa *sa, bool hard, void *arg)
{
	struct hook *h = arg;

	if (hard)
		h->hard++;
	else
		h->soft++;
	h->last = sa;
}

/* The hook set on the SAD reaches SAs added before and after it was set. */
static void events_reach_the_hook(void **state)
{
	struct ipk_sa_params p;
	struct hook h = { 0 };
	struct ipk_sad *sad;
	struct ipk_sa *before, *after;
	void *arg = NULL;

	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	assert_null(ipk_sad_event_fn(sad, &arg));
	make_params(&p, "before", IPK_DIR_OUT, 0x6000, "192.0.2.2");
	p.soft.packets = 2;
	p.hard.packets = 3;
	assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
	ipk_sad_set_event(sad, on_event, &h);
	assert_ptr_equal(ipk_sad_event_fn(sad, &arg), on_event);
	assert_ptr_equal(arg, &h);
	make_params(&p, "after", IPK_DIR_IN, 0x6001, "192.0.2.2");
	p.soft.bytes = 100;
	assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
	before = ipk_sad_find(sad, "before");
	after = ipk_sad_find(sad, "after");
	for (int i = 0; i < 3; i++)
		ipk_sa_account(before, 10);
	assert_int_equal(h.soft, 1);
	assert_int_equal(h.hard, 1);
	assert_ptr_equal(h.last, before);
	ipk_sa_account(after, 99);
	assert_int_equal(h.soft, 1);
	ipk_sa_account(after, 1);
	assert_int_equal(h.soft, 2);
	assert_ptr_equal(h.last, after);
	/* Unset: no more calls. */
	ipk_sad_set_event(sad, NULL, NULL);
	make_params(&p, "third", IPK_DIR_OUT, 0x6002, "192.0.2.2");
	p.hard.packets = 1;
	assert_int_equal(ipk_sad_add(sad, &p, NULL), 0);
	ipk_sa_account(ipk_sad_find(sad, "third"), 1);
	assert_int_equal(h.hard, 1);
	ipk_sad_destroy(sad);
}

/* ---- 100,000 SAs ---- */

#define MANY 100000u
#define PAIRS (MANY / 2)

/* SA i uses SPI spi_of(i / 2) towards destination dst_of(i % 2): every SPI twice. The
 * first half of the SPIs are sequential (as a counter allocates them), the rest
 * scrambled (as random SPIs look); hundred_thousand_sas checks that none repeats. */
static uint32_t spi_of(uint32_t k)
{
	uint32_t x;

	if (k < PAIRS / 2)
		return 0x10000 + k;
	x = k * 0x9e3779b1u;
	return x ^ (x >> 15);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void dst_of(uint32_t which, struct ipk_addr *a)
{
	ipk_addr_parse(which == 0 ? "203.0.113.1" : which == 1 ? "203.0.113.2" : "203.0.113.3",
		       a);
}

static void name_of(uint32_t i, char *buf)
{
	snprintf(buf, IPK_NAME_MAX, "sa-%06u", i);
}

/* Checks every SA: present (by lookup and by name) when @present says so, absent
 * otherwise. */
static void check_all(const struct ipk_sad *sad, bool (*present)(uint32_t i), const char *when)
{
	struct ipk_addr d[3];
	char name[IPK_NAME_MAX];

	for (uint32_t w = 0; w < 3; w++)
		dst_of(w, &d[w]);
	for (uint32_t i = 0; i < MANY; i++) {
		struct ipk_sa *by_spi = ipk_sad_lookup_in(sad, spi_of(i / 2), &d[i % 2]);
		struct ipk_sa *by_name;

		name_of(i, name);
		by_name = ipk_sad_find(sad, name);
		if (present(i)) {
			if (!by_spi || by_spi != by_name || strcmp(by_spi->params.name, name) != 0)
				fail_msg("%s: SA %u (spi %#x) not found: %p %p", when, i,
					 spi_of(i / 2), (void *)by_spi, (void *)by_name);
		} else if (by_spi || by_name) {
			fail_msg("%s: deleted SA %u still found", when, i);
		}
		/* The third destination never had an SA. */
		if (i % 2 == 0 && ipk_sad_lookup_in(sad, spi_of(i / 2), &d[2]))
			fail_msg("%s: spi %#x found towards a third destination", when,
				 spi_of(i / 2));
	}
}

static bool all(uint32_t i)
{
	return true;
}

static bool odd(uint32_t i)
{
	return i % 2;
}

static bool none(uint32_t i)
{
	return false;
}

struct order_check {
	uint32_t next;
	uint32_t step;
	bool ok;
};

static void check_order(struct ipk_sa *sa, void *arg)
{
	struct order_check *o = arg;
	char name[IPK_NAME_MAX];

	name_of(o->next, name);
	o->ok &= strcmp(sa->params.name, name) == 0;
	o->next += o->step;
}

static void hundred_thousand_sas(void **state)
{
	struct order_check order = { 0, 1, true };
	struct ipk_sad *sad;
	struct ipk_addr absent;
	char name[IPK_NAME_MAX];

	uint32_t *spis = malloc(PAIRS * sizeof(*spis));

	assert_non_null(spis);
	for (uint32_t k = 0; k < PAIRS; k++)
		spis[k] = spi_of(k);
	qsort(spis, PAIRS, sizeof(*spis), cmp_u32);
	assert_true(spis[0] >= 256);
	for (uint32_t k = 1; k < PAIRS; k++)
		assert_true(spis[k - 1] < spis[k]);
	free(spis);
	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	for (uint32_t i = 0; i < MANY; i++) {
		struct ipk_sa_params p;
		struct ipk_err err;
		int rc;

		name_of(i, name);
		make_params(&p, name, IPK_DIR_IN, spi_of(i / 2), "203.0.113.1");
		dst_of(i % 2, &p.dst);
		p.replay_window = 32;
		rc = ipk_sad_add(sad, &p, &err);
		if (rc)
			fail_msg("add %u: %d %s", i, rc, err.msg);
	}
	assert_int_equal(ipk_sad_count(sad), MANY);
	check_all(sad, all, "after adding");
	ipk_sad_foreach(sad, check_order, &order);
	assert_true(order.ok);
	assert_int_equal(order.next, MANY);
	/* SPIs never used. */
	dst_of(0, &absent);
	assert_null(ipk_sad_lookup_in(sad, 0x10000 + PAIRS, &absent));
	assert_null(ipk_sad_lookup_in(sad, 0x7fffffff, &absent));
	/* Half: every even SA, so each SPI keeps only its second destination. */
	for (uint32_t i = 0; i < MANY; i += 2) {
		name_of(i, name);
		assert_int_equal(ipk_sad_del(sad, name, NULL), 0);
	}
	assert_int_equal(ipk_sad_count(sad), MANY / 2);
	check_all(sad, odd, "after deleting half");
	order = (struct order_check){ 1, 2, true };
	ipk_sad_foreach(sad, check_order, &order);
	assert_true(order.ok);
	/* The other half, newest first. */
	for (uint32_t i = MANY - 1; i < MANY; i -= 2) {
		name_of(i, name);
		assert_int_equal(ipk_sad_del(sad, name, NULL), 0);
	}
	assert_int_equal(ipk_sad_count(sad), 0);
	check_all(sad, none, "after deleting all");
	ipk_sad_destroy(sad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(script_table),
		cmocka_unit_test(dead_and_held_sas),
		cmocka_unit_test(foreach_in_insertion_order),
		cmocka_unit_test(events_reach_the_hook),
		cmocka_unit_test(hundred_thousand_sas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
