// SPDX-License-Identifier: BSD-2-Clause
#include "qos/trtcm.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"
#include "qos/bucket.h"
#include "qos/mark.h"

struct trtcm {
	struct ipk_bucket p, c;
	struct ipk_mark action[3];
	bool aware;
	uint64_t count[3];
	uint64_t remarked;
};

struct trtcm_conf {
	uint64_t pir, pbs, cir, cbs;
	bool aware;
	struct ipk_mark action[3];
};

static int trtcm_rates(const struct ipk_qos_args *args, struct trtcm_conf *c,
		       struct ipk_err *err)
{
	if (!ipk_qos_arg(args, "pir") || !ipk_qos_arg(args, "cir"))
		return ipk_err_set(err, -EINVAL, "trtcm: pir and cir are required");
	if (ipk_qos_arg_u64(args, "pir", 0, 1, IPK_BUCKET_RATE_MAX, &c->pir, "trtcm", err) ||
	    ipk_qos_arg_u64(args, "pbs", 1500, 1, IPK_BUCKET_SIZE_MAX, &c->pbs, "trtcm", err) ||
	    ipk_qos_arg_u64(args, "cir", 0, 1, IPK_BUCKET_RATE_MAX, &c->cir, "trtcm", err) ||
	    ipk_qos_arg_u64(args, "cbs", 1500, 1, IPK_BUCKET_SIZE_MAX, &c->cbs, "trtcm", err))
		return -EINVAL;
	/* RFC 2698 §2: the PIR must be equal to or greater than the CIR. */
	if (c->pir < c->cir)
		return ipk_err_set(err, -EINVAL, "trtcm: pir %llu below cir %llu",
				   (unsigned long long)c->pir, (unsigned long long)c->cir);
	return 0;
}

static int trtcm_read(const struct ipk_qos_args *args, struct trtcm_conf *c,
		      struct ipk_err *err)
{
	static const char *const keys[] = { "pir", "pbs", "cir", "cbs", "mode", "green",
					    "yellow", "red", NULL };

	if (ipk_qos_args_check(args, keys, "trtcm", err) || trtcm_rates(args, c, err) ||
	    ipk_mark_mode_arg(args, &c->aware, "trtcm", err))
		return -EINVAL;
	return ipk_mark_colour_args(args, c->action, "trtcm", err);
}

static int trtcm_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct trtcm_conf c;

	return trtcm_read(args, &c, err);
}

static int trtcm_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct trtcm *m = ipk_qos_priv(q);
	struct trtcm_conf c;

	if (trtcm_read(args, &c, err))
		return -EINVAL;
	ipk_bucket_init(&m->p, c.pir, c.pbs, 0);
	ipk_bucket_init(&m->c, c.cir, c.cbs, 0);
	m->aware = c.aware;
	memcpy(m->action, c.action, sizeof(m->action));
	return 0;
}

static uint8_t trtcm_color(struct trtcm *m, uint32_t len, uint8_t pre)
{
	int64_t b = ipk_bucket_units(len);

	if (!m->aware)
		pre = IPK_QOS_GREEN;
	if (pre >= IPK_QOS_RED || m->p.tokens < b)
		return IPK_QOS_RED;
	if (pre == IPK_QOS_YELLOW || m->c.tokens < b) {
		m->p.tokens -= b;
		return IPK_QOS_YELLOW;
	}
	m->p.tokens -= b;
	m->c.tokens -= b;
	return IPK_QOS_GREEN;
}

static enum ipk_qos_verdict trtcm_meter(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					enum ipk_drop_reason *why)
{
	struct trtcm *m = ipk_qos_priv(q);
	enum ipk_qos_verdict v;
	uint8_t color;
	bool remarked;

	ipk_bucket_refill(&m->p, now);
	ipk_bucket_refill(&m->c, now);
	color = trtcm_color(m, pkt->len, pkt->meta.color);
	m->count[color]++;
	v = ipk_mark_apply(&m->action[color], pkt, color, why, &remarked);
	m->remarked += remarked;
	return v;
}

static uint32_t trtcm_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct trtcm *m = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "green", m->count[IPK_QOS_GREEN] },
		{ "yellow", m->count[IPK_QOS_YELLOW] },
		{ "red", m->count[IPK_QOS_RED] },
		{ "remarked", m->remarked },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_trtcm_ops = {
	.name = "trtcm",
	.kind = IPK_QOS_METER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct trtcm),
	.parse = trtcm_parse,
	.init = trtcm_init,
	.meter = trtcm_meter,
	.stats = trtcm_stats,
};
