// SPDX-License-Identifier: BSD-2-Clause
/*
 *   policy add name NAME dir in|out [src PREFIX] [dst PREFIX] [proto udp|tcp|icmp|icmpv6|N]
 *          [sport A[-B]] [dport A[-B]] [dscp N|ef|afXY|csN|be]
 *          action protect sa NAME[,NAME...] [class-sa DSCP:NAME[,DSCP:NAME...]]
 *          | action bypass | action discard [priority N]
 *   policy del name NAME
 *
 * Parse checks what one command can tell alone (families of src and dst agree, ports only
 * with a protocol, SAs only with protect); check adds what needs the SPD, the SAD and the
 * batch (unique name; every SA of the bundle exists, in the policy's direction).
 */
#include "ctl/config_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/dscp.h"
#include "ctl/config_sa.h"
#include "sa/spd.h"

#define NOTE_KEY_MAX (16 + IPK_NAME_MAX)
#define PROTO_ICMP 1
#define PROTO_ICMPV6 58

struct policy_del {
	char name[IPK_NAME_MAX];
};

static const struct ipk_kw_choice dir_choices[] = {
	{ "in", IPK_DIR_IN },
	{ "out", IPK_DIR_OUT },
	{ NULL, 0 },
};

static const struct ipk_kw_choice proto_choices[] = {
	{ "any", IPK_PROTO_ANY },
	{ "tcp", 6 },
	{ "udp", 17 },
	{ "icmp", PROTO_ICMP },
	{ "icmpv6", PROTO_ICMPV6 },
	{ NULL, 0 },
};

static const struct ipk_kw_choice action_choices[] = {
	{ "protect", IPK_ACTION_PROTECT },
	{ "bypass", IPK_ACTION_BYPASS },
	{ "discard", IPK_ACTION_DISCARD },
	{ NULL, 0 },
};

static int set_dscp(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		    const char *word)
{
	struct ipk_policy_params *p = arg;

	if (ipk_dscp_parse(word, &p->dscp))
		return ipk_cmd_expected(ps, kw, word);
	return 0;
}

/* "a,b": one name per SA, applied in this order (RFC 4301 §4.5 bundles). */
static int set_bundle(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		      const char *word)
{
	struct ipk_policy_params *p = arg;
	const char *start = word;

	p->n_sa = 0;
	for (;;) {
		size_t len = strcspn(start, ",");
		char name[IPK_NAME_MAX + 1];

		if (p->n_sa == IPK_BUNDLE_MAX)
			return ipk_err_set(ps->err, -EINVAL, "'%s': at most %d SAs in a bundle",
					   kw->name, IPK_BUNDLE_MAX);
		snprintf(name, sizeof(name), "%.*s", (int)len, start);
		if (len >= IPK_NAME_MAX || !ipk_cmd_name_ok(name))
			return ipk_cmd_expected(ps, kw, word);
		for (uint32_t i = 0; i < p->n_sa; i++)
			if (strcmp(p->sa_names[i], name) == 0)
				return ipk_err_set(ps->err, -EINVAL, "'%s': sa '%s' twice in the bundle",
						   kw->name, name);
		strcpy(p->sa_names[p->n_sa++], name);
		if (start[len] == '\0')
			return 0;
		start += len + 1;
	}
}

/* "ef:sa-ef,af41:sa-video": per-class SAs (RFC 4301 §4.1), one DSCP per entry. */
static int set_class_sas(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
			 const char *word)
{
	struct ipk_policy_params *p = arg;
	const char *start = word;

	p->n_class_sa = 0;
	for (;;) {
		size_t len = strcspn(start, ","), dlen = strcspn(start, ":");
		char dscp[16], name[IPK_NAME_MAX + 1];
		uint32_t i = p->n_class_sa;

		if (i == IPK_CLASS_SA_MAX)
			return ipk_err_set(ps->err, -EINVAL, "'%s': at most %d class SAs",
					   kw->name, IPK_CLASS_SA_MAX);
		if (dlen >= len || dlen >= sizeof(dscp) || len - dlen - 1 >= IPK_NAME_MAX)
			return ipk_cmd_expected(ps, kw, word);
		snprintf(dscp, sizeof(dscp), "%.*s", (int)dlen, start);
		snprintf(name, sizeof(name), "%.*s", (int)(len - dlen - 1), start + dlen + 1);
		if (ipk_dscp_parse(dscp, &p->class_dscp[i]) || !ipk_cmd_name_ok(name))
			return ipk_cmd_expected(ps, kw, word);
		strcpy(p->class_sa_names[p->n_class_sa++], name);
		if (start[len] == '\0')
			return 0;
		start += len + 1;
	}
}

