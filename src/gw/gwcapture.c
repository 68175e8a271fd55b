// SPDX-License-Identifier: BSD-2-Clause
#include "gw/gwcapture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "ctl/json.h"
#include "engine/engine.h"
#include "engine/equeue.h"
#include "engine/tap.h"
#include "gw/gateway.h"

#define PATH_MAX_BYTES 1024
/* Hook sides of one engine (queues 1..5, a and b) for a few gateways in one process (the
 * daemon has one; tests make several). */
#define CAPTURES_MAX (4 * 2 * IPK_ENGINE_QUEUES)

enum capture_state { CAP_FREE = 0, CAP_RUNNING, CAP_DONE, CAP_STOPPED };

static const char *const state_names[] = { "", "running", "done", "stopped" };

struct capture {
	enum capture_state state;
	struct ipk_engine *engine;
	unsigned queue;                /* 1..5 */
	unsigned side;                 /* IPK_TAP_NA, IPK_TAP_NB */
	struct ipk_tap *tap;           /* while running */
	struct ipk_tap_stats last;     /* the counters when it was freed */
	char path[PATH_MAX_BYTES];
};

/* Control thread only (gwcapture.h). */
static struct capture captures[CAPTURES_MAX];

struct capture_cmd {
	unsigned queue, side;
	char path[PATH_MAX_BYTES];
	uint64_t count;
};

/* "1a".."5b". Returns 0 or -EINVAL. */
static int parse_point(const char *word, unsigned *queue, unsigned *side)
{
	if (!word || word[0] < '1' || word[0] > '5' || (word[1] != 'a' && word[1] != 'b') ||
	    word[2])
		return -EINVAL;
	*queue = (unsigned)(word[0] - '0');
	*side = word[1] == 'a' ? IPK_TAP_NA : IPK_TAP_NB;
	return 0;
}

static const char *next_word(struct ipk_cmd_parser *ps)
{
	return ps->pos < ps->line->n ? ps->line->word[ps->pos++] : NULL;
}

static int parse_hook_word(struct ipk_cmd_parser *ps, struct capture_cmd *c)
{
	const char *hook = next_word(ps);

	if (parse_point(hook, &c->queue, &c->side))
		return ipk_cmd_fail(ps, "hook", "expected a hook side 1a..4b, 5a or 5b, got '%s'",
				    hook ? hook : "end of line");
	return 0;
}

static int start_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct capture_cmd *c = arg;
	const char *path;
	int ret;

	ret = parse_hook_word(ps, c);
	if (ret)
		return ret;
	path = next_word(ps);
	if (!path || path[0] != '/' || strlen(path) >= sizeof(c->path))
		return ipk_cmd_fail(ps, "file", "expected an absolute path (the daemon writes "
				    "it), got '%s'", path ? path : "end of line");
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->count = IPK_TAP_DEFAULT_COUNT;
	return ipk_cmd_parse_keywords(ps, c);
}

static int stop_parse(struct ipk_cmd_parser *ps, void *arg)
{
	int ret = parse_hook_word(ps, arg);

	if (!ret && ps->pos < ps->line->n)
		return ipk_cmd_fail(ps, "hook", "unexpected '%s'", ps->line->word[ps->pos]);
	return ret;
}

static int show_parse(struct ipk_cmd_parser *ps, void *arg)
{
	if (ps->pos < ps->line->n)
		return ipk_cmd_fail(ps, "captures", "unexpected '%s'", ps->line->word[ps->pos]);
	return 0;
}

static struct capture *find(const struct ipk_engine *e, unsigned queue, unsigned side)
{
	for (unsigned i = 0; i < CAPTURES_MAX; i++) {
		struct capture *c = &captures[i];

		if (c->state != CAP_FREE && c->engine == e && c->queue == queue && c->side == side)
			return c;
	}
	return NULL;
}

static struct capture *find_free(void)
{
	for (unsigned i = 0; i < CAPTURES_MAX; i++)
		if (captures[i].state == CAP_FREE)
			return &captures[i];
	return NULL;
}

/* Detaches and frees the tap of @c; its file is closed with what the ring holds. The
 * detach comes first, so that the last copies are in the ring before the last flush. */
