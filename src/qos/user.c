// SPDX-License-Identifier: BSD-2-Clause
#include "qos/user.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/compiler.h"
#include "proto/ip.h"
#include "sa/sa.h"

enum { KEY_EMPTY = 0, KEY_NAME = 1, KEY_PREFIX = 2 };

/* One slot of the open-addressed key table; names and prefixes share it. */
struct user_key {
	uint8_t kind;
	uint8_t family;
	uint8_t len;              /* prefix length */
	uint32_t cls;
	uint8_t bytes[IPK_NAME_MAX]; /* NUL-padded name, or the masked address */
};

struct user_tables {
	struct user_key *slots;
	uint32_t mask;            /* slots - 1, a power of two minus one */
	uint32_t *user_ids;       /* class -> user id */
	uint32_t n_users, n_keys, n_names;
	uint8_t lens[2][129];     /* distinct prefix lengths, longest first: [0] v4, [1] v6 */
	uint8_t n_lens[2];
};

struct user_cls {
	struct user_tables t;
	uint32_t default_user;
	uint64_t defaulted, unparsed;
};

/* FNV-1a over the key's identity. */
static uint32_t key_hash(const struct user_key *k)
{
	uint32_t h = 2166136261u;
	const uint8_t head[3] = { k->kind, k->family, k->len };

	for (size_t i = 0; i < sizeof(head); i++)
		h = (h ^ head[i]) * 16777619u;
	for (size_t i = 0; i < sizeof(k->bytes); i++)
		h = (h ^ k->bytes[i]) * 16777619u;
	return h;
}

static bool key_equal(const struct user_key *a, const struct user_key *b)
{
	return a->kind == b->kind && a->family == b->family && a->len == b->len &&
	       memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static struct user_key *key_slot(const struct user_tables *t, const struct user_key *k)
{
	uint32_t i = key_hash(k) & t->mask;

	while (t->slots[i].kind != KEY_EMPTY && !key_equal(&t->slots[i], k))
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

static void key_prefix(struct user_key *k, const struct ipk_addr *addr, uint8_t len)
{
	memset(k, 0, sizeof(*k));
	k->kind = KEY_PREFIX;
	k->family = addr->family;
	k->len = len;
	memcpy(k->bytes, addr->bytes, len / 8);
	if (len % 8)
		k->bytes[len / 8] = (uint8_t)(addr->bytes[len / 8] & (0xffu << (8 - len % 8)));
}

/* Class of user @id, adding the user if new. The linear search only runs at creation. */
static int user_class(struct user_tables *t, uint32_t id, uint32_t *cls, struct ipk_err *err)
{
	for (uint32_t i = 0; i < t->n_users; i++)
		if (t->user_ids[i] == id) {
			*cls = i;
			return 0;
		}
	if (t->n_users == IPK_USER_MAX)
		return ipk_err_set(err, -EINVAL, "user: more than %d users", IPK_USER_MAX);
	t->user_ids[t->n_users] = id;
	*cls = t->n_users++;
	return 0;
}

static void note_len(struct user_tables *t, uint8_t family, uint8_t len)
{
	uint8_t *lens = t->lens[family == 6];
	uint8_t *n = &t->n_lens[family == 6];
	uint8_t i = 0;

	while (i < *n && lens[i] > len)
		i++;
	if (i < *n && lens[i] == len)
		return;
	memmove(lens + i + 1, lens + i, *n - i);
	lens[i] = len;
	(*n)++;
}

/* "<key>:<id>" -> table. The id follows the last ':' so that IPv6 keys work. */
static int add_entry(struct user_tables *t, const char *entry, struct ipk_err *err)
{
	char key[96];
	const char *colon = strrchr(entry, ':');
	struct ipk_prefix pf;
	struct user_key k, *slot;
	uint64_t id;
	size_t klen = colon ? (size_t)(colon - entry) : 0;

	if (!colon || klen == 0 || klen >= sizeof(key))
		return ipk_err_set(err, -EINVAL, "user: '%s' is not <sa name or prefix>:<user id>",
				   entry);
	memcpy(key, entry, klen);
	key[klen] = '\0';
	if (ipk_qos_parse_u64(colon + 1, &id) || id >= UINT32_MAX)
		return ipk_err_set(err, -EINVAL, "user: user id '%s' not in 0..%u", colon + 1,
				   UINT32_MAX - 1);
	memset(&k, 0, sizeof(k));
	if (ipk_prefix_parse(key, &pf) == 0) {
		key_prefix(&k, &pf.addr, pf.len);
	} else if (strchr(key, '/') || klen >= IPK_NAME_MAX) {
		return ipk_err_set(err, -EINVAL, "user: '%s' is neither a prefix nor an SA name",
				   key);
	} else {
		k.kind = KEY_NAME;
		memcpy(k.bytes, key, klen);
	}
	slot = key_slot(t, &k);
	if (slot->kind != KEY_EMPTY)
		return ipk_err_set(err, -EINVAL, "user: '%s' mapped twice", key);
	if (user_class(t, (uint32_t)id, &k.cls, err))
		return -EINVAL;
	*slot = k;
	t->n_keys++;
	if (k.kind == KEY_NAME)
		t->n_names++;
	else
		note_len(t, k.family, k.len);
	return 0;
}

static uint32_t count_entries(const struct ipk_qos_args *args)
{
	uint32_t n = 0;

	for (int i = 0; i < args->argc; i += 2)
		if (strcmp(args->argv[i], "map") == 0)
			for (const char *p = args->argv[i + 1]; p; p = strchr(p + 1, ','))
				n++;
	return n;
}

static void tables_free(struct user_tables *t)
{
	free(t->slots);
	free(t->user_ids);
	memset(t, 0, sizeof(*t));
}

static int tables_alloc(struct user_tables *t, uint32_t n_keys, struct ipk_err *err)
{
	uint32_t size = 16;

	/* Load factor at most one half keeps linear probing short. */
	while (size < 2 * n_keys)
		size *= 2;
	t->slots = calloc(size, sizeof(*t->slots));
	t->user_ids = calloc(n_keys < IPK_USER_MAX ? n_keys : IPK_USER_MAX, sizeof(uint32_t));
	t->mask = size - 1;
	if (!t->slots || !t->user_ids) {
		tables_free(t);
		return ipk_err_set(err, -ENOMEM, "user: out of memory for %u keys", n_keys);
	}
	return 0;
}

static int map_read(struct user_tables *t, const char *list, struct ipk_err *err)
{
	char entry[128];

	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0 || len >= sizeof(entry))
			return ipk_err_set(err, -EINVAL, "user: bad map entry in '%.40s'", list);
		memcpy(entry, p, len);
		entry[len] = '\0';
		if (add_entry(t, entry, err))
			return -EINVAL;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int tables_build(struct user_tables *t, const struct ipk_qos_args *args,
			struct ipk_err *err)
{
	static const char *const keys[] = { "map+", "default", NULL };
	uint32_t n_keys;

	memset(t, 0, sizeof(*t));
	if (ipk_qos_args_check(args, keys, "user", err))
		return -EINVAL;
	n_keys = count_entries(args);
	if (n_keys == 0)
		return ipk_err_set(err, -EINVAL, "user: no map (e.g. 'map alice:1,10.0.0.0/8:2')");
	if (n_keys > IPK_USER_MAX_KEYS)
		return ipk_err_set(err, -EINVAL, "user: %u keys, at most %d", n_keys,
				   IPK_USER_MAX_KEYS);
	if (tables_alloc(t, n_keys, err))
		return -ENOMEM;
	for (int i = 0; i < args->argc; i += 2) {
		if (strcmp(args->argv[i], "map") == 0 && map_read(t, args->argv[i + 1], err)) {
			tables_free(t);
			return -EINVAL;
		}
	}
	return 0;
}

static int user_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct user_tables t;
	uint64_t def;
	int rc = tables_build(&t, args, err);

	if (rc)
		return rc;
	tables_free(&t);
	return ipk_qos_arg_u64(args, "default", 0, 0, UINT32_MAX - 1, &def, "user", err);
}

static int user_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct user_cls *c = ipk_qos_priv(q);
	uint64_t def;
	int rc = tables_build(&c->t, args, err);

	if (rc)
		return rc;
	/* Validated by parse(), which ran first. */
	ipk_qos_arg_u64(args, "default", 0, 0, UINT32_MAX - 1, &def, "user", err);
	c->default_user = (uint32_t)def;
	return 0;
}

