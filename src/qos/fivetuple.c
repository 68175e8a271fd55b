// SPDX-License-Identifier: BSD-2-Clause
#include "qos/fivetuple.h"

#include <errno.h>
#include <string.h>

#include "core/addr.h"
#include "core/compiler.h"
#include "proto/ip.h"
#include "sa/spd.h"

#define FT_MAX_RULES (IPK_QOS_MAX_ARGS / 2 - 1)

struct ft_rule {
	struct ipk_prefix src, dst;
	bool has_src, has_dst, has_proto, has_ports;
	uint8_t proto;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint32_t cls;
};

struct ft_cls {
	struct ft_rule rules[FT_MAX_RULES];
	uint32_t n_rules;
	uint32_t default_class;
	uint32_t n_classes;
	uint64_t unparsed;
	uint64_t defaulted;
};

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {
	{ "tcp", IPK_PROTO_TCP }, { "udp", IPK_PROTO_UDP }, { "icmp", IPK_PROTO_ICMP },
	{ "icmpv6", IPK_PROTO_ICMPV6 }, { "esp", IPK_PROTO_ESP }, { "ah", IPK_PROTO_AH },
};

static int parse_proto(const char *text, uint8_t *proto)
{
	uint64_t v;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(proto_names); i++)
		if (strcmp(text, proto_names[i].name) == 0) {
			*proto = proto_names[i].proto;
			return 0;
		}
	if (ipk_qos_parse_u64(text, &v) || v > 255)
		return -EINVAL;
	*proto = (uint8_t)v;
	return 0;
}

/* "N" or "N-M", 0 <= N <= M <= 65535. */
static int parse_ports(const char *text, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	const char *dash = strchr(text, '-');
	uint64_t a, b;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	if (dash)
		buf[dash - text] = '\0';
	if (ipk_qos_parse_u64(buf, &a) || a > 65535)
		return -EINVAL;
	b = a;
	if (dash && (ipk_qos_parse_u64(dash + 1, &b) || b > 65535 || b < a))
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int rule_item(struct ft_rule *r, const char *key, const char *val, bool *has_class)
{
	uint64_t v;

	if (strcmp(key, "src") == 0) {
		r->has_src = true;
		return ipk_prefix_parse(val, &r->src);
	}
	if (strcmp(key, "dst") == 0) {
		r->has_dst = true;
		return ipk_prefix_parse(val, &r->dst);
	}
	if (strcmp(key, "proto") == 0) {
		r->has_proto = true;
		return parse_proto(val, &r->proto);
	}
	if (strcmp(key, "sport") == 0 || strcmp(key, "dport") == 0) {
		r->has_ports = true;
		return key[0] == 's' ? parse_ports(val, &r->sport_lo, &r->sport_hi) :
				       parse_ports(val, &r->dport_lo, &r->dport_hi);
	}
	if (strcmp(key, "class") == 0) {
		*has_class = true;
		if (ipk_qos_parse_u64(val, &v) || v >= IPK_QOS_MAX_CLASSES)
			return -EINVAL;
		r->cls = (uint32_t)v;
		return 0;
	}
	return -ENOENT;
}

static int rule_read(struct ft_rule *r, const char *text, uint32_t no, struct ipk_err *err)
{
	struct ipk_qos_spec spec;
	bool has_class = false;
	int rc;

	if (ipk_qos_spec_split(text, &spec, "fivetuple", err))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->sport_hi = r->dport_hi = 65535;
	for (uint32_t i = 0; i < spec.n; i++) {
		rc = rule_item(r, spec.key[i], spec.val[i], &has_class);
		if (rc == -ENOENT)
			return ipk_err_set(err, -EINVAL,
					   "fivetuple: rule %u: unknown field '%s' (src, dst, "
					   "proto, sport, dport, class)", no, spec.key[i]);
		if (rc)
			return ipk_err_set(err, -EINVAL, "fivetuple: rule %u: bad %s '%s'", no,
					   spec.key[i], spec.val[i]);
	}
	if (!has_class)
		return ipk_err_set(err, -EINVAL, "fivetuple: rule %u has no class", no);
	return 0;
}

static int ft_read(const struct ipk_qos_args *args, struct ft_cls *c, struct ipk_err *err)
{
	static const char *const keys[] = { "rule+", "default", NULL };
	uint64_t def;
	uint32_t max_class = 0;

	if (ipk_qos_args_check(args, keys, "fivetuple", err))
		return -EINVAL;
	for (int i = 0; i < args->argc; i += 2) {
		if (strcmp(args->argv[i], "rule") != 0)
			continue;
		if (c->n_rules == FT_MAX_RULES)
			return ipk_err_set(err, -EINVAL, "fivetuple: more than %d rules",
					   FT_MAX_RULES);
		if (rule_read(&c->rules[c->n_rules], args->argv[i + 1], c->n_rules + 1, err))
			return -EINVAL;
		if (c->rules[c->n_rules].cls > max_class)
			max_class = c->rules[c->n_rules].cls;
		c->n_rules++;
	}
	if (c->n_rules == 0)
		return ipk_err_set(err, -EINVAL, "fivetuple: no rule");
	if (ipk_qos_arg_u64(args, "default", max_class + 1, 0, IPK_QOS_MAX_CLASSES - 1, &def,
			    "fivetuple", err))
		return -EINVAL;
	c->default_class = (uint32_t)def;
	c->n_classes = (def > max_class ? (uint32_t)def : max_class) + 1;
	return 0;
}

static int ft_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct ft_cls scratch;

	memset(&scratch, 0, sizeof(scratch));
	return ft_read(args, &scratch, err);
}

