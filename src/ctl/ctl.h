/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One request of the control socket: the text `ipseckctl` sends, run against the SAD and
 * SPD, and the text that goes back.
 *
 * A request is either
 *   - one read-only command (show sa, show policy, stats; ctl/show.h), alone: it writes
 *     its output (text, or JSON when asked) and changes nothing; or
 *   - a batch of configuration commands (one or many lines), applied all or nothing by
 *     ipk_config_apply(); it writes no output.
 * A read-only command inside a batch is refused, so a batch stays one all-or-nothing
 * transaction and its answer is one success or one error. Messages name the origin
 * "ipseckctl" and the line: "ipseckctl:2: sa add: missing 'spi'".
 *
 * Threads: control plane; the caller serialises requests with other changes of @ctx (the
 * daemon runs them on its control thread).
 */
#ifndef IPK_CTL_CTL_H
#define IPK_CTL_CTL_H

#include <stdbool.h>

#include "core/err.h"
#include "ctl/config.h"
#include "ctl/json.h"

#define IPK_CTL_ORIGIN "ipseckctl"

/* Runs @text. Returns 0 with the output appended to @out, or a negative errno with the
 * message in @err and @out left as it was: -EINVAL (syntax, checks), -ENOENT, -EEXIST,
 * -ENOMEM, -EFBIG (output past out->max). */
int ipk_ctl_execute(struct ipk_config_ctx *ctx, const char *text, bool json,
		    struct ipk_outbuf *out, struct ipk_err *err);

/* ipk_ctl_execute() with @ctx a struct ipk_config_ctx *: the shape of the control socket's
 * handler (ctl/socket.h). */
int ipk_ctl_handler(void *ctx, const char *text, bool json, struct ipk_outbuf *out,
		    struct ipk_err *err);

#endif
