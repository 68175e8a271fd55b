// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/io/dgram.c: headers rebuilt from what a socket hands over (addresses and
 * ancillary data) are byte-exact and parse as the ESP layer expects; outgoing packets are
 * split into destination, marks and the kernel's part; control messages round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "core/drop.h"
#include "io/dgram.h"
#include "proto/esp.h"
#include "proto/ip.h"

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

static struct ipk_addr addr(const char *text)
{
	struct ipk_addr a;

	assert_int_equal(ipk_addr_parse(text, &a), 0);
	return a;
}

/* The IPv6 header of a raw ESP payload: traffic class split over two bytes, payload
 * length, next header 50, hop limit; defaults when the kernel reported no marks. */
static void ipv6_header_from_ancillary_data(void **state)
{
	static const struct {
		uint8_t tos, ttl;
		bool has;
		uint32_t payload;
		const char *expect;
	} rows[] = {
		/* 0 */ { 0xb9, 33, true, 16, "6b9000000010322120010db8000000000000000000000001"
					     "20010db8000000000000000000000002" },
		/* 1 */ { 0xb9, 33, false, 16, "600000000010324020010db8000000000000000000000001"
					      "20010db8000000000000000000000002" },
		/* 2 */ { 0x03, 255, true, 1400, "60300000057832ff20010db8000000000000000000000001"
						"20010db8000000000000000000000002" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ipk_dgram_info info = {
			.src = addr("2001:db8::1"), .dst = addr("2001:db8::2"),
			.tos = rows[i].tos, .ttl = rows[i].ttl,
			.has_tos = rows[i].has, .has_ttl = rows[i].has,
		};
		uint8_t hdr[40], expect[40];

		print_message("row %zu\n", i);
		unhex(rows[i].expect, expect);
		ipk_dgram_build_ipv6(hdr, &info, IPK_PROTO_ESP, rows[i].payload);
		assert_memory_equal(hdr, expect, 40);
	}
}

/* IP + UDP headers around a received UDP payload (RFC 3948): byte-exact (expected bytes
 * from scapy), the ESP layer finds ESP right after them, a keepalive is a keepalive. */
static void udp_headers_rebuilt(void **state)
{
	static const struct {
		const char *src, *dst;
		uint16_t sport;
		uint8_t tos, ttl;
		const char *payload;
		const char *expect_hdr;    /* NULL: checked by parsing only (IPv6) */
		int locate;                /* what ipk_esp_locate says */
		uint32_t esp_off;
	} rows[] = {
		/* 0 */ { "192.0.2.1", "198.51.100.7", 4500, 0xb9, 33, "000000010000000100",
			  "45b90025000000002111acd3c0000201c63364071194119400110000", 0, 28 },
		/* 1 */ { "10.0.0.2", "10.0.0.1", 40000, 0, 64, "ff",
			  "4500001d00000000401166ce0a0000020a0000019c40119400090000",
			  IPK_DROP_NAT_KEEPALIVE, 0 },
		/* 2 */ { "fd00::2", "fd00::1", 4500, 0x2e, 7, "1000abcd00000005aabbccdd", NULL, 0,
			  48 },
		/* 3 */ { "fd00::2", "fd00::1", 4500, 0, 64, "00000000aabbccdd", NULL,
			  IPK_DROP_NON_ESP_MARKER, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ipk_dgram_info info = {
			.src = addr(rows[i].src), .dst = addr(rows[i].dst),
			.src_port = rows[i].sport, .dst_port = 4500,
			.tos = rows[i].tos, .ttl = rows[i].ttl, .has_tos = true, .has_ttl = true,
		};
		uint8_t pkt[128], expect[64];
		struct ipk_ip_info ip;
		uint32_t hl = ipk_dgram_udp_hdr_len(info.src.family), esp_off = 0, spi = 0;
		size_t n = unhex(rows[i].payload, pkt + hl);

		print_message("row %zu\n", i);
		assert_int_equal(ipk_dgram_build_udp(pkt, &info, (uint32_t)n), hl);
		if (rows[i].expect_hdr) {
			assert_int_equal(unhex(rows[i].expect_hdr, expect), hl);
			assert_memory_equal(pkt, expect, hl);
		}
		assert_int_equal(ipk_ip_parse(pkt, hl + n, &ip), 0);
		assert_int_equal(ip.total_len, hl + n);
		assert_int_equal(ip.proto, IPK_PROTO_UDP);
		assert_int_equal(ipk_ip_get_tos(pkt), rows[i].tos);
		assert_true(ipk_addr_equal(&ip.src, &info.src));
		assert_int_equal(ipk_esp_locate(pkt, hl + n, &ip, 4500, &esp_off, &spi),
				 rows[i].locate);
		if (!rows[i].locate)
			assert_int_equal(esp_off, rows[i].esp_off);
	}
}

/* Control messages as the kernel writes them: IP_TOS as one byte, the others as ints,
 * packet info structures, SO_RXQ_OVFL; a truncated one is ignored. */
static void ancillary_data_parsed(void **state)
{
	union {
		uint8_t buf[512];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct in_pktinfo pi = { .ipi_ifindex = 7 };
	struct in6_pktinfo pi6 = { .ipi6_ifindex = 9 };
	struct ipk_dgram_info info = { .ifindex = 0 };
	struct cmsghdr *c;
	uint8_t tos = 0xb8;
	int ttl = 17, tclass = 0x2e, hops = 3;
	uint32_t drops = 12;
	struct ipk_addr want4 = addr("192.0.2.9"), want6 = addr("2001:db8::9");

	memset(u.buf, 0, sizeof(u.buf));
	inet_pton(AF_INET, "192.0.2.9", &pi.ipi_addr);
	inet_pton(AF_INET6, "2001:db8::9", &pi6.ipi6_addr);
	c = CMSG_FIRSTHDR(&msg);
#define PUT(level, type, val)                                                                 \
	do {                                                                                  \
		c->cmsg_level = level;                                                        \
		c->cmsg_type = type;                                                          \
		c->cmsg_len = CMSG_LEN(sizeof(val));                                          \
		memcpy(CMSG_DATA(c), &(val), sizeof(val));                                    \
		c = CMSG_NXTHDR(&msg, c);                                                     \
	} while (0)
	PUT(IPPROTO_IP, IP_PKTINFO, pi);
	PUT(IPPROTO_IP, IP_TOS, tos);
	PUT(IPPROTO_IP, IP_TTL, ttl);
	PUT(SOL_SOCKET, SO_RXQ_OVFL, drops);
	msg.msg_controllen = (size_t)((uint8_t *)c - u.buf);
	ipk_dgram_parse_cmsg(&msg, &info);
	assert_true(ipk_addr_equal(&info.dst, &want4));
	assert_int_equal(info.ifindex, 7);
	assert_true(info.has_tos && info.has_ttl && info.has_drops);
	assert_int_equal(info.tos, 0xb8);
	assert_int_equal(info.ttl, 17);
	assert_int_equal(info.drops, 12);

	memset(&info, 0, sizeof(info));
	memset(u.buf, 0, sizeof(u.buf));
	msg.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&msg);
	PUT(IPPROTO_IPV6, IPV6_PKTINFO, pi6);
	PUT(IPPROTO_IPV6, IPV6_TCLASS, tclass);
	PUT(IPPROTO_IPV6, IPV6_HOPLIMIT, hops);
	/* A packet-info too short to hold the structure: ignored. */
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(4);
	c = CMSG_NXTHDR(&msg, c);
	msg.msg_controllen = (size_t)((uint8_t *)c - u.buf);
	ipk_dgram_parse_cmsg(&msg, &info);
	assert_true(ipk_addr_equal(&info.dst, &want6));
	assert_int_equal(info.ifindex, 9);
	assert_int_equal(info.tos, 0x2e);
	assert_int_equal(info.ttl, 3);
	assert_false(info.has_drops);
#undef PUT
}

static void socket_addresses(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 mapped = { .sin6_family = AF_INET6, .sin6_port = htons(4500) };
	struct ipk_addr a, v4 = addr("192.0.2.1"), v6 = addr("2001:db8::1");
	uint16_t port;

	assert_int_equal(ipk_dgram_to_sockaddr(&v4, 4500, &ss), sizeof(struct sockaddr_in));
	ipk_dgram_from_sockaddr((struct sockaddr *)&ss, &a, &port);
	assert_true(ipk_addr_equal(&a, &v4));
	assert_int_equal(port, 4500);
	assert_int_equal(ipk_dgram_to_sockaddr(&v6, 500, &ss), sizeof(struct sockaddr_in6));
	ipk_dgram_from_sockaddr((struct sockaddr *)&ss, &a, &port);
	assert_true(ipk_addr_equal(&a, &v6));
	assert_int_equal(port, 500);
	/* ::ffff:192.0.2.1 is the IPv4 peer it stands for. */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &mapped.sin6_addr);
	ipk_dgram_from_sockaddr((struct sockaddr *)&mapped, &a, &port);
	assert_true(ipk_addr_equal(&a, &v4));
}

/* Outgoing packets: which part the kernel takes, and the refusals. */
static void outgoing_packets_split(void **state)
{
	static const struct {
		uint8_t proto;
		const char *pkt;
		int rc;
		uint32_t off, len;
		uint16_t dport;
	} rows[] = {
		/* 0: ESP/IPv4 */
		{ 50, "450000240000400040320000c0000201c000020200000001000000010000000000000000",
		  0, 20, 16, 0 },
		/* 1: ESP/IPv6 */
		{ 50, "6b900000000832212001 0db8000000000000000000000001"
		      "20010db80000000000000000000000020000000100000001", 0, 40, 8, 0 },
		/* 2: ESP after a destination options header */
		{ 50, "600000000010 3c4020010db8000000000000000000000001"
		      "20010db8000000000000000000000002" "3200010400000000"
		      "0000000100000001", IPK_DROP_UNSUPPORTED, 0, 0, 0 },
		/* 3: TCP on the ESP port */
		{ 50, "450000280000400040060000c0000201c00002020000000000000000000000005000000000000000",
		  IPK_DROP_NOT_ESP, 0, 0, 0 },
		/* 4: UDP to 4500, 4 bytes of ESP */
		{ 17, "450000200000400040110000c0000201c000020211941194000c000000000001",
		  0, 28, 4, 4500 },
		/* 5: UDP length beyond the packet */
		{ 17, "450000200000400040110000c0000201c000020211941194004c000000000001",
		  IPK_DROP_IP_LENGTH_MISMATCH, 0, 0, 0 },
		/* 6: an IPv4 fragment (MF) */
		{ 50, "450000240000200040320000c0000201c000020200000001000000010000000000000000",
		  IPK_DROP_UNSUPPORTED, 0, 0, 0 },
		/* 7: version 5 */
		{ 50, "550000240000400040320000c0000201c000020200000001", IPK_DROP_BAD_IP_VERSION,
		  0, 0, 0 },
		/* 8: cut inside the header */
		{ 50, "45000024000040004032", IPK_DROP_TRUNCATED_IP, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t pkt[128];
		char hex[512];
		size_t n, k = 0;
		struct ipk_dgram_info info;
		uint32_t off = 0, len = 0;

		for (const char *p = rows[i].pkt; *p; p++)
			if (*p != ' ')
				hex[k++] = *p;
		hex[k] = '\0';
		n = unhex(hex, pkt);
		if (pkt[0] >> 4 == 4 && n >= 20)
			ipk_ipv4_set_checksum(pkt);
		print_message("row %zu\n", i);
		assert_int_equal(ipk_dgram_parse_out(pkt, (uint32_t)n, rows[i].proto, &info, &off,
						     &len), rows[i].rc);
		if (rows[i].rc)
			continue;
		assert_int_equal(off, rows[i].off);
		assert_int_equal(len, rows[i].len);
		assert_int_equal(info.dst_port, rows[i].dport);
		assert_int_equal(info.tos, ipk_ip_get_tos(pkt));
	}
}

/* Control messages for sendmsg(): sizes add up, and what the receive side would read back
 * is what went in (IPv6, where both directions use the same structures). */
static void send_control_messages(void **state)
{
	uint8_t buf[IPK_DGRAM_CMSG_SPACE] __attribute__((aligned(8)));
	struct ipk_dgram_info out = { .src = addr("2001:db8::5"), .tos = 0xb9, .ttl = 9 };
	struct ipk_dgram_info back = { .ifindex = 0 };
	struct msghdr msg = { .msg_control = buf };
	struct ipk_dgram_info v4 = { .src = addr("192.0.2.5"), .tos = 0x10, .ttl = 1 };
	struct in_pktinfo pi;

	msg.msg_controllen = ipk_dgram_build_cmsg(buf, sizeof(buf), &out, IPK_DGRAM_CMSG_SRC |
						  IPK_DGRAM_CMSG_TOS | IPK_DGRAM_CMSG_TTL);
	assert_int_equal(msg.msg_controllen, CMSG_SPACE(sizeof(struct in6_pktinfo)) +
					     2 * CMSG_SPACE(sizeof(int)));
	ipk_dgram_parse_cmsg(&msg, &back);
	assert_true(ipk_addr_equal(&back.dst, &out.src));
	assert_int_equal(back.tos, 0xb9);
	assert_int_equal(back.ttl, 9);

	assert_int_equal(ipk_dgram_build_cmsg(buf, sizeof(buf), &out, 0), 0);
	assert_int_equal(ipk_dgram_build_cmsg(buf, 8, &out, IPK_DGRAM_CMSG_TOS), 0);
	msg.msg_controllen = ipk_dgram_build_cmsg(buf, sizeof(buf), &v4, IPK_DGRAM_CMSG_SRC |
						  IPK_DGRAM_CMSG_TTL);
	assert_int_equal(msg.msg_controllen, CMSG_SPACE(sizeof(pi)) + CMSG_SPACE(sizeof(int)));
	memcpy(&pi, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(pi));
	assert_memory_equal(&pi.ipi_spec_dst, v4.src.bytes, 4);
	assert_int_equal(CMSG_NXTHDR(&msg, CMSG_FIRSTHDR(&msg))->cmsg_type, IP_TTL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv6_header_from_ancillary_data),
		cmocka_unit_test(udp_headers_rebuilt),
		cmocka_unit_test(ancillary_data_parsed),
		cmocka_unit_test(socket_addresses),
		cmocka_unit_test(outgoing_packets_split),
		cmocka_unit_test(send_control_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
