// SPDX-License-Identifier: BSD-2-Clause
#include "qos/mark.h"

#include <errno.h>
#include <string.h>

#include "core/dscp.h"
#include "proto/ip.h"

int ipk_mark_parse(const char *text, struct ipk_mark *m)
{
	memset(m, 0, sizeof(*m));
	if (strcmp(text, "pass") == 0) {
		m->kind = IPK_MARK_PASS;
		return 0;
	}
	if (strcmp(text, "drop") == 0) {
		m->kind = IPK_MARK_DROP;
		return 0;
	}
	if (strncmp(text, "remark:", 7) == 0 && ipk_dscp_parse(text + 7, &m->dscp) == 0) {
		m->kind = IPK_MARK_REMARK;
		return 0;
	}
	return -EINVAL;
}

int ipk_mark_arg(const struct ipk_qos_args *args, const char *key, struct ipk_mark def,
		 struct ipk_mark *out, const char *comp, struct ipk_err *err)
{
	const char *text = ipk_qos_arg(args, key);

	*out = def;
	if (text && ipk_mark_parse(text, out))
		return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not pass, drop or remark:<dscp>",
				   comp, key, text);
	return 0;
}

int ipk_mark_colour_args(const struct ipk_qos_args *args, struct ipk_mark actions[3],
			 const char *comp, struct ipk_err *err)
{
	static const char *const colours[3] = { "green", "yellow", "red" };
	const struct ipk_mark defs[3] = { { IPK_MARK_PASS, 0 }, { IPK_MARK_PASS, 0 },
					  { IPK_MARK_DROP, 0 } };

	for (int i = 0; i < 3; i++)
		if (ipk_mark_arg(args, colours[i], defs[i], &actions[i], comp, err))
			return -EINVAL;
	return 0;
}

int ipk_mark_mode_arg(const struct ipk_qos_args *args, bool *aware, const char *comp,
		      struct ipk_err *err)
{
	const char *mode = ipk_qos_arg(args, "mode");

	*aware = mode && strcmp(mode, "aware") == 0;
	if (mode && !*aware && strcmp(mode, "blind") != 0)
		return ipk_err_set(err, -EINVAL, "%s: mode '%s' is not blind or aware", comp,
				   mode);
	return 0;
}

static bool remark(struct ipk_pkt *pkt, uint8_t dscp)
{
	struct ipk_ip_info info;
	uint8_t *hdr = ipk_pkt_data(pkt);

	if (ipk_ip_parse(hdr, pkt->len, &info) != 0)
		return false;
	ipk_ip_set_tos(hdr, (uint8_t)(dscp << 2 | info.ecn));
	return true;
}

enum ipk_qos_verdict ipk_mark_apply(const struct ipk_mark *m, struct ipk_pkt *pkt,
				    uint8_t color, enum ipk_drop_reason *why, bool *remarked)
{
	pkt->meta.color = color;
	*remarked = false;
	switch (m->kind) {
	case IPK_MARK_DROP:
		*why = IPK_DROP_METER;
		return IPK_QOS_DROP;
	case IPK_MARK_REMARK:
		*remarked = remark(pkt, m->dscp);
		return IPK_QOS_PASS;
	default:
		return IPK_QOS_PASS;
	}
}
