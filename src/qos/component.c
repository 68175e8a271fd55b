// SPDX-License-Identifier: BSD-2-Clause
/*
 * The component framework: creation from word-pair arguments, the argument parsers every
 * component shares (so all say "fifo: limit 0 not in 1..1000000" the same way), packet
 * lists and the counting wrappers around the data ops.
 */
#include "qos/component.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

struct ipk_qos *ipk_qos_alloc(const struct ipk_qos_ops *ops, const char *name)
{
	struct ipk_qos *q = calloc(1, sizeof(*q) + ops->priv_size);

	if (!q)
		return NULL;
	q->ops = ops;
	snprintf(q->name, sizeof(q->name), "%s", name ? name : ops->name);
	return q;
}

int ipk_qos_create(struct ipk_qos **out, const char *kind, const char *name,
		   const struct ipk_qos_args *args, struct ipk_err *err)
{
	static const struct ipk_qos_args no_args;
	const struct ipk_qos_ops *ops = ipk_qos_find(kind);
	struct ipk_qos *q;
	int rc;

	if (!ops)
		return ipk_err_set(err, -EINVAL, "unknown QoS component '%s'", kind);
	if (!args)
		args = &no_args;
	if (args->argc < 0 || args->argc > IPK_QOS_MAX_ARGS)
		return ipk_err_set(err, -EINVAL, "%s: %d arguments, at most %d words", kind,
				   args->argc, IPK_QOS_MAX_ARGS);
	rc = ops->parse ? ops->parse(args, err) : 0;
	if (rc)
		return rc;
	q = ipk_qos_alloc(ops, name);
	if (!q)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", kind);
	rc = ops->init ? ops->init(q, args, err) : 0;
	if (rc) {
		free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void ipk_qos_destroy(struct ipk_qos *q)
{
	if (!q)
		return;
	if (q->ops->destroy)
		q->ops->destroy(q);
	free(q);
}

/* ---- arguments ---- */

const char *ipk_qos_arg(const struct ipk_qos_args *args, const char *key)
{
	for (int i = 0; i + 1 < args->argc; i += 2)
		if (strcmp(args->argv[i], key) == 0)
			return args->argv[i + 1];
	return NULL;
}

/* Index of @key in @keys ("rule+" matches "rule"); *repeat tells whether it may repeat. */
static int key_index(const char *const *keys, const char *key, bool *repeat)
{
	size_t klen = strlen(key);

	for (int i = 0; keys[i]; i++) {
		size_t len = strlen(keys[i]);
		bool plus = len && keys[i][len - 1] == '+';

		if (plus)
			len--;
		if (len == klen && strncmp(keys[i], key, len) == 0) {
			*repeat = plus;
			return i;
		}
	}
	return -1;
}

int ipk_qos_args_check(const struct ipk_qos_args *args, const char *const *keys,
		       const char *comp, struct ipk_err *err)
{
	for (int i = 0; i < args->argc; i += 2) {
		const char *key = args->argv[i];
		bool repeat = false;

		if (key_index(keys, key, &repeat) < 0)
			return ipk_err_set(err, -EINVAL, "%s: unknown argument '%s'", comp, key);
		if (i + 1 >= args->argc)
			return ipk_err_set(err, -EINVAL, "%s: '%s' has no value", comp, key);
		for (int j = 0; j < i && !repeat; j += 2)
			if (strcmp(args->argv[j], key) == 0)
				return ipk_err_set(err, -EINVAL, "%s: '%s' given twice", comp,
						   key);
	}
	return 0;
}

int ipk_qos_parse_u64(const char *text, uint64_t *out)
{
	static const struct {
		char suffix;
		uint64_t mult;
	} suffixes[] = { { 'k', 1000 }, { 'K', 1000 }, { 'M', 1000000 }, { 'G', 1000000000 } };
	uint64_t v = 0, mult = 1;
	const char *p = text;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t digit = (uint64_t)(*p - '0');

		if (v > UINT64_MAX / 10 || v * 10 > UINT64_MAX - digit)
			return -EINVAL;
		v = v * 10 + digit;
	}
	for (size_t i = 0; *p && i < IPK_ARRAY_SIZE(suffixes); i++)
		if (*p == suffixes[i].suffix && p[1] == '\0') {
			mult = suffixes[i].mult;
			p++;
		}
	if (*p != '\0' || (v && mult > UINT64_MAX / v))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int check_range(uint64_t v, uint64_t min, uint64_t max, const char *comp,
		       const char *key, struct ipk_err *err)
{
	if (v < min || v > max)
		return ipk_err_set(err, -EINVAL, "%s: %s %llu not in %llu..%llu", comp, key,
				   (unsigned long long)v, (unsigned long long)min,
				   (unsigned long long)max);
	return 0;
}

int ipk_qos_arg_u64(const struct ipk_qos_args *args, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out, const char *comp,
		    struct ipk_err *err)
{
	const char *text = ipk_qos_arg(args, key);
	uint64_t v = def;

	if (text && ipk_qos_parse_u64(text, &v))
		return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not a number", comp, key, text);
	if (text && check_range(v, min, max, comp, key, err))
		return -EINVAL;
	*out = v;
	return 0;
}

/* "5ms" -> 5000000. The unit is required: a bare "5" is too easy to misread. */
static int parse_ns(const char *text, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 } };
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	v = strtoull(text, &end, 10);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return -EINVAL;
			*out = v * units[i].mult;
			return 0;
		}
	return -EINVAL;
}

int ipk_qos_arg_ns(const struct ipk_qos_args *args, const char *key, uint64_t def,
		   uint64_t min, uint64_t max, uint64_t *out, const char *comp,
		   struct ipk_err *err)
{
	const char *text = ipk_qos_arg(args, key);
	uint64_t v = def;

