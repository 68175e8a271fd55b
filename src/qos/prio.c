// SPDX-License-Identifier: BSD-2-Clause
#include "qos/prio.h"

struct prio {
	uint32_t n;
};

static int prio_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	static const char *const keys[] = { NULL };

	return ipk_qos_args_check(args, keys, "prio", err);
}

static int prio_attach(struct ipk_qos *q, uint32_t n, struct ipk_err *err)
{
	struct prio *p = ipk_qos_priv(q);

	p->n = n;
	return 0;
}

static int prio_select(struct ipk_qos *q, struct ipk_qos *const *children, uint32_t n,
		       uint64_t now)
{
	for (uint32_t i = 0; i < n; i++)
		if (ipk_qos_ready_len(children[i], now))
			return (int)i;
	return -1;
}

static uint32_t prio_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct prio *p = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = { { "children", p->n } };

	return ipk_qos_stats_copy(out, max, s, 1);
}

const struct ipk_qos_ops ipk_prio_ops = {
	.name = "prio",
	.kind = IPK_QOS_SCHEDULER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct prio),
	.parse = prio_parse,
	.select = prio_select,
	.attach = prio_attach,
	.stats = prio_stats,
};
