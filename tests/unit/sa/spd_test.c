// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/sa/spd.c and its index, src/sa/spd_index.c: first match by priority then
 * order of addition, every selector alone at its edges, deletion, validation messages,
 * SA resolution, a randomized comparison against a linear scan, and the lookup cost with
 * 10,000 rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/addr.h"
#include "crypto/alg.h"
#include "sa/sad.h"
#include "sa/spd.h"
#include "sa/spd_index.h"

/* ---- rule and flow specs ---- */

/* "A/L" with any length and host bits (so that the validator sees them), or "any". */
static void spec_prefix(struct ipk_prefix *pf, const char *text)
{
	char addr[64];
	const char *slash = strchr(text, '/');

	memset(pf, 0, sizeof(*pf));
	if (strcmp(text, "any") == 0)
		return;
	assert_non_null(slash);
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - text), text);
	assert_int_equal(ipk_addr_parse(addr, &pf->addr), 0);
	pf->len = (uint8_t)strtoul(slash + 1, NULL, 10);
}

static void spec_range(uint16_t *lo, uint16_t *hi, const char *text)
{
	char *end;

	*lo = (uint16_t)strtoul(text, &end, 10);
	*hi = *end == '-' ? (uint16_t)strtoul(end + 1, NULL, 10) : *lo;
}

/* "a,b,,c": empty names stay empty; at most IPK_BUNDLE_MAX are stored, all are counted. */
static void spec_sa_names(struct ipk_policy_params *p, const char *text)
{
	p->n_sa = 0;
	for (;;) {
		const char *comma = strchr(text, ',');
		size_t len = comma ? (size_t)(comma - text) : strlen(text);

		if (p->n_sa < IPK_BUNDLE_MAX)
			snprintf(p->sa_names[p->n_sa], IPK_NAME_MAX, "%.*s", (int)len, text);
		p->n_sa++;
		if (!comma)
			return;
		text = comma + 1;
	}
}

static void spec_keyword(struct ipk_policy_params *p, const char *key, const char *val)
{
	if (strcmp(key, "name") == 0)
		snprintf(p->name, sizeof(p->name), "%s", val);
	else if (strcmp(key, "dir") == 0)
		p->dir = (enum ipk_dir)atoi(val);
	else if (strcmp(key, "src") == 0)
		spec_prefix(&p->src, val);
	else if (strcmp(key, "dst") == 0)
		spec_prefix(&p->dst, val);
	else if (strcmp(key, "proto") == 0)
		p->proto = (uint16_t)atoi(val);
	else if (strcmp(key, "sport") == 0)
		spec_range(&p->sport_lo, &p->sport_hi, val);
	else if (strcmp(key, "dport") == 0)
		spec_range(&p->dport_lo, &p->dport_hi, val);
	else if (strcmp(key, "dscp") == 0)
		p->dscp = (uint8_t)atoi(val);
	else if (strcmp(key, "prio") == 0)
		p->priority = (uint32_t)strtoul(val, NULL, 10);
	else if (strcmp(key, "action") == 0)
		p->action = (enum ipk_action)atoi(val);
	else if (strcmp(key, "sa") == 0)
		spec_sa_names(p, val);
	else
		fail_msg("bad spec keyword '%s'", key);
}

/* "[name N] [in|out|dir N] [src P] [dst P] [proto N] [sport A[-B]] [dport A[-B]] [dscp N]
 *  [prio N] [bypass|discard|protect|action N] [sa A,B]"; defaults: name r, out, bypass. */
static void spec_params(struct ipk_policy_params *p, const char *spec)
{
	char buf[256], *save = NULL;

	ipk_policy_params_init(p);
	strcpy(p->name, "r");
	p->dir = IPK_DIR_OUT;
	p->action = IPK_ACTION_BYPASS;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "in") == 0 || strcmp(tok, "out") == 0) {
			p->dir = tok[0] == 'i' ? IPK_DIR_IN : IPK_DIR_OUT;
		} else if (strcmp(tok, "bypass") == 0) {
			p->action = IPK_ACTION_BYPASS;
		} else if (strcmp(tok, "discard") == 0) {
			p->action = IPK_ACTION_DISCARD;
		} else if (strcmp(tok, "protect") == 0) {
			p->action = IPK_ACTION_PROTECT;
		} else {
			const char *val = strtok_r(NULL, " ", &save);

			assert_non_null(val);
			spec_keyword(p, tok, val);
		}
	}
}

/* "SRC DST PROTO SPORT DPORT DSCP" */
static void spec_flow(struct ipk_flow *f, const char *spec)
{
	char src[64], dst[64];
	unsigned proto, sport, dport, dscp;

	memset(f, 0, sizeof(*f));
	assert_int_equal(
	    sscanf(spec, "%63s %63s %u %u %u %u", src, dst, &proto, &sport, &dport, &dscp), 6);
	assert_int_equal(ipk_addr_parse(src, &f->src), 0);
	assert_int_equal(ipk_addr_parse(dst, &f->dst), 0);
	f->proto = (uint8_t)proto;
	f->sport = (uint16_t)sport;
	f->dport = (uint16_t)dport;
	f->dscp = (uint8_t)dscp;
}

static void add_spec(struct ipk_spd *spd, const char *spec)
{
	struct ipk_policy_params p;
	struct ipk_err err = { "" };

	spec_params(&p, spec);
	if (ipk_spd_add(spd, &p, &err) != 0)
		fail_msg("add '%s': %s", spec, err.msg);
}

static const char *lookup_name(const struct ipk_spd *spd, enum ipk_dir dir, const char *flow)
{
	struct ipk_flow f;
	struct ipk_policy *pol;

	spec_flow(&f, flow);
	pol = ipk_spd_lookup(spd, dir, &f);
	return pol ? pol->params.name : NULL;
}

/* ---- each selector alone ---- */

#define ALL "src 192.0.2.0/24 dst 198.51.100.0/24 proto 17 sport 5000-5100 dport 53 dscp 46"
#define V6 "2001:db8::99 "

