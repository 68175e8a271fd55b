// SPDX-License-Identifier: BSD-2-Clause
/* Tests for src/core/addr.c: address and prefix parsing (host bits beyond the length are
 * refused), /0, /32 and /128, prefix membership at both edges of each prefix, and that an
 * IPv4 address never matches an IPv6 prefix or equals an IPv6 address, even when their
 * leading bytes agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "core/addr.h"
#include "core/compiler.h"

static void addr_parse_table(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint8_t family;
		uint8_t bytes[16];
	} rows[] = {
		/* 0 */ { "192.0.2.1", 0, 4, { 192, 0, 2, 1 } },
		/* 1 */ { "0.0.0.0", 0, 4, { 0 } },
		/* 2 */ { "255.255.255.255", 0, 4, { 255, 255, 255, 255 } },
		/* 3 */ { "2001:db8::1", 0, 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
		/* 4 */ { "::", 0, 6, { 0 } },
		/* 5 */ { "::1", 0, 6, { [15] = 1 } },
		/* 6 */ { "::ffff:192.0.2.1", 0, 6, { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 } },
		/* 7 */ { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 6,
			  { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0xff, 0xff, 0xff, 0xff } },
		/* 8 */ { "256.0.0.1", -EINVAL, 0, { 0 } },
		/* 9 */ { "1.2.3", -EINVAL, 0, { 0 } },
		/* 10 */ { "1.2.3.4.5", -EINVAL, 0, { 0 } },
		/* 11 */ { "", -EINVAL, 0, { 0 } },
		/* 12 */ { " 1.2.3.4", -EINVAL, 0, { 0 } },
		/* 13 */ { "1.2.3.4 ", -EINVAL, 0, { 0 } },
		/* 14 */ { "10.0.0.0/8", -EINVAL, 0, { 0 } },
		/* 15 */ { "2001:db8::/32", -EINVAL, 0, { 0 } },
		/* 16 */ { "2001:db8:::1", -EINVAL, 0, { 0 } },
		/* 17 */ { "1:2:3:4:5:6:7:8:9", -EINVAL, 0, { 0 } },
		/* 18 */ { "fe80::1%eth0", -EINVAL, 0, { 0 } },
		/* 19 */ { "gateway", -EINVAL, 0, { 0 } },
		/* 20 */ { "0x0a000001", -EINVAL, 0, { 0 } },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_addr a;
		int rc;

		memset(&a, 0x5a, sizeof(a));
		rc = ipk_addr_parse(rows[i].text, &a);
		if (rc != rows[i].rc)
			fail_msg("row %zu '%s': rc %d, want %d", i, rows[i].text, rc, rows[i].rc);
		if (rc) {
			/* A failed parse leaves an unset address, never a half-written one. */
			if (a.family != 0)
				fail_msg("row %zu: family %u after failure", i, a.family);
			continue;
		}
		/* The 16 bytes are compared whole: an IPv4 address has zeros after byte 4. */
		if (a.family != rows[i].family || memcmp(a.bytes, rows[i].bytes, 16) != 0)
			fail_msg("row %zu '%s': family %u or bytes differ", i, rows[i].text,
				 a.family);
	}
}

