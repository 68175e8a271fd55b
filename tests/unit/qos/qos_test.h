/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the QoS component tests: components from a one-line argument string,
 * packets of a given size, IPv4/IPv6 packets with ports and DSCP, a deterministic random
 * source, and list draining that frees (and so counts) every packet.
 */
#ifndef IPK_TEST_QOS_H
#define IPK_TEST_QOS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "core/pkt.h"
#include "proto/ip.h"
#include "qos/component.h"

#define MS 1000000ull
#define US 1000ull
#define SEC 1000000000ull

/* Arguments split at spaces; the words live in @buf. */
struct test_args {
	struct ipk_qos_args args;
	char buf[2048];
};

static inline const struct ipk_qos_args *targs(struct test_args *t, const char *text)
{
	char *save = NULL, *word;

	memset(t, 0, sizeof(*t));
	snprintf(t->buf, sizeof(t->buf), "%s", text ? text : "");
	for (word = strtok_r(t->buf, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		assert_true(t->args.argc < IPK_QOS_MAX_ARGS);
		t->args.argv[t->args.argc++] = word;
	}
	return &t->args;
}

/* Creates @kind with the arguments in @text; the test fails with the message if not. */
static inline struct ipk_qos *qos_new(const char *kind, const char *text)
{
	struct test_args t;
	struct ipk_err err = { { 0 } };
	struct ipk_qos *q = NULL;
	int rc = ipk_qos_create(&q, kind, kind, targs(&t, text), &err);

	if (rc)
		fail_msg("%s %s: %s", kind, text ? text : "", err.msg);
	return q;
}

/* Expects creation to fail with exactly @msg. */
static inline void qos_new_fails(const char *kind, const char *text, const char *msg)
{
	struct test_args t;
	struct ipk_err err = { { 0 } };
	struct ipk_qos *q = NULL;
	int rc = ipk_qos_create(&q, kind, kind, targs(&t, text), &err);

	if (rc == 0) {
		ipk_qos_destroy(q);
		fail_msg("%s %s: accepted, expected \"%s\"", kind, text, msg);
	}
	assert_int_equal(rc, -EINVAL);
	if (strcmp(err.msg, msg) != 0)
		fail_msg("%s %s:\n  got      \"%s\"\n  expected \"%s\"", kind, text, err.msg, msg);
}

static inline struct ipk_pool *test_pool(uint32_t count)
{
	struct ipk_pool *pool = NULL;

	assert_int_equal(ipk_pool_create(&pool, count, IPK_PKT_DEFAULT_ROOM), 0);
	return pool;
}

/* A packet of @len opaque bytes (queues do not look inside). */
static inline struct ipk_pkt *pkt_len(struct ipk_pool *pool, uint32_t len)
{
	struct ipk_pkt *pkt = ipk_pkt_alloc(pool);

	assert_non_null(pkt);
	assert_non_null(ipk_pkt_put(pkt, len));
	memset(ipk_pkt_data(pkt), 0, len);
	return pkt;
}

/* An IPv4 or IPv6 packet (by the address family) from @src to @dst with a UDP or TCP
 * header carrying the ports (or ICMP type/code), TOS @tos, @len bytes in all. */
static inline struct ipk_pkt *pkt_ip(struct ipk_pool *pool, const char *src, const char *dst,
				     uint8_t proto, uint16_t sport, uint16_t dport, uint8_t tos,
				     uint32_t len)
{
	struct ipk_addr s, d;
	struct ipk_pkt *pkt;
	uint8_t *p;
	size_t hl;

	assert_int_equal(ipk_addr_parse(src, &s), 0);
	assert_int_equal(ipk_addr_parse(dst, &d), 0);
	hl = s.family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	assert_true(len >= hl + 8);
	pkt = pkt_len(pool, len);
	p = ipk_pkt_data(pkt);
	if (s.family == 6)
		ipk_ipv6_build(p, &s, &d, proto, (uint16_t)(len - hl), tos, 64);
	else
		ipk_ipv4_build(p, &s, &d, proto, (uint16_t)len, tos, 64, false, 1);
	if (proto == IPK_PROTO_ICMP || proto == IPK_PROTO_ICMPV6) {
		p[hl] = (uint8_t)sport;
		p[hl + 1] = (uint8_t)dport;
	} else {
		p[hl] = (uint8_t)(sport >> 8);
		p[hl + 1] = (uint8_t)sport;
		p[hl + 2] = (uint8_t)(dport >> 8);
		p[hl + 3] = (uint8_t)dport;
	}
	return pkt;
}

/* A UDP packet with DSCP @dscp (ECN @ecn). */
static inline struct ipk_pkt *pkt_dscp(struct ipk_pool *pool, const char *src, uint8_t dscp,
				       uint8_t ecn, uint32_t len)
{
	const char *dst = strchr(src, ':') ? "2001:db8::99" : "192.0.2.99";

	return pkt_ip(pool, src, dst, IPK_PROTO_UDP, 1000, 2000, (uint8_t)(dscp << 2 | ecn), len);
}

/* The DSCP of an IP packet built by pkt_ip(). */
static inline uint8_t ipk_dscp_of(struct ipk_pkt *pkt)
{
	return (uint8_t)(ipk_ip_get_tos(ipk_pkt_data(pkt)) >> 2);
}

/* Frees every packet of @l (they were counted as drops by the component). */
static inline uint32_t list_free(struct ipk_pkt_list *l)
{
	uint32_t n = 0;
	struct ipk_pkt *pkt;

	while ((pkt = ipk_pkt_list_pop(l))) {
		ipk_pkt_drop(pkt, NULL, IPK_DROP_QUEUE_FULL);
		n++;
	}
	return n;
}

/* Dequeues until empty, freeing everything; returns packets delivered. */
static inline uint32_t qos_drain(struct ipk_qos *q, uint64_t now)
{
	struct ipk_pkt_list dropped = { 0 };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt;
	uint32_t n = 0;

	while (q->ops->len_pkts(q)) {
		pkt = ipk_qos_dequeue(q, now, &dropped, &why);
		list_free(&dropped);
		if (pkt) {
			ipk_pkt_free(pkt);
			n++;
		} else {
			now += SEC; /* a shaper may hold it back */
		}
	}
	return n;
}

/* splitmix64: a fixed, seedable sequence for random loads. */
static inline uint64_t test_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t test_rand_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(test_rand(state) % (hi - lo + 1));
}

