// SPDX-License-Identifier: BSD-2-Clause
#include "proto/esp.h"

#include <errno.h>
#include <string.h>

#include "crypto/alg.h"
#include "proto/replay.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct ipk_crypto *sa_crypto(const struct ipk_sa *sa, unsigned worker)
{
	return sa->rt.crypto[worker % sa->rt.n_crypto];
}

static uint32_t outer_hdr_len(const struct ipk_sa *sa)
{
	uint32_t len = sa->params.dst.family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;

	return sa->rt.encap_udp ? len + IPK_UDP_HDR_LEN : len;
}

uint32_t ipk_esp_overhead(const struct ipk_sa *sa)
{
	const struct ipk_alg *a = sa->rt.alg;

	return outer_hdr_len(sa) + IPK_ESP_HDR_LEN + a->iv_len + (a->block_size - 1u) + 2u +
	       a->icv_len;
}

/*
 * Appends the ESP trailer: padding 1, 2, 3, ... (RFC 4303 §2.4 default), pad length and
 * next header, so that payload || trailer is a multiple of the cipher's block (at least
 * 4), then room for the ICV. Returns the plaintext length or 0 when the tailroom is short.
 */
static uint32_t append_trailer(struct ipk_pkt *pkt, uint32_t payload_off, uint8_t next_header,
			       const struct ipk_alg *alg)
{
	uint32_t payload_len = pkt->len - payload_off;
	uint32_t pad = (alg->block_size - (payload_len + 2) % alg->block_size) % alg->block_size;
	uint8_t *tail = ipk_pkt_put(pkt, pad + 2 + alg->icv_len);

	if (!tail)
		return 0;
	for (uint32_t i = 0; i < pad; i++)
		tail[i] = (uint8_t)(i + 1);
	tail[pad] = (uint8_t)pad;
	tail[pad + 1] = next_header;
	return payload_len + pad + 2;
}

static void write_udp(uint8_t *udp, const struct ipk_sa *sa, uint32_t udp_len)
{
	wr16(udp, sa->params.encap_sport);
	wr16(udp + 2, sa->params.encap_dport);
	wr16(udp + 4, (uint16_t)udp_len);
	/* RFC 3948 §2.1: the UDP checksum is zero over IPv4; IPv6 sets it after the header
	 * is written (RFC 8200 §8.1 requires one). */
	wr16(udp + 6, 0);
}

static void set_udp6_checksum(uint8_t *ip6, uint8_t *udp, uint32_t udp_len)
{
	uint32_t sum = ipk_csum_add(0, ip6 + 8, 32);
	uint16_t csum;

	sum += udp_len + IPK_PROTO_UDP;
	sum = ipk_csum_add(sum, udp, udp_len);
	csum = (uint16_t)~ipk_csum_fold(sum);
	wr16(udp + 6, csum ? csum : 0xffff);
}

/* Writes the outer IP (and UDP) header of a tunnel-mode packet in front of the ESP header
 * at @esp. @tos is the inner packet's DSCP/ECN byte. */
static void write_tunnel_header(struct ipk_sa *sa, uint8_t *outer, uint32_t total_len,
				uint8_t tos, bool df, uint64_t seq)
{
	const struct ipk_sa_params *p = &sa->params;
	uint8_t proto = sa->rt.encap_udp ? IPK_PROTO_UDP : IPK_PROTO_ESP;
	uint32_t ip_len = p->dst.family == 6 ? IPK_IPV6_HDR_LEN : IPK_IPV4_HDR_LEN;
	uint8_t outer_tos = ipk_ecn_encap_tos(tos);

	if (sa->rt.encap_udp)
		write_udp(outer + ip_len, sa, total_len - ip_len);
	if (p->dst.family == 6) {
		ipk_ipv6_build(outer, &p->src, &p->dst, proto, (uint16_t)(total_len - ip_len),
			       outer_tos, p->ttl);
	} else {
		/* The low 16 bits of the sequence number are unique enough for an IP ID
		 * within the reassembly lifetime of one SA (RFC 6864 §4.1). */
		ipk_ipv4_build(outer, &p->src, &p->dst, proto, (uint16_t)total_len, outer_tos,
			       p->ttl, df, (uint16_t)seq);
	}
}

static int seal(struct ipk_sa *sa, uint8_t *esp, uint32_t plain_len, uint64_t seq,
		unsigned worker)
{
	wr32(esp, sa->rt.spi);
	wr32(esp + 4, (uint32_t)seq);
	if (ipk_crypto_seal(sa_crypto(sa, worker), esp, plain_len, seq, sa->rt.esn))
		return IPK_DROP_CRYPTO_ERROR;
	return 0;
}

