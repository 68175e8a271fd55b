// SPDX-License-Identifier: BSD-2-Clause
#include "qos/shaper.h"

#include <errno.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "qos/bucket.h"

#define SHAPER_DEFAULT_BURST_NS 10000000ull

struct shaper {
	struct ipk_bucket bucket;
	uint64_t sent_bytes;
	uint64_t held;
};

static int shaper_read(const struct ipk_qos_args *args, uint64_t *rate, uint64_t *burst,
		       struct ipk_err *err)
{
	static const char *const keys[] = { "rate", "burst", NULL };
	uint64_t def_burst;

	if (ipk_qos_args_check(args, keys, "shaper", err))
		return -EINVAL;
	if (!ipk_qos_arg(args, "rate"))
		return ipk_err_set(err, -EINVAL, "shaper: rate is required");
	if (ipk_qos_arg_u64(args, "rate", 0, 1, IPK_BUCKET_RATE_MAX, rate, "shaper", err))
		return -EINVAL;
	def_burst = *rate / 8 * SHAPER_DEFAULT_BURST_NS / IPK_NSEC_PER_SEC;
	if (def_burst < 1500)
		def_burst = 1500;
	return ipk_qos_arg_u64(args, "burst", def_burst, 1, IPK_BUCKET_SIZE_MAX, burst,
			       "shaper", err);
}

static int shaper_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	uint64_t rate, burst;

	return shaper_read(args, &rate, &burst, err);
}

static int shaper_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct shaper *s = ipk_qos_priv(q);
	uint64_t rate, burst;

	if (shaper_read(args, &rate, &burst, err))
		return -EINVAL;
	ipk_bucket_init(&s->bucket, rate, burst, 0);
	return 0;
}

/* Never ask for more than a full bucket: see the header. */
static uint32_t needed(const struct shaper *s, uint32_t len)
{
	uint64_t size = (uint64_t)s->bucket.size / IPK_BUCKET_UNITS_PER_BYTE;

	return len < size ? len : (uint32_t)size;
}

static bool shaper_conform(struct ipk_qos *q, uint32_t len, uint64_t now)
{
	struct shaper *s = ipk_qos_priv(q);

	ipk_bucket_refill(&s->bucket, now);
	if (s->bucket.tokens >= ipk_bucket_units(needed(s, len)))
		return true;
	s->held++;
	return false;
}

static void shaper_consume(struct ipk_qos *q, uint32_t len, uint64_t now)
{
	struct shaper *s = ipk_qos_priv(q);

	ipk_bucket_refill(&s->bucket, now);
	ipk_bucket_charge(&s->bucket, len);
	s->sent_bytes += len;
}

static uint64_t shaper_wait_ns(struct ipk_qos *q, uint32_t len, uint64_t now)
{
	struct shaper *s = ipk_qos_priv(q);

	uint64_t wait;

	ipk_bucket_refill(&s->bucket, now);
	wait = ipk_bucket_wait_ns(&s->bucket, needed(s, len));
	/* The bucket counts from its last refill, which a caller's clock may be behind. */
	return now < s->bucket.last_ns ? wait + (s->bucket.last_ns - now) : wait;
}

static uint32_t shaper_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct shaper *s = ipk_qos_priv_const(q);
	const struct ipk_qos_stat st[] = {
		{ "rate", s->bucket.rate_bps },
		{ "burst", (uint64_t)s->bucket.size / IPK_BUCKET_UNITS_PER_BYTE },
		{ "sent-bytes", s->sent_bytes },
		{ "held", s->held },
	};

	return ipk_qos_stats_copy(out, max, st, IPK_ARRAY_SIZE(st));
}

const struct ipk_qos_ops ipk_shaper_ops = {
	.name = "shaper",
	.kind = IPK_QOS_SHAPER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct shaper),
	.parse = shaper_parse,
	.init = shaper_init,
	.conform = shaper_conform,
	.consume = shaper_consume,
	.wait_ns = shaper_wait_ns,
	.stats = shaper_stats,
};
