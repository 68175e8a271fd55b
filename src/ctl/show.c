// SPDX-License-Identifier: BSD-2-Clause
/*
 * show sa, show policy, stats (ctl/show.h).
 *
 * Every command reads the SAD and SPD through their public iterators and the counters
 * with relaxed atomic loads: the numbers of one line may be a few packets apart while
 * traffic flows, as with `ip -s xfrm state`. Text and JSON come from the same walk; each
 * printer takes a struct view that says which one to write.
 */
#include "ctl/show.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/dscp.h"
#include "ctl/json.h"
#include "proto/esp.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define HEX_MAX (2 + 2 * IPK_KEY_MAX + 1)
#define PREFIX_TEXT_MAX (IPK_ADDR_STRLEN + 5)
#define RANGE_TEXT_MAX 12
#define COUNTER_NAME_MAX 128

/* Where a command writes: text to @out, or JSON through @j. */
struct view {
	bool json;
	struct ipk_outbuf *out;
	struct ipk_json j;
};

struct ipk_stats_emit {
	struct view *v;
};

static void view_init(struct view *v, bool json, struct ipk_outbuf *out)
{
	v->json = json;
	v->out = out;
	ipk_json_init(&v->j, out);
	if (json)
		ipk_json_obj_begin(&v->j, NULL);
}

static int view_finish(struct view *v, struct ipk_err *err)
{
	if (!v->json)
		return 0;
	ipk_json_obj_end(&v->j);
	if (ipk_json_finish(&v->j))
		return ipk_err_set(err, -EINVAL, "show: malformed JSON output");
	return 0;
}

