// SPDX-License-Identifier: BSD-2-Clause
/*
 * The batch driver of the configuration language: one table of commands, and three
 * passes over a batch.
 *   1. parse  every command into its struct (syntax; rules within one command);
 *   2. check  every command against the state the earlier ones leave (cmd.h notes);
 *   3. apply  in order, then re-resolve the policies' SAs.
 * Nothing changes unless passes 1 and 2 succeed for the whole batch. Pass 3 can then fail
 * only for lack of memory; it stops at that command, still re-resolves (so no policy keeps
 * a pointer to a deleted SA) and says how far it got.
 */
#include "ctl/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/log.h"
#include "ctl/cmd.h"
#include "ctl/config_gw.h"
#include "ctl/config_policy.h"
#include "ctl/config_qos.h"
#include "ctl/config_sa.h"
#include "ctl/keyfile.h"
#include "ctl/lexer.h"
#include "ctl/show.h"
#include "gw/gwevent.h"
#include "gw/gwcapture.h"
#include "sa/spd.h"

#define FILE_MAX ((size_t)64 << 20) /* a configuration larger than this is a mistake */
#define NOTES_PER_CMD 2             /* an SA's name and its SPI */

/* Every command of the language: the file, ipseckctl and the control socket share it. */
static const struct ipk_cmd_def *const commands[] = {
	&ipk_config_sa_add,
	&ipk_config_sa_del,
	&ipk_config_policy_add,
	&ipk_config_policy_del,
	&ipk_config_qos_add,
	&ipk_config_qos_node,
	&ipk_config_qos_del,
	&ipk_config_hook_attach,
	&ipk_config_hook_detach,
	&ipk_config_engine,
	&ipk_config_interface_add,
	&ipk_config_interface_del,
	&ipk_config_show_hooks,
	&ipk_config_show_units,
	&ipk_show_sa,
	&ipk_show_policy,
	&ipk_show_stats,
	&ipk_gwevent_command_def,
	&ipk_gwevent_show,
	&ipk_gwcapture_start,
	&ipk_gwcapture_stop,
	&ipk_gwcapture_show,
};

const struct ipk_cmd_def *const *ipk_config_commands(size_t *n)
{
	*n = IPK_ARRAY_SIZE(commands);
	return commands;
}

struct batch_cmd {
	const struct ipk_cmd_def *def;
	unsigned lineno;
	void *arg;
};

struct batch {
	const char *origin;
	struct batch_cmd *cmds;
	size_t n, cap;
};

/* "ORIGIN:LINE: message". */
static int locate(struct ipk_err *err, int code, const char *origin, unsigned lineno,
		  const struct ipk_err *msg)
{
	return ipk_err_set(err, code, "%s:%u: %s", origin, lineno, msg->msg);
}

static void batch_free(struct batch *bt)
{
	for (size_t i = 0; i < bt->n; i++) {
		/* Commands hold keys. */
		explicit_bzero(bt->cmds[i].arg, bt->cmds[i].def->arg_size);
		free(bt->cmds[i].arg);
	}
	free(bt->cmds);
}

static int batch_push(struct batch *bt, const struct ipk_cmd_def *def, unsigned lineno,
		      void *arg)
{
	if (bt->n == bt->cap) {
		size_t cap = bt->cap ? 2 * bt->cap : 16;
		struct batch_cmd *cmds = realloc(bt->cmds, cap * sizeof(*cmds));

		if (!cmds)
			return -ENOMEM;
		bt->cmds = cmds;
		bt->cap = cap;
	}
	bt->cmds[bt->n++] = (struct batch_cmd){ .def = def, .lineno = lineno, .arg = arg };
	return 0;
}

static int parse_one(struct batch *bt, const struct ipk_lex_line *line, unsigned *err_line,
		     struct ipk_err *err)
{
	struct ipk_cmd_parser ps;
	char name[32];
	void *arg;
	int ret;

	ret = ipk_cmd_lookup(commands, IPK_ARRAY_SIZE(commands), line, &ps, err);
	*err_line = ps.err_line;
	if (ret)
		return ret;
	if (ps.def->run)
		return ipk_err_set(err, -EINVAL, "%s: a read-only command; send it alone, not "
				   "in a batch", ipk_cmd_name(ps.def, name, sizeof(name)));
	arg = calloc(1, ps.def->arg_size);
	if (!arg)
		return ipk_err_set(err, -ENOMEM, "out of memory");
	ret = ps.def->parse(&ps, arg);
	*err_line = ps.err_line;
	if (!ret)
		ret = batch_push(bt, ps.def, line->lineno[0], arg);
	if (ret) {
		explicit_bzero(arg, ps.def->arg_size);
		free(arg);
		if (ret == -ENOMEM)
			ipk_err_set(err, ret, "out of memory");
	}
	return ret;
}

