/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap files in and out (libpcap), for the offline mode: frames of link type Ethernet
 * (with 802.1Q tags), raw IP, IPv4, IPv6, Linux cooked capture and BSD loopback are
 * read; their IP packet is copied into a pool packet. The output file keeps the input's
 * link type; an Ethernet frame keeps its original link header, with the EtherType set
 * for the IP version that leaves.
 *
 * Threads: one reader or writer per thread.
 */
#ifndef IPK_IO_PCAPFILE_H
#define IPK_IO_PCAPFILE_H

#include <stdint.h>

#include "core/err.h"
#include "core/pkt.h"

struct ipk_pcap_in;
struct ipk_pcap_out;

int ipk_pcap_open_in(struct ipk_pcap_in **out, const char *path, struct ipk_err *err);
void ipk_pcap_close_in(struct ipk_pcap_in *in);

/*
 * Reads the next frame. Returns 1 with *pkt set (the IP packet, owned by the caller), 1
 * with *pkt NULL and *why set when the frame was unusable (not IP, or no buffer), 0 at the
 * end of the file, or -EIO with a message in @err.
 */
int ipk_pcap_read(struct ipk_pcap_in *in, struct ipk_pool *pool, struct ipk_pkt **pkt,
		  enum ipk_drop_reason *why, struct ipk_err *err);

/* Creates @path with the link type of @in. */
int ipk_pcap_open_out(struct ipk_pcap_out **out, const char *path, const struct ipk_pcap_in *in,
		      struct ipk_err *err);
/* Writes @pkt (an IP packet) with the timestamp and link header of the frame @in read
 * last. @pkt stays with the caller. Returns 0 or -EIO. */
int ipk_pcap_write(struct ipk_pcap_out *out, const struct ipk_pcap_in *in, struct ipk_pkt *pkt);
void ipk_pcap_close_out(struct ipk_pcap_out *out);

#endif
