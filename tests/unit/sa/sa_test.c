// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/sa/sa.c: every parameter check and its message, creation (crypto contexts
 * per unit, replay window only inbound), sequence numbers up to the wrap with and without
 * ESN (also from four threads at once), soft and hard lifetimes in packets, bytes and
 * seconds on the simulated clock with the event callback counted, and get/put pairs
 * (ASan reports a free that comes too early or never). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "proto/replay.h"
#include "sa/sa.h"

#define SEC IPK_NSEC_PER_SEC

/* A valid outbound tunnel SA "t", null-sha256, 192.0.2.1 -> 192.0.2.2, SPI 0x1000. */
static void base_params(struct ipk_sa_params *p)
{
	ipk_sa_params_init(p);
	strcpy(p->name, "t");
	p->spi = 0x1000;
	p->dir = IPK_DIR_OUT;
	p->mode = IPK_MODE_TUNNEL;
	assert_int_equal(ipk_addr_parse("192.0.2.1", &p->src), 0);
	assert_int_equal(ipk_addr_parse("192.0.2.2", &p->dst), 0);
	p->alg = ipk_alg_find("null-sha256");
	assert_non_null(p->alg);
	p->auth_key_len = 32;
	for (int i = 0; i < 32; i++)
		p->auth_key[i] = (uint8_t)(0x40 + i);
}

static void params_defaults(void **state)
{
	struct ipk_sa_params p;

	memset(&p, 0x5a, sizeof(p));
	ipk_sa_params_init(&p);
	assert_int_equal(p.replay_window, 1024);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.encap_sport, 4500);
	assert_int_equal(p.encap_dport, 4500);
	assert_int_equal(p.spi, 0);
	assert_int_equal(p.name[0], 0);
	assert_null(p.alg);
	assert_false(p.esn);
	assert_int_equal(p.seq_start, 0);
	assert_int_equal(p.hard.packets, 0);
	assert_int_equal(p.soft.seconds, 0);
}

static void m_none(struct ipk_sa_params *p)
{
}

static void m_no_name(struct ipk_sa_params *p)
{
	p->name[0] = '\0';
}

static void m_spi0(struct ipk_sa_params *p)
{
	p->spi = 0;
}

static void m_spi255(struct ipk_sa_params *p)
{
	p->spi = 255;
}

static void m_spi256(struct ipk_sa_params *p)
{
	p->spi = 256;
}

static void m_spimax(struct ipk_sa_params *p)
{
	p->spi = 0xffffffff;
}

static void m_no_alg(struct ipk_sa_params *p)
{
	p->alg = NULL;
}

static void m_no_src(struct ipk_sa_params *p)
{
	p->src.family = 0;
}

static void m_no_dst(struct ipk_sa_params *p)
{
	p->dst.family = 0;
}

static void m_mixed(struct ipk_sa_params *p)
{
	ipk_addr_parse("2001:db8::2", &p->dst);
}

static void m_v6(struct ipk_sa_params *p)
{
	ipk_addr_parse("2001:db8::1", &p->src);
	ipk_addr_parse("2001:db8::2", &p->dst);
}

static void m_fam5_udp(struct ipk_sa_params *p)
{
	p->src.family = p->dst.family = 5;
	p->encap_udp = true;
}

static void m_in_w31(struct ipk_sa_params *p)
{
	p->dir = IPK_DIR_IN;
	p->replay_window = 31;
}

static void m_in_w32(struct ipk_sa_params *p)
{
	p->dir = IPK_DIR_IN;
	p->replay_window = 32;
}

static void m_in_w64k(struct ipk_sa_params *p)
{
	p->dir = IPK_DIR_IN;
	p->replay_window = 65536;
}

static void m_in_w64k1(struct ipk_sa_params *p)
{
	p->dir = IPK_DIR_IN;
	p->replay_window = 65537;
}

static void m_in_w0(struct ipk_sa_params *p)
{
	p->dir = IPK_DIR_IN;
	p->replay_window = 0;
}

static void m_out_w31(struct ipk_sa_params *p)
{
	p->replay_window = 31;
}

static void m_seq32(struct ipk_sa_params *p)
{
	p->seq_start = 0x100000000ull;
}

