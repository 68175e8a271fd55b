// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/config_qos.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/json.h"
#include "engine/hooks.h"
#include "qos/component.h"

#define ARGBUF_MAX 1024
#define KEY_MAX (8 + IPK_NAME_MAX)

/* Arguments are kept as offsets into argbuf: the batch may move command structs. */
struct qos_add {
	char name[IPK_NAME_MAX];
	char kind[IPK_NAME_MAX];
	int argc;
	uint16_t arg_off[IPK_QOS_MAX_ARGS];
	char argbuf[ARGBUF_MAX];
};

struct qos_del {
	char name[IPK_NAME_MAX];
};

struct hook_cmd {
	unsigned hook;
	char name[IPK_NAME_MAX];
};

/* What the batch knows of an object: its kind and, for classifiers, class count. */
struct obj_view {
	enum ipk_qos_kind kind;
	uint32_t n_classes;
	bool in_use;
};

static void qos_args(const struct qos_add *c, struct ipk_qos_args *args)
{
	args->argc = c->argc;
	for (int i = 0; i < c->argc; i++)
		args->argv[i] = c->argbuf + c->arg_off[i];
}

static void key_of(char *key, const char *space, const char *name)
{
	snprintf(key, KEY_MAX, "%s:%s", space, name);
}

static const char *next_word(struct ipk_cmd_parser *ps)
{
	return ps->pos < ps->line->n ? ps->line->word[ps->pos++] : NULL;
}

/* "name NAME" at the current position. */
static int parse_name(struct ipk_cmd_parser *ps, const char *keyword, char *out)
{
	const char *kw = next_word(ps), *value = next_word(ps);

	if (!kw || strcmp(kw, keyword) != 0)
		return ipk_cmd_missing(ps, keyword, "");
	if (!value || !ipk_cmd_name_ok(value))
		return ipk_cmd_fail(ps, keyword, "expected a name, got '%s'",
				    value ? value : "end of line");
	snprintf(out, IPK_NAME_MAX, "%s", value);
	return 0;
}

static int qos_add_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct qos_add *c = arg;
	size_t used = 0;
	const char *w;

	if (parse_name(ps, "name", c->name) || parse_name(ps, "kind", c->kind))
		return -EINVAL;
	if (!ipk_qos_find(c->kind))
		return ipk_cmd_fail(ps, "kind", "unknown QoS component '%s'", c->kind);
	while ((w = next_word(ps))) {
		size_t len = strlen(w) + 1;

		if (c->argc == IPK_QOS_MAX_ARGS || used + len > ARGBUF_MAX)
			return ipk_cmd_fail(ps, "kind", "too many arguments for %s", c->kind);
		memcpy(c->argbuf + used, w, len);
		c->arg_off[c->argc++] = (uint16_t)used;
		used += len;
	}
	return 0;
}

struct qos_node {
	struct ipk_hooks_node_spec spec;
};

/* Class count of a classifier this batch adds: a throwaway instance tells. */
static uint32_t probe_classes(const struct qos_add *c)
{
	struct ipk_qos_args args;
	struct ipk_qos *probe;
	uint32_t n = 0;

	qos_args(c, &args);
	if (ipk_qos_create(&probe, c->kind, c->name, &args, NULL))
		return 0;
	if (probe->ops->n_classes)
		n = probe->ops->n_classes(probe);
	ipk_qos_destroy(probe);
	return n;
}

/*
 * The object @name as the batch so far would leave it; false if it would not exist.
 * Notes: "qos:NAME" (data: the qos add command), "node:NAME" (data: the qos node
 * command), "use:NAME" (present: taken by a node or attached).
 */
static bool view(const struct ipk_cmd_batch *b, const char *name, struct obj_view *v)
{
	char key[KEY_MAX];
	const struct ipk_cmd_note *add, *node, *use;
	struct ipk_hooks_info info;
	bool deleted;

	key_of(key, "qos", name);
	add = ipk_cmd_note_find(b, key);
	key_of(key, "node", name);
	node = ipk_cmd_note_find(b, key);
	key_of(key, "use", name);
	use = ipk_cmd_note_find(b, key);
	/* A name deleted and made again in one batch has both notes: the present one wins
	 * (a name is never a component and a node at once). */
	deleted = (add && !add->present) || (node && !node->present);
	if (add && !add->present)
		add = NULL;
	if (node && !node->present)
		node = NULL;
	if (!add && !node && deleted)
		return false;
	if (add) {
		v->kind = ipk_qos_find(((const struct qos_add *)add->data)->kind)->kind;
		v->n_classes = v->kind == IPK_QOS_CLASSIFIER ? probe_classes(add->data) : 0;
		v->in_use = false;
	} else if (node) {
		v->kind = IPK_QOS_QUEUE;
		v->n_classes = 0;
		v->in_use = false;
	} else if (b->ctx->hooks && !ipk_hooks_lookup(b->ctx->hooks, name, &info)) {
		v->kind = info.kind;
		v->n_classes = info.n_classes;
		v->in_use = info.in_use;
	} else {
		return false;
	}
	if (use)
		v->in_use = use->present;
	return true;
}

