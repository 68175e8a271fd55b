/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Name table: control-plane objects (SAs, policies) found by name in O(1), so that
 * loading or checking thousands of them costs no more per object than loading ten.
 *
 * Intrusive: an object embeds a struct ipk_name_node whose `name` points at the object's
 * own NUL-terminated name (which must not change while linked). The table chains nodes in
 * a power-of-two number of buckets by FNV-1a of the name and doubles them when a reserve
 * would put more than one node per bucket. Reserve before making the object, so that an
 * allocation failure changes nothing; link and unlink never fail.
 *
 * Threads: none of its own; the caller serialises every call.
 */
#ifndef IPK_CORE_NAMES_H
#define IPK_CORE_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct ipk_name_node {
	struct ipk_name_node *next;
	const char *name;
};

struct ipk_names {
	struct ipk_name_node **buckets;
	uint32_t mask;  /* buckets - 1 */
	uint32_t count; /* linked nodes */
};

/* The object that embeds @node as its member @member. */
#define ipk_names_entry(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* Returns 0 or -ENOMEM. */
int ipk_names_init(struct ipk_names *t);
/* Frees the buckets; the objects are the caller's. */
void ipk_names_fini(struct ipk_names *t);
/* Makes room for one more node. Returns 0 or -ENOMEM (the table is unchanged). */
int ipk_names_reserve(struct ipk_names *t);
/* Links @node (its name set, no node of that name linked), after ipk_names_reserve. */
void ipk_names_link(struct ipk_names *t, struct ipk_name_node *node);
/* Unlinks @node, which must be linked. */
void ipk_names_unlink(struct ipk_names *t, struct ipk_name_node *node);
/* The node named @name, or NULL. */
struct ipk_name_node *ipk_names_find(const struct ipk_names *t, const char *name);

#endif