static uint64_t load(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* --- show sa ---------------------------------------------------------------------- */

struct show_sa_arg {
	char name[IPK_NAME_MAX];
	bool keys;
};

struct sa_walk {
	struct view *v;
	const struct show_sa_arg *arg;
};

static const char *hex(char *buf, const uint8_t *bytes, size_t len)
{
	char *p = buf;

	p += sprintf(p, "0x");
	for (size_t i = 0; i < len; i++)
		p += sprintf(p, "%02x", bytes[i]);
	return buf;
}

/* "-" for a zero limit, which means none (sa.h). */
static void text_limit(struct ipk_outbuf *out, const char *what, uint64_t v)
{
	if (v)
		ipk_out_printf(out, " %s %" PRIu64, what, v);
	else
		ipk_out_printf(out, " %s -", what);
}

static void text_lifetime(struct ipk_outbuf *out, const char *what,
			  const struct ipk_lifetime *l)
{
	ipk_out_printf(out, " %s", what);
	text_limit(out, "bytes", l->bytes);
	text_limit(out, "packets", l->packets);
	text_limit(out, "seconds", l->seconds);
}

static void json_lifetime(struct ipk_json *j, const char *key, const struct ipk_lifetime *l)
{
	ipk_json_obj_begin(j, key);
	ipk_json_u64(j, "bytes", l->bytes);
	ipk_json_u64(j, "packets", l->packets);
	ipk_json_u64(j, "seconds", l->seconds);
	ipk_json_obj_end(j);
}

/* The key words of `sa add` for the algorithm, so that the line can be pasted back. */
static bool one_key(const struct ipk_alg *alg)
{
	return alg->kind == IPK_ALG_AEAD || alg->kind == IPK_ALG_GMAC;
}

static void show_key(struct view *v, const char **sep, const char *word,
		     const uint8_t *key, size_t len)
{
	char buf[HEX_MAX];

	if (!len)
		return;
	hex(buf, key, len);
	if (v->json)
		ipk_json_str(&v->j, word, buf);
	else
		ipk_out_printf(v->out, "%s%s %s", *sep, word, buf);
	*sep = " ";
	explicit_bzero(buf, sizeof(buf));
}

static void show_keys(struct view *v, const struct ipk_sa_params *p)
{
	const char *sep = "\t";

	show_key(v, &sep, one_key(p->alg) ? "key" : "enc-key", p->enc_key, p->enc_key_len);
	show_key(v, &sep, "auth-key", p->auth_key, p->auth_key_len);
	if (!v->json)
		ipk_out_printf(v->out, "\n");
}

static void text_sa_drops(struct ipk_outbuf *out, const struct ipk_drop_stats *d)
{
	bool any = false;

	for (int r = 1; r < IPK_DROP_COUNT; r++) {
		uint64_t n = ipk_drop_read(d, (enum ipk_drop_reason)r);

		if (!n)
			continue;
		ipk_out_printf(out, "%s %s %" PRIu64, any ? "" : "\tdrops", ipk_drop_name(r), n);
		any = true;
	}
	if (any)
		ipk_out_printf(out, "\n");
}

static void json_drops(struct ipk_json *j, const char *key, const struct ipk_drop_stats *d,
		       bool all)
{
	ipk_json_obj_begin(j, key);
	for (int r = 1; r < IPK_DROP_COUNT; r++) {
		uint64_t n = ipk_drop_read(d, (enum ipk_drop_reason)r);

		if (n || all)
			ipk_json_u64(j, ipk_drop_name(r), n);
	}
	ipk_json_obj_end(j);
}

static const char *sa_flags(const struct ipk_sa *sa)
{
	bool soft = atomic_load_explicit(&sa->rt.soft_expired, memory_order_relaxed);
	bool dead = atomic_load_explicit(&sa->rt.dead, memory_order_relaxed);

	if (soft && dead)
		return "soft-expired,dead";
	return dead ? "dead" : soft ? "soft-expired" : "-";
}

static uint64_t sa_age(const struct ipk_sa *sa)
{
	uint64_t now = ipk_clock_now_ns();

	return now > sa->created_ns ? (now - sa->created_ns) / IPK_NSEC_PER_SEC : 0;
}

static void text_sa(struct ipk_outbuf *out, struct ipk_sa *sa)
{
	const struct ipk_sa_params *p = &sa->params;
	char src[IPK_ADDR_STRLEN], dst[IPK_ADDR_STRLEN];

	ipk_out_printf(out, "sa %s spi 0x%08" PRIx32 " dir %s mode %s src %s dst %s\n", p->name,
		       p->spi, ipk_dir_name(p->dir), ipk_mode_name(p->mode),
		       ipk_addr_str(&p->src, src), ipk_addr_str(&p->dst, dst));
	ipk_out_printf(out, "\tproposal %s esn %s", p->alg->name, p->esn ? "on" : "off");
	if (p->dir == IPK_DIR_IN)
		ipk_out_printf(out, " replay-window %" PRIu32, p->replay_window);
	else
		ipk_out_printf(out, " seq %" PRIu64, load(&sa->rt.seq_out));
	if (p->encap_udp)
		ipk_out_printf(out, " encap udp sport %u dport %u", p->encap_sport,
			       p->encap_dport);
	else
		ipk_out_printf(out, " encap none");
	ipk_out_printf(out, " ttl %u overhead %" PRIu32 "\n", p->ttl, ipk_esp_overhead(sa));
	/* The largest inner packet that still leaves whole (engine/mtu.h). */
	if (p->dir == IPK_DIR_OUT && p->mtu)
		ipk_out_printf(out, "\tmtu %" PRIu32 " effective-mtu %" PRIu32 "\n", p->mtu,
			       ipk_sa_effective_mtu(sa));
	else if (p->dir == IPK_DIR_OUT)
		ipk_out_printf(out, "\tmtu none\n");
	ipk_out_printf(out, "\tlifetime");
	text_lifetime(out, "hard", &p->hard);
	text_lifetime(out, "soft", &p->soft);
	ipk_out_printf(out, "\n\tage %" PRIu64 "s packets %" PRIu64 " bytes %" PRIu64
		       " flags %s\n", sa_age(sa), load(&sa->stats.packets),
		       load(&sa->stats.bytes), sa_flags(sa));
	text_sa_drops(out, &sa->stats.drops);
}

static void json_sa(struct ipk_json *j, struct ipk_sa *sa)
{
	const struct ipk_sa_params *p = &sa->params;
	char addr[IPK_ADDR_STRLEN];

	ipk_json_str(j, "name", p->name);
	ipk_json_u64(j, "spi", p->spi);
	ipk_json_str(j, "dir", ipk_dir_name(p->dir));
	ipk_json_str(j, "mode", ipk_mode_name(p->mode));
	ipk_json_str(j, "src", ipk_addr_str(&p->src, addr));
	ipk_json_str(j, "dst", ipk_addr_str(&p->dst, addr));
	ipk_json_str(j, "proposal", p->alg->name);
	ipk_json_bool(j, "esn", p->esn);
	if (p->dir == IPK_DIR_IN)
		ipk_json_u64(j, "replay_window", p->replay_window);
	else
		ipk_json_u64(j, "seq", load(&sa->rt.seq_out));
	ipk_json_obj_begin(j, "encap");
	ipk_json_bool(j, "udp", p->encap_udp);
	if (p->encap_udp) {
		ipk_json_u64(j, "sport", p->encap_sport);
		ipk_json_u64(j, "dport", p->encap_dport);
	}
	ipk_json_obj_end(j);
	ipk_json_u64(j, "ttl", p->ttl);
	ipk_json_u64(j, "overhead", ipk_esp_overhead(sa));
	/* 0: no limit. */
	ipk_json_u64(j, "mtu", p->mtu);
	ipk_json_u64(j, "effective_mtu", ipk_sa_effective_mtu(sa));
	json_lifetime(j, "lifetime", &p->hard);
	json_lifetime(j, "soft_lifetime", &p->soft);
	ipk_json_u64(j, "age_seconds", sa_age(sa));
	ipk_json_u64(j, "packets", load(&sa->stats.packets));
	ipk_json_u64(j, "bytes", load(&sa->stats.bytes));
	json_drops(j, "drops", &sa->stats.drops, false);
	ipk_json_bool(j, "soft_expired", atomic_load(&sa->rt.soft_expired));
	ipk_json_bool(j, "dead", atomic_load(&sa->rt.dead));
}

static void show_one_sa(struct ipk_sa *sa, void *arg)
{
	struct sa_walk *w = arg;
	struct view *v = w->v;

	if (v->json) {
		ipk_json_obj_begin(&v->j, NULL);
		json_sa(&v->j, sa);
	} else {
		text_sa(v->out, sa);
	}
	if (w->arg->keys)
		show_keys(v, &sa->params);
	if (v->json)
		ipk_json_obj_end(&v->j);
}

static const struct ipk_kw show_sa_kws[] = {
	{ .name = "name", .type = IPK_KW_NAME, IPK_KW_FIELD(struct show_sa_arg, name) },
	{ .name = "keys", .type = IPK_KW_FLAG, IPK_KW_FIELD(struct show_sa_arg, keys) },
	{ .name = NULL },
};

static int show_sa_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static int show_sa_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
		       struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct show_sa_arg *a = arg;
	struct ipk_sa *one = NULL;
	struct sa_walk w;
	struct view v;

	if (!ctx->sad)
		return ipk_err_set(err, -ENOENT, "show sa: no SAD");
	if (a->name[0]) {
		one = ipk_sad_find(ctx->sad, a->name);
		if (!one)
			return ipk_err_set(err, -ENOENT, "show sa: sa '%s' does not exist",
					   a->name);
	}
	view_init(&v, json, out);
	w = (struct sa_walk){ .v = &v, .arg = a };
	if (json)
		ipk_json_arr_begin(&v.j, "sa");
	if (one)
		show_one_sa(one, &w);
	else
		ipk_sad_foreach(ctx->sad, show_one_sa, &w);
	if (json)
		ipk_json_arr_end(&v.j);
	return view_finish(&v, err);
}

