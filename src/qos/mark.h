/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Meter actions shared by tb, srtcm and trtcm: what happens to a packet of a colour.
 *
 *   pass           leave it as it is
 *   drop           verdict IPK_QOS_DROP, reason IPK_DROP_METER
 *   remark:<dscp>  rewrite the DSCP (any name core/dscp.h knows, e.g. remark:af13), keep the
 *                  ECN bits (RFC 3168 §5: ECN is not ours to change), fix the IPv4
 *                  header checksum; a packet that is not valid IP passes unchanged
 *
 * The colour is always written to pkt->meta.color. Pure functions, any thread.
 */
#ifndef IPK_QOS_MARK_H
#define IPK_QOS_MARK_H

#include <stdint.h>

#include "qos/component.h"

enum ipk_mark_kind { IPK_MARK_PASS, IPK_MARK_DROP, IPK_MARK_REMARK };

struct ipk_mark {
	uint8_t kind;  /* enum ipk_mark_kind */
	uint8_t dscp;  /* IPK_MARK_REMARK */
};

/* Parses "pass", "drop" or "remark:<dscp>". Returns 0 or -EINVAL. */
int ipk_mark_parse(const char *text, struct ipk_mark *m);
/* @key of @args as an action (@def when absent); message "tb: exceed 'x' is not pass,
 * drop or remark:<dscp>". */
int ipk_mark_arg(const struct ipk_qos_args *args, const char *key, struct ipk_mark def,
		 struct ipk_mark *out, const char *comp, struct ipk_err *err);
/* The `mode blind|aware` argument of the three colour markers (default blind). */
int ipk_mark_mode_arg(const struct ipk_qos_args *args, bool *aware, const char *comp,
		      struct ipk_err *err);
/* The `green`/`yellow`/`red` actions of the colour markers (srTCM, trTCM), defaults
 * pass, pass, drop, into actions[0..2]. Returns 0 or -EINVAL with a message. */
int ipk_mark_colour_args(const struct ipk_qos_args *args, struct ipk_mark actions[3],
			 const char *comp, struct ipk_err *err);
/* Colours @pkt and applies @m. Returns the verdict; *why = IPK_DROP_METER on drop.
 * *remarked tells whether the DSCP was rewritten. */
enum ipk_qos_verdict ipk_mark_apply(const struct ipk_mark *m, struct ipk_pkt *pkt,
				    uint8_t color, enum ipk_drop_reason *why, bool *remarked);

#endif