static void m_seq32m1(struct ipk_sa_params *p)
{
	p->seq_start = 0xffffffffull;
}

static void m_seq32_esn(struct ipk_sa_params *p)
{
	p->seq_start = 0x100000000ull;
	p->esn = true;
}

static void m_gcm_short(struct ipk_sa_params *p)
{
	p->alg = ipk_alg_find("aes128gcm16");
	p->enc_key_len = 16;
	p->auth_key_len = 0;
}

static void m_gcm_ok(struct ipk_sa_params *p)
{
	p->alg = ipk_alg_find("aes128gcm16");
	p->enc_key_len = 20;
	p->auth_key_len = 0;
}

static void m_gcm_auth(struct ipk_sa_params *p)
{
	p->alg = ipk_alg_find("aes128gcm16");
	p->enc_key_len = 20;
}

static void m_auth20(struct ipk_sa_params *p)
{
	p->auth_key_len = 20;
}

static void m_null_enc(struct ipk_sa_params *p)
{
	p->enc_key_len = 16;
}

static void m_cbc_nokey(struct ipk_sa_params *p)
{
	p->alg = ipk_alg_find("aes128-sha256");
}

static void m_soft_bytes(struct ipk_sa_params *p)
{
	p->soft.bytes = 2000;
	p->hard.bytes = 1000;
}

static void m_soft_pkts(struct ipk_sa_params *p)
{
	p->soft.packets = 11;
	p->hard.packets = 10;
}

static void m_soft_secs(struct ipk_sa_params *p)
{
	p->soft.seconds = 61;
	p->hard.seconds = 60;
}

static void m_soft_only(struct ipk_sa_params *p)
{
	p->soft.bytes = 5000; /* no hard limit: nothing to compare with */
	p->soft.seconds = 1;
}

static void m_soft_eq(struct ipk_sa_params *p)
{
	p->soft.packets = p->hard.packets = 10;
	p->soft.bytes = p->hard.bytes = 1;
}

static void params_check_table(void **state)
{
	static const struct {
		void (*mutate)(struct ipk_sa_params *p);
		int rc;
		const char *msg;
	} rows[] = {
		/* 0 */ { m_none, 0, "" },
		/* 1 */ { m_no_name, -EINVAL, "sa: missing name" },
		/* 2 */ { m_spi0, -EINVAL, "sa t: spi 0 is reserved (use 256 or more)" },
		/* 3 */ { m_spi255, -EINVAL, "sa t: spi 255 is reserved (use 256 or more)" },
		/* 4 */ { m_spi256, 0, "" },
		/* 5 */ { m_spimax, 0, "" },
		/* 6 */ { m_no_alg, -EINVAL, "sa t: missing proposal" },
		/* 7 */ { m_no_src, -EINVAL, "sa t: src and dst are required" },
		/* 8 */ { m_no_dst, -EINVAL, "sa t: src and dst are required" },
		/* 9 */ { m_mixed, -EINVAL, "sa t: src and dst are of different families" },
		/* 10 */ { m_v6, 0, "" },
		/* 11 */ { m_fam5_udp, -EINVAL, "sa t: bad address family" },
		/* 12 */ { m_in_w31, -EINVAL, "sa t: replay-window 31 not in 32..65536" },
		/* 13 */ { m_in_w32, 0, "" },
		/* 14 */ { m_in_w64k, 0, "" },
		/* 15 */ { m_in_w64k1, -EINVAL, "sa t: replay-window 65537 not in 32..65536" },
		/* 16 */ { m_in_w0, 0, "" },                /* replay protection off */
		/* 17 */ { m_out_w31, 0, "" },              /* outbound has no window */
		/* 18 */ { m_seq32, -EINVAL, "sa t: seq 4294967296 needs esn" },
		/* 19 */ { m_seq32m1, 0, "" },
		/* 20 */ { m_seq32_esn, 0, "" },
		/* 21 */ { m_gcm_short, -EINVAL,
			   "sa t: aes128gcm16 needs a 20-byte key (key || 4-byte salt), "
			   "got 16 bytes" },
		/* 22 */ { m_gcm_ok, 0, "" },
		/* 23 */ { m_gcm_auth, -EINVAL,
			   "sa t: aes128gcm16 needs a 0-byte auth key, got 32 bytes" },
		/* 24 */ { m_auth20, -EINVAL,
			   "sa t: null-sha256 needs a 32-byte auth key, got 20 bytes" },
		/* 25 */ { m_null_enc, -EINVAL,
			   "sa t: null-sha256 needs a 0-byte key, got 16 bytes" },
		/* 26 */ { m_cbc_nokey, -EINVAL,
			   "sa t: aes128-sha256 needs a 16-byte key, got 0 bytes" },
		/* 27 */ { m_soft_bytes, -EINVAL,
			   "sa t: soft lifetime bytes 2000 above hard 1000" },
		/* 28 */ { m_soft_pkts, -EINVAL, "sa t: soft lifetime packets 11 above hard 10" },
		/* 29 */ { m_soft_secs, -EINVAL, "sa t: soft lifetime seconds 61 above hard 60" },
		/* 30 */ { m_soft_only, 0, "" },
		/* 31 */ { m_soft_eq, 0, "" },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_sa_params p;
		struct ipk_err err = { .msg = "" };
		struct ipk_sa *sa;
		int rc;

		base_params(&p);
		rows[i].mutate(&p);
		rc = ipk_sa_params_check(&p, &err);
		if (rc != rows[i].rc || strcmp(err.msg, rows[i].msg) != 0)
			fail_msg("row %zu: %d '%s', want %d '%s'", i, rc, err.msg, rows[i].rc,
				 rows[i].msg);
		/* A NULL err changes nothing but the message. */
		if (ipk_sa_params_check(&p, NULL) != rows[i].rc)
			fail_msg("row %zu: different result without err", i);
		/* Creation runs the same check first, then builds what passed. */
		rc = ipk_sa_create(&sa, &p, 1, NULL);
		if (rc != rows[i].rc)
			fail_msg("row %zu: create %d", i, rc);
		if (rc == 0)
			ipk_sa_put(sa);
	}
}

