// SPDX-License-Identifier: BSD-2-Clause
#include "io/dgram.h"

#include <netinet/in.h>
#include <string.h>

#include "core/drop.h"
#include "proto/ip.h"

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void ipk_dgram_from_sockaddr(const struct sockaddr *name, struct ipk_addr *addr,
			     uint16_t *port)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (name->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)name;

		ipk_addr_from_v4(addr, &sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else if (name->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)name;

		if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, 12) == 0)
			ipk_addr_from_v4(addr, sin6->sin6_addr.s6_addr + 12);
		else
			ipk_addr_from_v6(addr, &sin6->sin6_addr);
		*port = ntohs(sin6->sin6_port);
	}
}

socklen_t ipk_dgram_to_sockaddr(const struct ipk_addr *addr, uint16_t port,
				struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(struct sockaddr_in6));
	if (addr->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr->bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, addr->bytes, 16);
	return sizeof(*sin6);
}

static int cmsg_int(const struct cmsghdr *c)
{
	int v = 0;

	/* IP_TOS arrives as one byte, the IPv6 ones and IP_TTL as an int. */
	if (c->cmsg_len >= CMSG_LEN(sizeof(int)))
		memcpy(&v, CMSG_DATA(c), sizeof(v));
	else if (c->cmsg_len >= CMSG_LEN(1))
		v = *CMSG_DATA(c);
	return v;
}

static void parse_ip_cmsg(const struct cmsghdr *c, struct ipk_dgram_info *info)
{
	struct in_pktinfo pi;

	switch (c->cmsg_type) {
	case IP_PKTINFO:
		if (c->cmsg_len < CMSG_LEN(sizeof(pi)))
			return;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		ipk_addr_from_v4(&info->dst, &pi.ipi_addr);
		info->ifindex = (uint32_t)pi.ipi_ifindex;
		break;
	case IP_TOS:
		info->tos = (uint8_t)cmsg_int(c);
		info->has_tos = true;
		break;
	case IP_TTL:
		info->ttl = (uint8_t)cmsg_int(c);
		info->has_ttl = true;
		break;
	}
}

static void parse_ipv6_cmsg(const struct cmsghdr *c, struct ipk_dgram_info *info)
{
	struct in6_pktinfo pi;

	switch (c->cmsg_type) {
	case IPV6_PKTINFO:
		if (c->cmsg_len < CMSG_LEN(sizeof(pi)))
			return;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		ipk_addr_from_v6(&info->dst, &pi.ipi6_addr);
		info->ifindex = pi.ipi6_ifindex;
		break;
	case IPV6_TCLASS:
		info->tos = (uint8_t)cmsg_int(c);
		info->has_tos = true;
		break;
	case IPV6_HOPLIMIT:
		info->ttl = (uint8_t)cmsg_int(c);
		info->has_ttl = true;
		break;
	}
}

void ipk_dgram_parse_cmsg(const struct msghdr *msg, struct ipk_dgram_info *info)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == IPPROTO_IP) {
			parse_ip_cmsg(c, info);
		} else if (c->cmsg_level == IPPROTO_IPV6) {
			parse_ipv6_cmsg(c, info);
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
			   c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			memcpy(&info->drops, CMSG_DATA(c), sizeof(info->drops));
			info->has_drops = true;
		}
	}
}

static uint8_t ttl_of(const struct ipk_dgram_info *info)
{
	return info->has_ttl ? info->ttl : IPK_DGRAM_DEFAULT_TTL;
}

void ipk_dgram_build_ipv6(uint8_t *hdr, const struct ipk_dgram_info *info, uint8_t proto,
			  uint32_t payload_len)
{
	ipk_ipv6_build(hdr, &info->src, &info->dst, proto, (uint16_t)payload_len,
		       info->has_tos ? info->tos : 0, ttl_of(info));
}

uint32_t ipk_dgram_udp_hdr_len(uint8_t family)
{
	return (family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN) + IPK_UDP_HDR_LEN;
}

