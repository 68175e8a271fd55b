// SPDX-License-Identifier: BSD-2-Clause
#include "qos/red.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"

#define RED_MAX_PKTS 1000000

struct red_profile {
	double min_th, max_th, max_p;
	int64_t count;     /* packets since the last drop; -1 below min-th */
};

struct red {
	struct ipk_pkt_list list;
	uint64_t limit;
	double w_q;
	double avg;
	uint64_t pkt_time_ns;
	uint64_t idle_since;   /* when the queue last became empty */
	bool idle;
	bool gentle;
	bool wred;
	struct red_profile prof[3];
	uint64_t rng;
	uint64_t early_drops, forced_drops, limit_drops;
};

static const char *const colors[3] = { "green", "yellow", "red" };

/* "min,max,p" */
static int read_profile(const char *text, struct red_profile *p, const char *comp,
			const char *key, struct ipk_err *err)
{
	unsigned long lo, hi;
	double maxp;
	int used = 0;

	if (sscanf(text, "%lu,%lu,%lf%n", &lo, &hi, &maxp, &used) != 3 || text[used] != '\0' ||
	    text[0] == '-')
		return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not <min-th>,<max-th>,<max-p>",
				   comp, key, text);
	if (!(maxp >= 0 && maxp <= 1))
		return ipk_err_set(err, -EINVAL, "%s: %s max-p %g not in 0..1", comp, key, maxp);
	p->min_th = (double)lo;
	p->max_th = (double)hi;
	p->max_p = maxp;
	return 0;
}

static int check_profile(const struct red_profile *p, uint64_t limit, const char *comp,
			 const char *name, struct ipk_err *err)
{
	if (p->min_th >= p->max_th)
		return ipk_err_set(err, -EINVAL, "%s: %smin-th %.0f not below max-th %.0f", comp,
				   name, p->min_th, p->max_th);
	if (p->max_th > (double)limit)
		return ipk_err_set(err, -EINVAL, "%s: %smax-th %.0f above limit %llu", comp,
				   name, p->max_th, (unsigned long long)limit);
	return 0;
}

static int red_read_common(const struct ipk_qos_args *args, struct red *r, const char *comp,
			   struct ipk_err *err)
{
	const char *gentle = ipk_qos_arg(args, "gentle");
	uint64_t lo, hi, seed;

	if (ipk_qos_arg_u64(args, "limit", 1000, 1, RED_MAX_PKTS, &r->limit, comp, err) ||
	    ipk_qos_arg_u64(args, "min-th", 5, 0, RED_MAX_PKTS, &lo, comp, err) ||
	    ipk_qos_arg_u64(args, "max-th", 15, 1, RED_MAX_PKTS, &hi, comp, err) ||
	    ipk_qos_arg_frac(args, "max-p", 0.1, 0, 1, &r->prof[0].max_p, comp, err) ||
	    ipk_qos_arg_frac(args, "weight", 0.002, 0.000001, 1, &r->w_q, comp, err) ||
	    ipk_qos_arg_ns(args, "pkt-time", 1000000, 1, IPK_NSEC_PER_SEC, &r->pkt_time_ns,
			   comp, err) ||
	    ipk_qos_arg_u64(args, "seed", 0, 0, UINT64_MAX, &seed, comp, err))
		return -EINVAL;
	r->gentle = gentle && strcmp(gentle, "on") == 0;
	if (gentle && !r->gentle && strcmp(gentle, "off") != 0)
		return ipk_err_set(err, -EINVAL, "%s: gentle '%s' is not on or off", comp, gentle);
	r->prof[0].min_th = (double)lo;
	r->prof[0].max_th = (double)hi;
	r->prof[1] = r->prof[2] = r->prof[0];
	/* xorshift needs a non-zero state; without a seed, vary it per instance. */
	r->rng = seed ? seed : (ipk_clock_now_ns() ^ (uint64_t)(uintptr_t)r) | 1;
	return 0;
}

static int red_read(const struct ipk_qos_args *args, struct red *r, bool wred,
		    struct ipk_err *err)
{
	static const char *const red_keys[] = { "limit", "min-th", "max-th", "max-p", "weight",
						"pkt-time", "gentle", "seed", NULL };
	static const char *const wred_keys[] = { "limit", "min-th", "max-th", "max-p", "weight",
						 "pkt-time", "gentle", "seed", "green",
						 "yellow", "red", NULL };
	const char *comp = wred ? "wred" : "red";
	char name[16];

	memset(r, 0, sizeof(*r));
	r->wred = wred;
	if (ipk_qos_args_check(args, wred ? wred_keys : red_keys, comp, err) ||
	    red_read_common(args, r, comp, err))
		return -EINVAL;
	for (int c = 0; c < 3; c++) {
		const char *text = wred ? ipk_qos_arg(args, colors[c]) : NULL;

		if (text && read_profile(text, &r->prof[c], comp, colors[c], err))
			return -EINVAL;
		snprintf(name, sizeof(name), "%s%s", wred ? colors[c] : "", wred ? " " : "");
		if (check_profile(&r->prof[c], r->limit, comp, name, err))
			return -EINVAL;
		r->prof[c].count = -1;
	}
	return 0;
}

static int red_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct red scratch;

	return red_read(args, &scratch, false, err);
}

static int wred_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct red scratch;

	return red_read(args, &scratch, true, err);
}

