/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `esp` port: the protected side over raw IP protocol 50 sockets (RFC 4303 §2 on the
 * wire), one for IPv4 and one for IPv6 (io/sockport.h has the batch engine, io/dgram.h
 * the header work).
 *
 * Receive yields whole IP packets, as the ESP layer expects (ipk_esp_locate):
 *   - IPv4: the raw socket returns the datagram with its header (after reassembly by the
 *     kernel); it is passed on as it is.
 *   - IPv6: the raw socket returns only what follows the last extension header. The
 *     40-byte header is rebuilt in front: source from the socket address, destination
 *     from IPV6_PKTINFO, traffic class (DSCP + ECN) from IPV6_TCLASS, hop limit from
 *     IPV6_HOPLIMIT, next header 50, flow label 0; extension headers that were there are
 *     not rebuilt.
 * Transmit takes whole IP packets whose protocol is ESP:
 *   - IPv4: sent with IP_HDRINCL, header included; the kernel sets total length and
 *     checksum and does not fragment (a packet over the route MTU is dropped, too-big).
 *   - IPv6: IPV6_HDRINCL is not available for raw IPv6 sockets on every kernel, so the
 *     header is stripped and the kernel rebuilds it from sendmsg(): destination in
 *     msg_name, source in IPV6_PKTINFO (when not bound to an address), IPV6_TCLASS and
 *     IPV6_HOPLIMIT from the header. The flow label is the kernel's. Packets with
 *     extension headers are dropped (unsupported).
 * Every ESP packet for this host (in this network namespace) reaches the socket; `local`
 * narrows IPv4/IPv6 reception to one destination address each.
 *
 * Arguments: family 4|6|any, local ADDR (once per family), dev IFNAME, batch 1..64,
 * rcvbuf BYTES, sndbuf BYTES (io/sockport.h). Needs CAP_NET_RAW.
 * Counters: those of io/port.h; rx-kernel-drop from SO_RXQ_OVFL.
 * Threads: as io/port.h.
 */
#ifndef IPK_IO_RAWESP_H
#define IPK_IO_RAWESP_H

#include "io/port.h"

extern const struct ipk_io_ops ipk_rawesp_ops;

#endif
