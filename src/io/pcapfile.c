// SPDX-License-Identifier: BSD-2-Clause
#include "io/pcapfile.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define L2_MAX 64
#define ETH_HDR_LEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define SLL_HDR_LEN 16

struct ipk_pcap_in {
	pcap_t *pcap;
	int linktype;
	struct pcap_pkthdr last_hdr;  /* of the frame read last */
	uint8_t l2[L2_MAX];           /* its link header */
	uint32_t l2_len;
	uint32_t ethertype_off;       /* where the EtherType sits in l2 (Ethernet, SLL) */
	uint32_t frames;
};

struct ipk_pcap_out {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint8_t frame[65536 + L2_MAX];
};

static bool linktype_supported(int lt)
{
	return lt == DLT_EN10MB || lt == DLT_RAW || lt == DLT_IPV4 || lt == DLT_IPV6 ||
	       lt == DLT_LINUX_SLL || lt == DLT_NULL || lt == DLT_LOOP;
}

int ipk_pcap_open_in(struct ipk_pcap_in **out, const char *path, struct ipk_err *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct ipk_pcap_in *in;
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (!p)
		return ipk_err_set(err, -EIO, "%s: %s", path, errbuf);
	if (!linktype_supported(pcap_datalink(p))) {
		ipk_err_set(err, -EINVAL, "%s: link type %s not supported (Ethernet, raw IP, "
			    "Linux cooked or loopback)", path,
			    pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		return -EINVAL;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		pcap_close(p);
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	in->pcap = p;
	in->linktype = pcap_datalink(p);
	*out = in;
	return 0;
}

void ipk_pcap_close_in(struct ipk_pcap_in *in)
{
	if (!in)
		return;
	pcap_close(in->pcap);
	free(in);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Length of the Ethernet header including VLAN tags; 0 if the frame is not IP. */
static uint32_t ether_header(const uint8_t *f, uint32_t len, uint32_t *type_off)
{
	uint32_t off = 12;

	while (off + 2 <= len && off < L2_MAX - 2) {
		uint16_t type = rd16(f + off);

		if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
			off += 4;
			continue;
		}
		*type_off = off;
		return type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6 ? off + 2 : 0;
	}
	return 0;
}

/* Bytes of link header in front of the IP packet, or 0 when the frame carries no IP. */
static uint32_t link_header(struct ipk_pcap_in *in, const uint8_t *f, uint32_t len)
{
	switch (in->linktype) {
	case DLT_EN10MB:
		return ether_header(f, len, &in->ethertype_off);
	case DLT_LINUX_SLL:
		in->ethertype_off = 14;
		if (len < SLL_HDR_LEN)
			return 0;
		return rd16(f + 14) == ETHERTYPE_IPV4 || rd16(f + 14) == ETHERTYPE_IPV6 ?
			       SLL_HDR_LEN : 0;
	case DLT_NULL:
	case DLT_LOOP:
		return len >= 4 ? 4 : 0;
	default:
		return len ? L2_MAX + 1 : 0; /* raw IP: marker for "no header" */
	}
}

int ipk_pcap_read(struct ipk_pcap_in *in, struct ipk_pool *pool, struct ipk_pkt **pkt,
		  enum ipk_drop_reason *why, struct ipk_err *err)
{
	struct pcap_pkthdr *hdr;
	const uint8_t *frame;
	uint32_t l2;
	int rc = pcap_next_ex(in->pcap, &hdr, &frame);

	*pkt = NULL;
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1)
		return ipk_err_set(err, -EIO, "pcap: %s", pcap_geterr(in->pcap));
	in->frames++;
	in->last_hdr = *hdr;
	l2 = link_header(in, frame, hdr->caplen);
	if (l2 == L2_MAX + 1)
		l2 = 0;
	else if (l2 == 0 || l2 >= hdr->caplen) {
		*why = IPK_DROP_UNSUPPORTED;
		return 1;
	}
	memcpy(in->l2, frame, l2);
	in->l2_len = l2;
	*pkt = ipk_pkt_from_bytes(pool, frame + l2, hdr->caplen - l2);
	if (!*pkt)
		*why = hdr->caplen - l2 > pool->room ? IPK_DROP_TOO_BIG : IPK_DROP_NO_BUFFER;
	else
		(*pkt)->index = in->frames;
	return 1;
}

int ipk_pcap_open_out(struct ipk_pcap_out **out, const char *path, const struct ipk_pcap_in *in,
		      struct ipk_err *err)
{
	struct ipk_pcap_out *o = calloc(1, sizeof(*o));

	if (!o)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", path);
	o->dead = pcap_open_dead(in->linktype, 65535 + L2_MAX);
	o->dumper = o->dead ? pcap_dump_open(o->dead, path) : NULL;
	if (!o->dumper) {
		ipk_err_set(err, -EIO, "%s: %s", path, o->dead ? pcap_geterr(o->dead) : "pcap");
		if (o->dead)
			pcap_close(o->dead);
		free(o);
		return -EIO;
	}
	*out = o;
	return 0;
}

/* Rewrites the link header's protocol field for the IP version leaving. */
static void set_link_protocol(const struct ipk_pcap_in *in, uint8_t *l2, uint8_t version)
{
	uint16_t type = version == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;

	if (in->linktype == DLT_EN10MB || in->linktype == DLT_LINUX_SLL) {
		l2[in->ethertype_off] = (uint8_t)(type >> 8);
		l2[in->ethertype_off + 1] = (uint8_t)type;
	}
}

int ipk_pcap_write(struct ipk_pcap_out *out, const struct ipk_pcap_in *in, struct ipk_pkt *pkt)
{
	struct pcap_pkthdr hdr = in->last_hdr;
	uint32_t len = in->l2_len + pkt->len;

	if (len > sizeof(out->frame))
		return -EIO;
	memcpy(out->frame, in->l2, in->l2_len);
	if (pkt->len)
		set_link_protocol(in, out->frame, ipk_pkt_data(pkt)[0] >> 4);
	memcpy(out->frame + in->l2_len, ipk_pkt_data(pkt), pkt->len);
	hdr.caplen = len;
	hdr.len = len;
	pcap_dump((uint8_t *)out->dumper, &hdr, out->frame);
	return 0;
}

void ipk_pcap_close_out(struct ipk_pcap_out *out)
{
	if (!out)
		return;
	pcap_dump_close(out->dumper);
	pcap_close(out->dead);
	free(out);
}