/* The contract says families are checked; an SA whose addresses are neither IPv4 nor
 * IPv6 must be refused whether or not it uses UDP encapsulation. */
static void params_check_family_without_udp(void **state)
{
	struct ipk_sa_params p;
	struct ipk_err err = { .msg = "" };

	base_params(&p);
	p.src.family = p.dst.family = 5;
	assert_int_equal(ipk_sa_params_check(&p, &err), -EINVAL);
	assert_string_equal(err.msg, "sa t: bad address family");
}

static void create_builds_runtime(void **state)
{
	static const struct {
		enum ipk_dir dir;
		enum ipk_mode mode;
		uint32_t window;
		uint32_t workers;
		bool esn, udp;
		int rc;
		const char *msg;
	} rows[] = {
		/* 0 */ { IPK_DIR_OUT, IPK_MODE_TUNNEL, 1024, 1, false, false, 0, "" },
		/* 1 */ { IPK_DIR_IN, IPK_MODE_TRANSPORT, 1024, 4, true, true, 0, "" },
		/* 2 */ { IPK_DIR_IN, IPK_MODE_TUNNEL, 0, 2, false, false, 0, "" },
		/* 3 */ { IPK_DIR_IN, IPK_MODE_TUNNEL, 65536, 64, true, false, 0, "" },
		/* 4 */ { IPK_DIR_OUT, IPK_MODE_TUNNEL, 64, 0, false, false, -EINVAL,
			  "sa t: 0 crypto units not in 1..64" },
		/* 5 */ { IPK_DIR_IN, IPK_MODE_TUNNEL, 64, 65, false, false, -EINVAL,
			  "sa t: 65 crypto units not in 1..64" },
	};

	ipk_clock_set_fake(777 * SEC);
	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_sa_params p;
		struct ipk_err err = { .msg = "" };
		struct ipk_sa *sa = NULL;
		int rc;

		base_params(&p);
		p.dir = rows[i].dir;
		p.mode = rows[i].mode;
		p.replay_window = rows[i].window;
		p.esn = rows[i].esn;
		p.encap_udp = rows[i].udp;
		p.spi = 0x2000 + (uint32_t)i;
		p.seq_start = 41;
		rc = ipk_sa_create(&sa, &p, rows[i].workers, &err);
		if (rc != rows[i].rc || strcmp(err.msg, rows[i].msg) != 0)
			fail_msg("row %zu: %d '%s'", i, rc, err.msg);
		if (rc)
			continue;
		assert_int_equal(sa->rt.n_crypto, rows[i].workers);
		for (uint32_t w = 0; w < rows[i].workers; w++)
			assert_non_null(sa->rt.crypto[w]);
		for (uint32_t w = rows[i].workers; w < IPK_SA_MAX_WORKERS; w++)
			assert_null(sa->rt.crypto[w]);
		if (rows[i].dir == IPK_DIR_IN && rows[i].window) {
			assert_non_null(sa->rt.replay);
			assert_int_equal(ipk_replay_window(sa->rt.replay), rows[i].window);
		} else {
			assert_null(sa->rt.replay);
		}
		assert_int_equal(sa->rt.spi, 0x2000 + i);
		assert_int_equal(sa->rt.dir, rows[i].dir);
		assert_int_equal(sa->rt.mode, rows[i].mode);
		assert_int_equal(sa->rt.esn, rows[i].esn);
		assert_int_equal(sa->rt.encap_udp, rows[i].udp);
		assert_ptr_equal(sa->rt.alg, p.alg);
		assert_int_equal(atomic_load(&sa->rt.seq_out), 41);
		assert_int_equal(atomic_load(&sa->rt.refcnt), 1);
		assert_false(atomic_load(&sa->rt.dead));
		assert_int_equal(sa->created_ns, 777 * SEC);
		assert_string_equal(sa->params.name, "t");
		assert_int_equal(sa->params.spi, p.spi);
		assert_memory_equal(sa->params.auth_key, p.auth_key, 32);
		assert_true(ipk_addr_equal(&sa->params.dst, &p.dst));
		assert_true(((uintptr_t)sa & (IPK_CACHELINE - 1)) == 0);
		ipk_sa_put(sa);
	}
	ipk_clock_use_real();
}