const struct ipk_cmd_def ipk_show_sa = {
	.words = { "show", "sa" },
	.kws = show_sa_kws,
	.arg_size = sizeof(struct show_sa_arg),
	.parse = show_sa_parse,
	.run = show_sa_run,
};

/* --- show policy ------------------------------------------------------------------ */

struct show_policy_arg {
	enum ipk_dir dir;
	bool one_dir; /* `dir` given */
};

static const char *prefix_text(char *buf, const struct ipk_prefix *pfx)
{
	char addr[IPK_ADDR_STRLEN];

	if (!pfx->addr.family)
		return "any";
	snprintf(buf, PREFIX_TEXT_MAX, "%s/%u", ipk_addr_str(&pfx->addr, addr), pfx->len);
	return buf;
}

/* The words of `policy add`: names for the protocols it names, a number otherwise. */
static const char *proto_text(char *buf, uint16_t proto)
{
	switch (proto) {
	case IPK_PROTO_ANY:
		return "any";
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	default:
		snprintf(buf, RANGE_TEXT_MAX, "%u", proto);
		return buf;
	}
}

static const char *range_text(char *buf, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == UINT16_MAX)
		return "any";
	if (lo == hi)
		snprintf(buf, RANGE_TEXT_MAX, "%u", lo);
	else
		snprintf(buf, RANGE_TEXT_MAX, "%u-%u", lo, hi);
	return buf;
}