static void prefix_parse_table(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint8_t family;
		uint8_t len;
	} rows[] = {
		/* 0 */ { "10.1.0.0/16", 0, 4, 16 },
		/* 1 */ { "10.1.0.1/16", -EINVAL, 0, 0 },      /* host bit in the last byte */
		/* 2: bit 15 (the 1 of .1) is a host bit */
		{ "10.1.0.0/15", -EINVAL, 0, 0 },
		/* 3 */ { "10.0.0.0/15", 0, 4, 15 },
		/* 4 */ { "0.0.0.0/0", 0, 4, 0 },
		/* 5 */ { "1.0.0.0/0", -EINVAL, 0, 0 },
		/* 6 */ { "128.0.0.0/1", 0, 4, 1 },
		/* 7 */ { "192.0.0.0/1", -EINVAL, 0, 0 },
		/* 8 */ { "192.0.2.1/32", 0, 4, 32 },
		/* 9 */ { "192.0.2.1/33", -EINVAL, 0, 0 },
		/* 10 */ { "192.0.2.1", 0, 4, 32 },       /* bare address: full length */
		/* 11 */ { "10.128.0.0/9", 0, 4, 9 },
		/* 12 */ { "10.192.0.0/9", -EINVAL, 0, 0 },
		/* 13 */ { "192.0.2.254/31", 0, 4, 31 },
		/* 14 */ { "192.0.2.255/31", -EINVAL, 0, 0 },
		/* 15 */ { "2001:db8::/32", 0, 6, 32 },
		/* 16 */ { "2001:db8::1/64", -EINVAL, 0, 0 },
		/* 17 */ { "2001:db8:8000::/33", 0, 6, 33 },
		/* 18 */ { "2001:db8:4000::/33", -EINVAL, 0, 0 },
		/* 19 */ { "::/0", 0, 6, 0 },
		/* 20 */ { "::1/0", -EINVAL, 0, 0 },
		/* 21 */ { "2001:db8::1/128", 0, 6, 128 },
		/* 22 */ { "2001:db8::1/129", -EINVAL, 0, 0 },
		/* 23 */ { "2001:db8::1", 0, 6, 128 },
		/* 24 */ { "2001:db8::/127", 0, 6, 127 },
		/* 25 */ { "2001:db8::1/127", -EINVAL, 0, 0 },
		/* 26 */ { "10.0.0.0/", -EINVAL, 0, 0 },
		/* 27 */ { "10.0.0.0/-1", -EINVAL, 0, 0 },
		/* 28 */ { "10.0.0.0/+8", -EINVAL, 0, 0 },
		/* 29 */ { "10.0.0.0/ 8", -EINVAL, 0, 0 },
		/* 30 */ { "10.0.0.0/8x", -EINVAL, 0, 0 },
		/* 31 */ { "10.0.0.0//8", -EINVAL, 0, 0 },
		/* 32 */ { "10.0.0.0/8/8", -EINVAL, 0, 0 },
		/* 33 */ { "/8", -EINVAL, 0, 0 },
		/* 34 */ { "", -EINVAL, 0, 0 },
		/* 35: 2^32 + 8 must not wrap to 8 */
		{ "10.0.0.0/4294967304", -EINVAL, 0, 0 },
		/* 36 */ { "10.0.0.0/99999999999999999999999", -EINVAL, 0, 0 },
		/* 37 */ { "10.0.0.0/08", 0, 4, 8 },
		/* 38: an address part longer than the 63-byte buffer */
		{ "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0/0", -EINVAL,
		  0, 0 },
		/* 39 */ { "300.0.0.0/8", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_prefix p;
		int rc;

		memset(&p, 0, sizeof(p));
		rc = ipk_prefix_parse(rows[i].text, &p);
		if (rc != rows[i].rc)
			fail_msg("row %zu '%s': rc %d, want %d", i, rows[i].text, rc, rows[i].rc);
		if (rc == 0 && (p.addr.family != rows[i].family || p.len != rows[i].len))
			fail_msg("row %zu '%s': family %u len %u, want %u %u", i, rows[i].text,
				 p.addr.family, p.len, rows[i].family, rows[i].len);
	}
}

