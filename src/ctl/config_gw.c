// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/config_gw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "ctl/json.h"
#include "engine/engine.h"
#include "engine/unit.h"
#include "gw/gateway.h"
#include "io/port.h"

#define ARGBUF_MAX 1024
#define KEY_MAX (4 + IPK_NAME_MAX)

/* Which keywords an `engine` command gave. */
enum {
	G_MODE = 1 << 0,
	G_UNITS = 1 << 1,
	G_HIGH = 1 << 2,
	G_LOW = 1 << 3,
	G_RATE = 1 << 4,
	G_PPS = 1 << 5,
	G_BUFFERS = 1 << 6,
};

struct engine_cmd {
	uint8_t mode;
	uint32_t units, high, low, buffers;
	uint64_t rate_bps, pps;
	unsigned given;
};

static const struct ipk_kw_choice mode_choices[] = {
	{ "decoupled", IPK_ENGINE_DECOUPLED },
	{ "coupled", IPK_ENGINE_COUPLED },
	{ NULL, 0 },
};

#define EC struct engine_cmd
static const struct ipk_kw engine_kws[] = {
	{ "mode", IPK_KW_ENUM, false, IPK_KW_FIELD(EC, mode), .choices = mode_choices },
	{ "units", IPK_KW_NUM, false, IPK_KW_FIELD(EC, units), 1, IPK_ENGINE_MAX_UNITS },
	{ "high", IPK_KW_NUM, false, IPK_KW_FIELD(EC, high), 1, IPK_UNIT_MAX_HIGH },
	{ "low", IPK_KW_NUM, false, IPK_KW_FIELD(EC, low), 1, IPK_UNIT_MAX_HIGH },
	/* 0: no cap (lifts a cap at runtime) */
	{ "rate", IPK_KW_SIZE, false, IPK_KW_FIELD(EC, rate_bps), 0, UINT64_C(1) << 40 },
	{ "pps", IPK_KW_NUM, false, IPK_KW_FIELD(EC, pps), 0, 1000000000 },
	{ "buffers", IPK_KW_NUM, false, IPK_KW_FIELD(EC, buffers), IPK_GW_MIN_BUFFERS,
	  IPK_GW_MAX_BUFFERS },
	{ .name = NULL },
};
#undef EC

static int engine_parse(struct ipk_cmd_parser *ps, void *arg)
{
	static const char *const names[] = { "mode", "units", "high", "low",
					     "rate", "pps",  "buffers" };
	struct engine_cmd *c = arg;
	int ret = ipk_cmd_parse_keywords(ps, c);

	if (ret)
		return ret;
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(names); i++)
		if (ipk_cmd_given(ps, names[i]))
			c->given |= 1u << i;
	if ((c->given & (G_HIGH | G_LOW)) == (G_HIGH | G_LOW) && c->low > c->high)
		return ipk_cmd_fail(ps, "low", "%u is above high %u", c->low, c->high);
	return 0;
}

static void engine_merge(const struct engine_cmd *c, struct ipk_gw_settings *s)
{
	if (c->given & G_MODE)
		s->engine.mode = (enum ipk_engine_mode)c->mode;
	if (c->given & G_UNITS)
		s->engine.n_units = c->units;
	if (c->given & G_HIGH)
		s->engine.unit.high = c->high;
	if (c->given & G_LOW)
		s->engine.unit.low = c->low;
	if (c->given & G_RATE)
		s->engine.unit.rate_bps = c->rate_bps;
	if (c->given & G_PPS)
		s->engine.unit.rate_pps = c->pps;
	if (c->given & G_BUFFERS)
		s->buffers = c->buffers;
}

/* The first keyword whose value differs from the running engine's, or NULL. */
static const char *engine_changed(const struct engine_cmd *c, const struct ipk_gw_settings *s,
				  uint64_t *running)
{
	const struct ipk_unit_config *u = &s->engine.unit;
	const struct {
		unsigned bit;
		const char *name;
		uint64_t want, have;
	} rows[] = {
		{ G_MODE, "mode", c->mode, s->engine.mode },
		{ G_UNITS, "units", c->units, s->engine.n_units },
		{ G_HIGH, "high", c->high, u->high },
		{ G_LOW, "low", c->low, u->low },
		{ G_RATE, "rate", c->rate_bps, u->rate_bps },
		{ G_PPS, "pps", c->pps, u->rate_pps },
		{ G_BUFFERS, "buffers", c->buffers, s->buffers },
	};

	for (unsigned i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		if ((c->given & rows[i].bit) && rows[i].want != rows[i].have) {
			*running = rows[i].have;
			return rows[i].name;
		}
	}
	return NULL;
}