static int qos_add_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct qos_add *c = arg;
	struct ipk_qos_args args;
	struct obj_view v;
	char key[KEY_MAX];

	if (!b->ctx->hooks)
		return ipk_err_set(err, -ENODEV, "qos add: QoS is not available here");
	if (view(b, c->name, &v))
		return ipk_err_set(err, -EEXIST, "qos add: '%s' already exists", c->name);
	/* The component's own parser checks the arguments now, before anything changes. */
	qos_args(c, &args);
	if (ipk_qos_find(c->kind)->parse && ipk_qos_find(c->kind)->parse(&args, err))
		return -EINVAL;
	key_of(key, "qos", c->name);
	return ipk_cmd_note_set(b, key, true, c);
}

static int qos_add_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct qos_add *c = arg;
	struct ipk_qos_args args;

	qos_args(c, &args);
	return ipk_hooks_add(ctx->hooks, c->name, c->kind, &args, err);
}

/* "a,b,c" into @out (at most @max names). */
static int split_names(struct ipk_cmd_parser *ps, const char *kw, const char *list,
		       char (*out)[IPK_NAME_MAX], uint32_t max, uint32_t *n)
{
	char buf[IPK_HOOKS_NODE_CHILDREN * IPK_NAME_MAX];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == max || !ipk_cmd_name_ok(tok))
			return ipk_cmd_fail(ps, kw, "expected up to %u names separated by commas",
					    max);
		snprintf(out[(*n)++], IPK_NAME_MAX, "%s", tok);
	}
	return *n ? 0 : ipk_cmd_fail(ps, kw, "expected a name");
}

static int node_keyword(struct ipk_cmd_parser *ps, struct ipk_hooks_node_spec *s,
			const char *kw, const char *value)
{
	uint32_t one;

	if (strcmp(kw, "meter") == 0)
		return split_names(ps, kw, value, s->meters, 4, &s->n_meters);
	if (strcmp(kw, "children") == 0)
		return split_names(ps, kw, value, s->children, IPK_HOOKS_NODE_CHILDREN,
				   &s->n_children);
	if (strcmp(kw, "classify") == 0)
		return split_names(ps, kw, value, &s->classifier, 1, &one);
	if (strcmp(kw, "schedule") == 0)
		return split_names(ps, kw, value, &s->scheduler, 1, &one);
	if (strcmp(kw, "shape") == 0)
		return split_names(ps, kw, value, &s->shaper, 1, &one);
	return ipk_cmd_fail(ps, kw, "unknown keyword (expected meter, classify, children, "
			    "schedule or shape)");
}

static int qos_node_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct ipk_hooks_node_spec *s = &((struct qos_node *)arg)->spec;
	const char *kw;

	if (parse_name(ps, "name", s->name))
		return -EINVAL;
	while ((kw = next_word(ps))) {
		const char *value = next_word(ps);

		if (!value)
			return ipk_cmd_fail(ps, kw, "expected a value, got end of line");
		if (node_keyword(ps, s, kw, value))
			return -EINVAL;
	}
	if (!s->n_children)
		return ipk_cmd_missing(ps, "children", "");
	return 0;
}

/* Checks that part @name exists, is free and of @kind; notes it as taken. */
static int check_part(struct ipk_cmd_batch *b, const char *node, const char *name,
		      enum ipk_qos_kind kind, const char *what, struct obj_view *v,
		      struct ipk_err *err)
{
	char key[KEY_MAX];

	if (!view(b, name, v))
		return ipk_err_set(err, -ENOENT, "qos node %s: %s '%s' does not exist", node,
				   what, name);
	if (v->in_use)
		return ipk_err_set(err, -EBUSY, "qos node %s: %s '%s' is already in use", node,
				   what, name);
	if (v->kind != kind)
		return ipk_err_set(err, -EINVAL, "qos node %s: '%s' cannot be a %s", node, name,
				   what);
	key_of(key, "use", name);
	return ipk_cmd_note_set(b, key, true, NULL);
}