static const struct sel_row {
	int no;
	const char *rule;
	const char *flow;
	bool match;
} sel_rows[] = {
	/* destination prefixes, IPv4: /32, /24, /23, /1, /0 at their edges */
	{ 1, "dst 10.1.1.1/32", "192.0.2.1 10.1.1.1 6 1 2 0", true },
	{ 2, "dst 10.1.1.1/32", "192.0.2.1 10.1.1.0 6 1 2 0", false },
	{ 3, "dst 10.1.1.1/32", "192.0.2.1 10.1.1.2 6 1 2 0", false },
	{ 4, "dst 10.1.2.0/24", "192.0.2.1 10.1.2.0 6 1 2 0", true },
	{ 5, "dst 10.1.2.0/24", "192.0.2.1 10.1.2.255 6 1 2 0", true },
	{ 6, "dst 10.1.2.0/24", "192.0.2.1 10.1.1.255 6 1 2 0", false },
	{ 7, "dst 10.1.2.0/24", "192.0.2.1 10.1.3.0 6 1 2 0", false },
	{ 8, "dst 10.1.2.0/23", "192.0.2.1 10.1.3.255 6 1 2 0", true },
	{ 9, "dst 10.1.2.0/23", "192.0.2.1 10.1.4.0 6 1 2 0", false },
	{ 10, "dst 10.1.2.0/23", "192.0.2.1 10.1.1.255 6 1 2 0", false },
	{ 11, "dst 128.0.0.0/1", "192.0.2.1 128.0.0.0 6 1 2 0", true },
	{ 12, "dst 128.0.0.0/1", "192.0.2.1 255.255.255.255 6 1 2 0", true },
	{ 13, "dst 128.0.0.0/1", "192.0.2.1 127.255.255.255 6 1 2 0", false },
	{ 14, "dst 0.0.0.0/1", "192.0.2.1 127.255.255.255 6 1 2 0", true },
	{ 15, "dst 0.0.0.0/1", "192.0.2.1 128.0.0.0 6 1 2 0", false },
	{ 16, "dst 0.0.0.0/0", "192.0.2.1 0.0.0.0 6 1 2 0", true },
	{ 17, "dst 0.0.0.0/0", "192.0.2.1 255.255.255.255 6 1 2 0", true },
	/* source prefixes look at the source only */
	{ 18, "src 192.0.2.0/24", "192.0.2.7 10.0.0.1 6 1 2 0", true },
	{ 19, "src 192.0.2.0/24", "10.0.0.1 192.0.2.7 6 1 2 0", false },
	{ 20, "src 192.0.2.128/25", "192.0.2.127 10.0.0.1 6 1 2 0", false },
	{ 21, "src 192.0.2.128/25", "192.0.2.128 10.0.0.1 6 1 2 0", true },
	{ 22, "src 10.0.0.1/32 dst 10.0.0.2/32", "10.0.0.1 10.0.0.2 6 1 2 0", true },
	{ 23, "src 10.0.0.1/32 dst 10.0.0.2/32", "10.0.0.2 10.0.0.1 6 1 2 0", false },
	/* IPv6: /128, /65 and /64 (the word boundary), /32, /1, /0 */
	{ 24, "dst 2001:db8::1/128", V6 "2001:db8::1 6 1 2 0", true },
	{ 25, "dst 2001:db8::1/128", V6 "2001:db8::2 6 1 2 0", false },
	{ 26, "dst 2001:db8::1/128", V6 "2001:db8:: 6 1 2 0", false },
	{ 27, "dst 2001:db8::/32", V6 "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff 6 1 2 0", true },
	{ 28, "dst 2001:db8::/32", V6 "2001:db9:: 6 1 2 0", false },
	{ 29, "dst 2001:db8::/32", V6 "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff 6 1 2 0", false },
	{ 30, "dst 2001:db8::/64", V6 "2001:db8::ffff:ffff:ffff:ffff 6 1 2 0", true },
	{ 31, "dst 2001:db8::/64", V6 "2001:db8:0:1:: 6 1 2 0", false },
	{ 32, "dst 2001:db8::8000:0:0:0/65", V6 "2001:db8::8000:0:0:1 6 1 2 0", true },
	{ 33, "dst 2001:db8::8000:0:0:0/65", V6 "2001:db8::7fff:ffff:ffff:ffff 6 1 2 0", false },
	{ 34, "dst 8000::/1", V6 "8000:: 6 1 2 0", true },
	{ 35, "dst 8000::/1", V6 "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 6 1 2 0", false },
	{ 36, "dst ::/0", V6 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 6 1 2 0", true },
	{ 37, "src 2001:db8:1::/48", "2001:db8:1:ffff::1 2001:db8::1 6 1 2 0", true },
	{ 38, "src 2001:db8:1::/48", "2001:db8:2::1 2001:db8::1 6 1 2 0", false },
	/* IPv4 and IPv6 never cross; "any" on both sides matches both */
	{ 39, "dst 0.0.0.0/0", ":: :: 6 1 2 0", false },
	{ 40, "dst ::/0", "10.0.0.1 10.0.0.2 6 1 2 0", false },
	{ 41, "dst 10.0.0.1/32", "::1 ::ffff:10.0.0.1 6 1 2 0", false },
	{ 42, "dst ::ffff:10.0.0.1/128", "10.0.0.2 10.0.0.1 6 1 2 0", false },
	{ 43, "", "10.0.0.1 10.0.0.2 6 1 2 0", true },
	{ 44, "", "2001:db8::1 2001:db8::2 6 1 2 0", true },
	{ 45, "src ::/0", "10.0.0.1 10.0.0.2 6 1 2 0", false },
	{ 46, "", "2001:db8::1 10.0.0.2 6 1 2 0", false }, /* mixed families: no packet */
	/* protocol: any, or exact (0 is a protocol, not "any") */
	{ 47, "proto 6", "10.0.0.1 10.0.0.2 6 1 2 0", true },
	{ 48, "proto 6", "10.0.0.1 10.0.0.2 17 1 2 0", false },
	{ 49, "proto 6", "10.0.0.1 10.0.0.2 0 0 0 0", false },
	{ 50, "proto 0", "10.0.0.1 10.0.0.2 0 0 0 0", true },
	{ 51, "proto 0", "10.0.0.1 10.0.0.2 6 1 2 0", false },
	{ 52, "proto 255", "10.0.0.1 10.0.0.2 255 0 0 0", true },
	{ 53, "", "10.0.0.1 10.0.0.2 0 0 0 0", true },
	{ 54, "", "10.0.0.1 10.0.0.2 255 0 0 0", true },
	{ 55, "", "10.0.0.1 10.0.0.2 50 0 0 0", true },
	/* port ranges: lo-1, lo, hi, hi+1 */
	{ 56, "proto 6 dport 1000-2000", "10.0.0.1 10.0.0.2 6 7 999 0", false },
	{ 57, "proto 6 dport 1000-2000", "10.0.0.1 10.0.0.2 6 7 1000 0", true },
	{ 58, "proto 6 dport 1000-2000", "10.0.0.1 10.0.0.2 6 7 2000 0", true },
	{ 59, "proto 6 dport 1000-2000", "10.0.0.1 10.0.0.2 6 7 2001 0", false },
	{ 60, "proto 17 sport 80", "10.0.0.1 10.0.0.2 17 79 7 0", false },
	{ 61, "proto 17 sport 80", "10.0.0.1 10.0.0.2 17 80 7 0", true },
	{ 62, "proto 17 sport 80", "10.0.0.1 10.0.0.2 17 81 7 0", false },
	{ 63, "dport 65535", "10.0.0.1 10.0.0.2 17 1 65535 0", true },
	{ 64, "dport 65535", "10.0.0.1 10.0.0.2 17 1 65534 0", false },
	{ 65, "sport 0", "10.0.0.1 10.0.0.2 6 0 9 0", true },
	/* a narrowed range needs a protocol with ports; full ranges match every protocol */
	{ 66, "sport 0", "10.0.0.1 10.0.0.2 50 0 0 0", false },
	{ 67, "dport 500", "10.0.0.1 10.0.0.2 17 500 500 0", true },
	{ 68, "dport 500", "10.0.0.1 10.0.0.2 6 500 500 0", true },
	{ 69, "dport 500", "10.0.0.1 10.0.0.2 132 500 500 0", true },
	{ 70, "dport 0", "10.0.0.1 10.0.0.2 47 0 0 0", false },
	{ 71, "", "10.0.0.1 10.0.0.2 50 0 0 0", true },
	{ 72, "sport 0-65535 dport 0-65535", "10.0.0.1 10.0.0.2 50 0 0 0", true },
	/* ICMP: type in sport, code in dport */
	{ 73, "proto 1 sport 8 dport 0", "10.0.0.1 10.0.0.2 1 8 0 0", true },
	{ 74, "proto 1 sport 8 dport 0", "10.0.0.1 10.0.0.2 1 0 0 0", false },
	{ 75, "proto 1 sport 8 dport 0", "10.0.0.1 10.0.0.2 1 8 1 0", false },
	{ 76, "proto 58 sport 128-129", V6 "2001:db8::1 58 127 0 0", false },
	{ 77, "proto 58 sport 128-129", V6 "2001:db8::1 58 128 0 0", true },
	{ 78, "proto 58 sport 128-129", V6 "2001:db8::1 58 129 0 0", true },
	{ 79, "proto 58 sport 128-129", V6 "2001:db8::1 58 130 0 0", false },
	{ 80, "sport 3", "10.0.0.1 10.0.0.2 1 3 1 0", true },
	/* DSCP: exact (0 is a code point, not "any") or any */
	{ 81, "dscp 46", "10.0.0.1 10.0.0.2 6 1 2 46", true },
	{ 82, "dscp 46", "10.0.0.1 10.0.0.2 6 1 2 45", false },
	{ 83, "dscp 46", "10.0.0.1 10.0.0.2 6 1 2 47", false },
	{ 84, "dscp 46", "10.0.0.1 10.0.0.2 6 1 2 0", false },
	{ 85, "dscp 0", "10.0.0.1 10.0.0.2 6 1 2 0", true },
	{ 86, "dscp 0", "10.0.0.1 10.0.0.2 6 1 2 46", false },
	{ 87, "", "10.0.0.1 10.0.0.2 6 1 2 0", true },
	{ 88, "", "10.0.0.1 10.0.0.2 6 1 2 63", true },
	{ 89, "dscp 63", "10.0.0.1 10.0.0.2 6 1 2 63", true },
	/* every selector at once, then each one off by one */
	{ 90, ALL, "192.0.2.1 198.51.100.9 17 5050 53 46", true },
	{ 91, ALL, "192.0.3.1 198.51.100.9 17 5050 53 46", false },
	{ 92, ALL, "192.0.2.1 198.51.101.9 17 5050 53 46", false },
	{ 93, ALL, "192.0.2.1 198.51.100.9 6 5050 53 46", false },
	{ 94, ALL, "192.0.2.1 198.51.100.9 17 5101 53 46", false },
	{ 95, ALL, "192.0.2.1 198.51.100.9 17 5050 54 46", false },
	{ 96, ALL, "192.0.2.1 198.51.100.9 17 5050 53 0", false },
	/* the other direction's rules are not consulted */
	{ 97, "in", "10.0.0.1 10.0.0.2 6 1 2 0", false },
};

static void each_selector_alone(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(sel_rows); i++) {
		const struct sel_row *row = &sel_rows[i];
		struct ipk_spd *spd;
		const char *got;

		assert_int_equal(ipk_spd_create(&spd), 0);
		add_spec(spd, row->rule);
		got = lookup_name(spd, IPK_DIR_OUT, row->flow);
		if ((got != NULL) != row->match)
			fail_msg("row %d: rule '%s', flow '%s': expected %s", row->no, row->rule,
				 row->flow, row->match ? "a match" : "no match");
		ipk_spd_destroy(spd);
	}
}