static int ft_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return ft_read(args, ipk_qos_priv(q), err);
}

static bool rule_match(const struct ft_rule *r, const struct ipk_flow *f)
{
	if (r->has_src && !ipk_prefix_contains(&r->src, &f->src))
		return false;
	if (r->has_dst && !ipk_prefix_contains(&r->dst, &f->dst))
		return false;
	if (r->has_proto && r->proto != f->proto)
		return false;
	if (!r->has_ports)
		return true;
	/* ICMP type/code sit in the port fields of a flow; they are not ports. */
	if (f->proto != IPK_PROTO_TCP && f->proto != IPK_PROTO_UDP)
		return false;
	return f->sport >= r->sport_lo && f->sport <= r->sport_hi && f->dport >= r->dport_lo &&
	       f->dport <= r->dport_hi;
}

static uint32_t ft_classify(struct ipk_qos *q, struct ipk_pkt *pkt)
{
	struct ft_cls *c = ipk_qos_priv(q);
	struct ipk_ip_info info;
	struct ipk_flow flow;
	uint32_t cls = c->default_class;

	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) != 0) {
		c->unparsed++;
		goto out;
	}
	ipk_ip_flow(ipk_pkt_data(pkt), pkt->len, &info, &flow);
	for (uint32_t i = 0; i < c->n_rules; i++)
		if (rule_match(&c->rules[i], &flow)) {
			cls = c->rules[i].cls;
			goto out;
		}
	c->defaulted++;
out:
	pkt->meta.class_id = cls;
	return cls;
}

static uint32_t ft_n_classes(const struct ipk_qos *q)
{
	const struct ft_cls *c = ipk_qos_priv_const(q);

	return c->n_classes;
}

static uint32_t ft_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct ft_cls *c = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "unparsed", c->unparsed },
		{ "defaulted", c->defaulted },
		{ "rules", c->n_rules },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_fivetuple_ops = {
	.name = "fivetuple",
	.kind = IPK_QOS_CLASSIFIER,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct ft_cls),
	.parse = ft_parse,
	.init = ft_init,
	.classify = ft_classify,
	.n_classes = ft_n_classes,
	.stats = ft_stats,
};
