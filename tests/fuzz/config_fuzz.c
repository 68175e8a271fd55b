// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target: the configuration language (src/ctl/config*.c, lexer.c, cmd.c) and the
 * read-only commands of the control socket (src/ctl/show.c, ctl.c).
 *
 * The input is configuration text (up to its first NUL byte). It is applied as one batch
 * to a fresh SAD, SPD and QoS hooks without an engine (objects can be made, not attached).
 * A refused batch must come with a message and leave the SAD and SPD empty (all or
 * nothing). The same text then goes through ipk_ctl_execute, as if ipseckctl had sent it,
 * and every show command runs, as text and as JSON, over what the batch built.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config.h"
#include "ctl/ctl.h"
#include "ctl/json.h"
#include "engine/hooks.h"
#include "sa/sad.h"
#include "sa/spd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX (1u << 20)

static void die(const char *what)
{
	fprintf(stderr, "config_fuzz: %s\n", what);
	abort();
}

static const char *const shows[] = {
	"show sa", "show policy", "show hooks", "stats", "show sa name sa0",
};

static void run_shows(struct ipk_config_ctx *ctx)
{
	struct ipk_outbuf out;

	ipk_out_init(&out, OUT_MAX);
	for (size_t i = 0; i < sizeof(shows) / sizeof(shows[0]); i++) {
		for (int json = 0; json < 2; json++) {
			struct ipk_err err = { .msg = "" };
			int rc = ipk_ctl_execute(ctx, shows[i], json, &out, &err);

			if (rc != 0 && !err.msg[0])
				die("show failed without a message");
			ipk_out_reset(&out);
		}
	}
	ipk_out_fini(&out);
}

static void run_text(struct ipk_config_ctx *ctx, const char *text)
{
	struct ipk_err err = { .msg = "" };
	struct ipk_outbuf out;
	int rc = ipk_config_apply(ctx, text, "fuzz", &err);

	if (getenv("IPK_FUZZ_VERBOSE"))
		fprintf(stderr, "apply: %d %s (sa %u, policies %u)\n", rc, err.msg,
			ipk_sad_count(ctx->sad), ipk_spd_count(ctx->spd));
	if (rc > 0)
		die("positive return");
	if (rc < 0) {
		if (!err.msg[0])
			die("refused without a message");
		if (ipk_sad_count(ctx->sad) || ipk_spd_count(ctx->spd))
			die("a refused batch changed the SAD or SPD");
	}
	ipk_out_init(&out, OUT_MAX);
	err.msg[0] = '\0';
	rc = ipk_ctl_execute(ctx, text, text[0] & 1, &out, &err);
	if (rc < 0 && !err.msg[0])
		die("ctl refused without a message");
	ipk_out_fini(&out);
	run_shows(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipk_config_ctx ctx = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ipk_sad_create(&ctx.sad, 1) || ipk_spd_create(&ctx.spd) ||
	    ipk_hooks_create(&ctx.hooks, NULL))
		die("out of memory");
	run_text(&ctx, text);
	ipk_hooks_destroy(ctx.hooks);
	ipk_spd_destroy(ctx.spd);
	ipk_sad_destroy(ctx.sad);
	free(text);
	return 0;
}