static int encap_tunnel(struct ipk_sa *sa, struct ipk_pkt *pkt, const struct ipk_ip_info *in,
			uint64_t seq, unsigned worker)
{
	const struct ipk_alg *alg = sa->rt.alg;
	uint32_t esp_hdr = IPK_ESP_HDR_LEN + alg->iv_len, plain_len, total;
	uint8_t tos = ipk_ip_get_tos(ipk_pkt_data(pkt));
	bool df = in->version == 4 && (ipk_pkt_data(pkt)[6] & 0x40);
	uint8_t *outer, *esp;

	plain_len = append_trailer(pkt, 0, in->version == 6 ? IPK_PROTO_IPV6 : IPK_PROTO_IPIP, alg);
	if (!plain_len)
		return IPK_DROP_TOO_BIG;
	esp = ipk_pkt_push(pkt, esp_hdr);
	outer = esp ? ipk_pkt_push(pkt, outer_hdr_len(sa)) : NULL;
	if (!outer || pkt->len > 0xffff)
		return IPK_DROP_TOO_BIG;
	total = pkt->len;
	write_tunnel_header(sa, outer, total, tos, df, seq);
	if (seal(sa, esp, plain_len, seq, worker))
		return IPK_DROP_CRYPTO_ERROR;
	/* The UDP checksum covers the sealed ESP packet, so it comes last. */
	if (sa->rt.encap_udp && sa->params.dst.family == 6)
		set_udp6_checksum(outer, outer + IPK_IPV6_HDR_LEN, total - IPK_IPV6_HDR_LEN);
	return 0;
}

/* Transport mode (RFC 4303 §3.1.1): ESP goes between the IP header (with any IPv6
 * extension headers before the upper layer) and the upper-layer payload. */
static int encap_transport(struct ipk_sa *sa, struct ipk_pkt *pkt, const struct ipk_ip_info *in,
			   uint64_t seq, unsigned worker)
{
	const struct ipk_alg *alg = sa->rt.alg;
	uint32_t hl = in->hdr_len, udp = sa->rt.encap_udp ? IPK_UDP_HDR_LEN : 0;
	uint32_t gap = udp + IPK_ESP_HDR_LEN + alg->iv_len, plain_len;
	uint8_t *ip, *esp;

	plain_len = append_trailer(pkt, hl, in->proto, alg);
	if (!plain_len || !ipk_pkt_push(pkt, gap) || pkt->len > 0xffff)
		return IPK_DROP_TOO_BIG;
	ip = ipk_pkt_data(pkt);
	memmove(ip, ip + gap, hl);
	esp = ip + hl + udp;
	if (udp)
		write_udp(ip + hl, sa, pkt->len - hl);
	if (in->version == 4) {
		ip[9] = udp ? IPK_PROTO_UDP : IPK_PROTO_ESP;
		wr16(ip + 2, (uint16_t)pkt->len);
		ipk_ipv4_set_checksum(ip);
	} else {
		/* The last header before the payload names ESP (or UDP) now. */
		ip[in->proto_off] = udp ? IPK_PROTO_UDP : IPK_PROTO_ESP;
		wr16(ip + 4, (uint16_t)(pkt->len - IPK_IPV6_HDR_LEN));
	}
	if (seal(sa, esp, plain_len, seq, worker))
		return IPK_DROP_CRYPTO_ERROR;
	if (udp && in->version == 6)
		set_udp6_checksum(ip, ip + hl, pkt->len - hl);
	return 0;
}

static int encap(struct ipk_sa *sa, struct ipk_pkt *pkt, unsigned worker)
{
	struct ipk_ip_info in;
	uint32_t inner_len;
	uint64_t seq;
	int rc;

	rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &in);
	if (rc)
		return rc;
	/* Trailing link-layer padding is not part of the datagram. */
	ipk_pkt_trim(pkt, in.total_len);
	if (sa->rt.mode == IPK_MODE_TRANSPORT && in.is_fragment)
		return IPK_DROP_UNSUPPORTED; /* RFC 4303 §3.3.4: transport mode protects
					       * whole datagrams; the host reassembles */
	if (!ipk_sa_usable(sa))
		return IPK_DROP_SA_EXPIRED;
	if (!ipk_sa_next_seq(sa, &seq))
		return IPK_DROP_SEQ_EXHAUSTED;
	inner_len = pkt->len;
	if (sa->rt.mode == IPK_MODE_TUNNEL)
		rc = encap_tunnel(sa, pkt, &in, seq, worker);
	else
		rc = encap_transport(sa, pkt, &in, seq, worker);
	if (rc)
		return rc;
	ipk_sa_account(sa, inner_len);
	return 0;
}