static const char *dscp_text(char *buf, uint8_t dscp)
{
	return dscp == IPK_DSCP_ANY ? "any" : ipk_dscp_str(dscp, buf);
}

static void text_policy(struct ipk_outbuf *out, const struct ipk_policy *pol)
{
	const struct ipk_policy_params *p = &pol->params;
	char src[PREFIX_TEXT_MAX], dst[PREFIX_TEXT_MAX], proto[RANGE_TEXT_MAX];
	char sport[RANGE_TEXT_MAX], dport[RANGE_TEXT_MAX], dscp[16];

	ipk_out_printf(out, "policy %s dir %s priority %" PRIu32 "\n", p->name,
		       ipk_dir_name(p->dir), p->priority);
	ipk_out_printf(out, "\tsrc %s dst %s proto %s sport %s dport %s dscp %s\n",
		       prefix_text(src, &p->src), prefix_text(dst, &p->dst),
		       proto_text(proto, p->proto), range_text(sport, p->sport_lo, p->sport_hi),
		       range_text(dport, p->dport_lo, p->dport_hi), dscp_text(dscp, p->dscp));
	ipk_out_printf(out, "\taction %s", ipk_action_name(p->action));
	for (uint32_t i = 0; p->action == IPK_ACTION_PROTECT && i < p->n_sa; i++)
		ipk_out_printf(out, "%s%s (%s)", i ? ", " : " sa ", p->sa_names[i],
			       pol->sa[i] ? "resolved" : "unresolved");
	for (uint32_t i = 0; i < p->n_class_sa; i++)
		ipk_out_printf(out, "%s%s:%s (%s)", i ? ", " : " class-sa ",
			       ipk_dscp_str(p->class_dscp[i], dscp), p->class_sa_names[i],
			       pol->class_sa[i] ? "resolved" : "unresolved");
	ipk_out_printf(out, " matches %" PRIu64 "\n", load(&pol->matches));
}

static void json_range(struct ipk_json *j, const char *key, uint16_t lo, uint16_t hi)
{
	ipk_json_obj_begin(j, key);
	ipk_json_u64(j, "lo", lo);
	ipk_json_u64(j, "hi", hi);
	ipk_json_obj_end(j);
}

static void json_policy(struct ipk_json *j, const struct ipk_policy *pol)
{
	const struct ipk_policy_params *p = &pol->params;
	char buf[PREFIX_TEXT_MAX];

	ipk_json_obj_begin(j, NULL);
	ipk_json_str(j, "name", p->name);
	ipk_json_str(j, "dir", ipk_dir_name(p->dir));
	ipk_json_u64(j, "priority", p->priority);
	ipk_json_str(j, "src", prefix_text(buf, &p->src));
	ipk_json_str(j, "dst", prefix_text(buf, &p->dst));
	ipk_json_str(j, "proto", proto_text(buf, p->proto));
	json_range(j, "sport", p->sport_lo, p->sport_hi);
	json_range(j, "dport", p->dport_lo, p->dport_hi);
	ipk_json_str(j, "dscp", dscp_text(buf, p->dscp));
	ipk_json_str(j, "action", ipk_action_name(p->action));
	ipk_json_arr_begin(j, "bundle");
	for (uint32_t i = 0; p->action == IPK_ACTION_PROTECT && i < p->n_sa; i++) {
		ipk_json_obj_begin(j, NULL);
		ipk_json_str(j, "sa", p->sa_names[i]);
		ipk_json_bool(j, "resolved", pol->sa[i] != NULL);
		ipk_json_obj_end(j);
	}
	ipk_json_arr_end(j);
	ipk_json_arr_begin(j, "class_sa");
	for (uint32_t i = 0; i < p->n_class_sa; i++) {
		ipk_json_obj_begin(j, NULL);
		ipk_json_str(j, "dscp", ipk_dscp_str(p->class_dscp[i], buf));
		ipk_json_str(j, "sa", p->class_sa_names[i]);
		ipk_json_bool(j, "resolved", pol->class_sa[i] != NULL);
		ipk_json_obj_end(j);
	}
	ipk_json_arr_end(j);
	ipk_json_u64(j, "matches", load(&pol->matches));
	ipk_json_obj_end(j);
}

