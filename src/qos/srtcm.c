// SPDX-License-Identifier: BSD-2-Clause
#include "qos/srtcm.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"
#include "qos/bucket.h"
#include "qos/mark.h"

struct srtcm {
	struct ipk_bucket c, e;   /* both at CIR; E only takes C's overflow */
	struct ipk_mark action[3];
	bool aware;
	uint64_t count[3];
	uint64_t remarked;
};

struct srtcm_conf {
	uint64_t cir, cbs, ebs;
	bool aware;
	struct ipk_mark action[3];
};

static int srtcm_read(const struct ipk_qos_args *args, struct srtcm_conf *c,
		      struct ipk_err *err)
{
	static const char *const keys[] = { "cir", "cbs", "ebs", "mode", "green", "yellow",
					    "red", NULL };

	if (ipk_qos_args_check(args, keys, "srtcm", err))
		return -EINVAL;
	if (!ipk_qos_arg(args, "cir"))
		return ipk_err_set(err, -EINVAL, "srtcm: cir is required");
	if (ipk_qos_arg_u64(args, "cir", 0, 1, IPK_BUCKET_RATE_MAX, &c->cir, "srtcm", err) ||
	    ipk_qos_arg_u64(args, "cbs", 1500, 0, IPK_BUCKET_SIZE_MAX, &c->cbs, "srtcm", err) ||
	    ipk_qos_arg_u64(args, "ebs", 1500, 0, IPK_BUCKET_SIZE_MAX, &c->ebs, "srtcm", err))
		return -EINVAL;
	/* RFC 2697 §2: at least one of CBS and EBS must be larger than 0. */
	if (c->cbs == 0 && c->ebs == 0)
		return ipk_err_set(err, -EINVAL, "srtcm: cbs and ebs are both 0");
	if (ipk_mark_mode_arg(args, &c->aware, "srtcm", err))
		return -EINVAL;
	return ipk_mark_colour_args(args, c->action, "srtcm", err);
}

static int srtcm_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct srtcm_conf c;

	return srtcm_read(args, &c, err);
}

static int srtcm_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct srtcm *m = ipk_qos_priv(q);
	struct srtcm_conf c;

	if (srtcm_read(args, &c, err))
		return -EINVAL;
	ipk_bucket_init(&m->c, c.cir, c.cbs, 0);
	ipk_bucket_init(&m->e, c.cir, c.ebs, 0);
	m->aware = c.aware;
	memcpy(m->action, c.action, sizeof(m->action));
	return 0;
}

/* RFC 2697 §3.1: CIR times a second tokens go to C while Tc < CBS, else to E. */
static void srtcm_refill(struct srtcm *m, uint64_t now)
{
	int64_t room = (m->c.size - m->c.tokens) + (m->e.size - m->e.tokens);
	int64_t credit = ipk_bucket_credit(&m->c, now, room);

	ipk_bucket_fill(&m->e, ipk_bucket_fill(&m->c, credit));
}

static uint8_t srtcm_color(struct srtcm *m, uint32_t len, uint8_t pre)
{
	if (!m->aware)
		pre = IPK_QOS_GREEN;
	if (pre == IPK_QOS_GREEN && ipk_bucket_take(&m->c, len))
		return IPK_QOS_GREEN;
	if (pre <= IPK_QOS_YELLOW && ipk_bucket_take(&m->e, len))
		return IPK_QOS_YELLOW;
	return IPK_QOS_RED;
}

static enum ipk_qos_verdict srtcm_meter(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					enum ipk_drop_reason *why)
{
	struct srtcm *m = ipk_qos_priv(q);
	enum ipk_qos_verdict v;
	uint8_t color;
	bool remarked;

	srtcm_refill(m, now);
	color = srtcm_color(m, pkt->len, pkt->meta.color);
	m->count[color]++;
	v = ipk_mark_apply(&m->action[color], pkt, color, why, &remarked);
	m->remarked += remarked;
	return v;
}

static uint32_t srtcm_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct srtcm *m = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "green", m->count[IPK_QOS_GREEN] },
		{ "yellow", m->count[IPK_QOS_YELLOW] },
		{ "red", m->count[IPK_QOS_RED] },
		{ "remarked", m->remarked },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_srtcm_ops = {
	.name = "srtcm",
	.kind = IPK_QOS_METER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct srtcm),
	.parse = srtcm_parse,
	.init = srtcm_init,
	.meter = srtcm_meter,
	.stats = srtcm_stats,
};
