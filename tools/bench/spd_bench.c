// SPDX-License-Identifier: BSD-2-Clause
/*
 * `ipseck-bench spd`: outbound SPD lookup cost with 10, 1,000 and 10,000 rules.
 *
 * The rules look like a hub gateway's: each remote site is a distinct destination /24
 * in 10.0.0.0/8, reached from one of a few local prefixes (/8, /16, /24); about a third
 * narrow the protocol and destination ports (SIP, HTTPS, SSH, RTP ranges), some ask for a
 * DSCP (EF, AF41, AF31); one site in ten also has an IKE bypass rule (UDP 4500) in front
 * of its protect rule. Priorities are mixed; three in four rules protect (one SA name,
 * left unresolved: lookups do not need the SA), the rest bypass.
 *
 * Lookups run over 65,536 precomputed flows: half hit some rule; the other half miss, by
 * an unused destination /24, a source outside every local prefix, or the wrong port or
 * DSCP for a narrowed rule. The hit fraction is checked before timing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "proto/ip.h"
#include "sa/spd.h"
#include "sa/spd_index.h"
#include "tools/bench/bench.h"

#define N_FLOWS 65536u /* power of two: the lookup loop wraps with a mask */
#define SPD_BATCH 4096
#define N_DST24 65536u /* /24 prefixes in 10.0.0.0/8 */

struct src_prefix {
	uint8_t a[4];
	uint8_t len;
};

static const struct src_prefix srcs[] = {
    {{100, 0, 0, 0}, 8},     {{192, 168, 0, 0}, 16},  {{172, 16, 0, 0}, 16},
    {{192, 168, 10, 0}, 24}, {{192, 168, 20, 0}, 24},
};

struct port_sel {
	uint8_t proto;
	uint16_t lo, hi;
};

static const struct port_sel port_sels[] = {
    {IPK_PROTO_UDP, 5060, 5061},   {IPK_PROTO_TCP, 443, 443},	 {IPK_PROTO_TCP, 22, 22},
    {IPK_PROTO_UDP, 10000, 20000}, {IPK_PROTO_TCP, 1024, 65535},
};

static const uint8_t dscps[] = {46, 34, 26};
static const uint32_t priorities[] = {100, 500, 1000, 2000};

/* One remote site: its destination /24 and the selectors of its main rule. */
struct site {
	uint16_t dst24; /* 10.(dst24 >> 8).(dst24 & 255).0/24 */
	uint8_t src;	/* index in srcs */
	int8_t ports;	/* index in port_sels, -1 = any protocol and port */
	uint8_t dscp;	/* IPK_DSCP_ANY or the DSCP asked for */
};

struct spd_bench {
	struct ipk_spd *spd;
	struct site *sites;
	uint32_t n_sites;
	uint8_t used[N_DST24 / 8];
	struct ipk_flow *flows;
	uint32_t pos;
	uintptr_t sink;
};

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(bench_rand() % n);
}

static bool dst_used(const struct spd_bench *b, uint32_t d)
{
	return b->used[d / 8] & (1u << (d % 8));
}

static uint16_t pick_free_dst(struct spd_bench *b)
{
	uint32_t d;

	do
		d = rnd(N_DST24);
	while (dst_used(b, d));
	return (uint16_t)d;
}

static void set_prefix(struct ipk_prefix *p, const uint8_t a[4], uint8_t len)
{
	memset(p, 0, sizeof(*p));
	ipk_addr_from_v4(&p->addr, a);
	p->len = len;
}

static void dst24_bytes(uint16_t dst24, uint8_t a[4])
{
	a[0] = 10;
	a[1] = (uint8_t)(dst24 >> 8);
	a[2] = (uint8_t)dst24;
	a[3] = 0;
}

