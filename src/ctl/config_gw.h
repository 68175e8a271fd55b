/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gateway's own commands of the configuration language (ctl/config.h), acting on the
 * struct ipk_gateway of ipseckd (gw/gateway.h); without one (ctx->gw NULL: the pcap mode,
 * tests) they refuse with "engine: not available here" / "interface: not available here".
 *
 *   engine [mode decoupled|coupled] [units N] [high N] [low N] [rate BITS] [pps N]
 *          [buffers N]
 *       The engine's shape: mode, crypto units (1..64; default one per CPU), each unit's
 *       water marks (high 1..1024, default 4; low 1..high, default 1), a rate cap per
 *       unit in bits/s (K, M, G are 2^10, 2^20, 2^30) or packets/s (to emulate a slow
 *       processor), and the packet buffers of the pool (1024..1048576, default 16384).
 *       Read at start-up, before the gateway exists (ipk_config_gw_prescan): one `engine`
 *       line per file. At runtime units, water marks and rate caps change while traffic
 *       flows (ipk_gateway_set_units; rate/pps 0 lifts a cap); a different mode or pool
 *       is refused ("engine: mode can only be set at start-up").
 *
 *   show units
 *       Read-only: every crypto unit's settings and counters (held packets, most held,
 *       received, processed, bytes, asks for work, drops).
 *
 *   interface add name NAME kind tun|esp|udp|wire side plain|protected [non-ip pass|drop]
 *                 [KEY VALUE]...
 *       Opens an I/O port (io/port.h). The KEY VALUE pairs are the back end's arguments,
 *       checked by its parser (ipk_io_parse); a `tun` port also gets `name NAME`, so the
 *       device is named after the interface. tun is plain side only, esp and udp
 *       protected only, wire either. `non-ip` (wire only, default pass): what to do with
 *       non-IP frames (gw/pump.h).
 *   interface del name NAME
 *       Stops the port's receive thread and closes it; packets for its side then leave by
 *       another port of that side, or are dropped.
 *
 * All or nothing: `interface add` opens the port in the check pass (held "staged" by the
 * gateway), so that a device or socket that cannot be made fails the batch before anything
 * changed; the apply pass starts it. The caller ends every batch with
 * ipk_gateway_batch_end(), which closes the ports of a failed batch.
 *
 * Threads: control plane.
 */
#ifndef IPK_CTL_CONFIG_GW_H
#define IPK_CTL_CONFIG_GW_H

#include "ctl/cmd.h"

struct ipk_gw_settings;

extern const struct ipk_cmd_def ipk_config_engine;
extern const struct ipk_cmd_def ipk_config_show_units;
extern const struct ipk_cmd_def ipk_config_interface_add;
extern const struct ipk_cmd_def ipk_config_interface_del;

/* Reads the `engine` command of @text (the rest is left to the batch) into @s, which the
 * caller initialised with ipk_gateway_settings_init(). Returns 0, or -EINVAL with a
 * message "ORIGIN:LINE: ..." (a bad engine line, or a second one). Text the lexer refuses
 * is left for the batch to report. */
int ipk_config_gw_prescan(const char *text, const char *origin, struct ipk_gw_settings *s,
			  struct ipk_err *err);

#endif
