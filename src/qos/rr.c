// SPDX-License-Identifier: BSD-2-Clause
#include "qos/rr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

#define RR_MAX_WEIGHT 1000

struct rr {
	uint64_t *weights;   /* NULL: all 1 */
	uint32_t n_weights;  /* as given; 0 when absent */
	uint32_t n;          /* children, from attach */
	uint32_t cur;        /* child whose turn it is */
	uint64_t left;       /* packets it may still send in this turn */
};

static int rr_read(const struct ipk_qos_args *args, struct rr *r, struct ipk_err *err)
{
	static const char *const keys[] = { "weights", NULL };
	const char *text = ipk_qos_arg(args, "weights");

	if (ipk_qos_args_check(args, keys, "rr", err))
		return -EINVAL;
	if (!text)
		return 0;
	return ipk_qos_parse_list(text, 1, RR_MAX_WEIGHT, NULL, 0, &r->n_weights, "rr",
				  "weight", err);
}

static int rr_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct rr scratch;

	memset(&scratch, 0, sizeof(scratch));
	return rr_read(args, &scratch, err);
}

static int rr_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct rr *r = ipk_qos_priv(q);
	const char *text = ipk_qos_arg(args, "weights");

	if (rr_read(args, r, err))
		return -EINVAL;
	if (!text)
		return 0;
	r->weights = calloc(r->n_weights, sizeof(*r->weights));
	if (!r->weights)
		return ipk_err_set(err, -ENOMEM, "rr: out of memory");
	return ipk_qos_parse_list(text, 1, RR_MAX_WEIGHT, r->weights, r->n_weights,
				  &r->n_weights, "rr", "weight", err);
}

static void rr_destroy(struct ipk_qos *q)
{
	struct rr *r = ipk_qos_priv(q);

	free(r->weights);
}

static uint64_t weight(const struct rr *r, uint32_t idx)
{
	return r->weights ? r->weights[idx] : 1;
}

static int rr_attach(struct ipk_qos *q, uint32_t n, struct ipk_err *err)
{
	struct rr *r = ipk_qos_priv(q);

	if (r->weights && r->n_weights != n)
		return ipk_err_set(err, -EINVAL, "rr: %u weights for %u children", r->n_weights, n);
	r->n = n;
	r->cur = 0;
	r->left = weight(r, 0);
	return 0;
}

/* The first ready child from the current one on. Moving the turn to it is the only state
 * change, so asking again gives the same answer. */
static int rr_select(struct ipk_qos *q, struct ipk_qos *const *children, uint32_t n,
		     uint64_t now)
{
	struct rr *r = ipk_qos_priv(q);

	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = (r->cur + i) % n;

		if (!ipk_qos_ready_len(children[idx], now))
			continue;
		if (i) {
			r->cur = idx;
			r->left = weight(r, idx);
		}
		return (int)idx;
	}
	return -1;
}

static void rr_served(struct ipk_qos *q, uint32_t idx, uint32_t len, uint64_t now)
{
	struct rr *r = ipk_qos_priv(q);

	if (idx != r->cur || --r->left)
		return;
	r->cur = (r->cur + 1) % r->n;
	r->left = weight(r, r->cur);
}

static uint32_t rr_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct rr *r = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "children", r->n },
		{ "current", r->cur },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_rr_ops = {
	.name = "rr",
	.kind = IPK_QOS_SCHEDULER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct rr),
	.parse = rr_parse,
	.init = rr_init,
	.destroy = rr_destroy,
	.select = rr_select,
	.attach = rr_attach,
	.served = rr_served,
	.stats = rr_stats,
};
