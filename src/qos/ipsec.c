// SPDX-License-Identifier: BSD-2-Clause
#include "qos/ipsec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "sa/sa.h"
#include "sa/spd.h"

#define IS_MAX_RULES (IPK_QOS_MAX_ARGS / 2 - 2)

enum { M_SPI = 1, M_NAME = 2, M_BUNDLE = 4, M_DIR = 8, M_ALG = 16, M_MODE = 32 };

struct is_rule {
	uint32_t match; /* M_* bits: which fields the rule tests */
	uint32_t spi_lo, spi_hi;
	char name[IPK_NAME_MAX];
	uint16_t bundle_pos;
	uint8_t dir, mode;
	const struct ipk_alg *alg;
	uint32_t cls;
};

struct is_cls {
	struct is_rule rules[IS_MAX_RULES];
	uint32_t n_rules;
	uint32_t default_class, nosa_class, n_classes;
	uint64_t nosa, defaulted;
};

static int parse_u32(const char *text, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	v = strtoull(text, &end, 0);
	if (*end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_spi(struct is_rule *r, const char *val)
{
	char buf[32];
	char *dash;

	if (strlen(val) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, val);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u32(buf, &r->spi_lo))
		return -EINVAL;
	r->spi_hi = r->spi_lo;
	if (dash && (parse_u32(dash + 1, &r->spi_hi) || r->spi_hi < r->spi_lo))
		return -EINVAL;
	return 0;
}

/* Returns 0, -EINVAL (bad value) or -ENOENT (unknown field). */
static int rule_item(struct is_rule *r, const char *key, const char *val)
{
	uint32_t v;

	if (strcmp(key, "spi") == 0) {
		r->match |= M_SPI;
		return parse_spi(r, val);
	}
	if (strcmp(key, "name") == 0) {
		r->match |= M_NAME;
		if (strlen(val) >= IPK_NAME_MAX)
			return -EINVAL;
		strcpy(r->name, val);
		return 0;
	}
	if (strcmp(key, "bundle") == 0) {
		r->match |= M_BUNDLE;
		if (parse_u32(val, &v) || v >= IPK_BUNDLE_MAX)
			return -EINVAL;
		r->bundle_pos = (uint16_t)v;
		return 0;
	}
	if (strcmp(key, "dir") == 0) {
		r->match |= M_DIR;
		r->dir = strcmp(val, "out") == 0 ? IPK_DIR_OUT : IPK_DIR_IN;
		return strcmp(val, "in") == 0 || strcmp(val, "out") == 0 ? 0 : -EINVAL;
	}
	if (strcmp(key, "mode") == 0) {
		r->match |= M_MODE;
		r->mode = strcmp(val, "transport") == 0 ? IPK_MODE_TRANSPORT : IPK_MODE_TUNNEL;
		return strcmp(val, "tunnel") == 0 || strcmp(val, "transport") == 0 ? 0 : -EINVAL;
	}
	if (strcmp(key, "alg") == 0) {
		r->match |= M_ALG;
		r->alg = ipk_alg_find(val);
		return r->alg ? 0 : -EINVAL;
	}
	if (strcmp(key, "proto") == 0)
		return strcmp(val, "esp") == 0 ? 0 : -EINVAL;
	if (strcmp(key, "class") == 0) {
		if (parse_u32(val, &r->cls) || r->cls >= IPK_QOS_MAX_CLASSES)
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

static int rule_read(struct is_rule *r, const char *text, uint32_t no, struct ipk_err *err)
{
	struct ipk_qos_spec spec;
	bool has_class = false;
	int rc;

	if (ipk_qos_spec_split(text, &spec, "ipsec", err))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < spec.n; i++) {
		rc = rule_item(r, spec.key[i], spec.val[i]);
		if (rc == -ENOENT)
			return ipk_err_set(err, -EINVAL,
					   "ipsec: rule %u: unknown field '%s' (spi, name, bundle, "
					   "dir, alg, mode, proto, class)", no, spec.key[i]);
		if (rc && strcmp(spec.key[i], "proto") == 0)
			return ipk_err_set(err, -EINVAL,
					   "ipsec: rule %u: proto %s not supported (ESP only)", no,
					   spec.val[i]);
		if (rc)
			return ipk_err_set(err, -EINVAL, "ipsec: rule %u: bad %s '%s'", no,
					   spec.key[i], spec.val[i]);
		has_class |= strcmp(spec.key[i], "class") == 0;
	}
	if (!has_class)
		return ipk_err_set(err, -EINVAL, "ipsec: rule %u has no class", no);
	return 0;
}

static int is_read(const struct ipk_qos_args *args, struct is_cls *c, struct ipk_err *err)
{
	static const char *const keys[] = { "rule+", "default", "nosa", NULL };
	uint64_t def, nosa;
	uint32_t max_class = 0;

	if (ipk_qos_args_check(args, keys, "ipsec", err))
		return -EINVAL;
	for (int i = 0; i < args->argc; i += 2) {
		if (strcmp(args->argv[i], "rule") != 0)
			continue;
		if (c->n_rules == IS_MAX_RULES)
			return ipk_err_set(err, -EINVAL, "ipsec: more than %d rules", IS_MAX_RULES);
		if (rule_read(&c->rules[c->n_rules], args->argv[i + 1], c->n_rules + 1, err))
			return -EINVAL;
		if (c->rules[c->n_rules].cls > max_class)
			max_class = c->rules[c->n_rules].cls;
		c->n_rules++;
	}
	if (c->n_rules == 0)
		return ipk_err_set(err, -EINVAL, "ipsec: no rule");
	if (ipk_qos_arg_u64(args, "default", max_class + 1, 0, IPK_QOS_MAX_CLASSES - 1, &def,
			    "ipsec", err))
		return -EINVAL;
	max_class = def > max_class ? (uint32_t)def : max_class;
	if (ipk_qos_arg_u64(args, "nosa", max_class + 1, 0, IPK_QOS_MAX_CLASSES - 1, &nosa,
			    "ipsec", err))
		return -EINVAL;
	c->default_class = (uint32_t)def;
	c->nosa_class = (uint32_t)nosa;
	c->n_classes = (nosa > max_class ? (uint32_t)nosa : max_class) + 1;
	return 0;
}

static int is_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct is_cls scratch;

	memset(&scratch, 0, sizeof(scratch));
	return is_read(args, &scratch, err);
}

static int is_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return is_read(args, ipk_qos_priv(q), err);
}

