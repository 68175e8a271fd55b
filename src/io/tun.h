/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `tun` port: the plaintext side as a TUN device (IFF_TUN | IFF_NO_PI): the kernel routes
 * packets for the protected networks into the device, the port reads them as whole IP
 * packets, and packets written to the port enter the kernel's stack as if received on
 * the device. Like wireguard-go and strongSwan's libipsec.
 *
 * Arguments:
 *   name NAME        device name or pattern (default "ipk%d"); port->name is the result
 *   address A/LEN    an IPv4 or IPv6 address with its prefix length; repeatable (up to 8)
 *   mtu N            the path's MTU, 68..65535 (default 1500)
 *   overhead N       bytes ESP adds (ipk_esp_overhead), 0..1024 (default 0). The device
 *                    MTU is mtu - overhead, so that an inner packet still fits the path
 *                    once encapsulated: at least 68, and 1280 when an IPv6 address is set
 *   queues N         1..16 (default 1). Above 1 the device is multi-queue
 *                    (IFF_MULTI_QUEUE): the kernel spreads flows over the queues; rx_burst
 *                    reads all of them in turn, tx_burst writes on the first (a write
 *                    enters the stack at once, so order is kept)
 *   attach yes|no    attach to an existing multi-queue device NAME, made by another port,
 *                    adding `queues` queues to it and configuring nothing (default no): one
 *                    port per I/O thread on the same device
 *
 * Set-up is over rtnetlink (io/nlcfg.h): MTU and up, then addresses (IPv6 without
 * duplicate address detection). The device disappears when the last port on it closes.
 * Packets larger than the pool's data room are dropped (rx-truncated): size the pool for
 * the device MTU. Needs CAP_NET_ADMIN.
 *
 * Counters: those of io/port.h; own: queues, mtu.
 * Threads: as io/port.h.
 */
#ifndef IPK_IO_TUN_H
#define IPK_IO_TUN_H

#include "io/port.h"

#define IPK_TUN_MAX_QUEUES 16
#define IPK_TUN_MAX_ADDRS 8

extern const struct ipk_io_ops ipk_tun_ops;

#endif
