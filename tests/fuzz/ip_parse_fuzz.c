// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target: IPv4/IPv6 parsing (src/proto/ip.c).
 *
 * The input is taken as a captured IP packet. ipk_ip_parse must either refuse it or give
 * a consistent view (header within the announced length, the announced length within the
 * capture, addresses of the packet's family), which ipk_ip_flow then reads. A parsed
 * packet is rebuilt with ipk_ipv4_build / ipk_ipv6_build (its upper-layer payload behind
 * a fresh header) and parsed again: protocol, addresses, DSCP, ECN and payload length must
 * survive. The checksum and the RFC 6040 ECN helpers are checked against their definitions
 * on the same bytes. Any disagreement aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "proto/ip.h"
#include "sa/spd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "ip_parse_fuzz: %s:%d: %s\n", __FILE__, __LINE__,    \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* RFC 1071, the plain way: 16-bit big-endian words, odd byte padded with zero. */
static uint16_t ref_csum(const uint8_t *d, size_t len)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)d[i] << 8 | d[i + 1];
	if (len & 1)
		sum += (uint32_t)d[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void check_info(const uint8_t *data, size_t size, const struct ipk_ip_info *in)
{
	CHECK(in->version == 4 || in->version == 6);
	CHECK(in->version == data[0] >> 4);
	CHECK(in->src.family == in->version && in->dst.family == in->version);
	CHECK(in->hdr_len <= in->total_len);
	CHECK(in->total_len <= size);
	CHECK(in->proto_off < in->hdr_len);
	CHECK(in->ecn <= 3 && in->dscp <= 63);
	if (in->version == 6 && in->frag_hdr_off) {
		CHECK(in->is_fragment);
		CHECK(in->frag_hdr_off + 8u <= in->hdr_len);
		CHECK(in->frag_prev_nh_off < in->frag_hdr_off);
	}
	if (!in->is_fragment)
		CHECK(!in->more_fragments && in->frag_offset == 0);
}

/* IPv6 protocols that the parser walks as extension headers. */
static bool v6_ext(uint8_t proto)
{
	return proto == 0 || proto == 43 || proto == 44 || proto == 60;
}

static void round_trip(const uint8_t *data, const struct ipk_ip_info *in)
{
	static uint8_t buf[IPK_IPV6_HDR_LEN + 65536];
	size_t payload = in->total_len - in->hdr_len;
	uint8_t tos = (uint8_t)(in->dscp << 2 | in->ecn);
	size_t hl = in->version == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	struct ipk_ip_info out;

	if (in->version == 6 && v6_ext(in->proto))
		return;
	if (hl + payload > 65535 && in->version == 4)
		return;
	if (in->version == 6)
		ipk_ipv6_build(buf, &in->src, &in->dst, in->proto, (uint16_t)payload, tos, 64);
	else
		ipk_ipv4_build(buf, &in->src, &in->dst, in->proto, (uint16_t)(hl + payload), tos,
			       64, true, 7);
	memcpy(buf + hl, data + in->hdr_len, payload);
	CHECK(ipk_ip_parse(buf, hl + payload, &out) == 0);
	CHECK(out.version == in->version && out.proto == in->proto);
	CHECK(out.hdr_len == hl && out.total_len == hl + payload);
	CHECK(ipk_addr_equal(&out.src, &in->src) && ipk_addr_equal(&out.dst, &in->dst));
	CHECK(out.dscp == in->dscp && out.ecn == in->ecn && !out.is_fragment);
	CHECK(ipk_ip_get_tos(buf) == tos);
	/* A new TOS keeps the header valid (IPv4 checksum updated). */
	ipk_ip_set_tos(buf, (uint8_t)~tos);
	CHECK(ipk_ip_get_tos(buf) == (uint8_t)~tos);
	CHECK(ipk_ip_parse(buf, hl + payload, &out) == 0);
}

static void check_ecn(uint8_t tos)
{
	uint8_t outer = ipk_ecn_encap_tos(tos), ecn = 0xff;

	/* RFC 4301 §5.1.2.1 and RFC 6040 §4.1: DSCP and ECN copied out ... */
	CHECK(outer == tos);
	/* ... and §4.2: the same ECN outside and inside leaves the inner one as it is. */
	CHECK(ipk_ecn_decap(tos & 3, tos & 3, &ecn) && ecn == (tos & 3));
	/* Outer CE on a Not-ECT inner packet is dropped. */
	CHECK(!ipk_ecn_decap(IPK_ECN_CE, IPK_ECN_NOT_ECT, &ecn));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipk_ip_info info;
	struct ipk_flow flow;
	int rc;

	CHECK(ipk_csum_fold(ipk_csum_add(0, data, size)) == ref_csum(data, size));
	if (size > 0)
		check_ecn(data[0]);
	rc = ipk_ip_parse(data, size, &info);
	if (rc != 0) {
		CHECK(rc > 0);
		return 0;
	}
	check_info(data, size, &info);
	ipk_ip_flow(data, info.total_len, &info, &flow);
	CHECK(ipk_addr_equal(&flow.src, &info.src) && flow.proto == info.proto);
	if (info.is_fragment && info.frag_offset)
		CHECK(flow.sport == 0 && flow.dport == 0);
	round_trip(data, &info);
	return 0;
}
