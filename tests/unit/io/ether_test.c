// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/io/ether.c: the link header of a frame (0, 1 or 2 VLAN tags) is taken
 * off and put back byte for byte, with the EtherType following the IP version; the L2
 * store survives ESP encapsulation and is not trusted in a copied or recycled buffer;
 * offloaded checksums are completed to the values scapy computes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/pkt.h"
#include "io/ether.h"
#include "io/port.h"

static struct ipk_pool *pool;

static int setup(void **state)
{
	return ipk_pool_create(&pool, 8, IPK_PKT_DEFAULT_ROOM);
}

static int teardown(void **state)
{
	assert_int_equal(ipk_pool_available(pool), 8);
	ipk_pool_destroy(pool);
	return 0;
}

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

#define MACS "020000000002" "020000000001"
#define IPV4 "4500001c000100004001f6dcc0000201c0000202" "08000000" "00000000"
#define IPV6 "6000000000083a40" "20010db8000000000000000000000001" \
	     "20010db8000000000000000000000002" "8000000000000000"

struct strip_row {
	const char *frame;
	enum ipk_ether_kind kind;
	uint32_t l2_len;
	uint16_t flag;   /* IPK_IO_F_L2 or IPK_IO_F_NOT_IP */
};

static const struct strip_row strip_rows[] = {
	/* 0 */ { MACS "0800" IPV4, IPK_ETHER_IPV4, 14, IPK_IO_F_L2 },
	/* 1 */ { MACS "86dd" IPV6, IPK_ETHER_IPV6, 14, IPK_IO_F_L2 },
	/* 2 */ { MACS "8100a064" "0800" IPV4, IPK_ETHER_IPV4, 18, IPK_IO_F_L2 },
	/* 3 */ { MACS "88a80064" "81000065" "86dd" IPV6, IPK_ETHER_IPV6, 22, IPK_IO_F_L2 },
	/* 4: three tags: more than a gateway strips */
	/* 4 */ { MACS "88a80001" "81000002" "81000003" "0800" IPV4, IPK_ETHER_OTHER, 0,
		  IPK_IO_F_NOT_IP },
	/* 5 */ { MACS "0806" "0001080006040001", IPK_ETHER_OTHER, 0, IPK_IO_F_NOT_IP },
	/* 6 */ { MACS "8100000a" "0806" "00010800", IPK_ETHER_OTHER, 0, IPK_IO_F_NOT_IP },
	/* 7 */ { "0200000000020200000000", IPK_ETHER_TRUNCATED, 0, IPK_IO_F_NOT_IP },
	/* 8: a tag announced but cut off */
	/* 8 */ { MACS "8100a0", IPK_ETHER_OTHER, 0, IPK_IO_F_NOT_IP },
};

static struct ipk_pkt *frame_pkt(const char *hex, uint32_t index)
{
	uint8_t bytes[256];
	size_t n = unhex(hex, bytes);
	struct ipk_pkt *pkt = ipk_pkt_from_bytes(pool, bytes, n);

	assert_non_null(pkt);
	pkt->index = index;
	return pkt;
}

static void strip_and_rebuild_table(void **state)
{
	for (size_t i = 0; i < sizeof(strip_rows) / sizeof(strip_rows[0]); i++) {
		const struct strip_row *r = &strip_rows[i];
		uint8_t orig[256];
		size_t n = unhex(r->frame, orig);
		struct ipk_pkt *pkt = frame_pkt(r->frame, 1000 + (uint32_t)i);

		print_message("row %zu\n", i);
		assert_int_equal(ipk_ether_strip(pkt), r->kind);
		assert_int_equal(pkt->meta.flags & (IPK_IO_F_L2 | IPK_IO_F_NOT_IP), r->flag);
		assert_int_equal(pkt->len, n - r->l2_len);
		assert_memory_equal(ipk_pkt_data(pkt), orig + r->l2_len, n - r->l2_len);
		if (r->flag == IPK_IO_F_L2) {
			assert_int_equal(pkt->meta.l3_family, r->kind);
			assert_int_equal(ipk_ether_saved(pkt)->len, r->l2_len);
		} else {
			assert_null(ipk_ether_saved(pkt));
		}
		/* Back to the frame it was, byte for byte (non-IP frames were never cut). */
		assert_true(ipk_ether_rebuild(pkt));
		assert_int_equal(pkt->len, n);
		assert_memory_equal(ipk_pkt_data(pkt), orig, n);
		assert_int_equal(ipk_pkt_headroom(pkt), IPK_PKT_HEADROOM);
		/* A second rebuild adds nothing. */
		if (r->flag == IPK_IO_F_L2)
			assert_false(ipk_ether_rebuild(pkt));
		ipk_pkt_free(pkt);
	}
}