/* ---- sequence numbers ---- */

/* Without ESN the last number is 2^32 - 1, with ESN 2^64 - 1 (RFC 4303 §3.3.3: the
 * counter must not cycle; the SA must be replaced first). */
static void next_seq_table(void **state)
{
	static const struct {
		bool esn;
		uint64_t start;
		unsigned n_ok;     /* calls that succeed; the rest of the 5 are refused */
		uint64_t want[5];
	} rows[] = {
		/* 0 */ { false, 0, 5, { 1, 2, 3, 4, 5 } },
		/* 1 */ { false, 0xfffffffd, 2, { 0xfffffffe, 0xffffffff } },
		/* 2 */ { false, 0xfffffffe, 1, { 0xffffffff } },
		/* 3 */ { false, 0xffffffff, 0, { 0 } },
		/* 4 */ { true, 0, 5, { 1, 2, 3, 4, 5 } },
		/* 5: ESN goes on past 2^32 */
		{ true, 0xfffffffe, 5, { 0xffffffff, 0x100000000, 0x100000001, 0x100000002,
					0x100000003 } },
		/* 6 */ { true, 0x7fffffffffffffff, 5,
			  { 0x8000000000000000, 0x8000000000000001, 0x8000000000000002,
			    0x8000000000000003, 0x8000000000000004 } },
		/* 7 */ { true, UINT64_MAX - 3, 3, { UINT64_MAX - 2, UINT64_MAX - 1, UINT64_MAX } },
		/* 8 */ { true, UINT64_MAX - 1, 1, { UINT64_MAX } },
		/* 9 */ { true, UINT64_MAX, 0, { 0 } },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_sa_params p;
		struct ipk_sa *sa;
		uint64_t last_given = rows[i].start;

		base_params(&p);
		p.esn = rows[i].esn;
		p.seq_start = rows[i].start;
		assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
		for (unsigned k = 0; k < 5; k++) {
			uint64_t seq = 0x5a5a;
			bool ok = ipk_sa_next_seq(sa, &seq);

			if (ok != (k < rows[i].n_ok) || (ok && seq != rows[i].want[k]))
				fail_msg("row %zu call %u: %d %#llx, want %d %#llx", i, k, ok,
					 (unsigned long long)seq, k < rows[i].n_ok,
					 (unsigned long long)rows[i].want[k]);
			if (ok)
				last_given = seq;
		}
		/* A refusal leaves the counter where it was. */
		assert_int_equal(atomic_load(&sa->rt.seq_out), last_given);
		ipk_sa_put(sa);
	}
}