static void user_destroy(struct ipk_qos *q)
{
	struct user_cls *c = ipk_qos_priv(q);

	tables_free(&c->t);
}

static bool lookup_name(const struct user_tables *t, const char *name, uint32_t *cls)
{
	struct user_key k, *slot;

	memset(&k, 0, sizeof(k));
	k.kind = KEY_NAME;
	memcpy(k.bytes, name, strnlen(name, sizeof(k.bytes) - 1));
	slot = key_slot(t, &k);
	*cls = slot->cls;
	return slot->kind != KEY_EMPTY;
}

/* Longest prefix first: one probe per distinct length configured for the family. */
static bool lookup_addr(const struct user_tables *t, const struct ipk_addr *addr,
			uint32_t *cls)
{
	uint8_t f = addr->family == 6;
	struct user_key k, *slot;

	for (uint8_t i = 0; i < t->n_lens[f]; i++) {
		key_prefix(&k, addr, t->lens[f][i]);
		slot = key_slot(t, &k);
		if (slot->kind != KEY_EMPTY) {
			*cls = slot->cls;
			return true;
		}
	}
	return false;
}

static bool user_match(struct user_cls *c, struct ipk_pkt *pkt, uint32_t *cls)
{
	struct ipk_ip_info info;

	if (pkt->meta.sa && c->t.n_names && lookup_name(&c->t, pkt->meta.sa->params.name, cls))
		return true;
	if (c->t.n_keys == c->t.n_names)
		return false;
	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) != 0) {
		c->unparsed++;
		return false;
	}
	return lookup_addr(&c->t, &info.src, cls);
}

static uint32_t user_classify(struct ipk_qos *q, struct ipk_pkt *pkt)
{
	struct user_cls *c = ipk_qos_priv(q);
	uint32_t cls;

	if (user_match(c, pkt, &cls)) {
		pkt->meta.user_id = c->t.user_ids[cls];
	} else {
		c->defaulted++;
		cls = c->t.n_users;
		pkt->meta.user_id = c->default_user;
	}
	pkt->meta.class_id = cls;
	return cls;
}

static uint32_t user_n_classes(const struct ipk_qos *q)
{
	const struct user_cls *c = ipk_qos_priv_const(q);

	return c->t.n_users + 1;
}

uint32_t ipk_user_id_of(const struct ipk_qos *q, uint32_t cls)
{
	const struct user_cls *c = ipk_qos_priv_const(q);

	return cls < c->t.n_users ? c->t.user_ids[cls] : c->default_user;
}

static uint32_t user_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct user_cls *c = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "users", c->t.n_users },
		{ "keys", c->t.n_keys },
		{ "defaulted", c->defaulted },
		{ "unparsed", c->unparsed },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_user_ops = {
	.name = "user",
	.kind = IPK_QOS_CLASSIFIER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct user_cls),
	.parse = user_parse,
	.init = user_init,
	.destroy = user_destroy,
	.classify = user_classify,
	.n_classes = user_n_classes,
	.stats = user_stats,
};