/* Tunnel mode: an IPv4 frame leaves carrying an IPv6 packet (and the reverse): only the
 * innermost EtherType changes; the tags and MACs stay. */
static void ethertype_follows_the_ip_version(void **state)
{
	static const struct {
		const char *frame, *new_ip, *expect_l2;
	} rows[] = {
		/* 0 */ { MACS "0800" IPV4, IPV6, MACS "86dd" },
		/* 1 */ { MACS "8100a064" "86dd" IPV6, IPV4, MACS "8100a064" "0800" },
		/* 2 */ { MACS "88a80064" "81000065" "0800" IPV4, IPV6,
			  MACS "88a80064" "81000065" "86dd" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t ip[128], l2[32], hdr[IPK_ETHER_MAX_HDR];
		size_t ip_len = unhex(rows[i].new_ip, ip), l2_len = unhex(rows[i].expect_l2, l2);
		struct ipk_pkt *pkt = frame_pkt(rows[i].frame, 7);

		print_message("row %zu\n", i);
		assert_int_not_equal(ipk_ether_strip(pkt), IPK_ETHER_OTHER);
		pkt->len = 0;
		memcpy(ipk_pkt_put(pkt, (uint32_t)ip_len), ip, ip_len);
		assert_int_equal(ipk_ether_header(pkt, hdr), l2_len);
		assert_memory_equal(hdr, l2, l2_len);
		assert_true(ipk_ether_rebuild(pkt));
		assert_memory_equal(ipk_pkt_data(pkt), l2, l2_len);
		assert_memory_equal(ipk_pkt_data(pkt) + l2_len, ip, ip_len);
		ipk_pkt_free(pkt);
	}
}

/* ESP encapsulation pushes up to 72 bytes in front of the data and writes them: the store
 * below is untouched and the frame is rebuilt in front of the new outer header. */
static void store_survives_encapsulation(void **state)
{
	uint8_t l2[32];
	size_t l2_len = unhex(MACS "8100a064" "0800", l2);
	struct ipk_pkt *pkt = frame_pkt(MACS "8100a064" "0800" IPV4, 9);
	uint8_t *outer;

	assert_int_equal(ipk_ether_strip(pkt), IPK_ETHER_IPV4);
	/* Down to IPK_PKT_HEADROOM - 72, the lowest an outer header reaches. */
	outer = ipk_pkt_push(pkt, 72 + (uint32_t)l2_len);
	assert_non_null(outer);
	memset(outer, 0xee, 72 + l2_len);
	outer[0] = 0x45;
	assert_true(ipk_ether_rebuild(pkt));
	assert_memory_equal(ipk_pkt_data(pkt), l2, l2_len);
	assert_int_equal(ipk_pkt_data(pkt)[l2_len], 0x45);
	assert_true(ipk_pkt_headroom(pkt) >= IPK_ETHER_STORE_SIZE);
	ipk_pkt_free(pkt);
}

/* A store is trusted only in the buffer, and for the frame number, it was written for. */
static void stale_store_is_not_trusted(void **state)
{
	struct ipk_pkt *a = frame_pkt(MACS "0800" IPV4, 41);
	struct ipk_pkt *b = frame_pkt(MACS "0800" IPV4, 40);

	assert_int_equal(ipk_ether_strip(b), IPK_ETHER_IPV4); /* b's store: tag 40 */
	assert_int_equal(ipk_ether_strip(a), IPK_ETHER_IPV4); /* a's store: tag 41 */
	/* Reassembly copies a's metadata and number into another buffer (b's). */
	b->meta = a->meta;
	b->index = a->index;
	assert_null(ipk_ether_saved(b));
	assert_false(ipk_ether_rebuild(b));
	assert_non_null(ipk_ether_saved(a));
	/* Without the flag, even a matching store is not used. */
	a->meta.flags &= (uint16_t)~IPK_IO_F_L2;
	assert_null(ipk_ether_saved(a));
	ipk_pkt_free(a);
	ipk_pkt_free(b);
}

/* An answer about a frame (an ICMP error the engine made, core/pkt.h ipk_pkt_reply_to)
 * goes back to the frame's sender: same tags, MAC addresses swapped, EtherType of the
 * answer's IP version; the frame it answers keeps its header. */
static void reply_goes_back_to_the_sender(void **state)
{
	static const struct {
		const char *frame, *reply_ip, *expect_l2;
	} rows[] = {
		/* 0 */ { MACS "0800" IPV4, IPV4, "020000000001" "020000000002" "0800" },
		/* 1 */ { MACS "8100a064" "86dd" IPV6, IPV6,
			  "020000000001" "020000000002" "8100a064" "86dd" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t ip[128], l2[32], hdr[IPK_ETHER_MAX_HDR];
		size_t ip_len = unhex(rows[i].reply_ip, ip), l2_len = unhex(rows[i].expect_l2, l2);
		struct ipk_pkt *orig = frame_pkt(rows[i].frame, 70 + (uint32_t)i);
		struct ipk_pkt *reply = ipk_pkt_alloc(pool);

		print_message("row %zu\n", i);
		assert_non_null(reply);
		assert_int_not_equal(ipk_ether_strip(orig), IPK_ETHER_OTHER);
		memcpy(ipk_pkt_put(reply, (uint32_t)ip_len), ip, ip_len);
		assert_int_equal(ipk_ether_header(reply, hdr), 0); /* nothing saved yet */
		ipk_pkt_reply_to(reply, orig);
		assert_true(ipk_ether_rebuild(reply));
		assert_memory_equal(ipk_pkt_data(reply), l2, l2_len);
		assert_memory_equal(ipk_pkt_data(reply) + l2_len, ip, ip_len);
		assert_true(ipk_ether_rebuild(orig));
		assert_memory_equal(ipk_pkt_data(orig), "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
		ipk_pkt_free(reply);
		ipk_pkt_free(orig);
	}
}

/* Offloaded checksums: the field holds only the pseudo-header sum (as the kernel leaves
 * it for CHECKSUM_PARTIAL). Expected values computed by scapy. */
static void checksums_completed(void **state)
{
	static const struct {
		const char *ip;
		uint32_t field;  /* offset of the checksum */
		uint16_t expect;
	} rows[] = {
		/* 0: TCP/IPv4 */
		{ "4500003300010000400666c20a0000010a0000029c40005000000001000000005002ffff"
		  "6d75000068656c6c6f20776f726c64", 36, 0x6d75 },
		/* 1: UDP/IPv4 */
		{ "450000230002000040118e8cc0000201c633640713880035000f6ea961626364656667", 26,
		  0x6ea9 },
		/* 2: TCP/IPv6 */
		{ "600000000018064020010db800000000000000000000000120010db80000000000000000"
		  "0000000204d201bb0000000700000000501802005925000078797a21", 56, 0x5925 },
		/* 3: UDP/IPv6 */
		{ "60000000000f1140fd000000000000000000000000000001fd000000000000000000000000"
		  "00000211941194000ff94000000001706179", 46, 0xf940 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t ip[128];
		size_t n = unhex(rows[i].ip, ip);

		print_message("row %zu\n", i);
		/* Partial: some other value in the field, e.g. the folded pseudo-header sum. */
		ip[rows[i].field] = 0x12;
		ip[rows[i].field + 1] = 0x34;
		assert_true(ipk_ether_csum_complete(ip, (uint32_t)n));
		assert_int_equal(ip[rows[i].field] << 8 | ip[rows[i].field + 1], rows[i].expect);
	}
}

static void checksums_left_alone(void **state)
{
	uint8_t ip[64], before[64];
	/* 0: ICMP; 1: a TCP fragment (MF set); 2: cut short */
	const char *rows[] = {
		IPV4,
		"4500003300012000400646c20a0000010a0000029c40005000000001000000005002ffff"
		"6d75000068656c6c6f20776f726c64",
		"4500003300010000400666c20a0000010a000002",
	};

	for (size_t i = 0; i < 3; i++) {
		size_t n = unhex(rows[i], ip);

		print_message("row %zu\n", i);
		memcpy(before, ip, n);
		assert_false(ipk_ether_csum_complete(ip, (uint32_t)n));
		assert_memory_equal(ip, before, n);
	}
}

static void tag_copied_back_in(void **state)
{
	uint8_t in[64], expect[64], out[64];
	size_t n = unhex(MACS "0800" "4500", in);
	size_t m = unhex(MACS "8100" "a064" "0800" "4500", expect);

	assert_int_equal(ipk_ether_copy_tagged(out, in, (uint32_t)n, 0x8100, 0xa064), m);
	assert_memory_equal(out, expect, m);
	n = unhex(MACS "86dd", in);
	m = unhex(MACS "88a8" "0fff" "86dd", expect);
	assert_int_equal(ipk_ether_copy_tagged(out, in, (uint32_t)n, 0x88a8, 0x0fff), m);
	assert_memory_equal(out, expect, m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strip_and_rebuild_table),
		cmocka_unit_test(ethertype_follows_the_ip_version),
		cmocka_unit_test(store_survives_encapsulation),
		cmocka_unit_test(stale_store_is_not_trusted),
		cmocka_unit_test(reply_goes_back_to_the_sender),
		cmocka_unit_test(checksums_completed),
		cmocka_unit_test(checksums_left_alone),
		cmocka_unit_test(tag_copied_back_in),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