static int parse_all(struct batch *bt, const char *text, struct ipk_err *err)
{
	struct ipk_lex_line *line;
	struct ipk_err msg;
	struct ipk_lex lx;
	unsigned err_line;
	int ret;

	line = malloc(sizeof(*line));
	if (!line || ipk_lex_init(&lx, text)) {
		free(line);
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", bt->origin);
	}
	for (;;) {
		ret = ipk_lex_next(&lx, line, &msg);
		if (ret <= 0) {
			err_line = lx.err_line;
			break;
		}
		ret = parse_one(bt, line, &err_line, &msg);
		if (ret)
			break;
	}
	if (ret < 0)
		locate(err, ret, bt->origin, err_line, &msg);
	ipk_lex_fini(&lx);
	free(line);
	return ret < 0 ? ret : 0;
}

static int check_all(const struct batch *bt, struct ipk_config_ctx *ctx, struct ipk_err *err)
{
	struct ipk_cmd_batch b;
	struct ipk_err msg;
	int ret;

	if (ipk_cmd_batch_init(&b, ctx, NOTES_PER_CMD * bt->n))
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", bt->origin);
	for (size_t i = 0; i < bt->n; i++) {
		ret = bt->cmds[i].def->check(&b, bt->cmds[i].arg, &msg);
		if (ret) {
			if (ret == -ENOMEM)
				ipk_err_set(&msg, ret, "out of memory");
			locate(err, ret, bt->origin, bt->cmds[i].lineno, &msg);
			break;
		}
	}
	ipk_cmd_batch_fini(&b);
	return ret;
}

static int apply_all(const struct batch *bt, struct ipk_config_ctx *ctx, struct ipk_err *err)
{
	bool sa_or_policy = false;
	struct ipk_err msg;
	int ret = 0;

	/* One SPD index rebuild for the whole batch, not one per policy line. */
	if (ctx->spd)
		ipk_spd_batch_begin(ctx->spd);
	for (size_t i = 0; i < bt->n && !ret; i++) {
		sa_or_policy |= bt->cmds[i].def->moves_sas;
		ret = bt->cmds[i].def->apply(ctx, bt->cmds[i].arg, &msg);
		if (ret)
			ipk_err_set(err, ret, "%s:%u: %s (the commands before this line were applied)",
				    bt->origin, bt->cmds[i].lineno, msg.msg);
	}
	if (ctx->spd && ipk_spd_batch_end(ctx->spd))
		log_warnx("%s: out of memory for the SPD index: policy lookups scan every rule "
			  "until the next policy change", bt->origin);
	/* Only SA and policy changes move the policies' SA pointers. A QoS-only batch must
	 * not rewrite them: it runs while the packet scheduler reads them (engine/hooks.h). */
	if (sa_or_policy && ctx->sad && ctx->spd)
		ipk_spd_resolve(ctx->spd, ctx->sad);
	return ret;
}

int ipk_config_apply(struct ipk_config_ctx *ctx, const char *text, const char *origin,
		     struct ipk_err *err)
{
	struct batch bt = { .origin = origin ? origin : "config" };
	int ret;

	ret = parse_all(&bt, text, err);
	if (!ret && bt.n == 0)
		goto out_free;
	if (!ret)
		ret = check_all(&bt, ctx, err);
	if (!ret)
		ret = apply_all(&bt, ctx, err);
out_free:
	batch_free(&bt);
	return ret;
}

/* Moves @buf to one twice as large; the old copy is wiped (it may hold keys). */
static char *grow(char *buf, size_t *cap, size_t used)
{
	char *bigger = malloc(2 * *cap);

	if (bigger)
		memcpy(bigger, buf, used);
	explicit_bzero(buf, *cap);
	free(buf);
	*cap *= 2;
	return bigger;
}

/* Reads all of @f into a NUL-terminated buffer. */
static int read_all(FILE *f, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	for (;;) {
		if (!buf)
			return -ENOMEM;
		n += fread(buf + n, 1, cap - 1 - n, f);
		if (n < cap - 1)
			break;
		if (cap >= FILE_MAX) {
			explicit_bzero(buf, cap);
			free(buf);
			return -EFBIG;
		}
		buf = grow(buf, &cap, n);
	}
	buf[n] = '\0';
	if (ferror(f)) {
		explicit_bzero(buf, cap);
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = n;
	return 0;
}

static unsigned line_of(const char *text, size_t pos)
{
	unsigned line = 1;

	for (size_t i = 0; i < pos; i++)
		line += text[i] == '\n';
	return line;
}

int ipk_config_load_file(struct ipk_config_ctx *ctx, const char *path, struct ipk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		return ipk_err_set(err, ret, "%s: cannot open: %s", path, strerror(-ret));
	}
	/* Unbuffered: stdio's buffer would keep a copy of the keys, freed without a wipe. */
	setvbuf(f, NULL, _IONBF, 0);
	ret = read_all(f, &text, &len);
	fclose(f);
	if (ret == -EFBIG)
		return ipk_err_set(err, ret, "%s: larger than %zu MiB", path, FILE_MAX >> 20);
	if (ret)
		return ipk_err_set(err, ret, "%s: cannot read: %s", path, strerror(-ret));
	if (strlen(text) != len)
		ret = ipk_err_set(err, -EINVAL, "%s:%u: NUL byte in a text file", path,
				  line_of(text, strlen(text)));
	else
		ipk_keyfile_warn(path, text);
	if (!ret)
		ret = ipk_config_apply(ctx, text, path, err);
	explicit_bzero(text, len);
	free(text);
	return ret;
}