/* What the units would be after @c: the running settings with the given keywords. */
static void engine_units_after(const struct engine_cmd *c, const struct ipk_gw_settings *s,
			       uint32_t *n, struct ipk_unit_config *uc)
{
	struct ipk_gw_settings next = *s;

	engine_merge(c, &next);
	*n = next.engine.n_units;
	*uc = next.engine.unit;
}

/* Units, water marks and rate caps change at runtime (the engine replaces its units
 * without losing a packet); the mode and the packet pool are fixed at start-up. */
static int engine_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct engine_cmd *c = arg;
	const struct ipk_gw_settings *s;
	struct engine_cmd fixed = *c;
	struct ipk_unit_config uc;
	const char *changed;
	uint64_t running = 0;
	uint32_t n, max;

	if (!b->ctx->gw)
		return ipk_err_set(err, -ENODEV, "engine: not available here");
	s = ipk_gateway_settings(b->ctx->gw);
	fixed.given &= G_MODE | G_BUFFERS;
	changed = engine_changed(&fixed, s, &running);
	if (changed)
		return ipk_err_set(err, -EINVAL, "engine: %s can only be set at start-up "
				   "(running with %llu)", changed, (unsigned long long)running);
	if (!engine_changed(c, s, &running))
		return 0;
	if (s->engine.mode != IPK_ENGINE_DECOUPLED)
		return ipk_err_set(err, -EINVAL, "engine: the coupled baseline's unit settings "
				   "are fixed at start-up");
	engine_units_after(c, s, &n, &uc);
	max = ipk_gateway_max_units(b->ctx->gw);
	if (n > max)
		return ipk_err_set(err, -EINVAL, "engine: units %u above %u (the most this "
				   "gateway's SAs hold crypto contexts for: its CPUs, or the "
				   "start-up count)", n, max);
	return ipk_unit_config_check(&uc, err);
}

static int engine_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct engine_cmd *c = arg;
	const struct ipk_gw_settings *s = ipk_gateway_settings(ctx->gw);
	struct ipk_unit_config uc;
	uint64_t running;
	uint32_t n;

	if (!engine_changed(c, s, &running))
		return 0;
	engine_units_after(c, s, &n, &uc);
	return ipk_gateway_set_units(ctx->gw, n, &uc, err);
}

const struct ipk_cmd_def ipk_config_engine = {
	.words = { "engine" },
	.kws = engine_kws,
	.arg_size = sizeof(struct engine_cmd),
	.parse = engine_parse,
	.check = engine_check,
	.apply = engine_apply,
	.live = true,
	.waits_for_traffic = true,
};

static const struct ipk_kw no_kws[] = { { .name = NULL } };

static int show_units_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static uint64_t unit_drops(const struct ipk_engine_unit_stats *u)
{
	uint64_t n = 0;

	for (unsigned r = 0; r < IPK_DROP_COUNT; r++)
		n += u->drops[r];
	return n;
}

static void text_unit(struct ipk_outbuf *out, const struct ipk_engine_unit_stats *u,
		      const struct ipk_unit_config *cfg)
{
	ipk_out_printf(out, "unit %u caps %s high %u low %u rate %llu pps %llu\n", u->worker,
		       u->caps == IPK_UNIT_ALL_ALGS ? "all" : "some", u->high, u->low,
		       (unsigned long long)cfg->rate_bps, (unsigned long long)cfg->rate_pps);
	ipk_out_printf(out, "\theld %u max-held %u received %llu processed %llu bytes %llu "
		       "asks %llu drops %llu\n", u->occupancy, u->max_occupancy,
		       (unsigned long long)u->received, (unsigned long long)u->processed,
		       (unsigned long long)u->bytes, (unsigned long long)u->asks,
		       (unsigned long long)unit_drops(u));
}