/* One scheduling step as a tree node takes it: select, dequeue the child, served. Returns
 * the packet (NULL if nothing was selected) and the child's index in *idx. */
static inline struct ipk_pkt *sched_step(struct ipk_qos *s, struct ipk_qos **children,
					 uint32_t n, uint64_t now, int *idx)
{
	struct ipk_pkt_list dropped = { 0 };
	enum ipk_drop_reason why;
	struct ipk_pkt *pkt;

	*idx = s->ops->select(s, children, n, now);
	if (*idx < 0)
		return NULL;
	/* select() must be repeatable until served() */
	assert_int_equal(s->ops->select(s, children, n, now), *idx);
	pkt = ipk_qos_dequeue(children[*idx], now, &dropped, &why);
	assert_non_null(pkt);
	assert_int_equal(dropped.count, 0);
	if (s->ops->served)
		s->ops->served(s, (uint32_t)*idx, pkt->len, now);
	return pkt;
}

/* Children for scheduler tests: @n fifos of @limit packets. */
static inline void fifos_new(struct ipk_qos **children, uint32_t n, const char *args)
{
	for (uint32_t i = 0; i < n; i++)
		children[i] = qos_new("fifo", args);
}

static inline void fifos_destroy(struct ipk_qos **children, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		qos_drain(children[i], 0);
		ipk_qos_destroy(children[i]);
	}
}

static inline void push_pkt(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now)
{
	struct ipk_pkt_list evicted = { 0 };
	enum ipk_drop_reason why;

	assert_int_equal(ipk_qos_enqueue(q, pkt, now, &evicted, &why), IPK_QOS_PASS);
	assert_int_equal(evicted.count, 0);
}

static inline void attach(struct ipk_qos *s, uint32_t n)
{
	struct ipk_err err = { { 0 } };

	if (s->ops->attach && s->ops->attach(s, n, &err))
		fail_msg("attach: %s", err.msg);
}

static inline uint64_t stat_of(const struct ipk_qos *q, const char *name)
{
	struct ipk_qos_stat s[32];
	uint32_t n = ipk_qos_stats(q, s, 32);

	for (uint32_t i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return s[i].value;
	fail_msg("%s has no counter %s", q->name, name);
	return 0;
}

#endif