uint32_t ipk_dgram_build_udp(uint8_t *hdr, const struct ipk_dgram_info *info,
			     uint32_t payload_len)
{
	uint32_t udp_len = IPK_UDP_HDR_LEN + payload_len;
	uint8_t tos = info->has_tos ? info->tos : 0;
	uint8_t *udp;

	if (info->src.family == 6) {
		ipk_ipv6_build(hdr, &info->src, &info->dst, IPK_PROTO_UDP, (uint16_t)udp_len, tos,
			       ttl_of(info));
		udp = hdr + IPK_IPV6_HDR_LEN;
	} else {
		ipk_ipv4_build(hdr, &info->src, &info->dst, IPK_PROTO_UDP,
			       (uint16_t)(IPK_IPV4_HDR_LEN + udp_len), tos, ttl_of(info), false, 0);
		udp = hdr + IPK_IPV4_HDR_LEN;
	}
	wr16(udp, info->src_port);
	wr16(udp + 2, info->dst_port);
	wr16(udp + 4, (uint16_t)udp_len);
	wr16(udp + 6, 0);
	return ipk_dgram_udp_hdr_len(info->src.family);
}

/* Ports and payload of the UDP header at @off; the datagram ends at @end. */
static int parse_udp(const uint8_t *data, uint32_t off, uint32_t end,
		     struct ipk_dgram_info *info, uint32_t *payload_off, uint32_t *payload_len)
{
	uint16_t udp_len;

	if (end - off < IPK_UDP_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	udp_len = rd16(data + off + 4);
	if (udp_len < IPK_UDP_HDR_LEN || udp_len > end - off)
		return IPK_DROP_IP_LENGTH_MISMATCH;
	info->src_port = rd16(data + off);
	info->dst_port = rd16(data + off + 2);
	*payload_off = off + IPK_UDP_HDR_LEN;
	*payload_len = udp_len - IPK_UDP_HDR_LEN;
	return 0;
}

int ipk_dgram_parse_out(const uint8_t *data, uint32_t len, uint8_t proto,
			struct ipk_dgram_info *info, uint32_t *payload_off, uint32_t *payload_len)
{
	struct ipk_ip_info ip;
	int rc = ipk_ip_parse(data, len, &ip);

	if (rc)
		return rc;
	/* The kernel adds exactly one header: another protocol, extension headers or a
	 * fragment cannot be expressed through these sockets. */
	if (ip.version == 6 && data[6] != proto)
		return ip.proto == proto ? IPK_DROP_UNSUPPORTED : IPK_DROP_NOT_ESP;
	if (ip.proto != proto)
		return IPK_DROP_NOT_ESP;
	if (ip.version == 4 && ip.is_fragment)
		return IPK_DROP_UNSUPPORTED;
	memset(info, 0, sizeof(*info));
	info->src = ip.src;
	info->dst = ip.dst;
	info->tos = ipk_ip_get_tos(data);
	info->ttl = data[ip.version == 6 ? 7 : 8];
	info->has_tos = info->has_ttl = true;
	if (proto == IPK_PROTO_UDP)
		return parse_udp(data, ip.hdr_len, ip.total_len, info, payload_off, payload_len);
	*payload_off = ip.hdr_len;
	*payload_len = ip.total_len - ip.hdr_len;
	return 0;
}

static struct cmsghdr *add(struct msghdr *m, struct cmsghdr *c, int level, int type,
			   const void *data, size_t len)
{
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	m->msg_controllen += CMSG_SPACE(len);
	return (struct cmsghdr *)((uint8_t *)c + CMSG_SPACE(len));
}

size_t ipk_dgram_build_cmsg(void *buf, size_t size, const struct ipk_dgram_info *info,
			    unsigned what)
{
	struct msghdr m = { .msg_control = buf, .msg_controllen = 0 };
	struct cmsghdr *c = buf;
	int tos = info->tos, ttl = info->ttl;

	if (size < IPK_DGRAM_CMSG_SPACE)
		return 0;
	memset(buf, 0, IPK_DGRAM_CMSG_SPACE);
	if (info->src.family == 6) {
		struct in6_pktinfo pi = { .ipi6_ifindex = 0 };

		memcpy(&pi.ipi6_addr, info->src.bytes, 16);
		if (what & IPK_DGRAM_CMSG_SRC)
			c = add(&m, c, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		if (what & IPK_DGRAM_CMSG_TOS)
			c = add(&m, c, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
		if (what & IPK_DGRAM_CMSG_TTL)
			c = add(&m, c, IPPROTO_IPV6, IPV6_HOPLIMIT, &ttl, sizeof(ttl));
	} else {
		struct in_pktinfo pi = { .ipi_ifindex = 0 };

		memcpy(&pi.ipi_spec_dst, info->src.bytes, 4);
		if (what & IPK_DGRAM_CMSG_SRC)
			c = add(&m, c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		if (what & IPK_DGRAM_CMSG_TOS)
			c = add(&m, c, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
		if (what & IPK_DGRAM_CMSG_TTL)
			c = add(&m, c, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	}
	(void)c;
	return m.msg_controllen;
}