static int add_rule(struct spd_bench *b, const struct site *s, uint32_t n, bool ike)
{
	struct ipk_policy_params p;
	struct ipk_err err;
	uint8_t dst[4];
	int rc;

	ipk_policy_params_init(&p);
	snprintf(p.name, sizeof(p.name), "rule-%u", n);
	p.dir = IPK_DIR_OUT;
	set_prefix(&p.src, srcs[s->src].a, srcs[s->src].len);
	dst24_bytes(s->dst24, dst);
	set_prefix(&p.dst, dst, 24);
	if (ike) {
		/* RFC 3948: IKE and NAT-T traffic to the peer must bypass IPsec. */
		p.proto = IPK_PROTO_UDP;
		p.dport_lo = p.dport_hi = 4500;
		p.priority = 50;
		p.action = IPK_ACTION_BYPASS;
	} else {
		if (s->ports >= 0) {
			p.proto = port_sels[s->ports].proto;
			p.dport_lo = port_sels[s->ports].lo;
			p.dport_hi = port_sels[s->ports].hi;
		}
		p.dscp = s->dscp;
		p.priority = priorities[rnd(IPK_ARRAY_SIZE(priorities))];
		p.action = rnd(4) ? IPK_ACTION_PROTECT : IPK_ACTION_BYPASS;
		if (p.action == IPK_ACTION_PROTECT) {
			p.n_sa = 1;
			snprintf(p.sa_names[0], sizeof(p.sa_names[0]), "site-%u", s->dst24);
		}
	}
	rc = ipk_spd_add(b->spd, &p, &err);
	if (rc)
		fprintf(stderr, "spd: %s\n", err.msg);
	return rc;
}

static void new_site(struct spd_bench *b, struct site *s)
{
	s->dst24 = pick_free_dst(b);
	b->used[s->dst24 / 8] |= (uint8_t)(1u << (s->dst24 % 8));
	s->src = (uint8_t)rnd(IPK_ARRAY_SIZE(srcs));
	s->ports = rnd(100) < 30 ? (int8_t)rnd(IPK_ARRAY_SIZE(port_sels)) : -1;
	s->dscp = rnd(100) < 15 ? dscps[rnd(IPK_ARRAY_SIZE(dscps))] : IPK_DSCP_ANY;
}

static int add_rules(struct spd_bench *b, uint32_t n_rules)
{
	uint32_t n = 0;
	int rc;

	b->sites = calloc(n_rules, sizeof(*b->sites));
	if (!b->sites)
		return -ENOMEM;
	while (n < n_rules) {
		struct site *s = &b->sites[b->n_sites++];

		new_site(b, s);
		if (n + 2 <= n_rules && rnd(10) == 0) {
			rc = add_rule(b, s, n++, true);
			if (rc)
				return rc;
		}
		rc = add_rule(b, s, n++, false);
		if (rc)
			return rc;
	}
	return 0;
}

/* A random host inside a prefix (host bits random, never all zero). */
static void host_in(struct ipk_addr *out, const uint8_t a[4], uint8_t len)
{
	uint32_t base = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	uint32_t host_mask = len >= 32 ? 0 : 0xffffffffu >> len;
	uint32_t v = base | ((uint32_t)bench_rand() & host_mask) | (host_mask ? 1 : 0);
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	ipk_addr_from_v4(out, b);
}

/* A flow the site's main rule matches. */
static void flow_for(struct ipk_flow *f, const struct site *s)
{
	uint8_t dst[4];

	memset(f, 0, sizeof(*f));
	host_in(&f->src, srcs[s->src].a, srcs[s->src].len);
	dst24_bytes(s->dst24, dst);
	host_in(&f->dst, dst, 24);
	f->sport = (uint16_t)(1024 + rnd(64512));
	if (s->ports >= 0) {
		const struct port_sel *ps = &port_sels[s->ports];

		f->proto = ps->proto;
		f->dport = (uint16_t)(ps->lo + rnd((uint32_t)(ps->hi - ps->lo) + 1));
	} else {
		f->proto = rnd(2) ? IPK_PROTO_TCP : IPK_PROTO_UDP;
		f->dport = (uint16_t)rnd(65536);
	}
	f->dscp = s->dscp != IPK_DSCP_ANY ? s->dscp : (rnd(4) ? 0 : dscps[rnd(3)]);
}