static void finish(struct capture *c, struct ipk_equeue *q, enum capture_state state)
{
	if (q)
		ipk_tap_detach(&q->tap[c->side]);
	ipk_tap_destroy(c->tap, &c->last);
	c->tap = NULL;
	c->state = state;
}

/* Frees the taps of @e's captures that have written their count. */
static void reap(struct ipk_engine *e)
{
	for (unsigned i = 0; i < CAPTURES_MAX; i++) {
		struct capture *c = &captures[i];

		if (c->state != CAP_RUNNING || c->engine != e)
			continue;
		ipk_tap_stats_read(c->tap, &c->last);
		if (c->last.done)
			finish(c, ipk_engine_queue(e, c->queue), CAP_DONE);
	}
}

/* The engine of the running gateway, and the queue of @queue; message when absent. */
static int engine_of(struct ipk_config_ctx *ctx, unsigned queue, const char *what,
		     struct ipk_engine **e, struct ipk_equeue **q, struct ipk_err *err)
{
	*e = ctx->gw ? ipk_gateway_engine(ctx->gw) : NULL;
	if (!*e)
		return ipk_err_set(err, -ENODEV, "%s: only a running ipseckd captures", what);
	*q = queue ? ipk_engine_queue(*e, queue) : NULL;
	if (queue && !*q)
		return ipk_err_set(err, -ENODEV, "%s: no hook %u here (the coupled mode has "
				   "queues 1 and 2 only)", what, queue);
	reap(*e);
	return 0;
}

static void hook_name(char *buf, unsigned queue, unsigned side)
{
	buf[0] = (char)('0' + queue);
	buf[1] = side == IPK_TAP_NA ? 'a' : 'b';
	buf[2] = '\0';
}

static int open_tap(const struct capture_cmd *cmd, struct ipk_equeue *q, struct ipk_tap **tap,
		    struct ipk_err *err)
{
	struct ipk_tap_config cfg;
	int ret;

	ipk_tap_config_init(&cfg);
	cfg.count = cmd->count;
	ret = ipk_tap_create(tap, &cfg, cmd->path, err);
	if (ret)
		return ret;
	ret = ipk_tap_start(*tap);
	if (!ret)
		ret = ipk_tap_attach(&q->tap[cmd->side], *tap);
	if (ret) {
		ipk_tap_destroy(*tap, NULL);
		return ipk_err_set(err, ret, "capture: cannot start: %s", strerror(-ret));
	}
	return 0;
}

/* The counters of @c: live while it runs, else as it ended. */
static void stats_of(const struct capture *c, struct ipk_tap_stats *st)
{
	if (c->tap)
		ipk_tap_stats_read(c->tap, st);
	else
		*st = c->last;
}

static void put_text(const struct capture *c, struct ipk_outbuf *out)
{
	struct ipk_tap_stats st;
	char hook[3];

	stats_of(c, &st);
	hook_name(hook, c->queue, c->side);
	ipk_out_printf(out, "capture %s: %s  written %llu of %llu  skipped %llu  %s\n", hook,
		       c->path, (unsigned long long)st.written, (unsigned long long)st.count,
		       (unsigned long long)st.skipped, state_names[c->state]);
}

static void put_json(struct ipk_json *j, const struct capture *c)
{
	struct ipk_tap_stats st;
	char hook[3];

	stats_of(c, &st);
	hook_name(hook, c->queue, c->side);
	ipk_json_obj_begin(j, NULL);
	ipk_json_str(j, "hook", hook);
	ipk_json_str(j, "file", c->path);
	ipk_json_u64(j, "count", st.count);
	ipk_json_u64(j, "written", st.written);
	ipk_json_u64(j, "skipped", st.skipped);
	ipk_json_str(j, "state", state_names[c->state]);
	ipk_json_obj_end(j);
}

static bool listed(const struct capture *c, const struct ipk_engine *e,
		   const struct capture *one)
{
	return one ? c == one : c->state != CAP_FREE && c->engine == e;
}

/* One capture (@one), or every capture of @e: {"captures":[...]} in JSON. */
static int report(const struct ipk_engine *e, const struct capture *one, bool json,
		  struct ipk_outbuf *out)
{
	struct ipk_json j;