#define P struct ipk_policy_params

static const struct ipk_kw policy_add_kws[] = {
	{ .name = "name", .type = IPK_KW_NAME, .required = true, IPK_KW_FIELD(P, name) },
	{ .name = "dir", .type = IPK_KW_ENUM, .required = true, IPK_KW_FIELD(P, dir),
	  .choices = dir_choices },
	{ .name = "src", .type = IPK_KW_PREFIX, IPK_KW_FIELD(P, src) },
	{ .name = "dst", .type = IPK_KW_PREFIX, IPK_KW_FIELD(P, dst) },
	{ .name = "proto", .type = IPK_KW_ENUM, IPK_KW_FIELD(P, proto), .choices = proto_choices,
	  .max = 255 },
	{ .name = "sport", .type = IPK_KW_RANGE, .off = offsetof(P, sport_lo),
	  .off2 = offsetof(P, sport_hi), .max = 65535 },
	{ .name = "dport", .type = IPK_KW_RANGE, .off = offsetof(P, dport_lo),
	  .off2 = offsetof(P, dport_hi), .max = 65535 },
	{ .name = "dscp", .type = IPK_KW_CUSTOM, .set = set_dscp,
	  .hint = "0..63 or one of be, df, le, cs0..cs7, af11..af43, va, ef" },
	{ .name = "action", .type = IPK_KW_ENUM, .required = true, IPK_KW_FIELD(P, action),
	  .choices = action_choices },
	{ .name = "sa", .type = IPK_KW_CUSTOM, .set = set_bundle,
	  .hint = "SA names separated by commas" },
	{ .name = "class-sa", .type = IPK_KW_CUSTOM, .set = set_class_sas,
	  .hint = "DSCP:SA pairs separated by commas, e.g. ef:sa-ef,af41:sa-video" },
	{ .name = "priority", .type = IPK_KW_NUM, IPK_KW_FIELD(P, priority), .max = UINT32_MAX },
	{ .name = NULL },
};

static int check_action(struct ipk_cmd_parser *ps, const struct ipk_policy_params *p)
{
	bool protect = p->action == IPK_ACTION_PROTECT;

	if (protect && !ipk_cmd_given(ps, "sa"))
		return ipk_cmd_missing(ps, "sa", "for action protect");
	if (!protect && ipk_cmd_given(ps, "sa"))
		return ipk_cmd_fail(ps, "sa", "only action protect takes SAs");
	if (ipk_cmd_given(ps, "class-sa") && (!protect || p->n_sa != 1))
		return ipk_cmd_fail(ps, "class-sa", "needs action protect with a single 'sa'");
	return 0;
}

/* Ports select only within a protocol; for ICMP they are type and code (RFC 4301
 * §4.4.1.1), one byte each. */
static int check_ports(struct ipk_cmd_parser *ps, const struct ipk_policy_params *p)
{
	static const char *const kws[] = { "sport", "dport" };
	const uint16_t hi[] = { p->sport_hi, p->dport_hi };
	bool icmp = p->proto == PROTO_ICMP || p->proto == PROTO_ICMPV6;

	for (int i = 0; i < 2; i++) {
		if (!ipk_cmd_given(ps, kws[i]))
			continue;
		if (p->proto == IPK_PROTO_ANY)
			return ipk_cmd_fail(ps, kws[i], "ports need 'proto'");
		if (icmp && hi[i] > 255)
			return ipk_cmd_fail(ps, kws[i], "ICMP %s must be in 0..255",
					    i ? "code" : "type");
	}
	return 0;
}

static int policy_add_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct ipk_policy_params *p = arg;
	int ret;

	ipk_policy_params_init(p);
	ret = ipk_cmd_parse_keywords(ps, p);
	if (!ret && p->src.addr.family && p->dst.addr.family &&
	    p->src.addr.family != p->dst.addr.family)
		ret = ipk_cmd_fail(ps, "dst", "an IPv%u prefix while 'src' is IPv%u (both must be "
				   "of one family)", p->dst.addr.family, p->src.addr.family);
	if (!ret)
		ret = check_action(ps, p);
	if (!ret)
		ret = check_ports(ps, p);
	return ret;
}

static void name_key(char *buf, const char *name)
{
	snprintf(buf, NOTE_KEY_MAX, "policy:%s", name);
}

static bool policy_exists(const struct ipk_cmd_batch *b, const char *name)
{
	char key[NOTE_KEY_MAX];
	const struct ipk_cmd_note *note;

	name_key(key, name);
	note = ipk_cmd_note_find(b, key);
	if (note)
		return note->present;
	return ipk_spd_find(b->ctx->spd, name) != NULL;
}

