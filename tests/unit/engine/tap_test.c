// SPDX-License-Identifier: BSD-2-Clause
/*
 * The capture tap (src/engine/tap.c): configuration limits, a full ring counts skips and
 * keeps the count, the count stops the capture, snap length, attach/detach, the pcap file
 * read back by libpcap with the exact bytes, and several producers against the writer
 * thread while the tap is detached under them.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/pkt.h"
#include "engine/tap.h"

static char path[64];
static struct ipk_pool *pool;

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ipk-tap-test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ipk_pool_create(&pool, 64, IPK_PKT_DEFAULT_ROOM), 0);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	ipk_pool_destroy(pool);
	return 0;
}

/* An IPv4-looking packet of @len bytes whose body encodes @id. */
static struct ipk_pkt *make_pkt(uint32_t id, uint32_t len)
{
	uint8_t data[2048];

	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(id * 7 + i);
	data[0] = 0x45;
	memcpy(data + 4, &id, sizeof(id));
	return ipk_pkt_from_bytes(pool, data, len);
}

static void pass_n(struct ipk_tap_point *tp, uint32_t first, uint32_t n, uint32_t len)
{
	for (uint32_t i = 0; i < n; i++) {
		struct ipk_pkt *pkt = make_pkt(first + i, len);

		assert_non_null(pkt);
		ipk_tap_hook(tp, pkt);
		ipk_pkt_free(pkt);
	}
}

static struct ipk_tap *new_tap(uint64_t count, uint32_t slots, uint32_t snap)
{
	struct ipk_tap_config cfg = { .count = count, .slots = slots, .snap_bytes = snap };
	struct ipk_tap *tap = NULL;
	struct ipk_err err;

	assert_int_equal(ipk_tap_create(&tap, &cfg, path, &err), 0);
	return tap;
}

/* Reads the file back; checks link type and that record i holds packet ids[i] with
 * @len bytes (@caplen kept). Returns the record count. */
static unsigned read_back(const uint32_t *ids, unsigned max, uint32_t len, uint32_t caplen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned n = 0;
	time_t now = time(NULL);
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	while (pcap_next_ex(p, &h, &data) == 1) {
		struct ipk_pkt *want;

		assert_true(n < max);
		want = make_pkt(ids[n], len);
		assert_int_equal(h->len, len);
		assert_int_equal(h->caplen, caplen);
		assert_memory_equal(data, ipk_pkt_data(want), caplen);
		/* Wall-clock timestamps, within a minute of now. */
		assert_true(h->ts.tv_sec > now - 60 && h->ts.tv_sec <= now + 1);
		ipk_pkt_free(want);
		n++;
	}
	pcap_close(p);
	return n;
}

static void test_config_limits(void **state)
{
	static const struct {
		uint64_t count;
		uint32_t slots, snap;
		int rc;
	} rows[] = {
		/* 0 */ { 1, 2, 64, 0 },
		/* 1 */ { 0, 8, 256, -EINVAL },
		/* 2 */ { IPK_TAP_MAX_COUNT + 1ull, 8, 256, -EINVAL },
		/* 3 */ { 10, 3, 256, -EINVAL },
		/* 4 */ { 10, 1, 256, -EINVAL },
		/* 5 */ { 10, IPK_TAP_MAX_SLOTS * 2, 256, -EINVAL },
		/* 6 */ { 10, 8, 63, -EINVAL },
		/* 7 */ { 10, 8, IPK_TAP_MAX_SNAP + 1, -EINVAL },
	};

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ipk_tap_config cfg = { rows[i].count, rows[i].slots, rows[i].snap };
		struct ipk_tap *tap = NULL;
		struct ipk_err err;
		int rc = ipk_tap_create(&tap, &cfg, path, &err);

		if (rc != rows[i].rc)
			fail_msg("row %u: %d, expected %d", i, rc, rows[i].rc);
		ipk_tap_destroy(tap, NULL);
	}
}

