/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Datagram socket helpers shared by the `esp` (raw IP protocol 50) and `udp` (RFC 3948)
 * ports: they turn what a socket hands over (payload, peer address, ancillary data) into
 * a whole IP packet, and a whole IP packet back into what sendmsg() takes.
 *
 * Receive. The kernel strips headers the ESP layer wants to see (an IPv6 raw socket
 * returns the payload only; a UDP socket returns the UDP payload only). The missing
 * headers are rebuilt from the ancillary data, which the ports request at open:
 *   - source: msg_name; destination and interface: IP_PKTINFO / IPV6_PKTINFO;
 *   - TOS / traffic class (DSCP and ECN, needed for RFC 6040 decapsulation): IP_TOS /
 *     IPV6_TCLASS; TTL / hop limit: IP_TTL / IPV6_HOPLIMIT;
 *   - kernel drops: SO_RXQ_OVFL.
 * What a rebuilt header cannot tell: the IPv6 flow label (0), IPv6 extension headers
 * before ESP (gone: the next header is ESP or UDP directly), the IPv4 identification and
 * DF bit (0); a UDP checksum (0: the kernel verified it before delivery, and nothing in
 * ipseck reads it). The lengths are those of the datagram received.
 *
 * Send. ipk_dgram_parse_out() reads an outgoing IP packet; the caller sends the part
 * from payload_off with the destination in msg_name and, where the kernel builds the IP
 * header, control messages for source, TOS / traffic class and TTL / hop limit made by
 * ipk_dgram_build_cmsg().
 *
 * Pure functions on caller-provided memory; any thread.
 */
#ifndef IPK_IO_DGRAM_H
#define IPK_IO_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/addr.h"

/* Room for the control messages of one datagram, either direction. */
#define IPK_DGRAM_CMSG_SPACE 160

struct ipk_dgram_info {
	struct ipk_addr src;
	struct ipk_addr dst;     /* family 0 when the kernel gave none */
	uint16_t src_port;       /* UDP only, host order */
	uint16_t dst_port;
	uint8_t tos;             /* IPv4 TOS / IPv6 traffic class: DSCP and ECN */
	uint8_t ttl;             /* TTL / hop limit */
	bool has_tos;
	bool has_ttl;
	uint32_t ifindex;
	bool has_drops;
	uint32_t drops;          /* SO_RXQ_OVFL: the socket's drop count so far */
};

/* Which control messages ipk_dgram_build_cmsg() writes. */
#define IPK_DGRAM_CMSG_SRC 0x1
#define IPK_DGRAM_CMSG_TOS 0x2
#define IPK_DGRAM_CMSG_TTL 0x4

/* Default TTL / hop limit of a rebuilt header when the kernel reported none. */
#define IPK_DGRAM_DEFAULT_TTL 64

/* Fills src/src_port from @name (AF_INET or AF_INET6; v4-mapped IPv6 becomes IPv4). */
void ipk_dgram_from_sockaddr(const struct sockaddr *name, struct ipk_addr *addr,
			     uint16_t *port);
/* Writes @addr:@port as a sockaddr_in or sockaddr_in6 into @ss; returns its length. */
socklen_t ipk_dgram_to_sockaddr(const struct ipk_addr *addr, uint16_t port,
				struct sockaddr_storage *ss);

/* Reads the control messages of one received datagram (see the top of this file) into
 * @info; fields the kernel did not report keep their values. */
void ipk_dgram_parse_cmsg(const struct msghdr *msg, struct ipk_dgram_info *info);

/* Writes the IPv6 header (40 bytes) of a received raw payload of @payload_len bytes:
 * traffic class, hop limit and addresses from @info, flow label 0, next header @proto. */
void ipk_dgram_build_ipv6(uint8_t *hdr, const struct ipk_dgram_info *info, uint8_t proto,
			  uint32_t payload_len);
/* Bytes of the IP + UDP header that ipk_dgram_build_udp() writes for @family (28 or 48). */
uint32_t ipk_dgram_udp_hdr_len(uint8_t family);
/* Writes the IP + UDP header of a received UDP payload of @payload_len bytes at @hdr
 * (ipk_dgram_udp_hdr_len(info->src.family) bytes). IPv4: header checksum set, ID 0, no
 * DF. Returns the header length. @payload_len must leave the total under 65536. */
uint32_t ipk_dgram_build_udp(uint8_t *hdr, const struct ipk_dgram_info *info,
			     uint32_t payload_len);

/*
 * Reads the outgoing IP packet @data of @len bytes (trailing bytes past the IP length are
 * ignored): family, addresses, TOS, TTL, and for @proto UDP the ports. *payload_off is
 * where the payload after the IP header starts (after the UDP header for UDP), and
 * *payload_len its length. Requires @proto directly after the IP header (IPv6: no
 * extension headers; IPv4: not a fragment). Returns 0 or a drop reason: truncated-ip,
 * bad-ip-version, bad-ip-header, ip-length-mismatch, not-esp (another protocol than
 * @proto), unsupported (IPv6 extension headers, IPv4 fragment).
 */
int ipk_dgram_parse_out(const uint8_t *data, uint32_t len, uint8_t proto,
			struct ipk_dgram_info *info, uint32_t *payload_off, uint32_t *payload_len);

/* Writes the control messages @what (IPK_DGRAM_CMSG_*) for sending a packet described by
 * @info into @buf (@size bytes, at least IPK_DGRAM_CMSG_SPACE): IP_PKTINFO / IPV6_PKTINFO
 * with the source address, IP_TOS / IPV6_TCLASS, IP_TTL / IPV6_HOPLIMIT. Returns the
 * msg_controllen to use (0: none). */
size_t ipk_dgram_build_cmsg(void *buf, size_t size, const struct ipk_dgram_info *info,
			    unsigned what);

#endif
