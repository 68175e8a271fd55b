// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/fivetuple.c: a table of IPv4 and IPv6 packets against a rule set
 * (prefixes, protocols, port ranges at their edges, first match wins, family mismatch,
 * fragments without ports, non-IP), the class count, and argument errors.
 */
#include "qos_test.h"

#include "qos/fivetuple.h"

#define RULES "rule src=10.1.0.0/16,proto=udp,dport=5060-5061,class=0 " \
	      "rule dst=2001:db8:1::/48,class=1 " \
	      "rule proto=tcp,sport=22,class=2 " \
	      "rule proto=icmp,class=3 " \
	      "rule src=192.0.2.0/24,dst=198.51.100.7,class=4 " \
	      "rule proto=17,sport=1-100,dport=53,class=6 " \
	      "default 5"

struct ft_row {
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	bool fragment;       /* a non-first IPv4 fragment: no ports */
	uint32_t cls;
};

static void set_fragment(struct ipk_pkt *pkt)
{
	uint8_t *hdr = ipk_pkt_data(pkt);

	hdr[6] = 0x00;
	hdr[7] = 0x10;  /* offset 16 x 8 bytes */
	ipk_ipv4_set_checksum(hdr);
}

static void fivetuple_classes(void **state)
{
	static const struct ft_row rows[] = {
		/* 1 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_UDP, 1000, 5060, false, 0 },
		/* 2 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_UDP, 1000, 5061, false, 0 },
		/* 3 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_UDP, 1000, 5062, false, 5 },
		/* 4 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_UDP, 1000, 5059, false, 5 },
		/* 5 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_TCP, 1000, 5060, false, 5 },
		/* 6 */ { "10.2.0.1", "203.0.113.1", IPK_PROTO_UDP, 1000, 5060, false, 5 },
		/* 7 */ { "10.1.255.255", "203.0.113.1", IPK_PROTO_UDP, 7, 5060, false, 0 },
		/* 8 */ { "2001:db8::5", "2001:db8:1::9", IPK_PROTO_UDP, 1, 2, false, 1 },
		/* 9 */ { "2001:db8::5", "2001:db8:1:ffff::1", IPK_PROTO_TCP, 22, 2, false, 1 },
		/* 10 */ { "2001:db8::5", "2001:db8:2::9", IPK_PROTO_UDP, 1, 2, false, 5 },
		/* 11 */ { "2001:db8::5", "2001:db8:2::9", IPK_PROTO_TCP, 22, 80, false, 2 },
		/* 12 */ { "198.51.100.1", "203.0.113.1", IPK_PROTO_TCP, 22, 80, false, 2 },
		/* 13 */ { "198.51.100.1", "203.0.113.1", IPK_PROTO_TCP, 23, 22, false, 5 },
		/* 14 */ { "198.51.100.1", "203.0.113.1", IPK_PROTO_ICMP, 8, 0, false, 3 },
		/* 15 */ { "2001:db8::5", "2001:db8:2::9", IPK_PROTO_ICMPV6, 128, 0, false, 5 },
		/* 16 */ { "192.0.2.200", "198.51.100.7", IPK_PROTO_UDP, 1, 2, false, 4 },
		/* 17 */ { "192.0.2.200", "198.51.100.8", IPK_PROTO_UDP, 1, 2, false, 5 },
		/* 18 */ { "192.0.3.1", "198.51.100.7", IPK_PROTO_UDP, 1, 2, false, 5 },
		/* 19 */ { "203.0.113.9", "203.0.113.1", IPK_PROTO_UDP, 100, 53, false, 6 },
		/* 20 */ { "203.0.113.9", "203.0.113.1", IPK_PROTO_UDP, 101, 53, false, 5 },
		/* 21 */ { "203.0.113.9", "203.0.113.1", IPK_PROTO_UDP, 0, 53, false, 5 },
		/* 22 */ { "10.1.2.3", "203.0.113.1", IPK_PROTO_UDP, 1000, 5060, true, 5 },
		/* 23 */ { "192.0.2.200", "198.51.100.7", IPK_PROTO_UDP, 1, 2, true, 4 },
		/* 24 */ { NULL, NULL, 0, 0, 0, false, 5 },
	};
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *q = qos_new("fivetuple", RULES);

	assert_int_equal(q->ops->n_classes(q), 7);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct ft_row *row = &rows[r];
		struct ipk_pkt *pkt;
		uint32_t cls;

		if (row->src) {
			pkt = pkt_ip(pool, row->src, row->dst, row->proto, row->sport, row->dport,
				     0, 200);
			if (row->fragment)
				set_fragment(pkt);
		} else {
			pkt = pkt_len(pool, 200);
		}
		cls = ipk_qos_classify(q, pkt);
		if (cls != row->cls)
			fail_msg("row %zu: class %u, expected %u", r + 1, cls, row->cls);
		assert_int_equal(pkt->meta.class_id, cls);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(q, "unparsed"), 1);
	assert_int_equal(stat_of(q, "rules"), 6);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void fivetuple_default_class(void **state)
{
	static const struct {
		const char *args;
		uint32_t n_classes, def;
	} rows[] = {
		/* 1 */ { "rule proto=udp,class=0", 2, 1 },
		/* 2 */ { "rule proto=udp,class=4 rule proto=tcp,class=2", 6, 5 },
		/* 3 */ { "rule proto=udp,class=1 default 0", 2, 0 },
		/* 4 */ { "rule proto=udp,class=1 default 9", 10, 9 },
	};
	struct ipk_pool *pool = test_pool(2);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *q = qos_new("fivetuple", rows[r].args);
		struct ipk_pkt *pkt = pkt_ip(pool, "192.0.2.1", "192.0.2.2", IPK_PROTO_ICMP, 8, 0,
					     0, 64);

		assert_int_equal(q->ops->n_classes(q), rows[r].n_classes);
		assert_int_equal(ipk_qos_classify(q, pkt), rows[r].def);
		ipk_pkt_free(pkt);
		ipk_qos_destroy(q);
	}
	ipk_pool_destroy(pool);
}