static void json_unit(struct ipk_json *j, const struct ipk_engine_unit_stats *u,
		      const struct ipk_unit_config *cfg)
{
	ipk_json_obj_begin(j, NULL);
	ipk_json_u64(j, "unit", u->worker);
	ipk_json_u64(j, "caps", u->caps);
	ipk_json_u64(j, "high", u->high);
	ipk_json_u64(j, "low", u->low);
	ipk_json_u64(j, "rate_bps", cfg->rate_bps);
	ipk_json_u64(j, "rate_pps", cfg->rate_pps);
	ipk_json_u64(j, "held", u->occupancy);
	ipk_json_u64(j, "max_held", u->max_occupancy);
	ipk_json_u64(j, "received", u->received);
	ipk_json_u64(j, "processed", u->processed);
	ipk_json_u64(j, "bytes", u->bytes);
	ipk_json_u64(j, "asks", u->asks);
	ipk_json_u64(j, "drops", unit_drops(u));
	ipk_json_obj_end(j);
}

static int show_units_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
			  struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct ipk_unit_config *cfg;
	struct ipk_engine_stats *st;
	struct ipk_json j;

	if (!ctx->gw)
		return ipk_err_set(err, -ENODEV, "show units: not available here");
	if (ipk_engine_stats_read(ipk_gateway_engine(ctx->gw), &st))
		return ipk_err_set(err, -ENOMEM, "show units: out of memory");
	cfg = &ipk_gateway_settings(ctx->gw)->engine.unit;
	if (json) {
		ipk_json_init(&j, out);
		ipk_json_obj_begin(&j, NULL);
		ipk_json_arr_begin(&j, "units");
	}
	for (uint32_t i = 0; i < st->n_units; i++) {
		if (json)
			json_unit(&j, &st->unit[i], cfg);
		else
			text_unit(out, &st->unit[i], cfg);
	}
	if (json) {
		ipk_json_arr_end(&j);
		ipk_json_obj_end(&j);
	}
	ipk_engine_stats_free(st);
	return 0;
}

const struct ipk_cmd_def ipk_config_show_units = {
	.words = { "show", "units" },
	.kws = no_kws,
	.arg_size = sizeof(int),
	.parse = show_units_parse,
	.run = show_units_run,
};

/* Parses one command of the prescan; @seen holds the line of an earlier engine command. */
static int prescan_one(const struct ipk_lex_line *line, const char *origin, unsigned *seen,
		       struct ipk_gw_settings *s, struct ipk_err *err)
{
	const struct ipk_cmd_def *const defs[] = { &ipk_config_engine };
	struct engine_cmd c = { 0 };
	struct ipk_cmd_parser ps;
	struct ipk_err msg;

	if (line->n == 0 || strcmp(line->word[0], "engine") != 0)
		return 0;
	if (*seen)
		return ipk_err_set(err, -EINVAL, "%s:%u: engine: given twice (first on line %u); "
				   "write one engine command", origin, line->lineno[0], *seen);
	*seen = line->lineno[0];
	if (ipk_cmd_lookup(defs, 1, line, &ps, &msg) || engine_parse(&ps, &c))
		return ipk_err_set(err, -EINVAL, "%s:%u: %s", origin, ps.err_line, msg.msg);
	engine_merge(&c, s);
	return 0;
}

int ipk_config_gw_prescan(const char *text, const char *origin, struct ipk_gw_settings *s,
			  struct ipk_err *err)
{
	struct ipk_lex_line *line = malloc(sizeof(*line));
	struct ipk_err ignored;
	struct ipk_lex lx;
	unsigned seen = 0;
	int ret = 0;

	if (!line || ipk_lex_init(&lx, text)) {
		free(line);
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", origin);
	}
	while (!ret && ipk_lex_next(&lx, line, &ignored) == 1)
		ret = prescan_one(line, origin, &seen, s, err);
	ipk_lex_fini(&lx);
	free(line);
	return ret;
}

/* `interface add`: back-end arguments are kept as offsets into argbuf. */
struct iface_add {
	char name[IPK_NAME_MAX];
	char kind[8];
	uint8_t side;
	bool non_ip_drop;
	int argc;
	uint16_t arg_off[IPK_IO_MAX_ARGS];
	char argbuf[ARGBUF_MAX];
};

