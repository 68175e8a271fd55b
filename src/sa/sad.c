// SPDX-License-Identifier: BSD-2-Clause
/*
 * SAD: inbound SAs by (SPI, destination) in an open-addressing table of 16-byte slots,
 * every SA by name in a chained table (control plane), plus an array in insertion order
 * for listing.
 *
 * The SPI table is what the packet path reads, so it is laid out for the cache: a slot
 * holds the SPI, a 32-bit tag of the destination and the SA pointer, four slots to a
 * cache line. Linear probing from the high bits of a 64-bit multiplicative hash of the
 * SPI, load kept at or below 1/2, so a lookup reads one line of the table (rarely two)
 * and then the SA only when SPI and tag both match. For an IPv4 destination the tag is
 * the address itself, so the SA's parameters are not read at all: only its runtime line,
 * for `dead`. Deletion shifts the following slots back (no tombstones), so probe
 * sequences stay as short as the load allows however many SAs come and go.
 */
#include "sa/sad.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SPI_SLOTS_MIN 64u  /* one kilobyte; doubles while more than half full */
#define SLOT_NOT_V4 ((uintptr_t)1) /* in spi_slot.ref: the tag is a hash, compare in full */

/* One inbound SA in the SPI table; ref == 0 marks a free slot. */
struct spi_slot {
	uint32_t spi;
	uint32_t tag;   /* IPv4: the destination address; otherwise a hash of it */
	uintptr_t ref;  /* the SA, | SLOT_NOT_V4 when its destination is not IPv4 */
};

_Static_assert(sizeof(struct spi_slot) == 16, "four slots to a cache line");
_Static_assert(_Alignof(struct ipk_sa) > SLOT_NOT_V4, "SA pointers leave bit 0 free");

struct ipk_sad {
	struct spi_slot *slots;   /* inbound SAs; power-of-two size, at most half full */
	uint32_t slot_mask;
	uint32_t slot_shift;      /* 64 - log2(slots): the hash bits that pick a slot */
	uint32_t n_in;            /* inbound SAs, i.e. used slots */
	struct ipk_names names;   /* all SAs, by name */
	struct ipk_sa **order;    /* insertion order */
	uint32_t count;
	uint32_t order_cap;
	uint32_t n_workers;
	ipk_sa_event_fn event;
	void *event_arg;
};

/* The destination as the table keys it. */
struct spi_key {
	uint32_t spi;
	uint32_t tag;
	uintptr_t not_v4;
};

/* Fibonacci hashing: the top bits of the 64-bit product depend on every bit of the SPI,
 * so sequential SPIs spread over the table and SPIs differing only in their top byte do
 * not collide. */
static uint32_t spi_home(const struct ipk_sad *sad, uint32_t spi)
{
	return (uint32_t)(((uint64_t)spi * 0x9e3779b97f4a7c15ull) >> sad->slot_shift);
}

/* Folds an address that is not IPv4 into 32 bits. Any 32 bits would do, since a
 * matching tag is only a hint (the SA's dst is then compared); mixing all 128 keeps SAs
 * towards one /64 from sharing a tag. */
static uint32_t addr_tag(const struct ipk_addr *dst)
{
	uint64_t w[2];

	memcpy(w, dst->bytes, sizeof(w));
	w[0] = (w[0] ^ dst->family) * 0x9e3779b97f4a7c15ull;
	w[1] = (w[1] ^ w[0]) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(w[1] >> 32);
}

static struct spi_key make_key(uint32_t spi, const struct ipk_addr *dst)
{
	struct spi_key k = { spi, 0, 0 };

	if (dst->family == 4) {
		memcpy(&k.tag, dst->bytes, sizeof(k.tag));
		return k;
	}
	k.tag = addr_tag(dst);
	k.not_v4 = SLOT_NOT_V4;
	return k;
}

static struct ipk_sa *slot_sa(const struct spi_slot *s)
{
	return (struct ipk_sa *)(s->ref & ~SLOT_NOT_V4);
}

static bool slot_matches(const struct spi_slot *s, const struct spi_key *k,
			 const struct ipk_addr *dst)
{
	const struct ipk_addr *sa_dst;

	if (s->spi != k->spi || s->tag != k->tag || (s->ref & SLOT_NOT_V4) != k->not_v4)
		return false;
	if (!k->not_v4)
		return true; /* the tag is the whole IPv4 address */
	sa_dst = &slot_sa(s)->params.dst;
	return sa_dst->family == dst->family &&
	       memcmp(sa_dst->bytes, dst->bytes, ipk_addr_len(dst->family)) == 0;
}

/* Places @slot in the first free slot from its home; the table has one (load <= 1/2). */
static void slot_place(struct ipk_sad *sad, const struct spi_slot *slot)
{
	uint32_t i = spi_home(sad, slot->spi);

	while (sad->slots[i].ref)
		i = (i + 1) & sad->slot_mask;
	sad->slots[i] = *slot;
}

static void slot_insert(struct ipk_sad *sad, struct ipk_sa *sa)
{
	struct spi_key k = make_key(sa->params.spi, &sa->params.dst);
	struct spi_slot slot = { k.spi, k.tag, (uintptr_t)sa | k.not_v4 };

	slot_place(sad, &slot);
	sad->n_in++;
}

