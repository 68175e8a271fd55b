/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `udp` port: the protected side over UDP encapsulation of ESP (RFC 3948), a UDP socket
 * per family bound to a configurable address and port (default 4500, RFC 3948 §2).
 *
 * Receive yields whole IP + UDP + payload packets, rebuilt from the datagram (io/dgram.h):
 * source address and port from the socket address, destination from IP_PKTINFO /
 * IPV6_PKTINFO and the bound port, TOS / traffic class and TTL / hop limit from the
 * ancillary data. So the ESP layer's ipk_esp_locate() sees UDP to port 4500 as on the
 * wire. NAT keepalives (one 0xff byte, RFC 3948 §2.3) and IKE packets (non-ESP marker)
 * pass up as they are: the ESP layer counts or diverts them.
 * Transmit takes whole IP + UDP + ESP packets and sends the UDP payload to the packet's
 * destination address and port, from the bound port; the source address goes in
 * IP_PKTINFO / IPV6_PKTINFO when the socket is bound to the wildcard, TOS / traffic class
 * and TTL / hop limit in IP_TOS / IPV6_TCLASS and IP_TTL / IPV6_HOPLIMIT. The kernel
 * builds the headers (and fragments if it must). The UDP source port of the packet is not
 * used: it is the socket's.
 *
 * The kernel's own ESP-in-UDP (UDP_ENCAP) is not enabled, so nothing is taken out of the
 * socket. An IKE daemon must not bind the same port in the same namespace.
 *
 * Arguments: family 4|6|any, local ADDR (once per family), port N (default 4500),
 * dev IFNAME, batch 1..64, rcvbuf BYTES, sndbuf BYTES (io/sockport.h). Binding a port
 * below 1024 needs CAP_NET_BIND_SERVICE.
 * Counters: those of io/port.h; rx-kernel-drop from SO_RXQ_OVFL.
 * Threads: as io/port.h.
 */
#ifndef IPK_IO_UDPENCAP_H
#define IPK_IO_UDPENCAP_H

#include "io/port.h"

extern const struct ipk_io_ops ipk_udpencap_ops;

#endif
