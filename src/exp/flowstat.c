// SPDX-License-Identifier: BSD-2-Clause
#include "exp/flowstat.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ip.h"

int ipk_flowstat_init(struct ipk_flowstat *fs, uint32_t n_flows, const uint8_t *group)
{
	memset(fs, 0, sizeof(*fs));
	if (!n_flows || n_flows > IPK_GEN_MAX_FLOWS)
		return -EINVAL;
	for (uint32_t i = 0; i < n_flows; i++) {
		if (group[i] >= IPK_FLOWSTAT_GROUPS)
			return -EINVAL;
		fs->group[i] = group[i];
	}
	fs->n_flows = n_flows;
	atomic_store_explicit(&fs->from_ns, UINT64_MAX, memory_order_relaxed);
	for (unsigned g = 0; g < IPK_FLOWSTAT_GROUPS; g++) {
		fs->hist[g] = calloc(IPK_FLOWSTAT_BINS, sizeof(*fs->hist[g]));
		if (!fs->hist[g]) {
			ipk_flowstat_fini(fs);
			return -ENOMEM;
		}
	}
	return 0;
}

void ipk_flowstat_fini(struct ipk_flowstat *fs)
{
	for (unsigned g = 0; g < IPK_FLOWSTAT_GROUPS; g++) {
		free(fs->hist[g]);
		fs->hist[g] = NULL;
	}
}

/* Adds (@sign 1) or subtracts the generator's per-flow counters. */
static void gen_snapshot(struct ipk_flowstat *fs, const struct ipk_gen *gen, int sign)
{
	for (uint32_t i = 0; i < fs->n_flows && i < gen->n_flows; i++) {
		uint64_t n = atomic_load_explicit(&gen->stats[i].sent, memory_order_relaxed);
		uint64_t b = atomic_load_explicit(&gen->stats[i].bytes, memory_order_relaxed);

		fs->sent[i] += sign > 0 ? n : -n;
		fs->sent_bytes[i] += sign > 0 ? b : -b;
	}
}

void ipk_flowstat_open(struct ipk_flowstat *fs, const struct ipk_gen *gen, uint64_t from_ns)
{
	memset(fs->sent, 0, sizeof(fs->sent));
	memset(fs->sent_bytes, 0, sizeof(fs->sent_bytes));
	gen_snapshot(fs, gen, -1);
	fs->t0_ns = from_ns;
	atomic_store_explicit(&fs->until_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&fs->from_ns, from_ns, memory_order_relaxed);
}

void ipk_flowstat_close(struct ipk_flowstat *fs, const struct ipk_gen *gen, uint64_t until_ns)
{
	atomic_store_explicit(&fs->until_ns, until_ns, memory_order_relaxed);
	gen_snapshot(fs, gen, 1);
	fs->t1_ns = until_ns;
}

void ipk_flowstat_phase(void *arg, struct ipk_testbed *tb, enum ipk_tb_phase ph, uint64_t now_ns)
{
	struct ipk_flowstat *fs = arg;

	if (ph == IPK_TB_PHASE_LOADED)
		ipk_flowstat_open(fs, ipk_testbed_gen(tb), now_ns);
	else if (ph == IPK_TB_PHASE_END)
		ipk_flowstat_close(fs, ipk_testbed_gen(tb), now_ns);
}

void ipk_flowstat_sink(void *arg, const uint8_t *ip, uint32_t len, uint64_t now_ns)
{
	ipk_flowstat_record(arg, ip, len, now_ns);
}

double ipk_flowstat_offered_bps(const struct ipk_flowstat *fs, uint32_t i)
{
	uint64_t dt = fs->t1_ns > fs->t0_ns ? fs->t1_ns - fs->t0_ns : 0;

	return dt && i < fs->n_flows ? (double)fs->sent_bytes[i] * 8e9 / (double)dt : 0;
}

double ipk_flowstat_delivered_bps(const struct ipk_flowstat *fs, uint32_t i)
{
	/* Every packet of a flow has one size: delivered ESP bytes = sent bytes x ratio. */
	if (i >= fs->n_flows || !fs->sent[i])
		return 0;
	return ipk_flowstat_offered_bps(fs, i) * (double)fs->pkts[i] / (double)fs->sent[i];
}

void ipk_flowstat_record(struct ipk_flowstat *fs, const uint8_t *ip, uint32_t len, uint64_t now_ns)
{
	uint64_t from = atomic_load_explicit(&fs->from_ns, memory_order_relaxed);
	uint64_t until = atomic_load_explicit(&fs->until_ns, memory_order_relaxed);
	uint32_t ihl, flow, bin;
	uint64_t sent_ns;

	/* exp/gen.c's stamp: flow, sequence number, send time after the UDP header. */
	ihl = len ? (uint32_t)(ip[0] & 0x0f) * 4 : 0;
	if (len < 20 || ihl < 20 || ip[9] != IPK_PROTO_UDP || len < ihl + 8 + IPK_GEN_STAMP_LEN) {
		fs->foreign++;
		return;
	}
	memcpy(&flow, ip + ihl + 8, 4);
	memcpy(&sent_ns, ip + ihl + 16, 8);
	if (flow >= fs->n_flows) {
		fs->foreign++;
		return;
	}
	if (sent_ns < from || (until && sent_ns >= until))
		return;
	fs->pkts[flow]++;
	fs->bytes[flow] += len;
	fs->group_pkts[fs->group[flow]]++;
	bin = now_ns > sent_ns ? (uint32_t)((now_ns - sent_ns) / IPK_FLOWSTAT_BIN_NS) : 0;
	fs->hist[fs->group[flow]][bin < IPK_FLOWSTAT_BINS ? bin : IPK_FLOWSTAT_BINS - 1]++;
}

double ipk_flowstat_delay_ms(const struct ipk_flowstat *fs, unsigned g, double pct)
{
	uint64_t n = g < IPK_FLOWSTAT_GROUPS ? fs->group_pkts[g] : 0, rank, seen = 0;

	if (!n)
		return 0;
	rank = (uint64_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	for (uint32_t b = 0; b < IPK_FLOWSTAT_BINS; b++) {
		seen += fs->hist[g][b];
		if (seen >= rank)
			return ((double)b + 0.5) * IPK_FLOWSTAT_BIN_NS / 1e6;
	}
	return (double)IPK_FLOWSTAT_BINS * IPK_FLOWSTAT_BIN_NS / 1e6;
}