static void show_one_policy(struct ipk_policy *pol, void *arg)
{
	struct view *v = arg;

	if (v->json)
		json_policy(&v->j, pol);
	else
		text_policy(v->out, pol);
}

static const struct ipk_kw_choice dir_choices[] = {
	{ "in", IPK_DIR_IN },
	{ "out", IPK_DIR_OUT },
	{ NULL, 0 },
};

static const struct ipk_kw show_policy_kws[] = {
	{ .name = "dir", .type = IPK_KW_ENUM, IPK_KW_FIELD(struct show_policy_arg, dir),
	  .choices = dir_choices },
	{ .name = NULL },
};

static int show_policy_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct show_policy_arg *a = arg;
	int ret = ipk_cmd_parse_keywords(ps, arg);

	a->one_dir = ipk_cmd_given(ps, "dir");
	return ret;
}

static int show_policy_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
			   struct ipk_outbuf *out, struct ipk_err *err)
{
	static const enum ipk_dir dirs[] = { IPK_DIR_IN, IPK_DIR_OUT };
	const struct show_policy_arg *a = arg;
	struct view v;

	if (!ctx->spd)
		return ipk_err_set(err, -ENOENT, "show policy: no SPD");
	view_init(&v, json, out);
	if (json)
		ipk_json_arr_begin(&v.j, "policy");
	for (size_t i = 0; i < IPK_ARRAY_SIZE(dirs); i++)
		if (!a->one_dir || a->dir == dirs[i])
			ipk_spd_foreach(ctx->spd, dirs[i], show_one_policy, &v);
	if (json)
		ipk_json_arr_end(&v.j);
	return view_finish(&v, err);
}

const struct ipk_cmd_def ipk_show_policy = {
	.words = { "show", "policy" },
	.kws = show_policy_kws,
	.arg_size = sizeof(struct show_policy_arg),
	.parse = show_policy_parse,
	.run = show_policy_run,
};

/* --- stats ------------------------------------------------------------------------ */

static pthread_mutex_t providers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipk_stats_provider *providers;

int ipk_stats_register(struct ipk_stats_provider *p)
{
	struct ipk_stats_provider **at;
	int ret = 0;

	pthread_mutex_lock(&providers_lock);
	for (at = &providers; *at; at = &(*at)->next)
		if (strcmp((*at)->name, p->name) == 0)
			ret = -EEXIST;
	if (!ret) {
		p->next = NULL;
		*at = p;
	}
	pthread_mutex_unlock(&providers_lock);
	return ret;
}

