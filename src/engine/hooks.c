// SPDX-License-Identifier: BSD-2-Clause
#include "engine/hooks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/qos_chain.h"
#include "qos/tree.h"

struct hook_obj {
	char name[IPK_NAME_MAX];
	struct ipk_qos *q;            /* owned here while free; by its node or chain after */
	char owner[IPK_NAME_MAX];     /* the node it is part of, "" if none */
	unsigned hook;                /* 1..5 when attached */
	struct ipk_equeue_chain *chain;
};

struct ipk_hooks {
	struct ipk_engine *engine;
	struct hook_obj *objs;
	uint32_t n, cap;
};

int ipk_hooks_create(struct ipk_hooks **out, struct ipk_engine *engine)
{
	struct ipk_hooks *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->engine = engine;
	*out = h;
	return 0;
}

int ipk_hooks_parse(const char *word, unsigned *hook)
{
	unsigned n;

	if (word[0] < '1' || word[0] > '5')
		return -EINVAL;
	n = (unsigned)(word[0] - '0');
	if (word[1] && !((word[1] == 'a' || word[1] == 'b') && !word[2]))
		return -EINVAL;
	*hook = n;
	return 0;
}

static struct hook_obj *find(const struct ipk_hooks *h, const char *name)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (strcmp(h->objs[i].name, name) == 0)
			return &h->objs[i];
	return NULL;
}

static struct hook_obj *at_hook(const struct ipk_hooks *h, unsigned hook)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->objs[i].hook == hook)
			return &h->objs[i];
	return NULL;
}

int ipk_hooks_lookup(const struct ipk_hooks *h, const char *name, struct ipk_hooks_info *info)
{
	const struct hook_obj *o = find(h, name);

	if (!o)
		return -ENOENT;
	info->kind = o->q->ops->kind;
	info->type = o->q->ops == &ipk_qos_node_ops ? "node" : o->q->ops->name;
	info->n_classes = o->q->ops->n_classes ? o->q->ops->n_classes(o->q) : 0;
	info->in_use = o->owner[0] || o->hook;
	info->hook = o->hook;
	return 0;
}

static int add_obj(struct ipk_hooks *h, const char *name, struct ipk_qos *q)
{
	if (h->n == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 32;
		struct hook_obj *objs = realloc(h->objs, cap * sizeof(*objs));

		if (!objs)
			return -ENOMEM;
		h->objs = objs;
		h->cap = cap;
	}
	memset(&h->objs[h->n], 0, sizeof(h->objs[h->n]));
	snprintf(h->objs[h->n].name, IPK_NAME_MAX, "%s", name);
	h->objs[h->n].q = q;
	h->n++;
	return 0;
}

int ipk_hooks_add(struct ipk_hooks *h, const char *name, const char *kind,
		  const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct ipk_qos *q;
	int rc;

	if (find(h, name))
		return ipk_err_set(err, -EEXIST, "qos %s: name already in use", name);
	rc = ipk_qos_create(&q, kind, name, args, err);
	if (rc)
		return rc;
	rc = add_obj(h, name, q);
	if (rc) {
		ipk_qos_destroy(q);
		return ipk_err_set(err, rc, "qos %s: out of memory", name);
	}
	return 0;
}

/* The free object @name, of kind @kind, for a node's part @what. */
static int take_part(struct ipk_hooks *h, const char *node, const char *name,
		     enum ipk_qos_kind kind, const char *what, struct ipk_qos **q,
		     struct ipk_err *err)
{
	struct hook_obj *o = find(h, name);

	if (!o)
		return ipk_err_set(err, -ENOENT, "qos node %s: %s '%s' does not exist", node,
				   what, name);
	if (o->owner[0] || o->hook)
		return ipk_err_set(err, -EBUSY, "qos node %s: %s '%s' is already in use", node,
				   what, name);
	if (o->q->ops->kind != kind)
		return ipk_err_set(err, -EINVAL, "qos node %s: '%s' (%s) cannot be a %s", node,
				   name, o->q->ops->name, what);
	*q = o->q;
	return 0;
}

static int spec_to_cfg(struct ipk_hooks *h, const struct ipk_hooks_node_spec *s,
		       struct ipk_qos_node_cfg *cfg, struct ipk_err *err)
{
	int rc = 0;

	cfg->n_meters = s->n_meters;
	for (uint32_t i = 0; !rc && i < s->n_meters; i++)
		rc = take_part(h, s->name, s->meters[i], IPK_QOS_METER, "meter", &cfg->meters[i],
			       err);
	if (!rc && s->classifier[0])
		rc = take_part(h, s->name, s->classifier, IPK_QOS_CLASSIFIER, "classifier",
			       &cfg->classifier, err);
	cfg->n_children = s->n_children;
	for (uint32_t i = 0; !rc && i < s->n_children; i++)
		rc = take_part(h, s->name, s->children[i], IPK_QOS_QUEUE, "child",
			       &cfg->children[i], err);
	if (!rc && s->scheduler[0])
		rc = take_part(h, s->name, s->scheduler, IPK_QOS_SCHEDULER, "scheduler",
			       &cfg->scheduler, err);
	if (!rc && s->shaper[0])
		rc = take_part(h, s->name, s->shaper, IPK_QOS_SHAPER, "shaper", &cfg->shaper, err);
	return rc;
}

