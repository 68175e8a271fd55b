// SPDX-License-Identifier: BSD-2-Clause
#include "qos/drr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

#define DRR_MAX_QUANTUM 65535
#define DRR_MAX_WEIGHT 1000

struct drr_child {
	int64_t deficit;   /* bytes; below 0 only if a child sent more than it showed */
	uint64_t quantum;  /* quantum x weight */
};

struct drr {
	uint64_t quantum;
	uint64_t *weights;  /* as given, NULL: all 1 */
	uint32_t n_weights;
	struct drr_child *child;
	uint32_t n;
	uint32_t cur;
	bool visited;       /* cur already got its quantum on this visit */
};

static int drr_read(const struct ipk_qos_args *args, struct drr *d, struct ipk_err *err)
{
	static const char *const keys[] = { "quantum", "weights", NULL };
	const char *text = ipk_qos_arg(args, "weights");

	if (ipk_qos_args_check(args, keys, "drr", err) ||
	    ipk_qos_arg_u64(args, "quantum", 1500, 1, DRR_MAX_QUANTUM, &d->quantum, "drr", err))
		return -EINVAL;
	if (!text)
		return 0;
	return ipk_qos_parse_list(text, 1, DRR_MAX_WEIGHT, d->weights, d->n_weights,
				  &d->n_weights, "drr", "weight", err);
}

static int drr_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct drr scratch;

	memset(&scratch, 0, sizeof(scratch));
	return drr_read(args, &scratch, err);
}

static int drr_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct drr *d = ipk_qos_priv(q);

	/* First pass counts the weights, the second stores them. */
	if (drr_read(args, d, err))
		return -EINVAL;
	if (!d->n_weights)
		return 0;
	d->weights = calloc(d->n_weights, sizeof(*d->weights));
	if (!d->weights)
		return ipk_err_set(err, -ENOMEM, "drr: out of memory");
	return drr_read(args, d, err);
}

static void drr_destroy(struct ipk_qos *q)
{
	struct drr *d = ipk_qos_priv(q);

	free(d->weights);
	free(d->child);
}

static int drr_attach(struct ipk_qos *q, uint32_t n, struct ipk_err *err)
{
	struct drr *d = ipk_qos_priv(q);

	if (d->weights && d->n_weights != n)
		return ipk_err_set(err, -EINVAL, "drr: %u weights for %u children", d->n_weights,
				   n);
	free(d->child);
	d->child = calloc(n, sizeof(*d->child));
	if (!d->child)
		return ipk_err_set(err, -ENOMEM, "drr: out of memory for %u children", n);
	for (uint32_t i = 0; i < n; i++)
		d->child[i].quantum = d->quantum * (d->weights ? d->weights[i] : 1);
	d->n = n;
	d->cur = 0;
	d->visited = false;
	return 0;
}

static void next_child(struct drr *d)
{
	d->cur = d->cur + 1 == d->n ? 0 : d->cur + 1;
	d->visited = false;
}

/*
 * Walks the round from the current child until a head packet fits its deficit. The walk
 * ends on a child that can send and leaves it current, so a second call without served()
 * returns the same child. Ends: every visit to a ready child adds at least one byte.
 */
static int drr_select(struct ipk_qos *q, struct ipk_qos *const *children, uint32_t n,
		      uint64_t now)
{
	struct drr *d = ipk_qos_priv(q);
	uint32_t empty_in_a_row = 0;

	while (empty_in_a_row < n) {
		struct drr_child *c = &d->child[d->cur];
		uint32_t len = ipk_qos_ready_len(children[d->cur], now);

		if (!len) {
			c->deficit = 0;
			empty_in_a_row++;
			next_child(d);
			continue;
		}
		empty_in_a_row = 0;
		if (!d->visited) {
			c->deficit += (int64_t)c->quantum;
			d->visited = true;
		}
		if ((int64_t)len <= c->deficit)
			return (int)d->cur;
		next_child(d);
	}
	return -1;
}

static void drr_served(struct ipk_qos *q, uint32_t idx, uint32_t len, uint64_t now)
{
	struct drr *d = ipk_qos_priv(q);

	d->child[idx].deficit -= len;
}

static uint32_t drr_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct drr *d = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "children", d->n },
		{ "current", d->cur },
		{ "quantum", d->quantum },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_drr_ops = {
	.name = "drr",
	.kind = IPK_QOS_SCHEDULER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct drr),
	.parse = drr_parse,
	.init = drr_init,
	.destroy = drr_destroy,
	.select = drr_select,
	.attach = drr_attach,
	.served = drr_served,
	.stats = drr_stats,
};
