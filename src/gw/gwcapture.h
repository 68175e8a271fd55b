/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet capture at a hook of the running gateway, like tcpdump -w (engine/tap.h does the
 * copying and the writing). Three commands of the language, run by ipseckd on behalf of
 * ipseckctl:
 *
 *   capture HOOK FILE [count N]   HOOK 1a..4b, 5a, 5b; FILE an absolute path, written by
 *                                 the daemon (created or truncated, mode 0600); N packets
 *                                 (default 1000, at most 100000000), then the file is
 *                                 closed. Returns at once; `show captures` says when the
 *                                 file is complete.
 *   capture stop HOOK             writes what was captured so far and closes the file.
 *   show captures                 every capture of this gateway: hook, file, written of
 *                                 count, skipped (the ring was full), state.
 *
 * One capture per hook side at a time. They are run-commands (ctl/cmd.h) like `show`: sent
 * alone, not in a batch or a file, and without ipk_gateway_pause(), since a tap is
 * published and removed atomically while traffic flows and touches no table the pause
 * protects. A capture that has written its count is detached and freed by the next of
 * these commands (or when the gateway goes); until then it costs the packet path one
 * atomic load per packet at its hook.
 *
 * The captures of every gateway of the process are kept in one table here, by engine.
 *
 * Threads: the control thread.
 */
#ifndef IPK_GW_GWCAPTURE_H
#define IPK_GW_GWCAPTURE_H

#include "ctl/cmd.h"

struct ipk_engine;

extern const struct ipk_cmd_def ipk_gwcapture_start;
extern const struct ipk_cmd_def ipk_gwcapture_stop;
extern const struct ipk_cmd_def ipk_gwcapture_show;

/* Stops every capture of @engine (their files are closed with what they hold) and forgets
 * them; before the engine is destroyed. NULL is fine. */
void ipk_gwcapture_stop_all(struct ipk_engine *engine);

#endif