static void fivetuple_rejects_bad_arguments(void **state)
{
	char many[1024] = "";

	qos_new_fails("fivetuple", "default 1", "fivetuple: no rule");
	qos_new_fails("fivetuple", "rule proto=udp", "fivetuple: rule 1 has no class");
	qos_new_fails("fivetuple", "rule proto=udp,class=0 rule src=10.1.0.1/16,class=1",
		      "fivetuple: rule 2: bad src '10.1.0.1/16'");
	qos_new_fails("fivetuple", "rule port=80,class=0", "fivetuple: rule 1: unknown field "
			      "'port' (src, dst, proto, sport, dport, class)");
	qos_new_fails("fivetuple", "rule dport=10-5,class=0", "fivetuple: rule 1: bad dport "
			      "'10-5'");
	qos_new_fails("fivetuple", "rule sport=65536,class=0", "fivetuple: rule 1: bad sport "
			      "'65536'");
	qos_new_fails("fivetuple", "rule proto=sctp,class=0", "fivetuple: rule 1: bad proto "
			      "'sctp'");
	qos_new_fails("fivetuple", "rule udp,class=0", "fivetuple: rule item 'udp' is not "
			      "field=value");
	qos_new_fails("fivetuple", "rule proto=udp,class=64", "fivetuple: rule 1: bad class "
			      "'64'");
	qos_new_fails("fivetuple", "rule proto=udp,class=1 default 64", "fivetuple: default 64 "
			      "not in 0..63");
	qos_new_fails("fivetuple", "rules proto=udp,class=1", "fivetuple: unknown argument "
			      "'rules'");
	for (int i = 0; i < 16; i++)
		strcat(many, "rule proto=udp,class=1 ");
	qos_new_fails("fivetuple", many, "fivetuple: more than 15 rules");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fivetuple_classes),
		cmocka_unit_test(fivetuple_default_class),
		cmocka_unit_test(fivetuple_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