static int qos_node_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct ipk_hooks_node_spec *s = &((const struct qos_node *)arg)->spec;
	struct obj_view v, cls = { 0 };
	char key[KEY_MAX];
	int rc = 0;

	if (!b->ctx->hooks)
		return ipk_err_set(err, -ENODEV, "qos node: QoS is not available here");
	if (view(b, s->name, &v))
		return ipk_err_set(err, -EEXIST, "qos node: '%s' already exists", s->name);
	for (uint32_t i = 0; !rc && i < s->n_meters; i++)
		rc = check_part(b, s->name, s->meters[i], IPK_QOS_METER, "meter", &v, err);
	if (!rc && s->classifier[0])
		rc = check_part(b, s->name, s->classifier, IPK_QOS_CLASSIFIER, "classifier", &cls,
				err);
	for (uint32_t i = 0; !rc && i < s->n_children; i++)
		rc = check_part(b, s->name, s->children[i], IPK_QOS_QUEUE, "child", &v, err);
	if (!rc && s->scheduler[0])
		rc = check_part(b, s->name, s->scheduler, IPK_QOS_SCHEDULER, "scheduler", &v, err);
	if (!rc && s->shaper[0])
		rc = check_part(b, s->name, s->shaper, IPK_QOS_SHAPER, "shaper", &v, err);
	if (rc)
		return rc;
	if (s->n_children > 1 && (!s->classifier[0] || !s->scheduler[0]))
		return ipk_err_set(err, -EINVAL, "qos node %s: %u children need a classifier and "
				   "a scheduler", s->name, s->n_children);
	if (s->classifier[0] && cls.n_classes != s->n_children)
		return ipk_err_set(err, -EINVAL, "qos node %s: classifier '%s' has %u classes "
				   "for %u children", s->name, s->classifier, cls.n_classes,
				   s->n_children);
	key_of(key, "node", s->name);
	return ipk_cmd_note_set(b, key, true, arg);
}

static int qos_node_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_hooks_add_node(ctx->hooks, &((const struct qos_node *)arg)->spec, err);
}

static int qos_del_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct qos_del *c = arg;

	if (parse_name(ps, "name", c->name))
		return -EINVAL;
	if (ps->pos < ps->line->n)
		return ipk_cmd_fail(ps, "name", "unexpected '%s'", ps->line->word[ps->pos]);
	return 0;
}

static int qos_del_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct qos_del *c = arg;
	struct obj_view v;
	char key[KEY_MAX];

	if (!b->ctx->hooks || !view(b, c->name, &v))
		return ipk_err_set(err, -ENOENT, "qos del: '%s' does not exist", c->name);
	if (v.in_use)
		return ipk_err_set(err, -EBUSY, "qos del: '%s' is in use (part of a node or "
				   "attached)", c->name);
	/* The parts of a deleted node go with it; they stay noted as used, so nothing in
	 * the rest of the batch can take them. */
	key_of(key, "qos", c->name);
	if (ipk_cmd_note_set(b, key, false, NULL))
		return -ENOMEM;
	key_of(key, "node", c->name);
	return ipk_cmd_note_set(b, key, false, NULL);
}

static int qos_del_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_hooks_del(ctx->hooks, ((const struct qos_del *)arg)->name, err);
}

static int hook_parse(struct ipk_cmd_parser *ps, void *arg, bool attach)
{
	struct hook_cmd *c = arg;
	const char *hook = next_word(ps), *name = attach ? next_word(ps) : NULL;

	if (!hook || ipk_hooks_parse(hook, &c->hook))
		return ipk_cmd_fail(ps, "hook", "expected a hook 1..5 (or 1a..4b, 5a, 5b), got '%s'",
				    hook ? hook : "end of line");
	if (attach && (!name || !ipk_cmd_name_ok(name)))
		return ipk_cmd_fail(ps, "hook", "expected the name of a queue or node, got '%s'",
				    name ? name : "end of line");
	if (name)
		snprintf(c->name, IPK_NAME_MAX, "%s", name);
	if (ps->pos < ps->line->n)
		return ipk_cmd_fail(ps, "hook", "unexpected '%s'", ps->line->word[ps->pos]);
	return 0;
}

static int hook_attach_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return hook_parse(ps, arg, true);
}

static int hook_detach_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return hook_parse(ps, arg, false);
}

static int hook_attach_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct hook_cmd *c = arg;
	struct obj_view v;
	char key[KEY_MAX];

	if (!b->ctx->hooks || !view(b, c->name, &v))
		return ipk_err_set(err, -ENOENT, "hook attach: '%s' does not exist", c->name);
	if (v.in_use)
		return ipk_err_set(err, -EBUSY, "hook attach: '%s' is already in use", c->name);
	if (v.kind != IPK_QOS_QUEUE)
		return ipk_err_set(err, -EINVAL, "hook attach: '%s' is not a queue or node",
				   c->name);
	if (!ipk_hooks_available(b->ctx->hooks, c->hook))
		return ipk_err_set(err, -ENODEV, "hook attach: no queue %u to attach to here "
				   "(no packet engine, or the coupled mode's queues 1 and 2 only)",
				   c->hook);
	key_of(key, "use", c->name);
	if (ipk_cmd_note_set(b, key, true, NULL))
		return -ENOMEM;
	snprintf(key, sizeof(key), "hook:%u", c->hook);
	return ipk_cmd_note_set(b, key, true, c);
}

