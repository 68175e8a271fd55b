/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `wire` port: one Ethernet interface of a bump-in-the-wire gateway, through an AF_PACKET
 * socket (DESIGN.md "I/O back ends"). The gateway owns two such ports, one per side; a
 * frame read on one leaves by the other.
 *
 * Receive: a TPACKET_V3 ring (blocks of variable-size frames, handed over when full or
 * after `block-timeout` ms; poll() on the fd). Each frame is copied whole into a pool
 * packet at IPK_PKT_HEADROOM, and the block goes back to the kernel as soon as it has been
 * read, so the ring never waits for crypto. On the way:
 *   - frames this host sends on the interface are not seen (PACKET_IGNORE_OUTGOING, or,
 *     on kernels without it, a check of the packet type chosen at open), so nothing the
 *     gateway forwards loops back;
 *   - a VLAN tag the kernel or NIC removed (VLAN offload) is put back in the frame;
 *   - a TCP/UDP checksum left to offload (TP_STATUS_CSUMNOTREADY: frames from a local
 *     sender or a veth) is completed (io/ether.h), since the far side would drop it;
 *   - frames larger than the pool's data room are dropped (rx-truncated). GRO/LRO on the
 *     interface, or TSO/GSO of a sender on a veth peer, make such frames: turn them off
 *     (`ethtool -K DEV gro off lro off`), as for any AF_PACKET bridge;
 *   - pkt->index is the port's frame number and meta.in_port the port id.
 * With `strip yes` the port yields IP packets: ipk_ether_strip() keeps the link header in
 * the packet's L2 store; non-IP frames (ARP...) come whole with IPK_IO_F_NOT_IP, for the
 * daemon's policy to bypass or drop. Otherwise it yields whole frames.
 *
 * Transmit: sendmmsg() of frames on the same socket (copied by the kernel), not a
 * TX ring: one copy either way for packets that live in pool buffers, no ring slots to
 * reclaim, and EAGAIN gives back-pressure per packet. With `strip yes`, a packet with an
 * L2 store leaves with that header (EtherType set for its IP version, io/ether.h) as a
 * second iovec, the packet itself untouched; IPK_IO_F_NOT_IP packets leave as they are;
 * others are dropped (unsupported). Without strip, packets are sent as frames.
 *
 * Arguments:
 *   dev IFNAME           the interface (required)
 *   promisc yes|no       promiscuous mode while open (default no; a gateway in the wire
 *                        needs it unless the NIC already passes every frame)
 *   strip yes|no         yield IP packets, rebuild frames on tx (default no)
 *   csum yes|no          complete offloaded checksums (default yes)
 *   blocks N             ring blocks, 2..1024 (default 128: at the default timeout,
 *                        about 128 ms the receive thread may fall behind a quiet link)
 *   block-size BYTES     power of two, 4096..4194304 (default 131072)
 *   block-timeout MS     hand over a partly filled block after MS ms, 1..1000 (default 1:
 *                        the latency a quiet link sees)
 *   batch N              frames per sendmmsg, 1..64 (default 32)
 *   qdisc-bypass yes|no  PACKET_QDISC_BYPASS on tx (default no: tc still applies)
 * Needs CAP_NET_RAW (and CAP_NET_ADMIN for promisc).
 *
 * Counters: those of io/port.h (rx-kernel-drop from PACKET_STATISTICS, read when the
 * kernel marks a block as losing and when the port is idle); own: ring-blocks,
 * outgoing-skipped, csum-completed, vlan-restored, non-ip, ring-freezes.
 * Threads: as io/port.h.
 */
#ifndef IPK_IO_AFPACKET_H
#define IPK_IO_AFPACKET_H

#include "io/port.h"

extern const struct ipk_io_ops ipk_afpacket_ops;

#endif