#define MT_THREADS 4
#define MT_EACH 50000

struct mt_arg {
	struct ipk_sa *sa;
	uint64_t *got;       /* MT_EACH per thread, 0 = refused */
	pthread_barrier_t *start;
};

static void *mt_take(void *p)
{
	struct mt_arg *a = p;

	pthread_barrier_wait(a->start);
	for (int i = 0; i < MT_EACH; i++)
		if (!ipk_sa_next_seq(a->sa, &a->got[i]))
			a->got[i] = 0;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Four threads take numbers at once. Every number is given out once, none is skipped,
 * and without ESN exactly the numbers up to 2^32 - 1 are given. */
static void next_seq_four_threads(void **state)
{
	static const struct {
		bool esn;
		uint64_t start;
		uint64_t given; /* how many numbers the threads get in total */
	} rows[] = {
		/* 0 */ { true, 0xffffffffull - 100000, MT_THREADS * MT_EACH },
		/* 1 */ { false, 0xffffffffull - 123457, 123457 },
		/* 2 */ { false, 1000, MT_THREADS * MT_EACH },
	};

	for (size_t r = 0; r < IPK_ARRAY_SIZE(rows); r++) {
		uint64_t *got = calloc(MT_THREADS * MT_EACH, sizeof(*got));
		struct ipk_sa_params p;
		pthread_barrier_t start;
		struct mt_arg args[MT_THREADS];
		pthread_t th[MT_THREADS];
		struct ipk_sa *sa;
		uint64_t n = 0;

		assert_non_null(got);
		base_params(&p);
		p.esn = rows[r].esn;
		p.seq_start = rows[r].start;
		assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
		pthread_barrier_init(&start, NULL, MT_THREADS);
		for (int t = 0; t < MT_THREADS; t++) {
			args[t] = (struct mt_arg){ sa, got + t * MT_EACH, &start };
			assert_int_equal(pthread_create(&th[t], NULL, mt_take, &args[t]), 0);
		}
		for (int t = 0; t < MT_THREADS; t++)
			pthread_join(th[t], NULL);
		qsort(got, MT_THREADS * MT_EACH, sizeof(*got), cmp_u64);
		for (size_t i = 0; i < MT_THREADS * MT_EACH; i++) {
			if (!got[i])
				continue;
			if (got[i] != rows[r].start + 1 + n)
				fail_msg("row %zu: number %zu is %#llx, want %#llx", r, n,
					 (unsigned long long)got[i],
					 (unsigned long long)(rows[r].start + 1 + n));
			n++;
		}
		if (n != rows[r].given)
			fail_msg("row %zu: %llu numbers given, want %llu", r,
				 (unsigned long long)n, (unsigned long long)rows[r].given);
		assert_int_equal(atomic_load(&sa->rt.seq_out), rows[r].start + rows[r].given);
		pthread_barrier_destroy(&start);
		ipk_sa_put(sa);
		free(got);
	}
}

/* ---- lifetimes ---- */

struct events {
	struct ipk_sa *sa;
	unsigned soft, hard;       /* how many of each */
	unsigned soft_at, hard_at; /* the step that raised each */
	unsigned step;
	bool wrong_sa;
};

static void on_event(struct ipk_sa *sa, bool hard, void *arg)
{
	struct events *ev = arg;

	ev->wrong_sa |= sa != ev->sa;
	if (hard) {
		ev->hard++;
		ev->hard_at = ev->step;
	} else {
		ev->soft++;
		ev->soft_at = ev->step;
	}
}

enum step_kind { PACKET, SECOND };

struct life_row {
	struct ipk_lifetime soft, hard;
	enum step_kind kind;
	uint32_t bytes;     /* inner bytes per packet */
	unsigned steps;
	unsigned soft_at;   /* step that raises the soft event; 0: never */
	unsigned hard_at;   /* step that reaches the hard limit; 0: never */
};

static const struct life_row life_rows[] = {
	/*      soft {bytes, pkts, secs}  hard                kind   bytes steps soft hard */
	/* 0 */ { { 0, 5, 0 }, { 0, 10, 0 }, PACKET, 100, 15, 5, 10 },
	/* 1 */ { { 1000, 0, 0 }, { 1500, 0, 0 }, PACKET, 100, 20, 10, 15 },
	/* 2: a 300-byte packet crosses 1000 at the 4th (1200) */
	{ { 0, 0, 0 }, { 1000, 0, 0 }, PACKET, 300, 8, 0, 4 },
	/* 3: soft equal to hard: both on the same packet */
	{ { 0, 3, 0 }, { 0, 3, 0 }, PACKET, 1, 6, 3, 3 },
	/* 4: soft only: the SA lives on */
	{ { 0, 2, 0 }, { 0, 0, 0 }, PACKET, 1, 50, 2, 0 },
	/* 5: no limits */
	{ { 0, 0, 0 }, { 0, 0, 0 }, PACKET, 1500, 1000, 0, 0 },
	/* 6: whichever comes first: packets (7) before bytes (10 * 100) */
	{ { 500, 0, 0 }, { 1000, 7, 0 }, PACKET, 100, 12, 5, 7 },
	/* 7: a single huge packet over both byte limits */
	{ { 10, 0, 0 }, { 20, 0, 0 }, PACKET, 65535, 3, 1, 1 },
	/* 8: seconds, checked once a second */
	{ { 0, 0, 30 }, { 0, 0, 60 }, SECOND, 0, 90, 30, 60 },
	/* 9: seconds, soft only */
	{ { 0, 0, 1 }, { 0, 0, 0 }, SECOND, 0, 5, 1, 0 },
	/* 10: seconds, hard only, lifetime 1 s */
	{ { 0, 0, 0 }, { 0, 0, 1 }, SECOND, 0, 3, 0, 1 },
	/* 11: no seconds limit: time alone never expires it */
	{ { 100, 0, 0 }, { 200, 0, 0 }, SECOND, 0, 100, 0, 0 },
};

static void run_life_row(size_t i, const struct life_row *r)
{
	struct ipk_sa_params p;
	struct events ev = { 0 };
	struct ipk_sa *sa;

	ipk_clock_set_fake(1000 * SEC);
	base_params(&p);
	p.soft = r->soft;
	p.hard = r->hard;
	assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
	sa->event = on_event;
	sa->event_arg = &ev;
	ev.sa = sa;
	for (unsigned s = 1; s <= r->steps; s++) {
		bool alive = !r->hard_at || s < r->hard_at, ok;

		ev.step = s;
		if (r->kind == PACKET) {
			ok = ipk_sa_account(sa, r->bytes);
		} else {
			ipk_clock_advance(SEC);
			ok = ipk_sa_usable(sa);
		}
		if (ok != alive || ipk_sa_usable(sa) != alive)
			fail_msg("row %zu step %u: ok %d usable %d, want %d", i, s, ok,
				 ipk_sa_usable(sa), alive);
		if (ev.soft != (r->soft_at && s >= r->soft_at) ||
		    ev.hard != (r->hard_at && s >= r->hard_at))
			fail_msg("row %zu step %u: %u soft and %u hard events", i, s, ev.soft,
				 ev.hard);
	}
	if (ev.soft_at != r->soft_at || ev.hard_at != r->hard_at || ev.wrong_sa)
		fail_msg("row %zu: events at %u/%u, want %u/%u", i, ev.soft_at, ev.hard_at,
			 r->soft_at, r->hard_at);
	/* Every packet is counted, the ones past the hard limit too. */
	if (r->kind == PACKET &&
	    (atomic_load(&sa->stats.packets) != r->steps ||
	     atomic_load(&sa->stats.bytes) != (uint64_t)r->steps * r->bytes))
		fail_msg("row %zu: counted %llu packets", i,
			 (unsigned long long)atomic_load(&sa->stats.packets));
	assert_int_equal(atomic_load(&sa->rt.dead), r->hard_at != 0);
	assert_int_equal(atomic_load(&sa->rt.soft_expired), r->soft_at != 0);
	ipk_sa_put(sa);
	ipk_clock_use_real();
}

static void lifetime_table(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(life_rows); i++)
		run_life_row(i, &life_rows[i]);
}

