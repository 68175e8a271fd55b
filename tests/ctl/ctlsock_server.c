// SPDX-License-Identifier: BSD-2-Clause
/*
 * A control socket server for shell tests: serves the configuration language on PATH
 * with an empty SAD and SPD until SIGTERM or SIGINT, then removes the socket.
 *
 *   ctlsock_server PATH
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/socket.h"
#include "sa/sad.h"
#include "sa/spd.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_ctlsock *srv;
	struct ipk_err err;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: ctlsock_server PATH\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ipk_sad_create(&ctx.sad, 1) || ipk_spd_create(&ctx.spd)) {
		fprintf(stderr, "ctlsock_server: out of memory\n");
		goto out;
	}
	if (ipk_ctlsock_open(argv[1], &srv, &err)) {
		fprintf(stderr, "ctlsock_server: %s\n", err.msg);
		goto out;
	}
	printf("listening on %s\n", argv[1]);
	fflush(stdout);
	while (!stop)
		if (ipk_ctlsock_handle(srv, 100, ipk_ctl_handler, &ctx) < 0)
			break;
	ipk_ctlsock_close(srv);
	ret = 0;
out:
	if (ctx.spd)
		ipk_spd_destroy(ctx.spd);
	if (ctx.sad)
		ipk_sad_destroy(ctx.sad);
	return ret;
}
