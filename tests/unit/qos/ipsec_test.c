// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for src/qos/ipsec.c: packets carrying real SAs (created with ipk_sa_create, each
 * packet holding its own reference) are classified by SA name, SPI range, mode,
 * direction, bundle position and algorithm, first match wins; packets without an SA go to
 * the nosa class; class counts and defaults; argument errors.
 */
#include "qos_test.h"

#include "crypto/alg.h"
#include "qos/ipsec.h"
#include "sa/sa.h"

struct sa_spec {
	const char *name;
	uint32_t spi;
	enum ipk_dir dir;
	enum ipk_mode mode;
	const char *alg;
};

static const struct sa_spec sa_specs[] = {
	{ "voice", 0x1000, IPK_DIR_OUT, IPK_MODE_TUNNEL, "null-sha256" },
	{ "bulk", 0x2000, IPK_DIR_OUT, IPK_MODE_TRANSPORT, "aes128gcm16" },
	{ "inb", 0x3000, IPK_DIR_IN, IPK_MODE_TUNNEL, "null-sha256" },
	{ "other", 0x5000, IPK_DIR_OUT, IPK_MODE_TUNNEL, "null-sha256" },
	{ "gcm", 0x6000, IPK_DIR_OUT, IPK_MODE_TUNNEL, "aes128gcm16" },
	{ "bulk2", 0x2fff, IPK_DIR_OUT, IPK_MODE_TRANSPORT, "null-sha256" },
	{ "bulk3", 0x3000, IPK_DIR_OUT, IPK_MODE_TRANSPORT, "null-sha256" },
};
#define N_SAS (sizeof(sa_specs) / sizeof(sa_specs[0]))

static struct ipk_sa *sa_new(const struct sa_spec *spec)
{
	struct ipk_sa_params p;
	struct ipk_err err = { { 0 } };
	struct ipk_sa *sa = NULL;

	ipk_sa_params_init(&p);
	strcpy(p.name, spec->name);
	p.spi = spec->spi;
	p.dir = spec->dir;
	p.mode = spec->mode;
	assert_int_equal(ipk_addr_parse("192.0.2.1", &p.src), 0);
	assert_int_equal(ipk_addr_parse("192.0.2.2", &p.dst), 0);
	p.alg = ipk_alg_find(spec->alg);
	assert_non_null(p.alg);
	p.enc_key_len = (uint8_t)(p.alg->enc_key_len + p.alg->salt_len);
	p.auth_key_len = p.alg->auth_key_len;
	memset(p.enc_key, 0x11, sizeof(p.enc_key));
	memset(p.auth_key, 0x22, sizeof(p.auth_key));
	if (ipk_sa_create(&sa, &p, 1, &err))
		fail_msg("sa %s: %s", spec->name, err.msg);
	return sa;
}

#define RULES "rule name=voice,class=0 " \
	      "rule spi=0x2000-0x2fff,mode=transport,class=1 " \
	      "rule dir=in,bundle=1,class=2 " \
	      "rule alg=aes128gcm16,class=3 " \
	      "rule proto=esp,dir=in,class=4 " \
	      "default 5 nosa 6"

