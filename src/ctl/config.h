/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The configuration language: one command per line, `#` comments, a backslash continues
 * a line. The same lines come from files (ipseck pcap -f, ipseckd -f) and, later, from the
 * control socket (ipseckctl). One keyword table (config.c) drives the parser, so files and
 * the control tool cannot drift apart.
 *
 *   sa add name NAME spi SPI dir in|out mode tunnel|transport src ADDR dst ADDR
 *          proposal ALG (key HEX | enc-key HEX auth-key HEX) [esn] [replay-window N]
 *          [encap udp [sport N] [dport N]] [ttl N] [seq N]
 *          [lifetime bytes N packets N seconds N] [soft-lifetime bytes N packets N seconds N]
 *   sa del name NAME
 *   policy add name NAME dir in|out [src PREFIX] [dst PREFIX] [proto udp|tcp|icmp|icmpv6|N]
 *          [sport A[-B]] [dport A[-B]] [dscp N|ef|afXY|csN|be]
 *          action protect sa NAME[,NAME...] | action bypass | action discard [priority N]
 *   policy del name NAME
 *
 * A batch (a file, or one control message) is all or nothing: every command is parsed and
 * checked against the state the earlier commands of the batch would leave, and only then
 * applied. Errors name the line, the word at fault and what was expected, e.g.
 *   "gw.conf:3: 'proposal': unknown algorithm 'aes129gcm16' (expected one of aes128gcm16, ...)"
 *
 * Threads: control plane only.
 */
#ifndef IPK_CTL_CONFIG_H
#define IPK_CTL_CONFIG_H

#include "core/err.h"

struct ipk_sad;
struct ipk_spd;
struct ipk_hooks;
struct ipk_gateway;

/* What a batch acts on. Members left NULL make their commands refuse ("QoS is not
 * available here" without hooks). */
struct ipk_config_ctx {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_hooks *hooks; /* QoS objects and hook attachments (engine/hooks.h) */
	struct ipk_gateway *gw;  /* engine and interfaces of ipseckd (gw/gateway.h) */
};

/* Parses, checks and applies @text (many lines). @origin names the source in messages
 * ("gw.conf", "ipseckctl"). Returns 0 or a negative errno with the message in @err; on
 * error nothing changed. */
int ipk_config_apply(struct ipk_config_ctx *ctx, const char *text, const char *origin,
		     struct ipk_err *err);
/* Reads @path and applies it as one batch. */
int ipk_config_load_file(struct ipk_config_ctx *ctx, const char *path, struct ipk_err *err);

#endif
