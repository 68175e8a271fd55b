// SPDX-License-Identifier: BSD-2-Clause
#include "exp/prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exp/gen.h"
#include "proto/esp.h"
#include "proto/ip.h"
#include "sa/sa.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
/* Probe stamp after the 8-byte ICMP or UDP header: magic, index, send time. */
#define STAMP_OFF (IPK_IPV4_HDR_LEN + 8)
#define STAMP_LEN 16

int ipk_prober_init(struct ipk_prober *p, const struct ipk_prober_config *cfg, struct ipk_err *err)
{
	if (cfg->size < STAMP_OFF + STAMP_LEN || cfg->size > 1500)
		return ipk_err_set(err, -EINVAL, "prober: size %u not in %u..1500", cfg->size,
				   STAMP_OFF + STAMP_LEN);
	if (!cfg->count || cfg->dscp > 63 || !cfg->timeout_ns)
		return ipk_err_set(err, -EINVAL, "prober: count, DSCP or timeout out of range");
	if (cfg->src.family != 4 || cfg->dst.family != 4)
		return ipk_err_set(err, -EINVAL, "prober: IPv4 addresses only");
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->probe = calloc(cfg->count, sizeof(*p->probe));
	return p->probe ? 0 : -ENOMEM;
}

void ipk_prober_fini(struct ipk_prober *p)
{
	free(p->probe);
	p->probe = NULL;
}

/* ICMP checksum (RFC 792) or zero UDP checksum (RFC 768 allows it over IPv4). */
static void l4_checksum(uint8_t *ip, uint32_t len)
{
	uint16_t sum = 0;

	if (ip[9] != IPK_PROTO_ICMP)
		return;
	memcpy(ip + 22, &sum, 2);
	sum = htons((uint16_t)~ipk_csum_fold(
	    ipk_csum_add(0, ip + IPK_IPV4_HDR_LEN, len - IPK_IPV4_HDR_LEN)));
	memcpy(ip + 22, &sum, 2);
}

static void write_probe(const struct ipk_prober *p, uint8_t *ip, uint32_t index, uint64_t now_ns)
{
	const struct ipk_prober_config *c = &p->cfg;
	uint32_t magic = IPK_PROBER_MAGIC;
	uint16_t v;
	uint8_t proto = c->kind == IPK_PROBE_ICMP ? IPK_PROTO_ICMP : IPK_PROTO_UDP;

	memset(ip, 0, c->size);
	ipk_ipv4_build(ip, &c->src, &c->dst, proto, (uint16_t)c->size, (uint8_t)(c->dscp << 2), 64,
		       true, (uint16_t)index);
	if (c->kind == IPK_PROBE_ICMP) {
		ip[20] = ICMP_ECHO_REQUEST;
		v = htons(c->ident);
		memcpy(ip + 24, &v, 2);
		v = htons((uint16_t)index);
		memcpy(ip + 26, &v, 2);
	} else {
		v = htons(c->ident);
		memcpy(ip + 20, &v, 2);
		v = htons(c->dport);
		memcpy(ip + 22, &v, 2);
		v = htons((uint16_t)(c->size - IPK_IPV4_HDR_LEN));
		memcpy(ip + 24, &v, 2);
	}
	memcpy(ip + STAMP_OFF, &magic, 4);
	memcpy(ip + STAMP_OFF + 4, &index, 4);
	memcpy(ip + STAMP_OFF + 8, &now_ns, 8);
	l4_checksum(ip, c->size);
}

int ipk_prober_make(struct ipk_prober *p, uint32_t index, struct ipk_pkt *pkt, uint64_t now_ns)
{
	uint8_t *ip;
	int rc = 0;

	if (index >= p->cfg.count)
		return -ERANGE;
	ip = ipk_pkt_put(pkt, p->cfg.size);
	if (!ip)
		return IPK_DROP_TOO_BIG;
	write_probe(p, ip, index, now_ns);
	if (p->cfg.sa_out)
		rc = ipk_esp_encap(p->cfg.sa_out, pkt, p->cfg.worker);
	if (!rc) {
		p->probe[index].sent_ns = now_ns;
		atomic_fetch_add_explicit(&p->stats.sent, 1, memory_order_relaxed);
	}
	return rc;
}

uint32_t ipk_prober_send_series(struct ipk_prober *p, struct ipk_pool *pool, uint32_t first,
				uint32_t count, uint64_t start_ns, uint64_t interval_ns,
				ipk_prober_emit_fn emit, void *arg)
{
	uint32_t sent = 0;

	for (uint32_t i = 0; i < count && first + i < p->cfg.count; i++) {
		struct ipk_pkt *pkt;

		ipk_gen_sleep_until(start_ns + i * interval_ns);
		pkt = ipk_pkt_alloc(pool);
		if (!pkt)
			continue;
		if (ipk_prober_make(p, first + i, pkt, ipk_gen_now_ns())) {
			ipk_pkt_free(pkt);
			continue;
		}
		sent += emit(arg, pkt);
	}
	return sent;
}

/* Removes the ESP layer of a reply. Returns true when it verified. */
static bool open_reply(struct ipk_prober *p, struct ipk_pkt *pkt)
{
	struct ipk_ip_info info;
	uint32_t off, spi;

	if (ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &info) ||
	    ipk_esp_locate(ipk_pkt_data(pkt), pkt->len, &info, 0, &off, &spi) ||
	    spi != p->cfg.sa_in->rt.spi)
		return false;
	return ipk_esp_decap(p->cfg.sa_in, pkt, off, p->cfg.worker) == 0;
}