/* The seconds limits to the nanosecond, measured from creation, and no event hook. */
static void lifetime_seconds_edges(void **state)
{
	struct ipk_sa_params p;
	struct ipk_sa *sa;

	ipk_clock_set_fake(5 * SEC + 123);
	base_params(&p);
	p.soft.seconds = 10;
	p.hard.seconds = 20;
	assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
	ipk_clock_advance(10 * SEC - 1);
	assert_true(ipk_sa_usable(sa));
	assert_false(atomic_load(&sa->rt.soft_expired));
	ipk_clock_advance(1);
	assert_true(ipk_sa_usable(sa));
	assert_true(atomic_load(&sa->rt.soft_expired));
	ipk_clock_advance(10 * SEC - 1);
	assert_true(ipk_sa_usable(sa));
	ipk_clock_advance(1);
	assert_false(ipk_sa_usable(sa));
	assert_true(atomic_load(&sa->rt.dead));
	/* Dead stays dead, and accounting on a dead SA still reports it. */
	ipk_clock_set_fake(0);
	assert_false(ipk_sa_usable(sa));
	ipk_sa_put(sa);
	ipk_clock_use_real();
}

/* A killed SA is unusable whatever its lifetimes; killing raises no event. */
static void kill_marks_dead(void **state)
{
	struct ipk_sa_params p;
	struct events ev = { 0 };
	struct ipk_sa *sa;

	base_params(&p);
	assert_int_equal(ipk_sa_create(&sa, &p, 1, NULL), 0);
	sa->event = on_event;
	sa->event_arg = &ev;
	ev.sa = sa;
	assert_true(ipk_sa_usable(sa));
	ipk_sa_kill(sa);
	assert_false(ipk_sa_usable(sa));
	assert_int_equal(ev.soft + ev.hard, 0);
	ipk_sa_put(sa);
}