static bool rule_match(const struct is_rule *r, const struct ipk_sa *sa, uint16_t bundle_pos)
{
	if ((r->match & M_SPI) && (sa->rt.spi < r->spi_lo || sa->rt.spi > r->spi_hi))
		return false;
	if ((r->match & M_BUNDLE) && bundle_pos != r->bundle_pos)
		return false;
	if ((r->match & M_DIR) && sa->rt.dir != r->dir)
		return false;
	if ((r->match & M_MODE) && sa->rt.mode != r->mode)
		return false;
	if ((r->match & M_ALG) && sa->rt.alg != r->alg)
		return false;
	if ((r->match & M_NAME) && strncmp(sa->params.name, r->name, IPK_NAME_MAX) != 0)
		return false;
	return true;
}

static uint32_t is_classify(struct ipk_qos *q, struct ipk_pkt *pkt)
{
	struct is_cls *c = ipk_qos_priv(q);
	const struct ipk_sa *sa = pkt->meta.sa;
	uint32_t cls = c->default_class;

	if (!sa) {
		c->nosa++;
		cls = c->nosa_class;
		goto out;
	}
	for (uint32_t i = 0; i < c->n_rules; i++)
		if (rule_match(&c->rules[i], sa, pkt->meta.bundle_pos)) {
			cls = c->rules[i].cls;
			goto out;
		}
	c->defaulted++;
out:
	pkt->meta.class_id = cls;
	return cls;
}

static uint32_t is_n_classes(const struct ipk_qos *q)
{
	const struct is_cls *c = ipk_qos_priv_const(q);

	return c->n_classes;
}

static uint32_t is_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct is_cls *c = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "nosa", c->nosa },
		{ "defaulted", c->defaulted },
		{ "rules", c->n_rules },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_ipsec_ops = {
	.name = "ipsec",
	.kind = IPK_QOS_CLASSIFIER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct is_cls),
	.parse = is_parse,
	.init = is_init,
	.classify = is_classify,
	.n_classes = is_n_classes,
	.stats = is_stats,
};