struct iface_del {
	char name[IPK_NAME_MAX];
};


static int push_arg(struct ipk_cmd_parser *ps, struct iface_add *c, const char *word,
		    size_t *used)
{
	size_t len = strlen(word) + 1;

	if (c->argc == IPK_IO_MAX_ARGS || *used + len > ARGBUF_MAX)
		return ipk_cmd_fail(ps, "kind", "too many arguments for %s", c->kind);
	memcpy(c->argbuf + *used, word, len);
	c->arg_off[c->argc++] = (uint16_t)*used;
	*used += len;
	return 0;
}

static void iface_args(const struct iface_add *c, struct ipk_io_args *args)
{
	args->argc = c->argc;
	for (int i = 0; i < c->argc; i++)
		args->argv[i] = c->argbuf + c->arg_off[i];
}

/* One gateway keyword (name, kind, side, non-ip) and its value; false for anything else,
 * which is the back end's. */
static int own_keyword(struct ipk_cmd_parser *ps, struct iface_add *c, const char *kw,
		       const char *value, bool *own)
{
	*own = true;
	if (strcmp(kw, "name") == 0) {
		if (!ipk_cmd_name_ok(value))
			return ipk_cmd_fail(ps, kw, "expected a name, got '%s'", value);
		snprintf(c->name, sizeof(c->name), "%s", value);
	} else if (strcmp(kw, "kind") == 0) {
		if (!ipk_io_find(value) || strlen(value) >= sizeof(c->kind))
			return ipk_cmd_fail(ps, kw, "expected one of tun, esp, udp, wire, got '%s'",
					    value);
		snprintf(c->kind, sizeof(c->kind), "%s", value);
	} else if (strcmp(kw, "side") == 0) {
		if (strcmp(value, "plain") && strcmp(value, "protected"))
			return ipk_cmd_fail(ps, kw, "expected plain or protected, got '%s'", value);
		c->side = strcmp(value, "plain") == 0 ? IPK_GW_PLAIN : IPK_GW_PROTECTED;
	} else if (strcmp(kw, "non-ip") == 0) {
		if (strcmp(value, "pass") && strcmp(value, "drop"))
			return ipk_cmd_fail(ps, kw, "expected pass or drop, got '%s'", value);
		c->non_ip_drop = strcmp(value, "drop") == 0;
	} else {
		*own = false;
	}
	return 0;
}

static int iface_words(struct ipk_cmd_parser *ps, struct iface_add *c, bool *has_side,
		       bool *has_non_ip)
{
	size_t used = 0;

	while (ps->pos < ps->line->n) {
		const char *kw = ps->line->word[ps->pos];
		const char *value = ps->pos + 1 < ps->line->n ? ps->line->word[ps->pos + 1] : NULL;
		bool own;

		ps->err_line = ps->line->lineno[ps->pos];
		if (!value)
			return ipk_cmd_fail(ps, kw, "expected a value, got end of line");
		ps->pos += 2;
		if (own_keyword(ps, c, kw, value, &own))
			return -EINVAL;
		*has_side |= own && strcmp(kw, "side") == 0;
		*has_non_ip |= own && strcmp(kw, "non-ip") == 0;
		if (!own && (push_arg(ps, c, kw, &used) || push_arg(ps, c, value, &used)))
			return -EINVAL;
	}
	/* The device of a tun port is named after the interface (config_gw.h). */
	if (c->name[0] && strcmp(c->kind, "tun") == 0 &&
	    (push_arg(ps, c, "name", &used) || push_arg(ps, c, c->name, &used)))
		return -EINVAL;
	return 0;
}

/* Rules across keywords: required ones, which side each kind serves. */
static int iface_rules(struct ipk_cmd_parser *ps, const struct iface_add *c, bool has_side,
		       bool has_non_ip)
{
	bool wire = strcmp(c->kind, "wire") == 0;

	if (!c->name[0])
		return ipk_cmd_missing(ps, "name", "");
	if (!c->kind[0])
		return ipk_cmd_missing(ps, "kind", "");
	if (!has_side)
		return ipk_cmd_missing(ps, "side", "(plain or protected)");
	if (strcmp(c->kind, "tun") == 0 && c->side != IPK_GW_PLAIN)
		return ipk_cmd_fail(ps, "side", "a tun interface is on the plain side");
	if (!wire && strcmp(c->kind, "tun") != 0 && c->side != IPK_GW_PROTECTED)
		return ipk_cmd_fail(ps, "side", "an %s interface is on the protected side",
				    c->kind);
	if (has_non_ip && !wire)
		return ipk_cmd_fail(ps, "non-ip", "only wire interfaces see non-IP frames");
	return 0;
}