/* A flow no rule matches. */
static void miss_flow(struct spd_bench *b, struct ipk_flow *f)
{
	const struct site *s = &b->sites[rnd(b->n_sites)];
	static const uint8_t foreign[4] = {198, 18, 0, 0};
	uint8_t dst[4];

	flow_for(f, s);
	switch (rnd(4)) {
	case 0:
		host_in(&f->src, foreign, 15); /* no local prefix holds 198.18.0.0/15 */
		return;
	case 1:
		if (s->ports >= 0) {
			/* Just outside the range; 4500 would hit the IKE bypass rule. */
			const struct port_sel *ps = &port_sels[s->ports];

			f->dport = ps->lo > 0 ? (uint16_t)(ps->lo - 1) : (uint16_t)(ps->hi + 1);
			return;
		}
		if (s->dscp != IPK_DSCP_ANY) {
			f->dscp = (uint8_t)((s->dscp + 1) % 64);
			return;
		}
		break;
	default:
		break;
	}
	dst24_bytes(pick_free_dst(b), dst);
	host_in(&f->dst, dst, 24);
}

static int make_flows(struct spd_bench *b, double *hit_fraction, double *tuples_probed)
{
	const struct ipk_spd_index *idx = ipk_spd_index_of(b->spd, IPK_DIR_OUT, 4);
	uint64_t hits = 0, tuples = 0;

	b->flows = calloc(N_FLOWS, sizeof(*b->flows));
	if (!b->flows)
		return -ENOMEM;
	for (uint32_t i = 0; i < N_FLOWS; i++) {
		struct ipk_spd_cost cost = {0, 0, 0};

		if (i % 2)
			miss_flow(b, &b->flows[i]);
		else
			flow_for(&b->flows[i], &b->sites[rnd(b->n_sites)]);
		hits += ipk_spd_lookup(b->spd, IPK_DIR_OUT, &b->flows[i]) != NULL;
		ipk_spd_index_lookup_cost(idx, &b->flows[i], &cost);
		tuples += cost.tuples;
	}
	*hit_fraction = (double)hits / N_FLOWS;
	*tuples_probed = (double)tuples / N_FLOWS;
	return 0;
}

static int lookup_run(void *arg, uint32_t n)
{
	struct spd_bench *b = arg;
	uintptr_t sink = 0;

	for (uint32_t i = 0; i < n; i++)
		sink ^= (uintptr_t)ipk_spd_lookup(b->spd, IPK_DIR_OUT,
						  &b->flows[(b->pos + i) & (N_FLOWS - 1)]);
	b->pos += n;
	b->sink ^= sink;
	return 0;
}

struct spd_row {
	uint32_t rules;
	uint32_t tuples;
	double build_s;  /* rules added one at a time */
	double batch_s;  /* the same rules in one batch */
	double hit_fraction;
	double tuples_probed;
	double ns;	/* median batch */
	double ns_mean; /* total time / count */
};

struct copy {
	struct ipk_spd *to;
	int rc;
};

static void copy_rule(struct ipk_policy *pol, void *arg)
{
	struct copy *c = arg;
	struct ipk_err err;

	if (!c->rc)
		c->rc = ipk_spd_add(c->to, &pol->params, &err);
}

/* Seconds to load @from's rules into a new SPD in one batch (ipk_spd_batch_begin/end, as
 * a configuration batch does), in match order. */
static int batch_load_s(const struct ipk_spd *from, double *seconds)
{
	struct copy c = { NULL, 0 };
	uint64_t t0 = bench_now_ns();

	c.rc = ipk_spd_create(&c.to);
	if (c.rc)
		return c.rc;
	ipk_spd_batch_begin(c.to);
	ipk_spd_foreach(from, IPK_DIR_OUT, copy_rule, &c);
	ipk_spd_foreach(from, IPK_DIR_IN, copy_rule, &c);
	if (ipk_spd_batch_end(c.to) && !c.rc)
		c.rc = -ENOMEM;
	*seconds = (double)(bench_now_ns() - t0) / 1e9;
	if (!c.rc && ipk_spd_count(c.to) != ipk_spd_count(from))
		c.rc = -EINVAL;
	ipk_spd_destroy(c.to);
	return c.rc;
}

