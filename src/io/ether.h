/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet framing for the `wire` port (io/afpacket.h): strip the link header (with up to
 * two 802.1Q / 802.1ad tags) off a received frame, keep it, and put it back on transmit.
 *
 * The rule of a bump-in-the-wire gateway: a frame leaves by the other interface with the
 * Ethernet header it came in with. The MAC addresses are those of the two end hosts (or
 * routers) on either side; the gateway owns no address and answers no ARP, so nothing
 * needs looking up. Only the EtherType changes when ESP tunnel mode changes the IP
 * version between inside and outside. Frames that carry no IP packet (ARP, LLDP, STP...)
 * are not stripped: they pass up whole with IPK_IO_F_NOT_IP set, and the daemon's policy
 * bypasses (forwards) or drops them.
 *
 * The L2 store. The saved header travels with the packet, in the first
 * IPK_ETHER_STORE_SIZE bytes of its buffer (struct ipk_ether_store). That space is never
 * data: data starts at IPK_PKT_HEADROOM (128); ESP encapsulation pushes at most 72 bytes
 * in front of it (core/pkt.h) and the rebuilt link header at most 22 more, which still
 * leaves the store intact (asserted in ether.c). The store is valid only when meta.flags
 * has IPK_IO_F_L2 and its tag equals pkt->index, which the wire port sets to a frame
 * number unique in the process: a packet that was copied into another buffer (a datagram
 * rebuilt by reassembly copies the metadata but not the store) is recognised as having
 * none, since its buffer holds a stale store with another frame's tag.
 *
 * Checksums. A frame a local sender handed to a veth (or any device with checksum
 * offload) may arrive with its TCP/UDP checksum only seeded with the pseudo-header sum
 * (TP_STATUS_CSUMNOTREADY). Forwarded as is, the far host would drop it; and encrypted,
 * it would be wrong forever. ipk_ether_csum_complete() finishes such a checksum.
 *
 * Pure functions on a packet the caller owns; any thread.
 */
#ifndef IPK_IO_ETHER_H
#define IPK_IO_ETHER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pkt.h"

#define IPK_ETHER_HDR_LEN 14
#define IPK_ETHER_VLAN_LEN 4
#define IPK_ETHER_MAX_TAGS 2
#define IPK_ETHER_MAX_HDR (IPK_ETHER_HDR_LEN + IPK_ETHER_MAX_TAGS * IPK_ETHER_VLAN_LEN)
#define IPK_ETHER_STORE_SIZE 32

#define IPK_ETH_P_IPV4 0x0800
#define IPK_ETH_P_IPV6 0x86dd
#define IPK_ETH_P_8021Q 0x8100
#define IPK_ETH_P_8021AD 0x88a8

struct ipk_ether_store {
	uint32_t tag;                  /* == pkt->index while valid */
	uint8_t len;                   /* header bytes: 14, 18 or 22 */
	uint8_t reserved[3];
	uint8_t hdr[IPK_ETHER_MAX_HDR + 2]; /* dst MAC, src MAC, tags, EtherType */
};
_Static_assert(sizeof(struct ipk_ether_store) == IPK_ETHER_STORE_SIZE, "L2 store size");

enum ipk_ether_kind {
	IPK_ETHER_IPV4 = 4,
	IPK_ETHER_IPV6 = 6,
	IPK_ETHER_OTHER = 0,     /* not IP (or too many tags): left whole, IPK_IO_F_NOT_IP */
	IPK_ETHER_TRUNCATED = -1 /* shorter than its link header: left whole, NOT_IP */
};

/*
 * Parses the link header of the frame in @pkt. For IPv4 and IPv6: saves the header in
 * the L2 store (tagged with pkt->index), removes it from the data, sets meta.l3_family and
 * IPK_IO_F_L2. Otherwise: leaves the frame whole and sets IPK_IO_F_NOT_IP. @pkt stays
 * with the caller. Returns the kind.
 */
enum ipk_ether_kind ipk_ether_strip(struct ipk_pkt *pkt);

/* The saved header of @pkt, or NULL when it has none (see "The L2 store"). */
const struct ipk_ether_store *ipk_ether_saved(const struct ipk_pkt *pkt);

/*
 * Puts the saved link header back in front of the IP packet in @pkt, with the innermost
 * EtherType set for the IP version the packet now has. Packets flagged IPK_IO_F_NOT_IP are
 * whole frames already and are left alone. Returns true, or false (nothing changed) when
 * the packet has no valid store, is not IPv4/IPv6, or has too little headroom.
 */
bool ipk_ether_rebuild(struct ipk_pkt *pkt);

/* Writes the saved link header of @pkt, with the innermost EtherType set for the IP
 * version of the packet's data, into @out (IPK_ETHER_MAX_HDR bytes). Changes nothing in
 * @pkt, so a transmit that fails can leave the packet as it was. Returns the header
 * length, or 0 when there is none (see ipk_ether_rebuild). */
uint32_t ipk_ether_header(const struct ipk_pkt *pkt, uint8_t *out);

/* Copies the frame @frame (@len bytes, at least 12) to @dst with an 802.1Q tag
 * (@tpid, @tci) inserted after the MAC addresses: the tag a NIC or the kernel took off
 * (VLAN offload) goes back, so the frame leaves as it arrived. Returns @len + 4. */
uint32_t ipk_ether_copy_tagged(uint8_t *dst, const uint8_t *frame, uint32_t len, uint16_t tpid,
			       uint16_t tci);

/* Offset of the IP header in the frame @data (@len bytes) and its EtherType, skipping up
 * to two VLAN tags; -1 when the frame is too short or has more tags. */
int ipk_ether_l3_offset(const uint8_t *data, uint32_t len, uint16_t *ethertype);

/*
 * Completes the TCP or UDP checksum of the IP packet @ip (@len bytes) whose checksum field
 * holds only the pseudo-header sum (checksum offload, RFC 1071 arithmetic): recomputes it
 * over pseudo-header and segment. Other protocols, fragments and truncated packets are
 * left alone. Returns true when a checksum was written.
 */
bool ipk_ether_csum_complete(uint8_t *ip, uint32_t len);

#endif