/* Each get is paired with a put; the SA lives until the last one. ASan reports a use
 * after free if it went early, LeakSanitizer if it never went. */
static void get_put_pairs(void **state)
{
	struct ipk_sa_params p;
	struct ipk_sa *sa;

	base_params(&p);
	p.dir = IPK_DIR_IN;
	assert_int_equal(ipk_sa_create(&sa, &p, 8, NULL), 0);
	for (int i = 0; i < 1000; i++)
		ipk_sa_get(sa);
	assert_int_equal(atomic_load(&sa->rt.refcnt), 1001);
	ipk_sa_kill(sa);
	for (int i = 0; i < 1000; i++) {
		ipk_sa_put(sa);
		assert_int_equal(atomic_load(&sa->rt.refcnt), 1000 - i);
		assert_int_equal(sa->rt.spi, 0x1000);
	}
	assert_int_equal(sa->params.auth_key[31], 0x40 + 31);
	ipk_sa_put(sa);
}

static void names(void **state)
{
	assert_string_equal(ipk_dir_name(IPK_DIR_IN), "in");
	assert_string_equal(ipk_dir_name(IPK_DIR_OUT), "out");
	assert_string_equal(ipk_mode_name(IPK_MODE_TUNNEL), "tunnel");
	assert_string_equal(ipk_mode_name(IPK_MODE_TRANSPORT), "transport");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_defaults),
		cmocka_unit_test(params_check_table),
		cmocka_unit_test(params_check_family_without_udp),
		cmocka_unit_test(create_builds_runtime),
		cmocka_unit_test(next_seq_table),
		cmocka_unit_test(next_seq_four_threads),
		cmocka_unit_test(lifetime_table),
		cmocka_unit_test(lifetime_seconds_edges),
		cmocka_unit_test(kill_marks_dead),
		cmocka_unit_test(get_put_pairs),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