static struct spi_slot *slots_alloc(uint32_t n)
{
	/* Cache-line aligned so that no slot straddles two lines. */
	struct spi_slot *slots = aligned_alloc(IPK_CACHELINE, n * sizeof(*slots));

	if (slots)
		memset(slots, 0, n * sizeof(*slots));
	return slots;
}

/* Makes room for one more inbound SA: doubles and rehashes past half full. */
static int reserve_slot(struct ipk_sad *sad)
{
	uint32_t n = (sad->slot_mask + 1) * 2;
	struct spi_slot *old = sad->slots, *slots;

	if (sad->n_in + 1 <= (sad->slot_mask + 1) / 2)
		return 0;
	slots = slots_alloc(n);
	if (!slots)
		return -ENOMEM;
	sad->slots = slots;
	sad->slot_mask = n - 1;
	sad->slot_shift--;
	for (uint32_t i = 0; i < n / 2; i++)
		if (old[i].ref)
			slot_place(sad, &old[i]);
	free(old);
	return 0;
}

/* Frees slot @i by moving back each following entry of the run that may sit there (its
 * home is not in the cyclic range (i, j]), so no lookup ever stops short of its SA. */
static void slot_remove(struct ipk_sad *sad, uint32_t i)
{
	struct spi_slot *slots = sad->slots;
	uint32_t mask = sad->slot_mask, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!slots[j].ref)
			break;
		home = spi_home(sad, slots[j].spi);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			slots[i] = slots[j];
			i = j;
		}
	}
	memset(&slots[i], 0, sizeof(slots[i]));
	sad->n_in--;
}

uint32_t ipk_sad_workers(const struct ipk_sad *sad)
{
	return sad->n_workers;
}

int ipk_sad_create(struct ipk_sad **out, uint32_t n_workers)
{
	struct ipk_sad *sad = calloc(1, sizeof(*sad));

	if (!sad)
		return -ENOMEM;
	sad->slots = slots_alloc(SPI_SLOTS_MIN);
	sad->slot_mask = SPI_SLOTS_MIN - 1;
	sad->slot_shift = 64 - (uint32_t)__builtin_ctz(SPI_SLOTS_MIN);
	sad->n_workers = n_workers ? n_workers : 1;
	if (!sad->slots || ipk_names_init(&sad->names)) {
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
	free(sad->slots);
	ipk_names_fini(&sad->names);
	free(sad);
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

/* The inbound SA with this SPI whose destination is @dst (any destination if @dst is NULL),
 * dead or alive. */
static struct ipk_sa *find_spi(const struct ipk_sad *sad, uint32_t spi,
			       const struct ipk_addr *dst)
{
	const struct spi_slot *s;
	struct spi_key k;
	uint32_t i = spi_home(sad, spi);

	if (!dst) {
		for (; (s = &sad->slots[i])->ref; i = (i + 1) & sad->slot_mask)
			if (s->spi == spi)
				return slot_sa(s);
		return NULL;
	}
	k = make_key(spi, dst);
	for (; (s = &sad->slots[i])->ref; i = (i + 1) & sad->slot_mask)
		if (slot_matches(s, &k, dst))
			return slot_sa(s);
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
	/* Every allocation before the SA exists, so a failure changes nothing. */
	if (reserve_order(sad) || ipk_names_reserve(&sad->names) ||
	    (p->dir == IPK_DIR_IN && reserve_slot(sad)))
		return ipk_err_set(err, -ENOMEM, "sa %s: out of memory", p->name);
	rc = ipk_sa_create(&sa, p, sad->n_workers, err);
	if (rc)
		return rc;
	sa->event = sad->event;
	sa->event_arg = sad->event_arg;
	sa->name_node.name = sa->params.name;
	ipk_names_link(&sad->names, &sa->name_node);
	if (p->dir == IPK_DIR_IN)
		slot_insert(sad, sa);
	sad->order[sad->count++] = sa;
	return 0;
}

static void unlink_spi(struct ipk_sad *sad, struct ipk_sa *sa)
{
	uint32_t i = spi_home(sad, sa->params.spi);

	for (; sad->slots[i].ref; i = (i + 1) & sad->slot_mask) {
		if (slot_sa(&sad->slots[i]) == sa) {
			slot_remove(sad, i);
			return;
		}
	}
}

int ipk_sad_del(struct ipk_sad *sad, const char *name, struct ipk_err *err)
{
	struct ipk_sa *sa = ipk_sad_find(sad, name);
	uint32_t i;

	if (!sa)
		return ipk_err_set(err, -ENOENT, "sa %s: no such SA", name);
	ipk_names_unlink(&sad->names, &sa->name_node);
	if (sa->params.dir == IPK_DIR_IN)
		unlink_spi(sad, sa);
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

	/* Acquire pairs with the release store in ipk_sa_kill(). */
	if (!sa || atomic_load_explicit(&sa->rt.dead, memory_order_acquire))
		return NULL;
	return sa;
}

struct ipk_sa *ipk_sad_find(const struct ipk_sad *sad, const char *name)
{
	struct ipk_name_node *node = ipk_names_find(&sad->names, name);

	return node ? ipk_names_entry(node, struct ipk_sa, name_node) : NULL;
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
