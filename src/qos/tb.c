// SPDX-License-Identifier: BSD-2-Clause
#include "qos/tb.h"

#include <errno.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "qos/bucket.h"
#include "qos/mark.h"

/* 10 ms of traffic: enough for the bursts a sender's pacing leaves. */
#define TB_DEFAULT_BURST_NS 10000000ull

struct tb {
	struct ipk_bucket bucket;
	struct ipk_mark exceed;
	uint64_t conform_pkts, exceed_pkts, remarked;
};

static int tb_read(const struct ipk_qos_args *args, uint64_t *rate, uint64_t *burst,
		   struct ipk_mark *exceed, struct ipk_err *err)
{
	static const char *const keys[] = { "rate", "burst", "exceed", NULL };
	const struct ipk_mark drop = { .kind = IPK_MARK_DROP };
	uint64_t def_burst;

	if (ipk_qos_args_check(args, keys, "tb", err))
		return -EINVAL;
	if (!ipk_qos_arg(args, "rate"))
		return ipk_err_set(err, -EINVAL, "tb: rate is required");
	if (ipk_qos_arg_u64(args, "rate", 0, 1, IPK_BUCKET_RATE_MAX, rate, "tb", err))
		return -EINVAL;
	def_burst = *rate / 8 * TB_DEFAULT_BURST_NS / IPK_NSEC_PER_SEC;
	if (def_burst < 1500)
		def_burst = 1500;
	if (ipk_qos_arg_u64(args, "burst", def_burst, 1, IPK_BUCKET_SIZE_MAX, burst, "tb", err))
		return -EINVAL;
	return ipk_mark_arg(args, "exceed", drop, exceed, "tb", err);
}

static int tb_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	uint64_t rate, burst;
	struct ipk_mark exceed;

	return tb_read(args, &rate, &burst, &exceed, err);
}

static int tb_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct tb *t = ipk_qos_priv(q);
	uint64_t rate, burst;

	if (tb_read(args, &rate, &burst, &t->exceed, err))
		return -EINVAL;
	ipk_bucket_init(&t->bucket, rate, burst, 0);
	return 0;
}

static enum ipk_qos_verdict tb_meter(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				     enum ipk_drop_reason *why)
{
	static const struct ipk_mark pass = { .kind = IPK_MARK_PASS };
	struct tb *t = ipk_qos_priv(q);
	enum ipk_qos_verdict v;
	bool remarked;

	ipk_bucket_refill(&t->bucket, now);
	if (ipk_bucket_take(&t->bucket, pkt->len)) {
		t->conform_pkts++;
		return ipk_mark_apply(&pass, pkt, IPK_QOS_GREEN, why, &remarked);
	}
	t->exceed_pkts++;
	v = ipk_mark_apply(&t->exceed, pkt, IPK_QOS_RED, why, &remarked);
	t->remarked += remarked;
	return v;
}

static uint32_t tb_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct tb *t = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "conform", t->conform_pkts },
		{ "exceed", t->exceed_pkts },
		{ "remarked", t->remarked },
		{ "rate", t->bucket.rate_bps },
		{ "burst", (uint64_t)t->bucket.size / IPK_BUCKET_UNITS_PER_BYTE },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_tb_ops = {
	.name = "tb",
	.kind = IPK_QOS_METER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct tb),
	.parse = tb_parse,
	.init = tb_init,
	.meter = tb_meter,
	.stats = tb_stats,
};