	if (!json) {
		for (unsigned i = 0; i < CAPTURES_MAX; i++)
			if (listed(&captures[i], e, one))
				put_text(&captures[i], out);
		return 0;
	}
	ipk_json_init(&j, out);
	ipk_json_obj_begin(&j, NULL);
	ipk_json_arr_begin(&j, "captures");
	for (unsigned i = 0; i < CAPTURES_MAX; i++)
		if (listed(&captures[i], e, one))
			put_json(&j, &captures[i]);
	ipk_json_arr_end(&j);
	ipk_json_obj_end(&j);
	return ipk_json_finish(&j);
}

static int start_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
		     struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct capture_cmd *cmd = arg;
	struct ipk_tap *tap;
	struct capture *c;
	struct ipk_engine *e;
	struct ipk_equeue *q;
	char hook[3];
	int ret;

	hook_name(hook, cmd->queue, cmd->side);
	ret = engine_of(ctx, cmd->queue, "capture", &e, &q, err);
	if (ret)
		return ret;
	c = find(e, cmd->queue, cmd->side);
	if (c && c->state == CAP_RUNNING)
		return ipk_err_set(err, -EBUSY, "capture: hook %s is being captured to %s; "
				   "'capture stop %s' first", hook, c->path, hook);
	if (!c)
		c = find_free();
	if (!c)
		return ipk_err_set(err, -ENOSPC, "capture: %u captures at once at most",
				   CAPTURES_MAX);
	ret = open_tap(cmd, q, &tap, err);
	if (ret)
		return ret;
	*c = (struct capture){ .state = CAP_RUNNING, .engine = e, .queue = cmd->queue,
			       .side = cmd->side, .tap = tap };
	snprintf(c->path, sizeof(c->path), "%s", cmd->path);
	return report(e, c, json, out);
}

static int stop_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
		    struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct capture_cmd *cmd = arg;
	struct capture *c;
	struct ipk_engine *e;
	struct ipk_equeue *q;
	char hook[3];
	int ret;

	hook_name(hook, cmd->queue, cmd->side);
	ret = engine_of(ctx, cmd->queue, "capture stop", &e, &q, err);
	if (ret)
		return ret;
	c = find(e, cmd->queue, cmd->side);
	if (!c || c->state != CAP_RUNNING)
		return ipk_err_set(err, -ENOENT, "capture stop: no capture running at hook %s",
				   hook);
	finish(c, q, CAP_STOPPED);
	return report(e, c, json, out);
}

static int show_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
		    struct ipk_outbuf *out, struct ipk_err *err)
{
	struct ipk_engine *e;
	struct ipk_equeue *q;
	int ret;

	ret = engine_of(ctx, 0, "show captures", &e, &q, err);
	if (ret)
		return ret;
	return report(e, NULL, json, out);
}

void ipk_gwcapture_stop_all(struct ipk_engine *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < CAPTURES_MAX; i++) {
		struct capture *c = &captures[i];

		if (c->state == CAP_FREE || c->engine != e)
			continue;
		if (c->state == CAP_RUNNING)
			finish(c, ipk_engine_queue(e, c->queue), CAP_STOPPED);
		memset(c, 0, sizeof(*c));
	}
}

#define CC struct capture_cmd
static const struct ipk_kw start_kws[] = {
	{ "count", IPK_KW_NUM, false, IPK_KW_FIELD(CC, count), 1, IPK_TAP_MAX_COUNT },
	{ .name = NULL },
};
#undef CC

static const struct ipk_kw no_kws[] = { { .name = NULL } };

const struct ipk_cmd_def ipk_gwcapture_start = {
	.words = { "capture" },
	.kws = start_kws,
	.arg_size = sizeof(struct capture_cmd),
	.parse = start_parse,
	.run = start_run,
};

const struct ipk_cmd_def ipk_gwcapture_stop = {
	.words = { "capture", "stop" },
	.kws = no_kws,
	.arg_size = sizeof(struct capture_cmd),
	.parse = stop_parse,
	.run = stop_run,
};

const struct ipk_cmd_def ipk_gwcapture_show = {
	.words = { "show", "captures" },
	.kws = no_kws,
	.arg_size = sizeof(int),
	.parse = show_parse,
	.run = show_run,
};