int ipk_esp_encap(struct ipk_sa *sa, struct ipk_pkt *pkt, unsigned worker)
{
	int rc = encap(sa, pkt, worker);

	if (rc)
		ipk_drop_count(&sa->stats.drops, (enum ipk_drop_reason)rc);
	return rc;
}

static int locate_udp(const uint8_t *udp, size_t left, uint16_t natt_port, uint32_t *skip)
{
	static const uint8_t non_esp_marker[4] = { 0, 0, 0, 0 };

	if (left < IPK_UDP_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	if (!natt_port || (uint16_t)(udp[2] << 8 | udp[3]) != natt_port)
		return IPK_DROP_NOT_ESP;
	left -= IPK_UDP_HDR_LEN;
	/* RFC 3948 §2.3: a single 0xff byte keeps the NAT binding alive. */
	if (left == 1 && udp[IPK_UDP_HDR_LEN] == 0xff)
		return IPK_DROP_NAT_KEEPALIVE;
	/* RFC 3948 §2.2: four zero bytes (an SPI of 0) mark an IKE message. */
	if (left >= 4 && memcmp(udp + IPK_UDP_HDR_LEN, non_esp_marker, 4) == 0)
		return IPK_DROP_NON_ESP_MARKER;
	*skip = IPK_UDP_HDR_LEN;
	return 0;
}

int ipk_esp_locate(const uint8_t *data, size_t len, const struct ipk_ip_info *info,
		   uint16_t natt_port, uint32_t *esp_off, uint32_t *spi)
{
	uint32_t off = info->hdr_len, skip = 0;
	size_t end = info->total_len < len ? info->total_len : len;
	int rc;

	if (info->is_fragment)
		return IPK_DROP_FRAG_BAD; /* the caller reassembles first */
	if (info->proto == IPK_PROTO_UDP) {
		rc = locate_udp(data + off, end - off, natt_port, &skip);
		if (rc)
			return rc;
	} else if (info->proto != IPK_PROTO_ESP) {
		return IPK_DROP_NOT_ESP;
	}
	off += skip;
	if (end < off + IPK_ESP_HDR_LEN)
		return IPK_DROP_TRUNCATED_ESP;
	*esp_off = off;
	*spi = rd32(data + off);
	return 0;
}

/* RFC 4303 §2.4: the receiver checks the default padding 1, 2, 3, ... */
static int check_trailer(const uint8_t *plain, uint32_t plain_len, uint32_t *payload_len)
{
	uint8_t pad_len = plain[plain_len - 2];

	if ((uint32_t)pad_len + 2 > plain_len)
		return IPK_DROP_BAD_PAD_LENGTH;
	*payload_len = plain_len - 2 - pad_len;
	for (uint32_t i = 0; i < pad_len; i++)
		if (plain[*payload_len + i] != (uint8_t)(i + 1))
			return IPK_DROP_BAD_PADDING;
	return 0;
}

/* Tunnel mode: the payload is the inner IP packet. RFC 6040 §4.2 for ECN. */
static int finish_tunnel(struct ipk_pkt *pkt, uint32_t payload_off, uint32_t payload_len,
			 uint8_t next_header, uint8_t outer_ecn)
{
	struct ipk_ip_info inner;
	uint8_t *ip, new_ecn, tos;

	if (next_header != IPK_PROTO_IPIP && next_header != IPK_PROTO_IPV6)
		return IPK_DROP_BAD_NEXT_HEADER;
	ipk_pkt_pull(pkt, payload_off);
	ipk_pkt_trim(pkt, payload_len);
	ip = ipk_pkt_data(pkt);
	if (ipk_ip_parse(ip, pkt->len, &inner) ||
	    inner.version != (next_header == IPK_PROTO_IPIP ? 4 : 6))
		return IPK_DROP_INNER_MISMATCH;
	/* Anything after the inner datagram is TFC padding (RFC 4303 §2.7). */
	ipk_pkt_trim(pkt, inner.total_len);
	if (!ipk_ecn_decap(outer_ecn, inner.ecn, &new_ecn))
		return IPK_DROP_ECN_CE_NOT_ECT;
	if (new_ecn != inner.ecn) {
		tos = ipk_ip_get_tos(ip);
		ipk_ip_set_tos(ip, (uint8_t)((tos & ~3u) | new_ecn));
	}
	return 0;
}

/* Transport mode: the IP header moves up to the payload and names the payload again. */
static int finish_transport(struct ipk_pkt *pkt, const struct ipk_ip_info *outer,
			    uint32_t payload_off, uint32_t payload_len, uint8_t next_header)
{
	uint32_t hl = outer->hdr_len;
	uint8_t *ip;

	/* Hop-by-hop options may only follow the IPv6 header directly (RFC 8200 §4.3). */
	if (next_header == 0)
		return IPK_DROP_BAD_NEXT_HEADER;
	ipk_pkt_trim(pkt, payload_off + payload_len);
	ip = ipk_pkt_data(pkt);
	memmove(ip + payload_off - hl, ip, hl);
	ipk_pkt_pull(pkt, payload_off - hl);
	ip = ipk_pkt_data(pkt);
	ip[outer->proto_off] = next_header;
	if (outer->version == 4) {
		wr16(ip + 2, (uint16_t)pkt->len);
		ipk_ipv4_set_checksum(ip);
	} else {
		wr16(ip + 4, (uint16_t)(pkt->len - IPK_IPV6_HDR_LEN));
	}
	return 0;
}

static int decap_lengths(const struct ipk_alg *alg, uint32_t esp_len, uint32_t *ct_len)
{
	uint32_t fixed = IPK_ESP_HDR_LEN + alg->iv_len + alg->icv_len;

	if (esp_len < fixed + 2)
		return IPK_DROP_TRUNCATED_ESP;
	*ct_len = esp_len - fixed;
	/* CBC needs whole blocks; every ESP payload is 4-byte aligned (RFC 4303 §2.4). */
	if (*ct_len % alg->block_size)
		return IPK_DROP_BAD_CIPHERTEXT_LENGTH;
	return 0;
}

/* Replay check, ICV, then the window update: forged packets never move the window. */
static int decap_verify(struct ipk_sa *sa, uint8_t *esp, uint32_t ct_len, unsigned worker)
{
	uint32_t seq_lo = rd32(esp + 4);
	uint64_t seq = seq_lo;
	int rc;

	if (sa->rt.replay) {
		rc = ipk_replay_check(sa->rt.replay, seq_lo, &seq);
		if (rc)
			return rc;
	}
	rc = ipk_crypto_open(sa_crypto(sa, worker), esp, ct_len, seq, sa->rt.esn);
	if (rc)
		return rc == -EBADMSG ? IPK_DROP_BAD_ICV : IPK_DROP_CRYPTO_ERROR;
	if (sa->rt.replay)
		return ipk_replay_update(sa->rt.replay, seq);
	return 0;
}

static int decap(struct ipk_sa *sa, struct ipk_pkt *pkt, uint32_t esp_off, unsigned worker)
{
	const struct ipk_alg *alg = sa->rt.alg;
	struct ipk_ip_info outer;
	uint32_t ct_len, payload_off, payload_len;
	uint8_t *esp, *plain, next_header;
	int rc;

	rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &outer);
	if (rc)
		return rc;
	ipk_pkt_trim(pkt, outer.total_len);
	if (esp_off + IPK_ESP_HDR_LEN > pkt->len)
		return IPK_DROP_TRUNCATED_ESP;
	if (!ipk_sa_usable(sa))
		return IPK_DROP_SA_EXPIRED;
	rc = decap_lengths(alg, pkt->len - esp_off, &ct_len);
	if (!rc)
		rc = decap_verify(sa, ipk_pkt_data(pkt) + esp_off, ct_len, worker);
	if (rc)
		return rc;
	esp = ipk_pkt_data(pkt) + esp_off;
	payload_off = esp_off + IPK_ESP_HDR_LEN + alg->iv_len;
	plain = esp + IPK_ESP_HDR_LEN + alg->iv_len;
	next_header = plain[ct_len - 1];
	rc = check_trailer(plain, ct_len, &payload_len);
	if (rc)
		return rc;
	/* RFC 4303 §2.6: next header 59 marks a dummy packet, dropped silently. */
	if (next_header == IPK_PROTO_NONE)
		return IPK_DROP_DUMMY_PACKET;
	if (payload_len == 0)
		return IPK_DROP_EMPTY_PAYLOAD;
	if (sa->rt.mode == IPK_MODE_TUNNEL)
		rc = finish_tunnel(pkt, payload_off, payload_len, next_header, outer.ecn);
	else
		rc = finish_transport(pkt, &outer, payload_off, payload_len, next_header);
	if (rc)
		return rc;
	ipk_sa_account(sa, pkt->len);
	return 0;
}

int ipk_esp_decap(struct ipk_sa *sa, struct ipk_pkt *pkt, uint32_t esp_off, unsigned worker)
{
	int rc = decap(sa, pkt, esp_off, worker);

	if (rc)
		ipk_drop_count(&sa->stats.drops, (enum ipk_drop_reason)rc);
	return rc;
}
