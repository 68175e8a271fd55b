// SPDX-License-Identifier: BSD-2-Clause
#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ipk_addr_parse(const char *text, struct ipk_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = 6;
		return 0;
	}
	return -EINVAL;
}

static bool host_bits_clear(const struct ipk_addr *addr, unsigned len)
{
	unsigned total = (unsigned)ipk_addr_len(addr->family) * 8;

	for (unsigned bit = len; bit < total; bit++)
		if (addr->bytes[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

int ipk_prefix_parse(const char *text, struct ipk_prefix *out)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max, len;
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (ipk_addr_parse(buf, &out->addr))
		return -EINVAL;
	max = (unsigned)ipk_addr_len(out->addr.family) * 8;
	len = max;
	if (slash) {
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v > max)
			return -EINVAL;
		len = (unsigned)v;
	}
	if (!host_bits_clear(&out->addr, len))
		return -EINVAL;
	out->len = (uint8_t)len;
	return 0;
}

const char *ipk_addr_str(const struct ipk_addr *addr, char *buf)
{
	int af = addr->family == 6 ? AF_INET6 : AF_INET;

	if (!addr->family || !inet_ntop(af, addr->bytes, buf, IPK_ADDR_STRLEN))
		strcpy(buf, "-");
	return buf;
}

bool ipk_addr_equal(const struct ipk_addr *a, const struct ipk_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, ipk_addr_len(a->family)) == 0;
}

bool ipk_prefix_contains(const struct ipk_prefix *prefix, const struct ipk_addr *addr)
{
	unsigned full = prefix->len / 8, rest = prefix->len % 8;

	if (prefix->addr.family != addr->family)
		return false;
	if (memcmp(prefix->addr.bytes, addr->bytes, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));

		return (addr->bytes[full] & mask) == prefix->addr.bytes[full];
	}
	return true;
}

void ipk_addr_from_v4(struct ipk_addr *out, const void *four_bytes)
{
	memset(out, 0, sizeof(*out));
	out->family = 4;
	memcpy(out->bytes, four_bytes, 4);
}

void ipk_addr_from_v6(struct ipk_addr *out, const void *sixteen_bytes)
{
	out->family = 6;
	memcpy(out->bytes, sixteen_bytes, 16);
}