static int run_size(uint32_t n_rules, double seconds, struct spd_row *row)
{
	struct spd_bench *b = calloc(1, sizeof(*b));
	struct bench_loop loop = {NULL, lookup_run, b, SPD_BATCH, N_FLOWS};
	struct bench_result res = {.count = 0};
	uint64_t t0;
	int rc;

	if (!b)
		return -ENOMEM;
	row->rules = n_rules;
	rc = ipk_spd_create(&b->spd);
	t0 = bench_now_ns();
	if (!rc)
		rc = add_rules(b, n_rules);
	row->build_s = (double)(bench_now_ns() - t0) / 1e9;
	if (!rc)
		rc = batch_load_s(b->spd, &row->batch_s);
	if (!rc)
		rc = make_flows(b, &row->hit_fraction, &row->tuples_probed);
	if (!rc) {
		row->tuples = ipk_spd_index_tuples(ipk_spd_index_of(b->spd, IPK_DIR_OUT, 4));
		rc = bench_measure(&loop, seconds, &res);
	}
	row->ns = bench_ns_per_op(&res);
	row->ns_mean = res.count ? (double)res.ns / (double)res.count : 0.0;
	if (b->spd)
		ipk_spd_destroy(b->spd);
	free(b->flows);
	free(b->sites);
	free(b);
	return rc;
}

int bench_spd(const struct bench_opts *o, struct bench_json *j, struct bench_targets *t)
{
	static const uint32_t sizes[] = {10, 1000, 10000};
	struct spd_row rows[IPK_ARRAY_SIZE(sizes)];
	int failed = 0;

	printf("\n== SPD: outbound ipk_spd_lookup over 65,536 flows (half hit, half miss) ==\n\n");
	printf("(add s: the rules added one at a time, each rebuilding the index; batch s: the\n"
	       "same rules in one batch, as a configuration file or ipseckctl batch loads them)\n\n");
	printf("%7s %6s %8s %8s %7s %8s %10s %9s %8s\n", "rules", "tuples", "add s", "batch s",
	       "hit %", "probes", "ns/lookup", "Mlookup/s", "vs 10");
	bench_json_add(j, ",\"spd\":[");
	for (unsigned i = 0; i < IPK_ARRAY_SIZE(sizes); i++) {
		struct spd_row *r = &rows[i];
		int rc = run_size(sizes[i], o->seconds, r);
		double ratio = rows[0].ns > 0 ? r->ns / rows[0].ns : 0.0;

		if (rc) {
			printf("%7u  failed: %s\n", sizes[i], strerror(rc < 0 ? -rc : rc));
			failed = 1;
			break;
		}
		printf("%7u %6u %8.3f %8.4f %7.1f %8.2f %10.1f %9.2f %8.2f\n", r->rules, r->tuples,
		       r->build_s, r->batch_s, r->hit_fraction * 100, r->tuples_probed, r->ns,
		       r->ns > 0 ? 1e3 / r->ns : 0.0, ratio);
		fflush(stdout);
		bench_json_add(j,
			       "%s{\"rules\":%u,\"tuples\":%u,\"add_s\":%.3f,\"batch_s\":%.4f,"
			       "\"hit_fraction\":%.4f,"
			       "\"tuples_probed\":%.3f,\"ns_per_lookup\":%.2f,\"ratio_vs_10\":%.3f,"
			       "\"mean_ns_per_lookup\":%.2f}",
			       i ? "," : "", r->rules, r->tuples, r->build_s, r->batch_s, r->hit_fraction,
			       r->tuples_probed, r->ns, ratio, r->ns_mean);
	}
	bench_json_add(j, "]");
	if (!failed) {
		t->spd_10_ns = rows[0].ns;
		t->spd_10k_ns = rows[2].ns;
	}
	return failed;
}
