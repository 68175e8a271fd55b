// SPDX-License-Identifier: BSD-2-Clause
#include "gw/gwctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/cmd.h"
#include "ctl/config.h"
#include "ctl/config_gw.h"
#include "ctl/ctl.h"
#include "ctl/keyfile.h"
#include "ctl/lexer.h"
#include "gw/gateway.h"

/* Reads all of @path into a NUL-terminated buffer; the caller wipes and frees it (it
 * holds keys). */
static int read_text(const char *path, char **out, size_t *len, struct ipk_err *err)
{
	struct stat sb;
	size_t n = 0;
	char *buf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return ipk_err_set(err, ret, "%s: cannot open: %s", path, strerror(-ret));
	}
	if ((size_t)sb.st_size > IPK_GWCTL_FILE_MAX) {
		close(fd);
		return ipk_err_set(err, -EFBIG, "%s: larger than %zu MiB", path,
				   IPK_GWCTL_FILE_MAX >> 20);
	}
	buf = malloc((size_t)sb.st_size + 1);
	while (buf && n < (size_t)sb.st_size) {
		ssize_t got = read(fd, buf + n, (size_t)sb.st_size - n);

		if (got <= 0) {
			ret = got < 0 ? -errno : -EIO;
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	if (!buf)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", path);
	buf[n] = '\0';
	if (!ret && strlen(buf) != n)
		ret = ipk_err_set(err, -EINVAL, "%s: NUL byte in a text file", path);
	else if (ret)
		ipk_err_set(err, ret, "%s: cannot read: %s", path, strerror(-ret));
	if (ret) {
		explicit_bzero(buf, n);
		free(buf);
		return ret;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int build(const char *path, const char *text, struct ipk_gateway **out,
		 struct ipk_err *err)
{
	struct ipk_gw_settings s;
	struct ipk_config_ctx ctx;
	struct ipk_gateway *gw;
	int ret;

	ipk_gateway_settings_init(&s);
	ret = ipk_config_gw_prescan(text, path, &s, err);
	if (ret)
		return ret;
	ret = ipk_gateway_create(&gw, &s, err);
	if (ret)
		return ret;
	ipk_gateway_config_ctx(gw, &ctx);
	ret = ipk_config_apply(&ctx, text, path, err);
	ipk_gateway_batch_end(gw);
	if (ret) {
		ipk_gateway_destroy(gw);
		return ret;
	}
	*out = gw;
	return 0;
}

int ipk_gwctl_load(const char *path, struct ipk_gateway **out, struct ipk_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = read_text(path, &text, &len, err);
	if (ret)
		return ret;
	ipk_keyfile_warn(path, text);
	ret = build(path, text, out, err);
	explicit_bzero(text, len);
	free(text);
	return ret;
}

/* What a control request holds: exactly one read-only command (ctl/ctl.h runs those
 * alone); only commands that are safe while packets flow (ipk_cmd_def.live); or only
 * those and SA/policy commands (ipk_cmd_def.moves_sas), which need the tables held,
 * unless one of the former waits for traffic to move (`engine`: a held scheduler would
 * stop it). A line that does not lex or name a command makes it none of these: the batch
 * then runs, and fails with its message, under the pause like any other. */
struct request_kind {
	bool read_only;
	bool live;
	bool tables;
};

static struct request_kind kind_of(const char *text)
{
	struct request_kind k = { false, false, false };
	const struct ipk_cmd_def *const *defs;
	struct ipk_lex_line *line = malloc(sizeof(*line));
	struct ipk_cmd_parser ps;
	struct ipk_err ignored;
	struct ipk_lex lx;
	unsigned n = 0, live = 0, ro = 0, tables = 0;
	size_t n_defs;
	int more;

	if (!line || ipk_lex_init(&lx, text)) {
		free(line);
		return k;
	}
	defs = ipk_config_commands(&n_defs);
	while ((more = ipk_lex_next(&lx, line, &ignored)) == 1) {
		n++;
		if (ipk_cmd_lookup(defs, n_defs, line, &ps, &ignored))
			break;
		ro += ps.def->run != NULL;
		live += ps.def->live;
		tables += ps.def->moves_sas || (ps.def->live && !ps.def->waits_for_traffic);
	}
	if (more == 0 && n > 0) {
		k.read_only = n == 1 && ro == 1;
		k.live = live == n;
		k.tables = tables == n;
	}
	ipk_lex_fini(&lx);
	free(line);
	return k;
}

int ipk_gwctl_handler(void *arg, const char *text, bool json, struct ipk_outbuf *out,
		      struct ipk_err *err)
{
	struct ipk_gateway *gw = arg;
	struct request_kind kind = kind_of(text);
	struct ipk_config_ctx ctx;
	int ret;

	ipk_gateway_config_ctx(gw, &ctx);
	if (kind.read_only)
		return ipk_ctl_execute(&ctx, text, json, out, err);
	/* QoS chains and crypto units change while packets flow: an operator reshaping
	 * traffic under a flood does not stall it. SA and policy changes park the packet
	 * scheduler only; interface changes drain the engine. */
	if (kind.live)
		ret = 0;
	else if (kind.tables)
		ret = ipk_gateway_hold_tables(gw, err);
	else
		ret = ipk_gateway_pause(gw, err);
	if (ret)
		return ret;
	ret = ipk_ctl_execute(&ctx, text, json, out, err);
	if (kind.tables && !kind.live)
		ipk_gateway_release_tables(gw);
	else if (!kind.live)
		ipk_gateway_resume(gw);
	ipk_gateway_batch_end(gw);
	return ret;
}