	if (text && parse_ns(text, &v))
		return ipk_err_set(err, -EINVAL,
				   "%s: %s '%s' is not a time with a unit (ns, us, ms, s)", comp,
				   key, text);
	if (text && (v < min || v > max))
		return ipk_err_set(err, -EINVAL, "%s: %s %s not in %lluns..%lluns", comp, key,
				   text, (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int ipk_qos_arg_frac(const struct ipk_qos_args *args, const char *key, double def,
		     double min, double max, double *out, const char *comp, struct ipk_err *err)
{
	const char *text = ipk_qos_arg(args, key);
	double v = def;
	char *end;

	if (text) {
		if ((*text < '0' || *text > '9') && *text != '.')
			return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not a number", comp, key,
					   text);
		v = strtod(text, &end);
		if (*end != '\0')
			return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not a number", comp, key,
					   text);
		if (!(v >= min && v <= max))
			return ipk_err_set(err, -EINVAL, "%s: %s %s not in %g..%g", comp, key, text,
					   min, max);
	}
	*out = v;
	return 0;
}

int ipk_qos_parse_list(const char *text, uint64_t min, uint64_t max, uint64_t *vals,
		       uint32_t max_n, uint32_t *n, const char *comp, const char *key,
		       struct ipk_err *err)
{
	char item[32];
	uint32_t count = 0;

	for (const char *p = text;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		uint64_t v;

		if (len == 0 || len >= sizeof(item))
			return ipk_err_set(err, -EINVAL, "%s: %s '%s': bad list", comp, key, text);
		memcpy(item, p, len);
		item[len] = '\0';
		if (ipk_qos_parse_u64(item, &v))
			return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not a number", comp, key,
					   item);
		if (check_range(v, min, max, comp, key, err))
			return -EINVAL;
		if (vals && count < max_n)
			vals[count] = v;
		count++;
		if (!comma)
			break;
		p = comma;
	}
	*n = count;
	return 0;
}

int ipk_qos_spec_split(const char *text, struct ipk_qos_spec *spec, const char *comp,
		       struct ipk_err *err)
{
	char *p;

	if (strlen(text) >= sizeof(spec->buf))
		return ipk_err_set(err, -EINVAL, "%s: rule '%.32s...' too long", comp, text);
	strcpy(spec->buf, text);
	spec->n = 0;
	for (p = spec->buf; p;) {
		char *comma = strchr(p, ',');
		char *eq;

		if (comma)
			*comma = '\0';
		eq = strchr(p, '=');
		if (!eq || eq == p || eq[1] == '\0')
			return ipk_err_set(err, -EINVAL, "%s: rule item '%s' is not field=value",
					   comp, p);
		if (spec->n == IPK_QOS_SPEC_MAX)
			return ipk_err_set(err, -EINVAL, "%s: rule has more than %d items", comp,
					   IPK_QOS_SPEC_MAX);
		*eq = '\0';
		spec->key[spec->n] = p;
		spec->val[spec->n++] = eq + 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* ---- counting wrappers ---- */

uint32_t ipk_qos_classify(struct ipk_qos *q, struct ipk_pkt *pkt)
{
	q->in_pkts++;
	q->out_pkts++;
	return q->ops->classify(q, pkt);
}

enum ipk_qos_verdict ipk_qos_meter(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				   enum ipk_drop_reason *why)
{
	enum ipk_qos_verdict v = q->ops->meter(q, pkt, now, why);

	q->in_pkts++;
	if (v == IPK_QOS_PASS)
		q->out_pkts++;
	else
		q->drops++;
	return v;
}

enum ipk_qos_verdict ipk_qos_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				     struct ipk_pkt_list *evicted, enum ipk_drop_reason *why)
{
	uint32_t before = evicted->count;
	enum ipk_qos_verdict v = q->ops->enqueue(q, pkt, now, evicted, why);

	q->in_pkts++;
	q->drops += evicted->count - before + (v == IPK_QOS_DROP);
	return v;
}

struct ipk_pkt *ipk_qos_dequeue(struct ipk_qos *q, uint64_t now, struct ipk_pkt_list *dropped,
				enum ipk_drop_reason *why)
{
	uint32_t before = dropped->count;
	struct ipk_pkt *pkt = q->ops->dequeue(q, now, dropped, why);

	q->drops += dropped->count - before;
	if (pkt)
		q->out_pkts++;
	return pkt;
}

void ipk_qos_drain(struct ipk_qos *q, struct ipk_pkt_list *out)
{
	uint32_t before = out->count;

	q->ops->drain(q, out);
	q->out_pkts += out->count - before;
}

uint32_t ipk_qos_ready_len(struct ipk_qos *q, uint64_t now)
{
	struct ipk_pkt *head;

	if (q->ops->ready_len)
		return q->ops->ready_len(q, now);
	head = q->ops->peek ? q->ops->peek(q) : NULL;
	return head ? head->len : 0;
}

uint64_t ipk_qos_next_ns(struct ipk_qos *q, uint64_t now)
{
	if (q->ops->next_ns)
		return q->ops->next_ns(q, now);
	return q->ops->len_pkts(q) ? now : UINT64_MAX;
}

uint32_t ipk_qos_stats_copy(struct ipk_qos_stat *out, uint32_t max,
			    const struct ipk_qos_stat *src, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n && i < max; i++)
		out[i] = src[i];
	return i;
}

uint32_t ipk_qos_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct ipk_qos_stat common[] = {
		{ "in", q->in_pkts }, { "out", q->out_pkts }, { "drops", q->drops },
	};
	uint32_t n = ipk_qos_stats_copy(out, max, common, IPK_ARRAY_SIZE(common));

	if (q->ops->stats && n < max)
		n += q->ops->stats(q, out + n, max - n);
	return n;
}