static void set_owner(struct ipk_hooks *h, const char *part, const char *node)
{
	struct hook_obj *o = part[0] ? find(h, part) : NULL;

	if (o)
		snprintf(o->owner, IPK_NAME_MAX, "%s", node);
}

static void mark_parts(struct ipk_hooks *h, const struct ipk_hooks_node_spec *s)
{
	for (uint32_t i = 0; i < s->n_meters; i++)
		set_owner(h, s->meters[i], s->name);
	set_owner(h, s->classifier, s->name);
	for (uint32_t i = 0; i < s->n_children; i++)
		set_owner(h, s->children[i], s->name);
	set_owner(h, s->scheduler, s->name);
	set_owner(h, s->shaper, s->name);
}

int ipk_hooks_add_node(struct ipk_hooks *h, const struct ipk_hooks_node_spec *spec,
		       struct ipk_err *err)
{
	struct ipk_qos *children[IPK_HOOKS_NODE_CHILDREN];
	struct ipk_qos_node_cfg cfg = { .children = children };
	struct ipk_qos *node;
	int rc;

	if (find(h, spec->name))
		return ipk_err_set(err, -EEXIST, "qos node %s: name already in use", spec->name);
	rc = spec_to_cfg(h, spec, &cfg, err);
	if (!rc)
		rc = ipk_qos_node_create(&node, spec->name, &cfg, err);
	if (rc)
		return rc;
	rc = add_obj(h, spec->name, node);
	if (rc) {
		ipk_qos_destroy(node); /* destroys its parts too: forget them */
		return ipk_err_set(err, rc, "qos node %s: out of memory", spec->name);
	}
	mark_parts(h, spec);
	return 0;
}

/* Forgets @name and, recursively, every part it owned (their memory went with it). */
static void forget(struct ipk_hooks *h, const char *name)
{
	char gone[IPK_NAME_MAX];
	uint32_t i = 0;

	snprintf(gone, sizeof(gone), "%s", name);
	while (i < h->n) {
		if (strcmp(h->objs[i].owner, gone) == 0) {
			forget(h, h->objs[i].name);
			i = 0;
			continue;
		}
		i++;
	}
	for (i = 0; i < h->n; i++)
		if (strcmp(h->objs[i].name, gone) == 0) {
			h->objs[i] = h->objs[--h->n];
			return;
		}
}

int ipk_hooks_del(struct ipk_hooks *h, const char *name, struct ipk_err *err)
{
	struct hook_obj *o = find(h, name);

	if (!o)
		return ipk_err_set(err, -ENOENT, "qos del: '%s' does not exist", name);
	if (o->owner[0])
		return ipk_err_set(err, -EBUSY, "qos del: '%s' is part of node '%s'", name,
				   o->owner);
	if (o->hook)
		return ipk_err_set(err, -EBUSY, "qos del: '%s' is attached at hook %u (detach it)",
				   name, o->hook);
	ipk_qos_destroy(o->q);
	forget(h, name);
	return 0;
}

/* Puts @chain (NULL: the plain FIFO) at @hook's queue and deletes what was there. */
static int swap_chain(struct ipk_hooks *h, unsigned hook, struct ipk_equeue_chain *chain,
		      struct ipk_err *err)
{
	struct ipk_equeue *queue = h->engine ? ipk_engine_queue(h->engine, hook) : NULL;
	struct ipk_equeue_chain *old = NULL;
	struct hook_obj *prev = at_hook(h, hook);
	int rc;

	if (!queue)
		return ipk_err_set(err, -ENODEV, "hook %u: no such queue in this engine", hook);
	rc = ipk_equeue_attach(queue, chain, &old);
	if (rc)
		return ipk_err_set(err, rc, "hook %u: attach refused", hook);
	if (prev) {
		prev->hook = 0;
		prev->chain = NULL;
		forget(h, prev->name);
	}
	/* The old chain handed every packet over and is empty now (engine/equeue.h). */
	ipk_qos_chain_destroy(old);
	return 0;
}