static void ipsec_classes(void **state)
{
	static const struct {
		int sa;          /* index in sa_specs, -1: none */
		uint16_t bundle_pos;
		uint32_t cls;
	} rows[] = {
		/* 1 */ { 0, 0, 0 },   /* name */
		/* 2 */ { 0, 1, 0 },
		/* 3 */ { 1, 0, 1 },   /* SPI range and transport, before the alg rule */
		/* 4 */ { 5, 0, 1 },   /* SPI at the top of the range */
		/* 5 */ { 6, 0, 5 },   /* SPI 0x3000: outside */
		/* 6 */ { 2, 1, 2 },   /* inbound, second in the bundle */
		/* 7 */ { 2, 0, 4 },   /* inbound, first in the bundle */
		/* 8 */ { 4, 0, 3 },   /* algorithm */
		/* 9 */ { 3, 0, 5 },   /* nothing matches */
		/* 10 */ { -1, 0, 6 }, /* no SA */
	};
	struct ipk_sa *sas[N_SAS];
	struct ipk_pool *pool = test_pool(2);
	struct ipk_qos *q = qos_new("ipsec", RULES);

	for (size_t i = 0; i < N_SAS; i++)
		sas[i] = sa_new(&sa_specs[i]);
	assert_int_equal(q->ops->n_classes(q), 7);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_pkt *pkt = pkt_dscp(pool, "192.0.2.1", 0, 0, 100);
		uint32_t cls;

		if (rows[r].sa >= 0) {
			ipk_sa_get(sas[rows[r].sa]);
			pkt->meta.sa = sas[rows[r].sa];
		}
		pkt->meta.bundle_pos = rows[r].bundle_pos;
		cls = ipk_qos_classify(q, pkt);
		if (cls != rows[r].cls)
			fail_msg("row %zu: class %u, expected %u", r + 1, cls, rows[r].cls);
		assert_int_equal(pkt->meta.class_id, cls);
		ipk_pkt_free(pkt);  /* puts the packet's SA reference */
	}
	assert_int_equal(stat_of(q, "nosa"), 1);
	assert_int_equal(stat_of(q, "defaulted"), 2);
	for (size_t i = 0; i < N_SAS; i++) {
		assert_int_equal(atomic_load(&sas[i]->rt.refcnt), 1);
		ipk_sa_put(sas[i]);
	}
	ipk_qos_destroy(q);
	ipk_pool_destroy(pool);
}

static void ipsec_default_classes(void **state)
{
	static const struct {
		const char *args;
		uint32_t n_classes, def, nosa;
	} rows[] = {
		/* 1 */ { "rule name=x,class=0", 3, 1, 2 },
		/* 2 */ { "rule name=x,class=2 default 0", 4, 0, 3 },
		/* 3 */ { "rule name=x,class=0 nosa 0", 2, 1, 0 },
		/* 4 */ { "rule name=x,class=1 default 7 nosa 3", 8, 7, 3 },
	};
	struct ipk_pool *pool = test_pool(2);
	struct ipk_sa *sa = sa_new(&sa_specs[0]);

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct ipk_qos *q = qos_new("ipsec", rows[r].args);
		struct ipk_pkt *pkt = pkt_len(pool, 64);

		assert_int_equal(q->ops->n_classes(q), rows[r].n_classes);
		assert_int_equal(ipk_qos_classify(q, pkt), rows[r].nosa);
		pkt->meta.sa = sa;
		assert_int_equal(ipk_qos_classify(q, pkt), rows[r].def);
		pkt->meta.sa = NULL;
		ipk_pkt_free(pkt);
		ipk_qos_destroy(q);
	}
	ipk_sa_put(sa);
	ipk_pool_destroy(pool);
}

static void ipsec_rejects_bad_arguments(void **state)
{
	qos_new_fails("ipsec", "nosa 1", "ipsec: no rule");
	qos_new_fails("ipsec", "rule name=voice", "ipsec: rule 1 has no class");
	qos_new_fails("ipsec", "rule proto=ah,class=0", "ipsec: rule 1: proto ah not supported "
			       "(ESP only)");
	qos_new_fails("ipsec", "rule alg=aes999,class=0", "ipsec: rule 1: bad alg 'aes999'");
	qos_new_fails("ipsec", "rule spi=0x20-0x10,class=0", "ipsec: rule 1: bad spi "
			       "'0x20-0x10'");
	qos_new_fails("ipsec", "rule spi=0x100000000,class=0", "ipsec: rule 1: bad spi "
			       "'0x100000000'");
	qos_new_fails("ipsec", "rule dir=sideways,class=0", "ipsec: rule 1: bad dir 'sideways'");
	qos_new_fails("ipsec", "rule bundle=4,class=0", "ipsec: rule 1: bad bundle '4'");
	qos_new_fails("ipsec", "rule user=bob,class=0", "ipsec: rule 1: unknown field 'user' "
			       "(spi, name, bundle, dir, alg, mode, proto, class)");
	qos_new_fails("ipsec", "rule name=a,class=0 nosa 64", "ipsec: nosa 64 not in 0..63");
	qos_new_fails("ipsec", "rule name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,class=0",
		      "ipsec: rule 1: bad name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipsec_classes),
		cmocka_unit_test(ipsec_default_classes),
		cmocka_unit_test(ipsec_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
