/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prober for the experiments: probes (ICMP echo requests, or UDP datagrams a responder
 * echoes) sent at a fixed interval, plain or through an outbound ESP SA, marked with a
 * DSCP (EF, 46, by default), and the replies matched back to them: each probe's RTT or
 * its loss, and the summary min/avg/max/p50/p99/loss the paper's tables report.
 *
 * Each probe carries a magic word, its index and its send time after the ICMP/UDP
 * header. A reply that comes back after the timeout counts as lost (as ping counts it),
 * and so does a probe that was never answered.
 *
 * Threads: probes are made (ipk_prober_make, ipk_prober_send_series) on one thread and
 * replies received (ipk_prober_receive) on another; summaries once both are done.
 */
#ifndef IPK_EXP_PROBER_H
#define IPK_EXP_PROBER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/pkt.h"

struct ipk_sa;

#define IPK_PROBER_MAGIC 0x1b5eca7eu
#define IPK_DSCP_EF 46

enum ipk_probe_kind { IPK_PROBE_ICMP = 0, IPK_PROBE_UDP = 1 };

struct ipk_prober_config {
	enum ipk_probe_kind kind;
	struct ipk_addr src, dst;   /* inner IPv4 addresses */
	uint16_t ident;             /* ICMP identifier, or the UDP source port */
	uint16_t dport;             /* UDP destination port */
	uint8_t dscp;               /* 0..63; EF is 46 */
	uint32_t size;              /* IP bytes; 44..1500 (ping's default is 84) */
	uint32_t count;             /* probes in all */
	uint64_t timeout_ns;        /* a later reply counts as lost */
	struct ipk_sa *sa_out;      /* NULL: plain probes */
	struct ipk_sa *sa_in;       /* replies are decrypted with it; NULL: plain */
	unsigned worker;            /* crypto context of both SAs used here */
};

struct ipk_probe {
	uint64_t sent_ns;           /* 0: not sent */
	_Atomic uint64_t rtt_ns;    /* 0: no reply (yet) */
};

struct ipk_prober_stats {
	_Atomic uint64_t sent, replies, late, foreign, bad_esp;
};

struct ipk_prober {
	struct ipk_prober_config cfg;
	struct ipk_probe *probe;    /* cfg.count */
	struct ipk_prober_stats stats;
};

struct ipk_prober_summary {
	uint32_t sent, received, lost;
	double loss_pct;
	double min_ms, avg_ms, max_ms, p50_ms, p99_ms; /* over received; 0 if none */
};

/* Emits a probe; consumes @pkt. Returns false if it was dropped on the way out. */
typedef bool (*ipk_prober_emit_fn)(void *arg, struct ipk_pkt *pkt);

/* Checks @cfg and allocates the probe table. Returns 0, -EINVAL (message) or -ENOMEM. */
int ipk_prober_init(struct ipk_prober *p, const struct ipk_prober_config *cfg,
		    struct ipk_err *err);
void ipk_prober_fini(struct ipk_prober *p);

/* Writes probe @index into the empty @pkt (sealed with sa_out when set) and records
 * @now_ns as its send time. Returns 0, -ERANGE (index) or a positive drop reason. */
int ipk_prober_make(struct ipk_prober *p, uint32_t index, struct ipk_pkt *pkt, uint64_t now_ns);
/* Sends probes @first..@first+@count-1 from @pool, one every @interval_ns from @start_ns
 * on absolute deadlines, in the calling thread. Returns how many were emitted. */
uint32_t ipk_prober_send_series(struct ipk_prober *p, struct ipk_pool *pool, uint32_t first,
				uint32_t count, uint64_t start_ns, uint64_t interval_ns,
				ipk_prober_emit_fn emit, void *arg);
/* Matches a reply received at @now_ns (decrypting it first when sa_in is set; @pkt stays
 * with the caller, possibly modified). Returns true when it answered one of our probes
 * in time. */
bool ipk_prober_receive(struct ipk_prober *p, struct ipk_pkt *pkt, uint64_t now_ns);

/* Summary over probes @first..@first+@count-1 that were sent. */
void ipk_prober_summarize(const struct ipk_prober *p, uint32_t first, uint32_t count,
			  struct ipk_prober_summary *s);
/* Writes one line per sent probe of the range: "index send_ms rtt_ms" with rtt_ms "NaN"
 * for a lost probe; send_ms is relative to probe @first. */
void ipk_prober_write_series(const struct ipk_prober *p, uint32_t first, uint32_t count,
			     FILE *f);

/* Turns the echo request or UDP probe in @data (a plain IPv4 packet) into its reply in
 * place: addresses swapped, ICMP type 0 or UDP ports swapped, checksums updated; the
 * DSCP stays. What a responder host does. Returns false if it is not a probe. */
bool ipk_prober_reflect(uint8_t *data, uint32_t len);

#endif