static void test_bad_path(void **state)
{
	struct ipk_tap_config cfg;
	struct ipk_tap *tap = NULL;
	char link[80];
	struct ipk_err err;

	ipk_tap_config_init(&cfg);
	assert_int_equal(ipk_tap_create(&tap, &cfg, "/nonexistent-dir/x.pcap", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot create"));
	/* A symbolic link is not followed (the daemon runs as root). */
	snprintf(link, sizeof(link), "%s.lnk", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(ipk_tap_create(&tap, &cfg, link, &err), -ELOOP);
	unlink(link);
}

/* Ring of 4, nothing flushing: 4 copied, 6 skipped; the skips do not use up the count,
 * so after a flush the next packets are taken. */
static void test_ring_full(void **state)
{
	struct ipk_tap_point tp = { 0 };
	struct ipk_tap *tap = new_tap(100, 4, 2048);
	struct ipk_tap_stats st;
	uint32_t ids[] = { 0, 1, 2, 3, 20, 21 };

	assert_int_equal(ipk_tap_attach(&tp, tap), 0);
	pass_n(&tp, 0, 10, 300);
	ipk_tap_stats_read(tap, &st);
	assert_int_equal(st.taken, 4);
	assert_int_equal(st.skipped, 6);
	assert_int_equal(st.written, 0);
	assert_int_equal(ipk_tap_flush(tap), 4);
	pass_n(&tp, 20, 2, 300);
	assert_int_equal(ipk_tap_flush(tap), 2);
	assert_ptr_equal(ipk_tap_detach(&tp), tap);
	ipk_tap_destroy(tap, &st);
	assert_int_equal(st.written, 6);
	assert_int_equal(st.skipped, 6);
	assert_true(st.done);
	assert_int_equal(read_back(ids, 6, 300, 300), 6);
}

/* count 5: the tap takes 5 packets, then nothing (no skips counted), and closes the
 * file once they are written. */
static void test_count_stop(void **state)
{
	struct ipk_tap_point tp = { 0 };
	struct ipk_tap *tap = new_tap(5, 8, 2048);
	struct ipk_tap_stats st;
	uint32_t ids[] = { 0, 1, 2, 100, 101 };

	assert_int_equal(ipk_tap_attach(&tp, tap), 0);
	pass_n(&tp, 0, 3, 1400);
	assert_int_equal(ipk_tap_flush(tap), 3);
	ipk_tap_stats_read(tap, &st);
	assert_false(st.done);
	pass_n(&tp, 100, 10, 1400);
	ipk_tap_stats_read(tap, &st);
	assert_int_equal(st.taken, 5);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(ipk_tap_flush(tap), 2);
	ipk_tap_stats_read(tap, &st);
	assert_int_equal(st.written, 5);
	assert_true(st.done);
	pass_n(&tp, 200, 3, 1400);
	assert_int_equal(ipk_tap_flush(tap), 0);
	/* The file is complete before the tap is freed. */
	assert_int_equal(read_back(ids, 5, 1400, 1400), 5);
	ipk_tap_detach(&tp);
	ipk_tap_destroy(tap, &st);
	assert_int_equal(st.written, 5);
}

/* Packets longer than the snap length keep their first snap_bytes and their length. */
static void test_snap(void **state)
{
	struct ipk_tap_point tp = { 0 };
	struct ipk_tap *tap = new_tap(2, 4, 64);
	uint32_t ids[] = { 7, 8 };

	assert_int_equal(ipk_tap_attach(&tp, tap), 0);
	pass_n(&tp, 7, 2, 1000);
	ipk_tap_detach(&tp);
	ipk_tap_destroy(tap, NULL);
	assert_int_equal(read_back(ids, 2, 1000, 64), 2);
}

/* One tap per point; a detached point costs nothing and copies nothing. */
static void test_attach_detach(void **state)
{
	struct ipk_tap_point tp = { 0 };
	struct ipk_tap *a = new_tap(10, 4, 128), *b;
	struct ipk_tap_stats st;

	assert_null(ipk_tap_detach(&tp));
	assert_int_equal(ipk_tap_attach(&tp, a), 0);
	b = a;
	assert_int_equal(ipk_tap_attach(&tp, b), -EBUSY);
	assert_ptr_equal(ipk_tap_detach(&tp), a);
	pass_n(&tp, 0, 3, 100);
	ipk_tap_stats_read(a, &st);
	assert_int_equal(st.taken + st.skipped, 0);
	assert_int_equal(atomic_load(&tp.passing), 0);
	ipk_tap_destroy(a, &st);
	assert_true(st.done);
	assert_int_equal(st.written, 0);
}

#define PRODUCERS 4
#define PER_PRODUCER 5000000u /* at most; they stop when told */

static atomic_bool producers_stop;

struct producer {
	struct ipk_tap_point *tp;
	uint32_t id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct ipk_pool *mine;

	/* A pool each: the shared pool's lock would serialise the producers. */
	assert_int_equal(ipk_pool_create(&mine, 4, IPK_PKT_DEFAULT_ROOM), 0);
	for (uint32_t i = 0; i < PER_PRODUCER && !atomic_load(&producers_stop); i++) {
		uint32_t tag[16] = { p->id, i };
		struct ipk_pkt *pkt = ipk_pkt_from_bytes(mine, tag, sizeof(tag));

		ipk_tap_hook(p->tp, pkt);
		ipk_pkt_free(pkt);
	}
	ipk_pool_destroy(mine);
	return NULL;
}

/* Four producers against the writer thread on a small ring; the tap is detached and freed
 * while they still pass packets. Every packet taken is written, once, with its producer's
 * packets in order. */
static void test_concurrent(void **state)
{
	struct ipk_tap_point tp = { 0 };
	struct ipk_tap *tap = new_tap(IPK_TAP_MAX_COUNT, 64, 128);
	struct producer prod[PRODUCERS];
	pthread_t th[PRODUCERS];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t next[PRODUCERS] = { 0 };
	struct ipk_tap_stats st;
	uint64_t records = 0;
	pcap_t *p;

	assert_int_equal(ipk_tap_start(tap), 0);
	assert_int_equal(ipk_tap_attach(&tp, tap), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		prod[i] = (struct producer){ &tp, i };
		assert_int_equal(pthread_create(&th[i], NULL, produce, &prod[i]), 0);
	}
	/* Detach while they run, once the writer has written a few laps of the ring
	 * (bounded wait). */
	for (int i = 0; i < 5000; i++) {
		ipk_tap_stats_read(tap, &st);
		if (st.written >= 2000)
			break;
		usleep(1000);
	}
	assert_ptr_equal(ipk_tap_detach(&tp), tap);
	ipk_tap_destroy(tap, &st);
	atomic_store(&producers_stop, true);
	for (uint32_t i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(st.written, st.taken);
	assert_true(st.written >= 2000);
	assert_true(st.taken + st.skipped <= PRODUCERS * PER_PRODUCER);
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	assert_non_null(p);
	while (pcap_next_ex(p, &h, &data) == 1) {
		uint32_t tag[2];

		assert_int_equal(h->caplen, 64);
		memcpy(tag, data, sizeof(tag));
		assert_true(tag[0] < PRODUCERS);
		/* In order per producer, each packet at most once. */
		assert_true(tag[1] >= next[tag[0]]);
		next[tag[0]] = tag[1] + 1;
		records++;
	}
	pcap_close(p);
	assert_int_equal(records, st.written);
	print_message("concurrent: %llu written, %llu skipped\n",
		      (unsigned long long)st.written, (unsigned long long)st.skipped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_detach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
