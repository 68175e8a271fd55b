/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * How ipseckd turns configuration text into a running gateway, and runs control requests
 * against it (gw/README.md has the reasoning).
 *
 * Start-up (ipk_gwctl_load): the file is read once; its `engine` command is read first
 * (ipk_config_gw_prescan), because the SAD must be created with one crypto context per
 * unit before the first `sa add`, and `hook attach` needs the engine's queues. The gateway
 * is created from those settings (engine threads running, no port yet), then the whole
 * file is applied as ONE batch (ctl/config.h): all or nothing, and on failure the gateway
 * is destroyed, so nothing of a bad file survives. The I/O threads start afterwards
 * (ipk_gateway_start), when the configuration is complete.
 *
 * Runtime (ipk_gwctl_handler, the control socket's handler): a lone read-only command
 * (show, stats) runs while traffic flows; so does a batch made only of commands that are
 * safe while packets flow (ipk_cmd_def.live: QoS components and hooks, crypto units);
 * one that also adds or deletes SAs and policies runs inside ipk_gateway_hold_tables()/
 * release_tables() (the packet scheduler parked); any other (interfaces) inside
 * ipk_gateway_pause()/resume(). Every batch ends with ipk_gateway_batch_end().
 *
 * Threads: the control thread.
 */
#ifndef IPK_GW_GWCTL_H
#define IPK_GW_GWCTL_H

#include <stdbool.h>

#include "core/err.h"
#include "ctl/json.h"

struct ipk_gateway;

#define IPK_GWCTL_FILE_MAX ((size_t)64 << 20)

/* Reads @path and builds the gateway (see above); does not start the I/O threads.
 * Returns 0 with *out set, or a negative errno with "PATH:LINE: ..." in @err. */
int ipk_gwctl_load(const char *path, struct ipk_gateway **out, struct ipk_err *err);
/* The control socket's handler (ctl/socket.h) with @gw a struct ipk_gateway *. */
int ipk_gwctl_handler(void *gw, const char *text, bool json, struct ipk_outbuf *out,
		      struct ipk_err *err);

#endif