int ipk_hooks_attach(struct ipk_hooks *h, unsigned hook, const char *name, struct ipk_err *err)
{
	struct ipk_equeue_chain *chain;
	struct hook_obj *o = find(h, name);
	int rc;

	if (!o)
		return ipk_err_set(err, -ENOENT, "hook attach: '%s' does not exist", name);
	if (o->owner[0] || o->hook)
		return ipk_err_set(err, -EBUSY, "hook attach: '%s' is already in use", name);
	if (!h->engine)
		return ipk_err_set(err, -ENODEV, "hook attach: no packet engine runs here");
	rc = ipk_qos_chain_create(&chain, o->q, err);
	if (rc)
		return rc;
	rc = swap_chain(h, hook, chain, err);
	if (rc) {
		free(chain); /* the object stays free, owned here */
		return rc;
	}
	o = find(h, name); /* forget() may have moved entries */
	o->hook = hook;
	o->chain = chain;
	return 0;
}

int ipk_hooks_detach(struct ipk_hooks *h, unsigned hook, struct ipk_err *err)
{
	if (!at_hook(h, hook))
		return ipk_err_set(err, -ENOENT, "hook detach: nothing attached at hook %u", hook);
	return swap_chain(h, hook, NULL, err);
}

bool ipk_hooks_available(const struct ipk_hooks *h, unsigned hook)
{
	return h->engine && ipk_engine_queue(h->engine, hook);
}

const char *ipk_hooks_attached(const struct ipk_hooks *h, unsigned hook)
{
	const struct hook_obj *o = at_hook(h, hook);

	return o ? o->name : NULL;
}

void ipk_hooks_destroy(struct ipk_hooks *h)
{
	if (!h)
		return;
	for (unsigned hook = 1; hook <= IPK_HOOKS_COUNT; hook++)
		if (at_hook(h, hook))
			swap_chain(h, hook, NULL, NULL);
	while (h->n) {
		uint32_t i = 0;

		while (h->objs[i].owner[0])
			i++;
		ipk_qos_destroy(h->objs[i].q);
		forget(h, h->objs[i].name);
	}
	free(h->objs);
	free(h);
}

struct show_buf {
	char *buf;
	size_t size, used;
};

static void put(struct show_buf *sb, const char *fmt, ...) IPK_PRINTF(2, 3);
static void put(struct show_buf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->used >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->used, sb->size - sb->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		sb->used += (size_t)n;
}

static void show_obj(const struct ipk_hooks *h, const struct hook_obj *o, unsigned depth,
		     struct show_buf *sb)
{
	const struct ipk_qos *q = o->q;
	bool node = q->ops == &ipk_qos_node_ops;

	put(sb, "%*s%s %s", (int)depth * 2, "", node ? "node" : q->ops->name, o->name);
	if (q->ops->kind == IPK_QOS_QUEUE)
		put(sb, "  len %u pkts %llu bytes", q->ops->len_pkts(q),
		    (unsigned long long)q->ops->len_bytes(q));
	put(sb, "  in %llu out %llu drops %llu\n", (unsigned long long)q->in_pkts,
	    (unsigned long long)q->out_pkts, (unsigned long long)q->drops);
	for (uint32_t i = 0; i < h->n; i++)
		if (strcmp(h->objs[i].owner, o->name) == 0)
			show_obj(h, &h->objs[i], depth + 1, sb);
}

struct show_chain {
	const struct ipk_hooks *h;
	const struct hook_obj *o;
	struct show_buf *sb;
};

static void show_chain_locked(void *arg)
{
	struct show_chain *c = arg;

	show_obj(c->h, c->o, 1, c->sb);
}

/* The chain at @hook, read under its queue's lock: the packet path changes its counters
 * and lengths under that lock while traffic flows. */
static void show_chain(const struct ipk_hooks *h, unsigned hook, const struct hook_obj *o,
		       struct show_buf *sb)
{
	struct ipk_equeue *q = h->engine ? ipk_engine_queue(h->engine, hook) : NULL;
	struct show_chain c = { h, o, sb };

	if (q)
		ipk_equeue_locked(q, show_chain_locked, &c);
	else
		show_chain_locked(&c);
}

void ipk_hooks_show(const struct ipk_hooks *h, char *buf, size_t size)
{
	static const char *const queue_names[IPK_HOOKS_COUNT + 1] = {
		"", "queue 1, incoming main", "queue 2, outgoing main", "queue 3, incoming crypto",
		"queue 4, outgoing crypto", "crypto dispatcher 5a/5b",
	};
	struct show_buf sb = { buf, size, 0 };
	bool any_free = false;

	if (size)
		buf[0] = '\0';
	for (unsigned hook = 1; hook <= IPK_HOOKS_COUNT; hook++) {
		const struct hook_obj *o = at_hook(h, hook);

		put(&sb, "hook %u (%s):%s\n", hook, queue_names[hook], o ? "" : " fifo");
		if (o)
			show_chain(h, hook, o, &sb);
	}
	for (uint32_t i = 0; i < h->n; i++) {
		const struct hook_obj *o = &h->objs[i];

		if (o->owner[0] || o->hook)
			continue;
		if (!any_free)
			put(&sb, "not attached:\n");
		any_free = true;
		show_obj(h, o, 1, &sb);
	}
}