void ipk_stats_unregister(struct ipk_stats_provider *p)
{
	pthread_mutex_lock(&providers_lock);
	for (struct ipk_stats_provider **at = &providers; *at; at = &(*at)->next) {
		if (*at == p) {
			*at = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&providers_lock);
}

void ipk_stats_counter(struct ipk_stats_emit *e, const char *name, uint64_t value)
{
	if (e->v->json)
		ipk_json_u64(&e->v->j, name, value);
	else
		ipk_out_printf(e->v->out, "\t%s %" PRIu64 "\n", name, value);
}

void ipk_stats_drops(struct ipk_stats_emit *e, const char *prefix,
		     const struct ipk_drop_stats *drops)
{
	char name[COUNTER_NAME_MAX];

	for (int r = 1; r < IPK_DROP_COUNT; r++) {
		uint64_t n = ipk_drop_read(drops, (enum ipk_drop_reason)r);

		if (!n)
			continue;
		snprintf(name, sizeof(name), "%s.%s", prefix, ipk_drop_name(r));
		ipk_stats_counter(e, name, n);
	}
}

struct sa_sums {
	uint64_t count[2]; /* by direction */
	uint64_t soft_expired, dead, packets, bytes;
	struct ipk_drop_stats drops;
};

static void sum_sa(struct ipk_sa *sa, void *arg)
{
	struct sa_sums *s = arg;

	s->count[sa->params.dir == IPK_DIR_OUT]++;
	s->soft_expired += atomic_load(&sa->rt.soft_expired);
	s->dead += atomic_load(&sa->rt.dead);
	s->packets += load(&sa->stats.packets);
	s->bytes += load(&sa->stats.bytes);
	for (int r = 1; r < IPK_DROP_COUNT; r++)
		s->drops.count[r] += ipk_drop_read(&sa->stats.drops, (enum ipk_drop_reason)r);
}

struct policy_sums {
	uint64_t count[2];
	uint64_t matches;
};

static void sum_policy(struct ipk_policy *pol, void *arg)
{
	struct policy_sums *s = arg;

	s->count[pol->params.dir == IPK_DIR_OUT]++;
	s->matches += load(&pol->matches);
}

static void text_sums(struct ipk_outbuf *out, const struct sa_sums *sa,
		      const struct policy_sums *pol)
{
	ipk_out_printf(out, "sa in %" PRIu64 " out %" PRIu64 " soft-expired %" PRIu64
		       " dead %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 "\n",
		       sa->count[0], sa->count[1], sa->soft_expired, sa->dead, sa->packets,
		       sa->bytes);
	ipk_out_printf(out, "policy in %" PRIu64 " out %" PRIu64 " matches %" PRIu64 "\n",
		       pol->count[0], pol->count[1], pol->matches);
	ipk_out_printf(out, "drops (all SAs)\n");
	for (int r = 1; r < IPK_DROP_COUNT; r++)
		ipk_out_printf(out, "\t%s %" PRIu64 "\n", ipk_drop_name(r),
			       ipk_drop_read(&sa->drops, (enum ipk_drop_reason)r));
}

static void json_sums(struct ipk_json *j, const struct sa_sums *sa,
		      const struct policy_sums *pol)
{
	ipk_json_obj_begin(j, "sa");
	ipk_json_u64(j, "in", sa->count[0]);
	ipk_json_u64(j, "out", sa->count[1]);
	ipk_json_u64(j, "soft_expired", sa->soft_expired);
	ipk_json_u64(j, "dead", sa->dead);
	ipk_json_u64(j, "packets", sa->packets);
	ipk_json_u64(j, "bytes", sa->bytes);
	ipk_json_obj_end(j);
	ipk_json_obj_begin(j, "policy");
	ipk_json_u64(j, "in", pol->count[0]);
	ipk_json_u64(j, "out", pol->count[1]);
	ipk_json_u64(j, "matches", pol->matches);
	ipk_json_obj_end(j);
	json_drops(j, "drops", &sa->drops, true);
}

/* One section per provider: "NAME" then its counters, or "NAME": { ... }. */
static void emit_providers(struct view *v)
{
	struct ipk_stats_emit e = { .v = v };

	if (v->json)
		ipk_json_obj_begin(&v->j, "providers");
	pthread_mutex_lock(&providers_lock);
	for (struct ipk_stats_provider *p = providers; p; p = p->next) {
		if (v->json)
			ipk_json_obj_begin(&v->j, p->name);
		else
			ipk_out_printf(v->out, "%s\n", p->name);
		p->emit(p->arg, &e);
		if (v->json)
			ipk_json_obj_end(&v->j);
	}
	pthread_mutex_unlock(&providers_lock);
	if (v->json)
		ipk_json_obj_end(&v->j);
}

static const struct ipk_kw stats_kws[] = {
	{ .name = NULL },
};

static int stats_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static int stats_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
		     struct ipk_outbuf *out, struct ipk_err *err)
{
	struct policy_sums pol;
	struct sa_sums sa;
	struct view v;

	memset(&sa, 0, sizeof(sa));
	memset(&pol, 0, sizeof(pol));
	if (ctx->sad)
		ipk_sad_foreach(ctx->sad, sum_sa, &sa);
	if (ctx->spd) {
		ipk_spd_foreach(ctx->spd, IPK_DIR_IN, sum_policy, &pol);
		ipk_spd_foreach(ctx->spd, IPK_DIR_OUT, sum_policy, &pol);
	}
	view_init(&v, json, out);
	if (json)
		json_sums(&v.j, &sa, &pol);
	else
		text_sums(out, &sa, &pol);
	emit_providers(&v);
	return view_finish(&v, err);
}

const struct ipk_cmd_def ipk_show_stats = {
	.words = { "stats" },
	.kws = stats_kws,
	.arg_size = 1,
	.parse = stats_parse,
	.run = stats_run,
};