static int hook_attach_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct hook_cmd *c = arg;

	return ipk_hooks_attach(ctx->hooks, c->hook, c->name, err);
}

static int hook_detach_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct hook_cmd *c = arg;
	const struct ipk_cmd_note *note;
	char key[KEY_MAX];

	const char *name;

	snprintf(key, sizeof(key), "hook:%u", c->hook);
	note = ipk_cmd_note_find(b, key);
	if (note)
		name = note->present ? ((const struct hook_cmd *)note->data)->name : NULL;
	else
		name = b->ctx->hooks ? ipk_hooks_attached(b->ctx->hooks, c->hook) : NULL;
	if (!name)
		return ipk_err_set(err, -ENOENT, "hook detach: nothing attached at hook %u",
				   c->hook);
	if (ipk_cmd_note_set(b, key, false, NULL))
		return -ENOMEM;
	/* A detach deletes the chain (hooks.h): later commands of the batch see its name
	 * free, as after `qos del`; its parts stay noted as used, as there. */
	key_of(key, "qos", name);
	if (ipk_cmd_note_set(b, key, false, NULL))
		return -ENOMEM;
	key_of(key, "node", name);
	return ipk_cmd_note_set(b, key, false, NULL);
}

static int hook_detach_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_hooks_detach(ctx->hooks, ((const struct hook_cmd *)arg)->hook, err);
}

static int show_hooks_parse(struct ipk_cmd_parser *ps, void *arg)
{
	if (ps->pos < ps->line->n)
		return ipk_cmd_fail(ps, "hooks", "unexpected '%s'", ps->line->word[ps->pos]);
	return 0;
}

/* Text, or with JSON the same text as one string: the tree reads best as it is drawn. */
static int show_hooks_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
			  struct ipk_outbuf *out, struct ipk_err *err)
{
	const size_t size = 1 << 20;
	struct ipk_json j;
	char *text;

	if (!ctx->hooks)
		return ipk_err_set(err, -ENODEV, "show hooks: QoS is not available here");
	text = malloc(size);
	if (!text)
		return ipk_err_set(err, -ENOMEM, "show hooks: out of memory");
	ipk_hooks_show(ctx->hooks, text, size);
	if (json) {
		ipk_json_init(&j, out);
		ipk_json_obj_begin(&j, NULL);
		ipk_json_str(&j, "hooks", text);
		ipk_json_obj_end(&j);
	} else {
		ipk_out_write(out, text, strlen(text));
	}
	free(text);
	return 0;
}

static const struct ipk_kw no_kws[] = { { .name = NULL } };

const struct ipk_cmd_def ipk_config_qos_add = {
	.words = { "qos", "add" },
	.kws = no_kws,
	.arg_size = sizeof(struct qos_add),
	.parse = qos_add_parse,
	.check = qos_add_check,
	.apply = qos_add_apply,
	.live = true,
};

const struct ipk_cmd_def ipk_config_qos_node = {
	.words = { "qos", "node" },
	.kws = no_kws,
	.arg_size = sizeof(struct qos_node),
	.parse = qos_node_parse,
	.check = qos_node_check,
	.apply = qos_node_apply,
	.live = true,
};

const struct ipk_cmd_def ipk_config_qos_del = {
	.words = { "qos", "del" },
	.kws = no_kws,
	.arg_size = sizeof(struct qos_del),
	.parse = qos_del_parse,
	.check = qos_del_check,
	.apply = qos_del_apply,
	.live = true,
};

const struct ipk_cmd_def ipk_config_hook_attach = {
	.words = { "hook", "attach" },
	.kws = no_kws,
	.arg_size = sizeof(struct hook_cmd),
	.parse = hook_attach_parse,
	.check = hook_attach_check,
	.apply = hook_attach_apply,
	.live = true,
};

const struct ipk_cmd_def ipk_config_hook_detach = {
	.words = { "hook", "detach" },
	.kws = no_kws,
	.arg_size = sizeof(struct hook_cmd),
	.parse = hook_detach_parse,
	.check = hook_detach_check,
	.apply = hook_detach_apply,
	.live = true,
};

const struct ipk_cmd_def ipk_config_show_hooks = {
	.words = { "show", "hooks" },
	.kws = no_kws,
	.arg_size = sizeof(int),
	.parse = show_hooks_parse,
	.run = show_hooks_run,
};