static int red_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return red_read(args, ipk_qos_priv(q), false, err);
}

static int wred_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return red_read(args, ipk_qos_priv(q), true, err);
}

/* xorshift64* (Vigna): uniform in [0, 1). */
static double red_random(struct red *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return (double)((r->rng * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

/* b^e by squaring; no libm on the packet path. */
static double pow_u64(double b, uint64_t e)
{
	double result = 1;

	for (; e && result > 1e-300; e >>= 1, b *= b)
		if (e & 1)
			result *= b;
	return e ? 0 : result;
}

static void update_avg(struct red *r, uint64_t now)
{
	if (r->idle) {
		uint64_t m = now > r->idle_since ? (now - r->idle_since) / r->pkt_time_ns : 0;

		r->avg *= pow_u64(1 - r->w_q, m);
		r->idle = false;
		return;
	}
	r->avg = (1 - r->w_q) * r->avg + r->w_q * (double)r->list.count;
}

/* The early-drop decision of one profile at the current average. */
static bool red_early_drop(struct red *r, struct red_profile *p, bool *forced)
{
	double pb, pa;

	*forced = false;
	if (r->avg < p->min_th) {
		p->count = -1;
		return false;
	}
	if (r->avg < p->max_th) {
		pb = p->max_p * (r->avg - p->min_th) / (p->max_th - p->min_th);
	} else if (r->gentle && r->avg < 2 * p->max_th) {
		pb = p->max_p + (1 - p->max_p) * (r->avg - p->max_th) / p->max_th;
	} else {
		*forced = true;
		p->count = 0;
		return true;
	}
	p->count++;
	pa = p->count * pb < 2 ? pb / (2 - (double)p->count * pb) : 1;
	if (red_random(r) < pa) {
		p->count = 0;
		return true;
	}
	return false;
}

static enum ipk_qos_verdict red_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					struct ipk_pkt_list *evicted,
					enum ipk_drop_reason *why)
{
	struct red *r = ipk_qos_priv(q);
	/* An unknown colour gets the strictest profile. */
	uint8_t color = pkt->meta.color < 3 ? pkt->meta.color : IPK_QOS_RED;
	struct red_profile *p = &r->prof[r->wred ? color : 0];
	bool forced;

	update_avg(r, now);
	if (red_early_drop(r, p, &forced)) {
		if (forced)
			r->forced_drops++;
		else
			r->early_drops++;
		*why = IPK_DROP_RED;
		return IPK_QOS_DROP;
	}
	if (r->list.count >= r->limit) {
		r->limit_drops++;
		*why = IPK_DROP_QUEUE_FULL;
		return IPK_QOS_DROP;
	}
	pkt->meta.enq_ns = now;
	ipk_pkt_list_push(&r->list, pkt);
	return IPK_QOS_PASS;
}

static struct ipk_pkt *red_dequeue(struct ipk_qos *q, uint64_t now,
				   struct ipk_pkt_list *dropped, enum ipk_drop_reason *why)
{
	struct red *r = ipk_qos_priv(q);
	struct ipk_pkt *pkt = ipk_pkt_list_pop(&r->list);

	if (pkt && r->list.count == 0) {
		r->idle = true;
		r->idle_since = now;
	}
	return pkt;
}

static struct ipk_pkt *red_peek(struct ipk_qos *q)
{
	struct red *r = ipk_qos_priv(q);

	return r->list.head;
}

static uint32_t red_len_pkts(const struct ipk_qos *q)
{
	const struct red *r = ipk_qos_priv_const(q);

	return r->list.count;
}

/* The handover: everything, oldest first, no early drops. */
static void red_drain(struct ipk_qos *q, struct ipk_pkt_list *out)
{
	struct red *r = ipk_qos_priv(q);

	ipk_pkt_list_splice(out, &r->list);
}

static uint64_t red_len_bytes(const struct ipk_qos *q)
{
	const struct red *r = ipk_qos_priv_const(q);

	return r->list.bytes;
}

double ipk_red_avg(const struct ipk_qos *q)
{
	const struct red *r = ipk_qos_priv_const(q);

	return r->avg;
}

static uint32_t red_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct red *r = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "len", r->list.count },
		{ "bytes", r->list.bytes },
		{ "avg-milli", (uint64_t)(r->avg * 1000) },
		{ "early-drops", r->early_drops },
		{ "forced-drops", r->forced_drops },
		{ "limit-drops", r->limit_drops },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

#define RED_OPS(sym, kind_name, parse_fn, init_fn)                                            \
	const struct ipk_qos_ops sym = {                                                      \
		.name = kind_name,                                                            \
		.kind = IPK_QOS_QUEUE,                                                        \
		.threading = IPK_QOS_SINGLE_THREAD,                                           \
		.priv_size = sizeof(struct red),                                              \
		.parse = parse_fn,                                                            \
		.init = init_fn,                                                              \
		.enqueue = red_enqueue,                                                       \
		.dequeue = red_dequeue,                                                       \
		.peek = red_peek,                                                             \
		.len_pkts = red_len_pkts,                                                     \
		.len_bytes = red_len_bytes,                                                   \
		.drain = red_drain,                                                           \
		.stats = red_stats,                                                           \
	}

RED_OPS(ipk_red_ops, "red", red_parse, red_init);
RED_OPS(ipk_wred_ops, "wred", wred_parse, wred_init);