static const char *dir_text(enum ipk_dir dir)
{
	return dir == IPK_DIR_IN ? "inbound" : "outbound";
}

/* SA @name exists (in the SAD or earlier in the batch) in the policy's direction. */
static int check_sa_name(const struct ipk_cmd_batch *b, const struct ipk_policy_params *p,
			 const char *name, struct ipk_err *err)
{
	const struct ipk_sa_params *sa = ipk_config_sa_lookup(b, name);

	if (!sa)
		return ipk_err_set(err, -ENOENT, "policy %s: sa '%s' does not exist", p->name,
				   name);
	if (sa->dir != p->dir)
		return ipk_err_set(err, -EINVAL, "policy %s: sa '%s' is %s, the policy %s",
				   p->name, name, dir_text(sa->dir), dir_text(p->dir));
	return 0;
}

static int check_bundle(const struct ipk_cmd_batch *b, const struct ipk_policy_params *p,
			struct ipk_err *err)
{
	int ret = 0;

	for (uint32_t i = 0; i < p->n_sa && !ret; i++)
		ret = check_sa_name(b, p, p->sa_names[i], err);
	for (uint32_t i = 0; i < p->n_class_sa && !ret; i++)
		ret = check_sa_name(b, p, p->class_sa_names[i], err);
	return ret;
}

/* Replaces the first @from in the message by @to. */
static void rename_in_msg(struct ipk_err *err, const char *from, const char *to)
{
	char *at = strstr(err->msg, from);
	char tail[IPK_ERR_MSG_MAX];

	if (!at)
		return;
	snprintf(tail, sizeof(tail), "%s", at + strlen(from));
	snprintf(at, sizeof(err->msg) - (size_t)(at - err->msg), "%s%s", to, tail);
}

/* ipk_spd_check_add() for a policy whose name this batch deleted earlier: the SPD still
 * holds the old rule, so the SPD's other rules are checked on a copy under a name it does
 * not use (outside the language's name characters, so no configured rule has it). */
static int spd_check_renamed(const struct ipk_spd *spd, const struct ipk_policy_params *p,
			     struct ipk_err *err)
{
	struct ipk_policy_params copy = *p;
	unsigned i = 0;
	int ret;

	do
		snprintf(copy.name, sizeof(copy.name), "~check%u", i++);
	while (ipk_spd_find(spd, copy.name));
	ret = ipk_spd_check_add(spd, &copy, err);
	if (ret)
		rename_in_msg(err, copy.name, p->name);
	return ret;
}

static int policy_add_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct ipk_policy_params *p = arg;
	char key[NOTE_KEY_MAX];
	int ret;

	if (!b->ctx->spd)
		return ipk_err_set(err, -EINVAL, "policy add: no SPD to add to");
	if (policy_exists(b, p->name))
		return ipk_err_set(err, -EEXIST, "policy add: policy '%s' already exists", p->name);
	ret = check_bundle(b, p, err);
	if (ret)
		return ret;
	name_key(key, p->name);
	if (ipk_cmd_note_find(b, key))
		ret = spd_check_renamed(b->ctx->spd, p, err);
	else
		ret = ipk_spd_check_add(b->ctx->spd, p, err);
	return ret ? ret : ipk_cmd_note_set(b, key, true, p);
}

static int policy_add_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_spd_add(ctx->spd, arg, err);
}

static const struct ipk_kw policy_del_kws[] = {
	{ .name = "name", .type = IPK_KW_NAME, .required = true,
	  IPK_KW_FIELD(struct policy_del, name) },
	{ .name = NULL },
};

static int policy_del_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static int policy_del_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct policy_del *c = arg;
	char key[NOTE_KEY_MAX];

	if (!b->ctx->spd || !policy_exists(b, c->name))
		return ipk_err_set(err, -ENOENT, "policy del: policy '%s' does not exist",
				   c->name);
	name_key(key, c->name);
	return ipk_cmd_note_set(b, key, false, NULL);
}

static int policy_del_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct policy_del *c = arg;

	return ipk_spd_del(ctx->spd, c->name, err);
}

const struct ipk_cmd_def ipk_config_policy_add = {
	.words = { "policy", "add" },
	.kws = policy_add_kws,
	.arg_size = sizeof(struct ipk_policy_params),
	.parse = policy_add_parse,
	.check = policy_add_check,
	.apply = policy_add_apply,
	.moves_sas = true,
};

const struct ipk_cmd_def ipk_config_policy_del = {
	.words = { "policy", "del" },
	.kws = policy_del_kws,
	.arg_size = sizeof(struct policy_del),
	.parse = policy_del_parse,
	.check = policy_del_check,
	.apply = policy_del_apply,
	.moves_sas = true,
};