/* ---- order of matching, deletion ---- */

static const char *const order_rules[] = {
	"name a dst 10.0.0.0/8 prio 100",
	"name b dst 10.1.0.0/16 prio 50",
	"name c dst 10.1.2.0/24 prio 50",
	"name d dst 10.1.2.3/32 proto 6 prio 10",
	"name e prio 100",
	"name f dst 10.9.9.9/32 prio 0",
	"name g prio 4294967295",
	"name b2 dst 10.1.0.0/16 prio 50",
	"name h dst 10.1.2.0/24 prio 49",
	"name z dst 0.0.0.0/0 dscp 46 prio 1",
	"name i in dst 10.1.2.3/32 prio 0",
};

/* Match order: (priority, order of addition), whatever the prefix lengths. */
static const char *const order_out[] = { "f", "z", "d", "h", "b", "c", "b2", "a", "e", "g" };

static const struct order_row {
	int no;
	enum ipk_dir dir;
	const char *flow;
	const char *expect;
} order_rows[] = {
	{ 1, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "d" },
	{ 2, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 17 1 2 0", "h" }, /* added last, priority 49 */
	{ 3, IPK_DIR_OUT, "192.0.2.1 10.1.3.1 6 1 2 0", "b" },  /* b before c and b2 */
	{ 4, IPK_DIR_OUT, "192.0.2.1 10.2.0.1 6 1 2 0", "a" },  /* a before e, same priority */
	{ 5, IPK_DIR_OUT, "192.0.2.1 11.0.0.1 6 1 2 0", "e" },
	{ 6, IPK_DIR_OUT, "192.0.2.1 10.9.9.9 6 1 2 0", "f" },
	{ 7, IPK_DIR_OUT, "2001:db8::1 2001:db8::2 6 1 2 0", "e" },
	{ 8, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 46", "z" }, /* /0 at 1 beats /32 at 10 */
	{ 9, IPK_DIR_OUT, "192.0.2.1 10.9.9.9 6 1 2 46", "f" }, /* /32 at 0 beats /0 at 1 */
	{ 10, IPK_DIR_IN, "192.0.2.1 10.1.2.3 6 1 2 0", "i" },
	{ 11, IPK_DIR_IN, "192.0.2.1 10.1.2.4 6 1 2 0", NULL },
};

/* Deleting @del returns @ret; then @flow (outbound unless the row says in) matches @expect. */
static const struct del_row {
	int no;
	const char *del;
	int ret;
	enum ipk_dir dir;
	const char *flow;
	const char *expect;
} del_rows[] = {
	{ 1, "z", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 46", "d" },
	{ 2, "d", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "h" },
	{ 3, "h", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "b" },
	{ 4, "b", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "c" },
	{ 5, "c", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "b2" },
	{ 6, "b2", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "a" },
	{ 7, "a", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "e" },
	{ 8, "e", 0, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0", "g" },
	{ 9, "e", -ENOENT, IPK_DIR_OUT, "2001:db8::1 2001:db8::2 6 1 2 0", "g" }, /* already gone */
	{ 10, "f", 0, IPK_DIR_OUT, "192.0.2.1 10.9.9.9 6 1 2 0", "g" },
	{ 11, "g", 0, IPK_DIR_OUT, "192.0.2.1 10.9.9.9 6 1 2 0", NULL },
	{ 12, "i", 0, IPK_DIR_IN, "192.0.2.1 10.1.2.3 6 1 2 0", NULL },
};

static void collect_name(struct ipk_policy *pol, void *arg)
{
	char *names = arg;

	strcat(names, pol->params.name);
	strcat(names, " ");
}

static struct ipk_spd *order_spd(void)
{
	struct ipk_spd *spd;

	assert_int_equal(ipk_spd_create(&spd), 0);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(order_rules); i++)
		add_spec(spd, order_rules[i]);
	assert_int_equal(ipk_spd_count(spd), IPK_ARRAY_SIZE(order_rules));
	return spd;
}

static void first_match_by_priority_then_insertion(void **state)
{
	struct ipk_spd *spd = order_spd();
	char names[256] = "", expect[256] = "";

	for (size_t i = 0; i < IPK_ARRAY_SIZE(order_rows); i++) {
		const struct order_row *row = &order_rows[i];
		const char *got = lookup_name(spd, row->dir, row->flow);

		if ((got == NULL) != (row->expect == NULL) ||
		    (got && strcmp(got, row->expect) != 0))
			fail_msg("row %d: flow '%s': expected %s, got %s", row->no, row->flow,
				 row->expect ? row->expect : "none", got ? got : "none");
	}
	for (size_t i = 0; i < IPK_ARRAY_SIZE(order_out); i++)
		strcat(strcat(expect, order_out[i]), " ");
	ipk_spd_foreach(spd, IPK_DIR_OUT, collect_name, names);
	assert_string_equal(names, expect);
	names[0] = '\0';
	ipk_spd_foreach(spd, IPK_DIR_IN, collect_name, names);
	assert_string_equal(names, "i ");
	ipk_spd_destroy(spd);
}

static void delete_then_lookup(void **state)
{
	struct ipk_spd *spd = order_spd();
	struct ipk_err err = { "" };

	for (size_t i = 0; i < IPK_ARRAY_SIZE(del_rows); i++) {
		const struct del_row *row = &del_rows[i];
		const char *got;
		int ret = ipk_spd_del(spd, row->del, &err);

		if (ret != row->ret)
			fail_msg("row %d: del %s returned %d", row->no, row->del, ret);
		assert_null(ipk_spd_find(spd, row->del));
		got = lookup_name(spd, row->dir, row->flow);
		if ((got == NULL) != (row->expect == NULL) ||
		    (got && strcmp(got, row->expect) != 0))
			fail_msg("row %d: after del %s, flow '%s': expected %s, got %s", row->no,
				 row->del, row->flow, row->expect ? row->expect : "none",
				 got ? got : "none");
	}
	assert_int_equal(ipk_spd_count(spd), 0);
	assert_int_equal(ipk_spd_del(spd, "e", &err), -ENOENT);
	assert_string_equal(err.msg, "policy e: no such policy");
	/* a deleted name can be used again */
	add_spec(spd, "name a dst 10.0.0.0/8");
	assert_string_equal(lookup_name(spd, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0"), "a");
	assert_int_equal(ipk_spd_count(spd), 1);
	ipk_spd_destroy(spd);
}

static void matches_counts_hits(void **state)
{
	struct ipk_spd *spd;
	struct ipk_policy *x, *y;

	assert_int_equal(ipk_spd_create(&spd), 0);
	add_spec(spd, "name x dst 10.0.0.0/8");
	add_spec(spd, "name y");
	x = ipk_spd_find(spd, "x");
	y = ipk_spd_find(spd, "y");
	for (int i = 0; i < 3; i++)
		lookup_name(spd, IPK_DIR_OUT, "192.0.2.1 10.1.2.3 6 1 2 0");
	for (int i = 0; i < 5; i++)
		lookup_name(spd, IPK_DIR_OUT, "192.0.2.1 11.1.2.3 6 1 2 0");
	lookup_name(spd, IPK_DIR_IN, "192.0.2.1 10.1.2.3 6 1 2 0"); /* no rule: no count */
	assert_int_equal(atomic_load(&x->matches), 3);
	assert_int_equal(atomic_load(&y->matches), 5);
	ipk_spd_destroy(spd);
}

static void params_defaults_and_names(void **state)
{
	struct ipk_policy_params p;

	memset(&p, 0x5a, sizeof(p));
	ipk_policy_params_init(&p);
	assert_int_equal(p.src.addr.family, 0);
	assert_int_equal(p.dst.addr.family, 0);
	assert_int_equal(p.proto, IPK_PROTO_ANY);
	assert_int_equal(p.sport_lo, 0);
	assert_int_equal(p.sport_hi, 65535);
	assert_int_equal(p.dport_lo, 0);
	assert_int_equal(p.dport_hi, 65535);
	assert_int_equal(p.dscp, IPK_DSCP_ANY);
	assert_int_equal(p.priority, 1000);
	assert_int_equal(p.n_sa, 0);
	assert_string_equal(ipk_action_name(IPK_ACTION_PROTECT), "protect");
	assert_string_equal(ipk_action_name(IPK_ACTION_BYPASS), "bypass");
	assert_string_equal(ipk_action_name(IPK_ACTION_DISCARD), "discard");
}

/* ---- validation ---- */

static void name_empty(struct ipk_policy_params *p)
{
	p->name[0] = '\0';
}

static void name_unterminated(struct ipk_policy_params *p)
{
	memset(p->name, 'n', sizeof(p->name));
}

static void name_31(struct ipk_policy_params *p)
{
	memset(p->name, 'n', sizeof(p->name) - 1);
	p->name[sizeof(p->name) - 1] = '\0';
}

static void src_family_5(struct ipk_policy_params *p)
{
	p->src.addr.family = 5;
	p->src.len = 8;
}

static void any_with_length(struct ipk_policy_params *p)
{
	p->src.len = 8;
}

static void sa_name_unterminated(struct ipk_policy_params *p)
{
	memset(p->sa_names[0], 's', IPK_NAME_MAX);
}

static const struct bad_row {
	int no;
	const char *rule;
	void (*mutate)(struct ipk_policy_params *p);
	int ret;
	const char *msg;
} bad_rows[] = {
	{ 1, "", name_empty, -EINVAL, "policy: name is empty" },
	{ 2, "", name_unterminated, -EINVAL, "name is longer than 31 characters" },
	{ 3, "name dup", NULL, -EEXIST, "policy dup: name already in use (dir in)" },
	{ 4, "dir 7", NULL, -EINVAL, "policy r: direction 7 is not in or out" },
	{ 5, "", src_family_5, -EINVAL, "policy r: src family 5 is not 4 or 6" },
	{ 6, "", any_with_length, -EINVAL, "policy r: src is 'any' but has prefix length 8" },
	{ 7, "src 10.0.0.0/33", NULL, -EINVAL, "policy r: src prefix length 33 exceeds 32" },
	{ 8, "dst 2001:db8::/129", NULL, -EINVAL, "policy r: dst prefix length 129 exceeds 128" },
	{ 9, "dst 10.0.0.1/24", NULL, -EINVAL, "policy r: dst 10.0.0.1/24 has host bits set" },
	{ 10, "src 2001:db8::1/127", NULL, -EINVAL, "src 2001:db8::1/127 has host bits set" },
	{ 11, "src 10.0.0.0/8 dst 2001:db8::/32", NULL, -EINVAL,
	 "policy r: src is IPv4 but dst is IPv6" },
	{ 12, "proto 256", NULL, -EINVAL, "policy r: protocol 256 not in 0..255" },
	{ 13, "sport 80-20", NULL, -EINVAL, "policy r: sport range 80-20 is empty" },
	{ 14, "dport 2-1", NULL, -EINVAL, "policy r: dport range 2-1 is empty" },
	{ 15, "proto 50 dport 500", NULL, -EINVAL, "policy r: ports given but protocol 50 has none" },
	{ 16, "dscp 64", NULL, -EINVAL, "policy r: dscp 64 not in 0..63" },
	{ 17, "action 9", NULL, -EINVAL, "policy r: unknown action 9" },
	{ 18, "protect", NULL, -EINVAL, "policy r: protect needs 1..4 SA names, got 0" },
	{ 19, "protect sa a,b,c,d,e", NULL, -EINVAL, "protect needs 1..4 SA names, got 5" },
	{ 20, "protect sa a,,b", NULL, -EINVAL, "policy r: SA name 2 is empty" },
	{ 21, "protect sa a", sa_name_unterminated, -EINVAL,
	 "policy r: SA name 1 is longer than 31 characters" },
	{ 22, "discard sa a,b", NULL, -EINVAL, "policy r: action discard takes no SA names, got 2" },
	{ 23, "bypass sa a", NULL, -EINVAL, "policy r: action bypass takes no SA names, got 1" },
	/* accepted edges */
	{ 24, "prio 0", NULL, 0, NULL },
	{ 25, "prio 4294967295", NULL, 0, NULL },
	{ 26, "proto 6 sport 80 dport 0", NULL, 0, NULL },
	{ 27, "protect sa a,b,c,d", NULL, 0, NULL },
	{ 28, "proto 1 sport 8 dport 0 dscp 63", NULL, 0, NULL },
	{ 29, "src 10.0.0.0/8", NULL, 0, NULL },
	{ 30, "dst ::/0 proto 255", NULL, 0, NULL },
	{ 31, "", name_31, 0, NULL },
	{ 32, "in name dup2 src 2001:db8::1/128 dst 2001:db8::/32", NULL, 0, NULL },
	{ 33, "proto 50 sport 0-65535 dport 0-65535", NULL, 0, NULL },
};

static void check_one_bad_row(const struct bad_row *row)
{
	struct ipk_spd *spd;
	struct ipk_policy_params p;
	struct ipk_err err = { "" };
	int ret;

	assert_int_equal(ipk_spd_create(&spd), 0);
	add_spec(spd, "name dup in");
	spec_params(&p, row->rule);
	if (row->mutate)
		row->mutate(&p);
	ret = ipk_spd_check_add(spd, &p, &err);
	if (ret != row->ret || (row->msg && !strstr(err.msg, row->msg)))
		fail_msg("row %d: check_add returned %d '%s', expected %d '%s'", row->no, ret,
			 err.msg, row->ret, row->msg ? row->msg : "");
	assert_int_equal(ipk_spd_count(spd), 1);
	err.msg[0] = '\0';
	ret = ipk_spd_add(spd, &p, &err);
	if (ret != row->ret || (row->msg && !strstr(err.msg, row->msg)))
		fail_msg("row %d: add returned %d '%s'", row->no, ret, err.msg);
	assert_int_equal(ipk_spd_count(spd), row->ret ? 1 : 2);
	ipk_spd_destroy(spd);
}

static void validation_rejects_with_messages(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(bad_rows); i++)
		check_one_bad_row(&bad_rows[i]);
}

/* ---- SA resolution against the SAD ---- */

static struct ipk_sa *add_sa(struct ipk_sad *sad, const char *name, uint32_t spi)
{
	struct ipk_sa_params p;
	struct ipk_err err = { "" };

	ipk_sa_params_init(&p);
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.spi = spi;
	p.dir = IPK_DIR_OUT;
	p.alg = ipk_alg_find("null-sha256");
	assert_non_null(p.alg);
	p.auth_key_len = 32;
	memset(p.auth_key, 0x11, 32);
	assert_int_equal(ipk_addr_parse("192.0.2.1", &p.src), 0);
	assert_int_equal(ipk_addr_parse("198.51.100.1", &p.dst), 0);
	if (ipk_sad_add(sad, &p, &err))
		fail_msg("sa %s: %s", name, err.msg);
	return ipk_sad_find(sad, name);
}

static void resolve_tracks_the_sad(void **state)
{
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_sa *a, *b, *c;
	struct ipk_policy *p1, *p2, *p3;

	assert_int_equal(ipk_sad_create(&sad, 1), 0);
	a = add_sa(sad, "a", 0x100);
	c = add_sa(sad, "c", 0x300);
	assert_int_equal(ipk_spd_create(&spd), 0);
	add_spec(spd, "name p1 protect sa a,b,c");
	add_spec(spd, "name p2 in protect sa c");
	add_spec(spd, "name p3 bypass");
	p1 = ipk_spd_find(spd, "p1");
	p2 = ipk_spd_find(spd, "p2");
	p3 = ipk_spd_find(spd, "p3");
	assert_null(p1->sa[0]); /* unresolved until resolve */
	p1->sa[3] = c;          /* a stale slot past the bundle is cleared */
	ipk_spd_resolve(spd, sad);
	assert_ptr_equal(p1->sa[0], a);
	assert_null(p1->sa[1]); /* b is not installed yet */
	assert_ptr_equal(p1->sa[2], c);
	assert_null(p1->sa[3]);
	assert_ptr_equal(p2->sa[0], c);
	assert_null(p2->sa[1]);
	for (int i = 0; i < IPK_BUNDLE_MAX; i++)
		assert_null(p3->sa[i]);
	b = add_sa(sad, "b", 0x200);
	assert_int_equal(ipk_sad_del(sad, "a", NULL), 0);
	ipk_spd_resolve(spd, sad);
	assert_null(p1->sa[0]);
	assert_ptr_equal(p1->sa[1], b);
	assert_ptr_equal(p1->sa[2], c);
	assert_string_equal(p1->sa[1]->params.name, "b");
	ipk_spd_destroy(spd);
	ipk_sad_destroy(sad);
}

/* ---- randomized comparison against a linear scan ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

/* Addresses from a small space (10.0.0-3.x, 2001:db8:0:0-3::x) so that prefixes overlap. */
static void rnd_addr(struct ipk_addr *a, uint8_t family)
{
	static const uint8_t base6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, sizeof(*a));
	a->family = family;
	if (family == 4) {
		a->bytes[0] = 10;
		a->bytes[2] = (uint8_t)rnd(4);
		a->bytes[3] = (uint8_t)rnd(256);
	} else {
		memcpy(a->bytes, base6, 4);
		a->bytes[7] = (uint8_t)rnd(4);
		a->bytes[15] = (uint8_t)rnd(256);
	}
}

static void rnd_prefix(struct ipk_prefix *pf, uint8_t family)
{
	static const uint8_t lens4[] = { 0, 8, 16, 22, 23, 24, 26, 30, 32 };
	static const uint8_t lens6[] = { 0, 32, 48, 56, 64, 120, 124, 128 };

	rnd_addr(&pf->addr, family);
	if (family == 4)
		pf->len = rnd(2) ? lens4[rnd(sizeof(lens4))] : (uint8_t)rnd(33);
	else
		pf->len = rnd(2) ? lens6[rnd(sizeof(lens6))] : (uint8_t)rnd(129);
	for (unsigned bit = pf->len; bit < 128; bit++)
		pf->addr.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static void rnd_range(uint16_t *lo, uint16_t *hi)
{
	if (rnd(10) < 6) {
		*lo = 0;
		*hi = 65535;
		return;
	}
	*lo = (uint16_t)rnd(40);
	*hi = (uint16_t)(*lo + rnd(10));
}

static const uint8_t rnd_protos[] = { 0, 1, 6, 17, 47, 50, 58, 132, 89 };

/* Both addresses unrestricted: such a rule matches flows from outside the address space. */
static bool address_wide(const struct ipk_policy_params *p)
{
	return (!p->src.addr.family || !p->src.len) && (!p->dst.addr.family || !p->dst.len);
}

static void rnd_rule(struct ipk_policy_params *p, uint32_t n)
{
	uint32_t kind = rnd(10);
	uint8_t fam = kind < 7 ? 4 : kind < 9 ? 6 : 0;

	ipk_policy_params_init(p);
	snprintf(p->name, sizeof(p->name), "r%u", n);
	p->dir = (enum ipk_dir)rnd(2);
	p->action = rnd(2) ? IPK_ACTION_BYPASS : IPK_ACTION_DISCARD;
	if (fam && rnd(10) < 7)
		rnd_prefix(&p->src, fam);
	if (fam && (rnd(10) < 8 || !p->src.addr.family))
		rnd_prefix(&p->dst, fam);
	p->proto = rnd(10) < 4 ? IPK_PROTO_ANY : rnd_protos[rnd(sizeof(rnd_protos) - 1)];
	rnd_range(&p->sport_lo, &p->sport_hi);
	rnd_range(&p->dport_lo, &p->dport_hi);
	if (p->proto != IPK_PROTO_ANY && !ipk_spd_proto_has_ports(p->proto)) {
		p->sport_lo = p->dport_lo = 0;
		p->sport_hi = p->dport_hi = 65535;
	}
	p->dscp = rnd(10) < 6 ? IPK_DSCP_ANY : (uint8_t)rnd(4);
	/* Keep address-wide rules narrow, so that flows from outside the address space can
	 * miss: the comparison must cover "no match" too. */
	if (address_wide(p)) {
		p->proto = rnd_protos[1 + rnd(3)];
		p->dscp = (uint8_t)rnd(4);
	}
	p->priority = rnd(20);
}

static void rnd_flow(struct ipk_flow *f, enum ipk_dir *dir)
{
	uint8_t fam = rnd(10) < 7 ? 4 : 6;

	memset(f, 0, sizeof(*f));
	rnd_addr(&f->src, fam);
	rnd_addr(&f->dst, fam);
	/* one flow in ten from outside, 192.0.0-3.x or fd00:db8::: no rule prefix of length
	 * 1 or more covers those */
	if (rnd(10) == 0) {
		f->src.bytes[0] = f->dst.bytes[0] = fam == 4 ? 192 : 0xfd;
		f->src.bytes[1] = f->dst.bytes[1] = 0;
	}
	f->proto = rnd_protos[rnd(sizeof(rnd_protos))];
	if (ipk_spd_proto_has_ports(f->proto)) {
		f->sport = (uint16_t)rnd(50);
		f->dport = (uint16_t)rnd(50);
	}
	f->dscp = (uint8_t)rnd(5);
	*dir = (enum ipk_dir)rnd(2);
}

struct ref_rule {
	struct ipk_policy_params p;
	struct ipk_policy *pol;
	uint32_t seq;
	bool alive;
};

static bool ref_prefix(const struct ipk_prefix *pf, const struct ipk_addr *a)
{
	return pf->addr.family == 0 || ipk_prefix_contains(pf, a);
}

static bool ref_in(uint16_t v, uint16_t lo, uint16_t hi)
{
	return v >= lo && v <= hi;
}

/* RFC 4301 §4.4.1 selectors, read straight from the parameters. */
static bool ref_match(const struct ipk_policy_params *p, const struct ipk_flow *f)
{
	bool full =
	    p->sport_lo == 0 && p->sport_hi == 65535 && p->dport_lo == 0 && p->dport_hi == 65535;
	bool port_proto =
	    f->proto == 1 || f->proto == 6 || f->proto == 17 || f->proto == 58 || f->proto == 132;

	if (f->src.family != f->dst.family)
		return false;
	if (!ref_prefix(&p->src, &f->src) || !ref_prefix(&p->dst, &f->dst))
		return false;
	if (p->proto != IPK_PROTO_ANY && p->proto != f->proto)
		return false;
	if (p->dscp != IPK_DSCP_ANY && p->dscp != f->dscp)
		return false;
	if (full)
		return true;
	return port_proto && ref_in(f->sport, p->sport_lo, p->sport_hi) &&
	       ref_in(f->dport, p->dport_lo, p->dport_hi);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_rule *x = a, *y = b;

	if (x->p.dir != y->p.dir)
		return x->p.dir < y->p.dir ? -1 : 1;
	if (x->p.priority != y->p.priority)
		return x->p.priority < y->p.priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* @rules sorted by ref_cmp: the first live match of the direction wins. */
static struct ipk_policy *ref_lookup(const struct ref_rule *rules, uint32_t n, enum ipk_dir dir,
				     const struct ipk_flow *f)
{
	for (uint32_t i = 0; i < n; i++)
		if (rules[i].alive && rules[i].p.dir == dir && ref_match(&rules[i].p, f))
			return rules[i].pol;
	return NULL;
}

struct first_match {
	const struct ipk_flow *flow;
	struct ipk_policy *pol;
};

static void first_matching(struct ipk_policy *pol, void *arg)
{
	struct first_match *fm = arg;

	if (!fm->pol && ipk_policy_matches(pol, fm->flow))
		fm->pol = pol;
}

static void compare_flows(const struct ipk_spd *spd, const struct ref_rule *rules, uint32_t n,
			  uint32_t n_flows, const char *phase)
{
	uint32_t hits = 0;

	for (uint32_t i = 0; i < n_flows; i++) {
		struct ipk_flow f;
		enum ipk_dir dir;
		struct ipk_policy *want, *got;
		char s[IPK_ADDR_STRLEN], d[IPK_ADDR_STRLEN];

		rnd_flow(&f, &dir);
		want = ref_lookup(rules, n, dir, &f);
		got = ipk_spd_lookup(spd, dir, &f);
		if (want != got)
			fail_msg("%s, flow %u: %s %s -> %s proto %u ports %u/%u dscp %u: expected %s, got %s",
				 phase, i, dir == IPK_DIR_OUT ? "out" : "in",
				 ipk_addr_str(&f.src, s), ipk_addr_str(&f.dst, d), f.proto, f.sport,
				 f.dport, f.dscp, want ? want->params.name : "none",
				 got ? got->params.name : "none");
		hits += got != NULL;
		/* ipk_policy_matches() over the rules in order agrees too (every 8th flow:
		 * it is a linear scan). */
		if (i % 8 == 0) {
			struct first_match fm = { .flow = &f };

			ipk_spd_foreach(spd, dir, first_matching, &fm);
			if (fm.pol != got)
				fail_msg("%s, flow %u: ipk_policy_matches finds %s, lookup %s", phase,
					 i, fm.pol ? fm.pol->params.name : "none",
					 got ? got->params.name : "none");
		}
	}
	print_message("%s: %u of %u flows matched a rule\n", phase, hits, n_flows);
	/* the rules overlap heavily: most flows hit, some miss, or the test proves little */
	assert_true(hits > n_flows / 2);
	assert_true(hits < n_flows - n_flows / 50);
}

static uint32_t add_random_rules(struct ipk_spd *spd, struct ref_rule *rules, uint32_t n,
				 uint32_t count)
{
	struct ipk_err err = { "" };

	for (uint32_t i = 0; i < count; i++, n++) {
		rnd_rule(&rules[n].p, n);
		if (ipk_spd_add(spd, &rules[n].p, &err))
			fail_msg("rule %u: %s", n, err.msg);
		rules[n].pol = ipk_spd_find(spd, rules[n].p.name);
		rules[n].seq = n;
		rules[n].alive = true;
	}
	qsort(rules, n, sizeof(*rules), ref_cmp);
	return n;
}

static void random_rules_match_linear_scan(void **state)
{
	enum { N_RULES = 2000, N_MORE = 300, N_DEL = 600 };
	struct ref_rule *rules = calloc(N_RULES + N_MORE, sizeof(*rules));
	const char *seed_env = getenv("IPK_SPD_TEST_SEED");
	struct ipk_spd *spd;
	uint32_t n;

	rng = seed_env ? strtoull(seed_env, NULL, 0) : 0x2545f4914f6cdd1dULL;
	print_message("seed 0x%llx (set IPK_SPD_TEST_SEED to vary)\n", (unsigned long long)rng);
	assert_non_null(rules);
	assert_int_equal(ipk_spd_create(&spd), 0);
	n = add_random_rules(spd, rules, 0, N_RULES);
	compare_flows(spd, rules, n, 100000, "2000 rules");
	for (uint32_t i = 0; i < N_DEL; i++) {
		struct ref_rule *r = &rules[rnd(n)];
		struct ipk_err err;

		assert_int_equal(ipk_spd_del(spd, r->p.name, &err), r->alive ? 0 : -ENOENT);
		r->alive = false;
	}
	compare_flows(spd, rules, n, 20000, "after deletions");
	n = add_random_rules(spd, rules, n, N_MORE);
	compare_flows(spd, rules, n, 20000, "after more additions");
	ipk_spd_destroy(spd);
	free(rules);
}

/* The same through batches (what a configuration batch does): while a batch is open no
 * index is read, lookups scan and still agree with the reference; batches nest, and only
 * the outermost end rebuilds; after it the index answers, and agrees again. */
static void batched_changes_match_linear_scan(void **state)
{
	enum { N_RULES = 2000, N_MORE = 300, N_DEL = 600 };
	struct ref_rule *rules = calloc(N_RULES + N_MORE, sizeof(*rules));
	struct ipk_spd *spd;
	uint32_t n;

	(void)state;
	rng = 0x9e3779b97f4a7c15ULL;
	assert_non_null(rules);
	assert_int_equal(ipk_spd_create(&spd), 0);
	ipk_spd_batch_begin(spd);
	n = add_random_rules(spd, rules, 0, N_RULES);
	assert_null(ipk_spd_index_of(spd, IPK_DIR_OUT, 4));
	compare_flows(spd, rules, n, 20000, "2000 rules, batch open");
	assert_int_equal(ipk_spd_batch_end(spd), 0);
	assert_non_null(ipk_spd_index_of(spd, IPK_DIR_OUT, 4));
	assert_non_null(ipk_spd_index_of(spd, IPK_DIR_IN, 6));
	compare_flows(spd, rules, n, 20000, "2000 rules, batch ended");

	ipk_spd_batch_begin(spd);
	ipk_spd_batch_begin(spd);
	for (uint32_t i = 0; i < N_DEL; i++) {
		struct ref_rule *r = &rules[rnd(n)];
		struct ipk_err err;

		assert_int_equal(ipk_spd_del(spd, r->p.name, &err), r->alive ? 0 : -ENOENT);
		assert_null(ipk_spd_find(spd, r->p.name));
		r->alive = false;
	}
	n = add_random_rules(spd, rules, n, N_MORE);
	assert_int_equal(ipk_spd_batch_end(spd), 0);
	assert_null(ipk_spd_index_of(spd, IPK_DIR_OUT, 4)); /* the inner end rebuilds nothing */
	compare_flows(spd, rules, n, 20000, "deletions and additions, batch open");
	assert_int_equal(ipk_spd_batch_end(spd), 0);
	assert_non_null(ipk_spd_index_of(spd, IPK_DIR_OUT, 4));
	compare_flows(spd, rules, n, 20000, "deletions and additions, batch ended");
	ipk_spd_destroy(spd);
	free(rules);
}

/* ---- cost with 10,000 rules ---- */

/* Rule "net<i>" protects 10.<i / 256>.<i % 256>.0/24; then a discard-all rule ranks last. */
static struct ipk_spd *slash24_spd(uint32_t n)
{
	struct ipk_spd *spd;
	struct ipk_policy_params p;
	struct ipk_err err = { "" };
	clock_t t0 = clock();

	assert_int_equal(ipk_spd_create(&spd), 0);
	for (uint32_t i = 0; i < n; i++) {
		spec_params(&p, "protect sa s1");
		snprintf(p.name, sizeof(p.name), "net%u", i);
		p.dst.addr.family = 4;
		p.dst.addr.bytes[0] = 10;
		p.dst.addr.bytes[1] = (uint8_t)(i / 256);
		p.dst.addr.bytes[2] = (uint8_t)(i % 256);
		p.dst.len = 24;
		assert_int_equal(ipk_spd_add(spd, &p, &err), 0);
	}
	add_spec(spd, "name default discard prio 4294967295");
	print_message("%u adds: %.2f s\n", n + 1, (double)(clock() - t0) / CLOCKS_PER_SEC);
	return spd;
}

static void ten_thousand_slash24_touch_one_tuple(void **state)
{
	enum { N = 10000 };
	struct ipk_spd *spd = slash24_spd(N);
	struct ipk_spd_cost cost, total = { 0 };
	const struct ipk_spd_index *idx;
	struct ipk_flow f = { .proto = 6, .sport = 1, .dport = 2 };
	uint32_t max_entries = 0;

	idx = ipk_spd_index_of(spd, IPK_DIR_OUT, 4);
	assert_non_null(idx);
	assert_int_equal(ipk_spd_index_tuples(idx), 2);
	ipk_addr_parse("192.0.2.1", &f.src);
	f.dst = f.src;
	for (uint32_t i = 0; i < N; i++) {
		struct ipk_policy *pol;
		char name[IPK_NAME_MAX];

		f.dst.bytes[0] = 10;
		f.dst.bytes[1] = (uint8_t)(i / 256);
		f.dst.bytes[2] = (uint8_t)(i % 256);
		f.dst.bytes[3] = (uint8_t)(i * 7);
		pol = ipk_spd_index_lookup_cost(idx, &f, &cost);
		snprintf(name, sizeof(name), "net%u", i);
		assert_non_null(pol);
		assert_string_equal(pol->params.name, name);
		/* the /24 tuple ranks first; its hit outranks the default's whole tuple */
		assert_int_equal(cost.tuples, 1);
		assert_int_equal(cost.rules, 1);
		total.entries += cost.entries;
		max_entries = cost.entries > max_entries ? cost.entries : max_entries;
	}
	print_message("chain entries compared: mean %.2f, max %u\n", (double)total.entries / N,
		      max_entries);
	assert_true(total.entries <= 2 * N);
	assert_true(max_entries <= 8);
	/* a miss in the /24 tuple probes both tuples and ends at the default */
	f.dst.bytes[0] = 11;
	assert_string_equal(ipk_spd_index_lookup_cost(idx, &f, &cost)->params.name, "default");
	assert_int_equal(cost.tuples, 2);
	assert_int_equal(cost.rules, 1);
	assert_null(ipk_spd_index_of(spd, IPK_DIR_OUT, 5));
	ipk_spd_destroy(spd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_selector_alone),
	    cmocka_unit_test(first_match_by_priority_then_insertion),
	    cmocka_unit_test(delete_then_lookup),
	    cmocka_unit_test(matches_counts_hits),
	    cmocka_unit_test(params_defaults_and_names),
	    cmocka_unit_test(validation_rejects_with_messages),
	    cmocka_unit_test(resolve_tracks_the_sad),
	    cmocka_unit_test(random_rules_match_linear_scan),
	    cmocka_unit_test(batched_changes_match_linear_scan),
	    cmocka_unit_test(ten_thousand_slash24_touch_one_tuple),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
