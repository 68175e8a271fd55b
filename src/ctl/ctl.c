// SPDX-License-Identifier: BSD-2-Clause
/*
 * Runs one control request (ctl/ctl.h): a lone read-only command, or a batch.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/cmd.h"
#include "ctl/lexer.h"

/* Finds the read-only command @text consists of, if it is one command with a run
 * function. Anything else (a batch, an empty text, an unknown or malformed command) is
 * for ipk_config_apply(), which reports its faults in the usual way. */
static const struct ipk_cmd_def *lone_command(struct ipk_lex *lx, struct ipk_lex_line *line,
					      struct ipk_cmd_parser *ps)
{
	const struct ipk_cmd_def *const *defs;
	struct ipk_lex_line *next;
	struct ipk_err ignored;
	size_t n_defs;
	bool alone;

	if (ipk_lex_next(lx, line, &ignored) != 1)
		return NULL;
	next = malloc(sizeof(*next));
	if (!next)
		return NULL;
	alone = ipk_lex_next(lx, next, &ignored) == 0;
	free(next);
	defs = ipk_config_commands(&n_defs);
	if (!alone || ipk_cmd_lookup(defs, n_defs, line, ps, &ignored) || !ps->def->run)
		return NULL;
	return ps->def;
}

static int run_command(struct ipk_config_ctx *ctx, struct ipk_cmd_parser *ps, bool json,
		       struct ipk_outbuf *out, struct ipk_err *err)
{
	size_t len = out->len;
	struct ipk_err msg;
	void *arg;
	int ret;

	arg = calloc(1, ps->def->arg_size);
	if (!arg)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", IPK_CTL_ORIGIN);
	ps->err = &msg;
	ret = ps->def->parse(ps, arg);
	if (ret) {
		ipk_err_set(err, ret, "%s:%u: %s", IPK_CTL_ORIGIN, ps->err_line, msg.msg);
		goto out_free;
	}
	ret = ps->def->run(ctx, arg, json, out, &msg);
	if (ret)
		ipk_err_set(err, ret, "%s:%u: %s", IPK_CTL_ORIGIN, ps->line->lineno[0], msg.msg);
	else if (out->overflow)
		ret = ipk_err_set(err, -EFBIG, "%s: output larger than %zu bytes", IPK_CTL_ORIGIN,
				  out->max);
	if (ret) {
		/* Drop the partial output (it may hold keys). */
		if (out->buf)
			explicit_bzero(out->buf + len, out->len - len);
		out->len = len;
		out->overflow = false;
	}
out_free:
	free(arg);
	return ret;
}

int ipk_ctl_execute(struct ipk_config_ctx *ctx, const char *text, bool json,
		    struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct ipk_cmd_def *def;
	struct ipk_lex_line *line;
	struct ipk_cmd_parser ps;
	struct ipk_lex lx;
	int ret;

	line = malloc(sizeof(*line));
	if (!line || ipk_lex_init(&lx, text)) {
		free(line);
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", IPK_CTL_ORIGIN);
	}
	def = lone_command(&lx, line, &ps);
	if (def)
		ret = run_command(ctx, &ps, json, out, err);
	else
		ret = ipk_config_apply(ctx, text, IPK_CTL_ORIGIN, err);
	ipk_lex_fini(&lx);
	free(line);
	return ret;
}

int ipk_ctl_handler(void *ctx, const char *text, bool json, struct ipk_outbuf *out,
		    struct ipk_err *err)
{
	return ipk_ctl_execute(ctx, text, json, out, err);
}
