/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP encapsulation and decapsulation (RFC 4303), tunnel and transport mode, IPv4 and
 * IPv6 inside and outside, optional UDP encapsulation (RFC 3948).
 *
 * The packet path is: (outbound) SPD lookup picks the SA -> ipk_esp_encap; (inbound)
 * ipk_esp_locate finds the SPI -> SAD lookup -> ipk_esp_decap -> inbound SPD check. The SA
 * lookups belong to the caller (the packet scheduler or the pcap mode); the functions here
 * only transform one packet with one SA, so a crypto unit can run them.
 *
 * Ownership: @pkt always stays with the caller. On failure the functions return a drop
 * reason and the caller drops the packet with it (ipk_pkt_drop), in whichever counters it
 * keeps; the SA's own counters are updated here.
 *
 * Threads: any crypto unit; @worker selects the SA's crypto context for that unit.
 */
#ifndef IPK_PROTO_ESP_H
#define IPK_PROTO_ESP_H

#include <stdint.h>

#include "core/pkt.h"
#include "proto/ip.h"
#include "sa/sa.h"

#define IPK_ESP_HDR_LEN 8 /* SPI + sequence number */

/*
 * Protects the IP packet in @pkt with @sa (outbound). Tunnel mode wraps the whole packet
 * in a new outer header (DSCP and ECN copied, RFC 4301 §5.1.2.1 and RFC 6040 §4.1);
 * transport mode inserts ESP after the IP header. The sequence number is taken here, at
 * encryption time. Returns 0, or a drop reason: sa-expired, seq-exhausted, too-big,
 * truncated-ip / bad-ip-* (inner packet malformed), crypto-error.
 */
int ipk_esp_encap(struct ipk_sa *sa, struct ipk_pkt *pkt, unsigned worker);

/*
 * Finds the ESP header of the inbound IP packet @data (parsed in @info): IP protocol 50,
 * or UDP to @natt_port (RFC 3948; 0 disables). Writes its offset and SPI (host order).
 * Returns 0, or not-esp, truncated-esp, nat-keepalive (one 0xff byte, RFC 3948 §2.3) or
 * non-esp-marker (four zero bytes: IKE, RFC 3948 §2.2).
 */
int ipk_esp_locate(const uint8_t *data, size_t len, const struct ipk_ip_info *info,
		   uint16_t natt_port, uint32_t *esp_off, uint32_t *spi);

/*
 * Verifies and decrypts the ESP packet in @pkt (outer IP header first, ESP at @esp_off as
 * found by ipk_esp_locate) with the inbound @sa. Order (RFC 4303 §3.4): length checks,
 * replay check, ICV, replay window update, padding, next header. On success @pkt holds
 * the inner IP packet (tunnel) or the original packet rebuilt (transport), and the SA's
 * packet/byte counters and lifetimes have advanced; on failure they have not.
 * Returns 0 or a drop reason (see core/drop.h).
 */
int ipk_esp_decap(struct ipk_sa *sa, struct ipk_pkt *pkt, uint32_t esp_off, unsigned worker);

/* Largest number of bytes encapsulation with @sa adds to an inner packet of @family in
 * tunnel mode (outer header, UDP, ESP header, IV, worst padding, trailer, ICV): the MTU
 * accounting of the I/O back ends. */
uint32_t ipk_esp_overhead(const struct ipk_sa *sa);

#endif