static int iface_add_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct iface_add *c = arg;
	bool has_side = false, has_non_ip = false;
	struct ipk_io_args args;
	struct ipk_err msg;

	if (iface_words(ps, c, &has_side, &has_non_ip) ||
	    iface_rules(ps, c, has_side, has_non_ip))
		return -EINVAL;
	/* The back end's own parser checks its arguments now, touching nothing. */
	iface_args(c, &args);
	if (ipk_io_parse(c->kind, &args, &msg)) {
		ps->err_line = ps->line->lineno[0];
		return ipk_err_set(ps->err, -EINVAL, "interface %s: %s", c->name, msg.msg);
	}
	return 0;
}

static bool iface_exists(const struct ipk_cmd_batch *b, const char *name)
{
	char key[KEY_MAX];
	const struct ipk_cmd_note *note;

	snprintf(key, sizeof(key), "if:%s", name);
	note = ipk_cmd_note_find(b, key);
	if (note)
		return note->present;
	return ipk_gateway_port(b->ctx->gw, name) != NULL;
}

static int iface_note(struct ipk_cmd_batch *b, const char *name, bool present, const void *c)
{
	char key[KEY_MAX];

	snprintf(key, sizeof(key), "if:%s", name);
	return ipk_cmd_note_set(b, key, present, c);
}

static int iface_add_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct iface_add *c = arg;
	struct ipk_gw_port_spec spec = { .side = c->side, .non_ip_pass = !c->non_ip_drop };
	struct ipk_err msg;
	int ret;

	if (!b->ctx->gw)
		return ipk_err_set(err, -ENODEV, "interface: not available here");
	if (iface_exists(b, c->name))
		return ipk_err_set(err, -EEXIST, "interface add: '%s' already exists", c->name);
	snprintf(spec.name, sizeof(spec.name), "%s", c->name);
	snprintf(spec.kind, sizeof(spec.kind), "%s", c->kind);
	iface_args(c, &spec.args);
	/* Opened now, so that a port that cannot be made fails the batch before anything
	 * changed; the apply pass commits it (config_gw.h). */
	ret = ipk_gateway_port_stage(b->ctx->gw, &spec, c, &msg);
	if (ret)
		return ipk_err_set(err, ret, "interface %s: %s", c->name, msg.msg);
	return iface_note(b, c->name, true, c);
}

static int iface_add_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_gateway_port_commit(ctx->gw, arg, err);
}

const struct ipk_cmd_def ipk_config_interface_add = {
	.words = { "interface", "add" },
	.kws = no_kws,
	.arg_size = sizeof(struct iface_add),
	.parse = iface_add_parse,
	.check = iface_add_check,
	.apply = iface_add_apply,
};

static const struct ipk_kw del_kws[] = {
	{ "name", IPK_KW_NAME, true, IPK_KW_FIELD(struct iface_del, name) },
	{ .name = NULL },
};

static int iface_del_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static int iface_del_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct iface_del *c = arg;

	if (!b->ctx->gw)
		return ipk_err_set(err, -ENODEV, "interface: not available here");
	if (!iface_exists(b, c->name))
		return ipk_err_set(err, -ENOENT, "interface del: '%s' does not exist", c->name);
	return iface_note(b, c->name, false, NULL);
}

static int iface_del_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct iface_del *c = arg;

	if (ipk_gateway_port_retire(ctx->gw, c->name))
		return ipk_err_set(err, -ENOENT, "interface del: '%s' does not exist", c->name);
	return 0;
}

const struct ipk_cmd_def ipk_config_interface_del = {
	.words = { "interface", "del" },
	.kws = del_kws,
	.arg_size = sizeof(struct iface_del),
	.parse = iface_del_parse,
	.check = iface_del_check,
	.apply = iface_del_apply,
};
