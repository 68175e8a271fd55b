// SPDX-License-Identifier: BSD-2-Clause
#include "qos/dscp.h"

#include <errno.h>
#include <string.h>

#include "core/dscp.h"
#include "proto/ip.h"

#define DSCP_CODEPOINTS 64

struct dscp_cls {
	uint8_t class_of[DSCP_CODEPOINTS];
	uint32_t n_classes;
	uint64_t unparsed;
	uint64_t defaulted;
	bool mapped[DSCP_CODEPOINTS];
	uint8_t default_class;
};

/* Reads every pair into @c (which may be a scratch copy during parse). */
static int dscp_read(const struct ipk_qos_args *args, struct dscp_cls *c, struct ipk_err *err)
{
	int max_class = -1, def = -1;

	if (args->argc % 2)
		return ipk_err_set(err, -EINVAL, "dscp: '%s' has no value",
				   args->argv[args->argc - 1]);
	if (args->argc < 2)
		return ipk_err_set(err, -EINVAL, "dscp: no mapping (e.g. 'ef 0 default 1')");
	for (int i = 0; i < args->argc; i += 2) {
		const char *key = args->argv[i], *val = args->argv[i + 1];
		uint64_t cls;
		uint8_t cp;

		if (ipk_qos_parse_u64(val, &cls) || cls >= IPK_QOS_MAX_CLASSES)
			return ipk_err_set(err, -EINVAL, "dscp: class '%s' for %s not in 0..%d",
					   val, key, IPK_QOS_MAX_CLASSES - 1);
		if (strcmp(key, "default") == 0) {
			if (def >= 0)
				return ipk_err_set(err, -EINVAL, "dscp: 'default' given twice");
			def = (int)cls;
		} else if (ipk_dscp_parse(key, &cp)) {
			return ipk_err_set(err, -EINVAL,
					   "dscp: '%s' is not a DSCP name or number 0..63", key);
		} else if (c->mapped[cp]) {
			char name[8];

			return ipk_err_set(err, -EINVAL, "dscp: code point %s (%s) mapped twice",
					   key, ipk_dscp_str(cp, name));
		} else {
			c->mapped[cp] = true;
			c->class_of[cp] = (uint8_t)cls;
			max_class = (int)cls > max_class ? (int)cls : max_class;
		}
	}
	if (def < 0 && max_class + 1 >= IPK_QOS_MAX_CLASSES)
		return ipk_err_set(err, -EINVAL, "dscp: no room for a default class after %d",
				   max_class);
	c->default_class = (uint8_t)(def >= 0 ? def : max_class + 1);
	c->n_classes = (uint32_t)(c->default_class > max_class ? c->default_class : max_class) + 1;
	for (int cp = 0; cp < DSCP_CODEPOINTS; cp++)
		if (!c->mapped[cp])
			c->class_of[cp] = c->default_class;
	return 0;
}

static int dscp_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct dscp_cls scratch;

	memset(&scratch, 0, sizeof(scratch));
	return dscp_read(args, &scratch, err);
}

static int dscp_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return dscp_read(args, ipk_qos_priv(q), err);
}

static uint32_t dscp_classify(struct ipk_qos *q, struct ipk_pkt *pkt)
{
	struct dscp_cls *c = ipk_qos_priv(q);
	struct ipk_ip_info info;
	uint32_t cls;

	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) != 0) {
		c->unparsed++;
		cls = c->default_class;
	} else {
		cls = c->class_of[info.dscp & (DSCP_CODEPOINTS - 1)];
		c->defaulted += !c->mapped[info.dscp & (DSCP_CODEPOINTS - 1)];
	}
	pkt->meta.class_id = cls;
	return cls;
}

static uint32_t dscp_n_classes(const struct ipk_qos *q)
{
	const struct dscp_cls *c = ipk_qos_priv_const(q);

	return c->n_classes;
}

static uint32_t dscp_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct dscp_cls *c = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "unparsed", c->unparsed },
		{ "defaulted", c->defaulted },
	};

	return ipk_qos_stats_copy(out, max, s, 2);
}

const struct ipk_qos_ops ipk_dscp_ops = {
	.name = "dscp",
	.kind = IPK_QOS_CLASSIFIER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct dscp_cls),
	.parse = dscp_parse,
	.init = dscp_init,
	.classify = dscp_classify,
	.n_classes = dscp_n_classes,
	.stats = dscp_stats,
};