static void prefix_contains_table(void **state)
{
	static const struct {
		const char *prefix;
		const char *addr;
		bool in;
	} rows[] = {
		/* 0 */ { "10.1.0.0/16", "10.1.0.0", true },
		/* 1 */ { "10.1.0.0/16", "10.1.255.255", true },
		/* 2 */ { "10.1.0.0/16", "10.0.255.255", false },
		/* 3 */ { "10.1.0.0/16", "10.2.0.0", false },
		/* 4 */ { "10.128.0.0/9", "10.127.255.255", false },
		/* 5 */ { "10.128.0.0/9", "10.128.0.0", true },
		/* 6 */ { "10.128.0.0/9", "10.255.255.255", true },
		/* 7 */ { "10.128.0.0/9", "11.0.0.0", false },
		/* 8 */ { "0.0.0.0/0", "0.0.0.0", true },
		/* 9 */ { "0.0.0.0/0", "255.255.255.255", true },
		/* 10 */ { "192.0.2.1/32", "192.0.2.1", true },
		/* 11 */ { "192.0.2.1/32", "192.0.2.0", false },
		/* 12 */ { "192.0.2.1/32", "192.0.2.2", false },
		/* 13 */ { "192.0.2.254/31", "192.0.2.253", false },
		/* 14 */ { "192.0.2.254/31", "192.0.2.254", true },
		/* 15 */ { "192.0.2.254/31", "192.0.2.255", true },
		/* 16 */ { "128.0.0.0/1", "127.255.255.255", false },
		/* 17 */ { "128.0.0.0/1", "128.0.0.0", true },
		/* 18 */ { "2001:db8::/32", "2001:db8::", true },
		/* 19 */ { "2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
		/* 20 */ { "2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false },
		/* 21 */ { "2001:db8::/32", "2001:db9::", false },
		/* 22 */ { "2001:db8:8000::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", false },
		/* 23 */ { "2001:db8:8000::/33", "2001:db8:8000::", true },
		/* 24 */ { "2001:db8::1/128", "2001:db8::1", true },
		/* 25 */ { "2001:db8::1/128", "2001:db8::", false },
		/* 26 */ { "2001:db8::1/128", "2001:db8::3", false },
		/* 27 */ { "2001:db8::/127", "2001:db8::1", true },
		/* 28 */ { "2001:db8::/127", "2001:db8::2", false },
		/* 29 */ { "::/0", "::", true },
		/* 30 */ { "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
		/* 31..36: families never cross, /0 included */
		{ "0.0.0.0/0", "::", false },
		{ "0.0.0.0/0", "::ffff:10.1.0.1", false },
		{ "::/0", "10.1.0.1", false },
		{ "::/0", "0.0.0.0", false },
		{ "a01::/16", "10.1.2.3", false },         /* bytes 0a 01 in both */
		{ "10.1.0.0/16", "a01::", false },
	};

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		struct ipk_prefix p;
		struct ipk_addr a;

		assert_int_equal(ipk_prefix_parse(rows[i].prefix, &p), 0);
		assert_int_equal(ipk_addr_parse(rows[i].addr, &a), 0);
		if (ipk_prefix_contains(&p, &a) != rows[i].in)
			fail_msg("row %zu: %s in %s: %d, want %d", i, rows[i].addr, rows[i].prefix,
				 !rows[i].in, rows[i].in);
	}
}

/* Every length of each family against the addresses just inside and just outside it. */
static void prefix_contains_every_length(void **state)
{
	for (uint8_t family = 4; family <= 6; family += 2) {
		unsigned max = (unsigned)ipk_addr_len(family) * 8;

		for (unsigned len = 0; len <= max; len++) {
			struct ipk_prefix p = { .addr = { .family = family }, .len = (uint8_t)len };
			struct ipk_addr last = { .family = family }, out = { .family = family };

			/* Prefix: first len bits 1 0 1 0 ...; last address: every host bit set. */
			for (unsigned b = 0; b < len; b++)
				if (b % 2 == 0)
					p.addr.bytes[b / 8] |= (uint8_t)(0x80u >> (b % 8));
			last = p.addr;
			for (unsigned b = len; b < max; b++)
				last.bytes[b / 8] |= (uint8_t)(0x80u >> (b % 8));
			if (!ipk_prefix_contains(&p, &p.addr) || !ipk_prefix_contains(&p, &last))
				fail_msg("IPv%u /%u: own edges not inside", family, len);
			if (len == 0)
				continue;
			/* Flip the last prefix bit: just outside. */
			out = p.addr;
			out.bytes[(len - 1) / 8] ^= (uint8_t)(0x80u >> ((len - 1) % 8));
			if (ipk_prefix_contains(&p, &out))
				fail_msg("IPv%u /%u: outside address inside", family, len);
		}
	}
}

static void addr_equal_and_str(void **state)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} rows[] = {
		/* 0 */ { "192.0.2.1", "192.0.2.1", true },
		/* 1 */ { "192.0.2.1", "192.0.2.2", false },
		/* 2 */ { "2001:db8::1", "2001:db8:0:0:0:0:0:1", true },
		/* 3 */ { "2001:db8::1", "2001:db8::2", false },
		/* 4 */ { "0.0.0.0", "::", false },
		/* 5 */ { "10.1.2.3", "a01:203::", false },
		/* 6 */ { "::ffff:192.0.2.1", "192.0.2.1", false },
	};
	static const struct {
		const char *in, *out;
	} text[] = {
		/* 0 */ { "192.0.2.1", "192.0.2.1" },
		/* 1 */ { "2001:0db8:0000::0001", "2001:db8::1" },
		/* 2 */ { "::", "::" },
		/* 3 */ { "255.255.255.255", "255.255.255.255" },
	};
	char buf[IPK_ADDR_STRLEN];
	struct ipk_addr a, b;
	uint8_t four[4] = { 198, 51, 100, 7 }, sixteen[16] = { 0xfe, 0x80, [15] = 9 };

	for (size_t i = 0; i < IPK_ARRAY_SIZE(rows); i++) {
		assert_int_equal(ipk_addr_parse(rows[i].a, &a), 0);
		assert_int_equal(ipk_addr_parse(rows[i].b, &b), 0);
		if (ipk_addr_equal(&a, &b) != rows[i].equal ||
		    ipk_addr_equal(&b, &a) != rows[i].equal)
			fail_msg("row %zu: %s == %s is not %d", i, rows[i].a, rows[i].b,
				 rows[i].equal);
	}
	for (size_t i = 0; i < IPK_ARRAY_SIZE(text); i++) {
		assert_int_equal(ipk_addr_parse(text[i].in, &a), 0);
		assert_string_equal(ipk_addr_str(&a, buf), text[i].out);
	}
	memset(&a, 0, sizeof(a));
	assert_string_equal(ipk_addr_str(&a, buf), "-");
	assert_ptr_equal(ipk_addr_str(&a, buf), buf);
	memset(&a, 0x5a, sizeof(a));
	ipk_addr_from_v4(&a, four);
	assert_int_equal(ipk_addr_parse("198.51.100.7", &b), 0);
	assert_memory_equal(&a, &b, sizeof(a)); /* zero after the 4 bytes, as parse leaves it */
	ipk_addr_from_v6(&a, sixteen);
	assert_int_equal(ipk_addr_parse("fe80::9", &b), 0);
	assert_true(ipk_addr_equal(&a, &b));
	assert_int_equal(ipk_addr_len(4), 4);
	assert_int_equal(ipk_addr_len(6), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addr_parse_table),
		cmocka_unit_test(prefix_parse_table),
		cmocka_unit_test(prefix_contains_table),
		cmocka_unit_test(prefix_contains_every_length),
		cmocka_unit_test(addr_equal_and_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
