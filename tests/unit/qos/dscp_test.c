// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/dscp.c: IPv4 and IPv6 packets of each mapped and unmapped code point
 * land in the expected class (ECN bits ignored), packets that are not valid IP go to the
 * default class, the class count, and argument errors.
 */
#include "qos_test.h"

#include "qos/dscp.h"

struct cls_row {
	const char *src;   /* NULL: not an IP packet */
	uint8_t dscp;
	uint8_t ecn;
	uint32_t cls;
};

static void dscp_classes(void **state)
{
	static const struct cls_row rows[] = {
		/* "ef 0 af41 1 af42 1 cs6 0 10 3 default 2" */
		/* 1 */ { "192.0.2.1", 46, 0, 0 },
		/* 2 */ { "192.0.2.1", 46, IPK_ECN_CE, 0 },
		/* 3 */ { "192.0.2.1", 34, 0, 1 },
		/* 4 */ { "192.0.2.1", 36, IPK_ECN_ECT0, 1 },
		/* 5 */ { "192.0.2.1", 48, 0, 0 },
		/* 6 */ { "192.0.2.1", 10, 0, 3 },
		/* 7 */ { "192.0.2.1", 0, 0, 2 },
		/* 8 */ { "192.0.2.1", 38, 0, 2 },     /* af43 unmapped */
		/* 9 */ { "192.0.2.1", 63, IPK_ECN_ECT1, 2 },
		/* 10 */ { "2001:db8::1", 46, 0, 0 },
		/* 11 */ { "2001:db8::1", 36, IPK_ECN_CE, 1 },
		/* 12 */ { "2001:db8::1", 1, 0, 2 },
		/* 13 */ { "2001:db8::1", 10, IPK_ECN_ECT0, 3 },
		/* 14 */ { NULL, 46, 0, 2 },
	};
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *q = qos_new("dscp", "ef 0 af41 1 af42 1 cs6 0 10 3 default 2");

	assert_int_equal(q->ops->n_classes(q), 4);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_pkt *pkt;
		uint32_t cls;

		if (rows[r].src) {
			pkt = pkt_dscp(pool, rows[r].src, rows[r].dscp, rows[r].ecn, 100);
		} else {
			pkt = pkt_len(pool, 100);
			ipk_pkt_data(pkt)[0] = 0x45;
			ipk_pkt_data(pkt)[1] = (uint8_t)(rows[r].dscp << 2); /* bad checksum */
		}
		cls = ipk_qos_classify(q, pkt);
		if (cls != rows[r].cls)
			fail_msg("row %zu: class %u, expected %u", r + 1, cls, rows[r].cls);
		assert_int_equal(pkt->meta.class_id, cls);
		ipk_pkt_free(pkt);
	}
	assert_int_equal(stat_of(q, "unparsed"), 1);
	assert_int_equal(stat_of(q, "defaulted"), 4);
	assert_int_equal(stat_of(q, "in"), 14);
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void dscp_class_counts(void **state)
{
	static const struct {
		const char *args;
		uint32_t n_classes;
		uint32_t be_class;  /* class of DSCP 0 */
	} rows[] = {
		/* 1 */ { "ef 0", 2, 1 },
		/* 2 */ { "ef 0 af41 3", 5, 4 },
		/* 3 */ { "ef 5 default 0", 6, 0 },
		/* 4 */ { "EF 0 be 1 default 7", 8, 1 },
		/* 5 */ { "63 62", 64, 63 },
	};
	struct ipk_pool *pool = test_pool(2);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *q = qos_new("dscp", rows[r].args);
		struct ipk_pkt *pkt = pkt_dscp(pool, "192.0.2.1", 0, 0, 64);

		if (q->ops->n_classes(q) != rows[r].n_classes)
			fail_msg("row %zu: %u classes, expected %u", r + 1, q->ops->n_classes(q),
				 rows[r].n_classes);
		assert_int_equal(ipk_qos_classify(q, pkt), rows[r].be_class);
		ipk_pkt_free(pkt);
		ipk_qos_destroy(q);
	}
	ipk_pool_destroy(pool);
}

static void dscp_rejects_bad_arguments(void **state)
{
	qos_new_fails("dscp", "", "dscp: no mapping (e.g. 'ef 0 default 1')");
	qos_new_fails("dscp", "ef", "dscp: 'ef' has no value");
	qos_new_fails("dscp", "xf 0", "dscp: 'xf' is not a DSCP name or number 0..63");
	qos_new_fails("dscp", "64 0", "dscp: '64' is not a DSCP name or number 0..63");
	qos_new_fails("dscp", "ef 0 46 1", "dscp: code point 46 (ef) mapped twice");
	qos_new_fails("dscp", "ef 64", "dscp: class '64' for ef not in 0..63");
	qos_new_fails("dscp", "ef one", "dscp: class 'one' for ef not in 0..63");
	qos_new_fails("dscp", "ef 0 default 1 default 2", "dscp: 'default' given twice");
	qos_new_fails("dscp", "ef 63", "dscp: no room for a default class after 63");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dscp_classes),
		cmocka_unit_test(dscp_class_counts),
		cmocka_unit_test(dscp_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