/* The probe index a plain reply answers, or -1. */
static int64_t reply_index(const struct ipk_prober *p, const uint8_t *ip, uint32_t len)
{
	uint32_t magic, index;
	uint8_t want = p->cfg.kind == IPK_PROBE_ICMP ? IPK_PROTO_ICMP : IPK_PROTO_UDP;

	if (len < STAMP_OFF + STAMP_LEN || (ip[0] >> 4) != 4 || ip[9] != want)
		return -1;
	if (want == IPK_PROTO_ICMP && ip[20] != ICMP_ECHO_REPLY)
		return -1;
	/* A UDP reply comes back to our port (a request goes from it). */
	if (want == IPK_PROTO_UDP && (ip[22] << 8 | ip[23]) != p->cfg.ident)
		return -1;
	memcpy(&magic, ip + STAMP_OFF, 4);
	memcpy(&index, ip + STAMP_OFF + 4, 4);
	if (magic != IPK_PROBER_MAGIC || index >= p->cfg.count)
		return -1;
	return index;
}

bool ipk_prober_receive(struct ipk_prober *p, struct ipk_pkt *pkt, uint64_t now_ns)
{
	struct ipk_probe *pr;
	int64_t index;
	uint64_t rtt;

	if (p->cfg.sa_in && !open_reply(p, pkt)) {
		atomic_fetch_add_explicit(&p->stats.bad_esp, 1, memory_order_relaxed);
		return false;
	}
	index = reply_index(p, ipk_pkt_data(pkt), pkt->len);
	if (index < 0 || !p->probe[index].sent_ns) {
		atomic_fetch_add_explicit(&p->stats.foreign, 1, memory_order_relaxed);
		return false;
	}
	pr = &p->probe[index];
	rtt = now_ns > pr->sent_ns ? now_ns - pr->sent_ns : 1;
	if (rtt > p->cfg.timeout_ns) {
		atomic_fetch_add_explicit(&p->stats.late, 1, memory_order_relaxed);
		return false;
	}
	atomic_store_explicit(&pr->rtt_ns, rtt, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->stats.replies, 1, memory_order_relaxed);
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of @n sorted values: the ceil(pct/100 * n)-th smallest. */
static double percentile_ms(const uint64_t *v, uint32_t n, uint32_t pct)
{
	uint32_t rank = (pct * n + 99) / 100;

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	return (double)v[rank - 1] / 1e6;
}

void ipk_prober_summarize(const struct ipk_prober *p, uint32_t first, uint32_t count,
			  struct ipk_prober_summary *s)
{
	uint64_t *rtt = calloc(count ? count : 1, sizeof(*rtt));
	double sum = 0;

	memset(s, 0, sizeof(*s));
	for (uint32_t i = first; i < first + count && i < p->cfg.count; i++) {
		uint64_t r = atomic_load_explicit(&p->probe[i].rtt_ns, memory_order_relaxed);

		if (!p->probe[i].sent_ns)
			continue;
		s->sent++;
		if (r && rtt) {
			rtt[s->received++] = r;
			sum += (double)r;
		}
	}
	s->lost = s->sent - s->received;
	s->loss_pct = s->sent ? 100.0 * s->lost / s->sent : 0;
	if (s->received) {
		qsort(rtt, s->received, sizeof(*rtt), cmp_u64);
		s->min_ms = (double)rtt[0] / 1e6;
		s->max_ms = (double)rtt[s->received - 1] / 1e6;
		s->avg_ms = sum / s->received / 1e6;
		s->p50_ms = percentile_ms(rtt, s->received, 50);
		s->p99_ms = percentile_ms(rtt, s->received, 99);
	}
	free(rtt);
}

void ipk_prober_write_series(const struct ipk_prober *p, uint32_t first, uint32_t count, FILE *f)
{
	uint64_t t0 = 0;

	for (uint32_t i = first; i < first + count && i < p->cfg.count; i++) {
		const struct ipk_probe *pr = &p->probe[i];
		uint64_t r = atomic_load_explicit(&pr->rtt_ns, memory_order_relaxed);

		if (!pr->sent_ns)
			continue;
		if (!t0)
			t0 = pr->sent_ns;
		if (r)
			fprintf(f, "%u %.3f %.4f\n", i - first, (double)(pr->sent_ns - t0) / 1e6,
				(double)r / 1e6);
		else
			fprintf(f, "%u %.3f NaN\n", i - first, (double)(pr->sent_ns - t0) / 1e6);
	}
}

bool ipk_prober_reflect(uint8_t *ip, uint32_t len)
{
	uint8_t tmp[4];
	uint32_t magic;

	if (len < STAMP_OFF + STAMP_LEN || (ip[0] >> 4) != 4)
		return false;
	memcpy(&magic, ip + STAMP_OFF, 4);
	if (magic != IPK_PROBER_MAGIC)
		return false;
	if (ip[9] == IPK_PROTO_ICMP && ip[20] == ICMP_ECHO_REQUEST) {
		ip[20] = ICMP_ECHO_REPLY;
	} else if (ip[9] == IPK_PROTO_UDP) {
		memcpy(tmp, ip + 20, 2);
		memcpy(ip + 20, ip + 22, 2);
		memcpy(ip + 22, tmp, 2);
	} else {
		return false;
	}
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	ip[8] = 64;
	ipk_ipv4_set_checksum(ip);
	l4_checksum(ip, len);
	return true;
}
