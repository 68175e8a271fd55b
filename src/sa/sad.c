// SPDX-License-Identifier: BSD-2-Clause
/*
 * SAD: two chained hash tables (inbound SAs by SPI, every SA by name) that double when
 * their load passes 1, so a lookup visits one short chain whatever the number of SAs,
 * plus an array in insertion order for listing.
 */
#include "sa/sad.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ipk_sad {
	struct ipk_sa **by_spi;   /* inbound SAs, chained through hash_next */
	struct ipk_sa **by_name;  /* all SAs, chained through name_next */
	uint32_t n_buckets;       /* power of two, same for both tables */
	struct ipk_sa **order;    /* insertion order */
	uint32_t count;
	uint32_t order_cap;
	uint32_t n_workers;
	ipk_sa_event_fn event;
	void *event_arg;
};

static uint32_t hash_spi(uint32_t spi)
{
	/* Fibonacci hashing: SPIs are often sequential, this spreads them. */
	return (uint32_t)((spi * 2654435769u) >> 7);
}

static uint32_t hash_name(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

int ipk_sad_create(struct ipk_sad **out, uint32_t n_workers)
{
	struct ipk_sad *sad = calloc(1, sizeof(*sad));

	if (!sad)
		return -ENOMEM;
	sad->n_buckets = 64;
	sad->by_spi = calloc(sad->n_buckets, sizeof(*sad->by_spi));
	sad->by_name = calloc(sad->n_buckets, sizeof(*sad->by_name));
	sad->n_workers = n_workers ? n_workers : 1;
	if (!sad->by_spi || !sad->by_name) {
		ipk_sad_destroy(sad);
		return -ENOMEM;
	}
	*out = sad;
	return 0;
}

void ipk_sad_destroy(struct ipk_sad *sad)
{
	if (!sad)
		return;
	for (uint32_t i = 0; i < sad->count; i++) {
		ipk_sa_kill(sad->order[i]);
		ipk_sa_put(sad->order[i]);
	}
	free(sad->order);
	free(sad->by_spi);
	free(sad->by_name);
	free(sad);
}

static void link_sa(struct ipk_sa **by_spi, struct ipk_sa **by_name, uint32_t mask,
		    struct ipk_sa *sa)
{
	uint32_t n = hash_name(sa->params.name) & mask;

	sa->name_next = by_name[n];
	by_name[n] = sa;
	if (sa->params.dir == IPK_DIR_IN) {
		uint32_t s = hash_spi(sa->params.spi) & mask;

		sa->hash_next = by_spi[s];
		by_spi[s] = sa;
	}
}

static int grow(struct ipk_sad *sad)
{
	uint32_t n = sad->n_buckets * 2;
	struct ipk_sa **by_spi = calloc(n, sizeof(*by_spi));
	struct ipk_sa **by_name = calloc(n, sizeof(*by_name));

	if (!by_spi || !by_name) {
		free(by_spi);
		free(by_name);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < sad->count; i++)
		link_sa(by_spi, by_name, n - 1, sad->order[i]);
	free(sad->by_spi);
	free(sad->by_name);
	sad->by_spi = by_spi;
	sad->by_name = by_name;
	sad->n_buckets = n;
	return 0;
}

static int reserve_order(struct ipk_sad *sad)
{
	struct ipk_sa **order;
	uint32_t cap;

	if (sad->count < sad->order_cap)
		return 0;
	cap = sad->order_cap ? sad->order_cap * 2 : 64;
	order = realloc(sad->order, cap * sizeof(*order));
	if (!order)
		return -ENOMEM;
	sad->order = order;
	sad->order_cap = cap;
	return 0;
}

/* The inbound SA with this SPI whose destination is @dst (any destination if @dst is NULL). */
static struct ipk_sa *find_spi(const struct ipk_sad *sad, uint32_t spi,
			       const struct ipk_addr *dst)
{
	struct ipk_sa *sa = sad->by_spi[hash_spi(spi) & (sad->n_buckets - 1)];

	for (; sa; sa = sa->hash_next)
		if (sa->params.spi == spi && (!dst || ipk_addr_equal(&sa->params.dst, dst)))
			return sa;
	return NULL;
}

int ipk_sad_check_add(const struct ipk_sad *sad, const struct ipk_sa_params *p,
		      struct ipk_err *err)
{
	int rc = ipk_sa_params_check(p, err);

	if (rc)
		return rc;
	if (ipk_sad_find(sad, p->name))
		return ipk_err_set(err, -EEXIST, "sa %s: name already in use", p->name);
	if (p->dir == IPK_DIR_IN && find_spi(sad, p->spi, &p->dst))
		return ipk_err_set(err, -EEXIST, "sa %s: an inbound SA with spi 0x%x already exists",
				   p->name, p->spi);
	return 0;
}

int ipk_sad_add(struct ipk_sad *sad, const struct ipk_sa_params *p, struct ipk_err *err)
{
	struct ipk_sa *sa;
	int rc;

	rc = ipk_sad_check_add(sad, p, err);
	if (rc)
		return rc;
	if (reserve_order(sad) || (sad->count >= sad->n_buckets && grow(sad)))
		return ipk_err_set(err, -ENOMEM, "sa %s: out of memory", p->name);
	rc = ipk_sa_create(&sa, p, sad->n_workers, err);
	if (rc)
		return rc;
	sa->event = sad->event;
	sa->event_arg = sad->event_arg;
	link_sa(sad->by_spi, sad->by_name, sad->n_buckets - 1, sa);
	sad->order[sad->count++] = sa;
	return 0;
}

static void unlink_chain(struct ipk_sa **head, struct ipk_sa *sa, bool by_name)
{
	for (struct ipk_sa **pp = head; *pp; pp = by_name ? &(*pp)->name_next : &(*pp)->hash_next) {
		if (*pp == sa) {
			*pp = by_name ? sa->name_next : sa->hash_next;
			return;
		}
	}
}

int ipk_sad_del(struct ipk_sad *sad, const char *name, struct ipk_err *err)
{
	struct ipk_sa *sa = ipk_sad_find(sad, name);
	uint32_t mask = sad->n_buckets - 1, i;

	if (!sa)
		return ipk_err_set(err, -ENOENT, "sa %s: no such SA", name);
	unlink_chain(&sad->by_name[hash_name(name) & mask], sa, true);
	if (sa->params.dir == IPK_DIR_IN)
		unlink_chain(&sad->by_spi[hash_spi(sa->params.spi) & mask], sa, false);
	for (i = 0; sad->order[i] != sa; i++)
		;
	memmove(&sad->order[i], &sad->order[i + 1], (sad->count - i - 1) * sizeof(sa));
	sad->count--;
	ipk_sa_kill(sa);
	ipk_sa_put(sa);
	return 0;
}

struct ipk_sa *ipk_sad_lookup_in(const struct ipk_sad *sad, uint32_t spi,
				 const struct ipk_addr *dst)
{
	struct ipk_sa *sa = find_spi(sad, spi, dst);

	if (!sa || atomic_load_explicit(&sa->rt.dead, memory_order_acquire))
		return NULL;
	return sa;
}

struct ipk_sa *ipk_sad_find(const struct ipk_sad *sad, const char *name)
{
	struct ipk_sa *sa = sad->by_name[hash_name(name) & (sad->n_buckets - 1)];

	for (; sa; sa = sa->name_next)
		if (strcmp(sa->params.name, name) == 0)
			return sa;
	return NULL;
}

uint32_t ipk_sad_count(const struct ipk_sad *sad)
{
	return sad->count;
}

void ipk_sad_foreach(const struct ipk_sad *sad, void (*fn)(struct ipk_sa *sa, void *arg),
		     void *arg)
{
	for (uint32_t i = 0; i < sad->count; i++)
		fn(sad->order[i], arg);
}

void ipk_sad_set_event(struct ipk_sad *sad, ipk_sa_event_fn fn, void *arg)
{
	sad->event = fn;
	sad->event_arg = arg;
	for (uint32_t i = 0; i < sad->count; i++) {
		sad->order[i]->event = fn;
		sad->order[i]->event_arg = arg;
	}
}

ipk_sa_event_fn ipk_sad_event_fn(const struct ipk_sad *sad, void **arg)
{
	*arg = sad->event_arg;
	return sad->event;
}
