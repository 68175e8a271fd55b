// SPDX-License-Identifier: BSD-2-Clause
#include "core/names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS_MIN 64u

static uint32_t hash_name(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

int ipk_names_init(struct ipk_names *t)
{
	t->buckets = calloc(BUCKETS_MIN, sizeof(*t->buckets));
	t->mask = BUCKETS_MIN - 1;
	t->count = 0;
	return t->buckets ? 0 : -ENOMEM;
}

void ipk_names_fini(struct ipk_names *t)
{
	free(t->buckets);
	t->buckets = NULL;
}

static void push(struct ipk_name_node **buckets, uint32_t mask, struct ipk_name_node *node)
{
	struct ipk_name_node **head = &buckets[hash_name(node->name) & mask];

	node->next = *head;
	*head = node;
}

int ipk_names_reserve(struct ipk_names *t)
{
	uint32_t n = (t->mask + 1) * 2;
	struct ipk_name_node **buckets;

	if (t->count < t->mask + 1)
		return 0;
	buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct ipk_name_node *node = t->buckets[i], *next;

		for (; node; node = next) {
			next = node->next;
			push(buckets, n - 1, node);
		}
	}
	free(t->buckets);
	t->buckets = buckets;
	t->mask = n - 1;
	return 0;
}

void ipk_names_link(struct ipk_names *t, struct ipk_name_node *node)
{
	push(t->buckets, t->mask, node);
	t->count++;
}

void ipk_names_unlink(struct ipk_names *t, struct ipk_name_node *node)
{
	struct ipk_name_node **pp = &t->buckets[hash_name(node->name) & t->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			t->count--;
			return;
		}
	}
}

struct ipk_name_node *ipk_names_find(const struct ipk_names *t, const char *name)
{
	struct ipk_name_node *node = t->buckets[hash_name(name) & t->mask];

	for (; node; node = node->next)
		if (strcmp(node->name, name) == 0)
			return node;
	return NULL;
}
