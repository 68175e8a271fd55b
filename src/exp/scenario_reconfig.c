// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reconfiguration under attack (exp/scenarios.h): the decoupled engine without QoS under
 * the flood; before the middle probe, the control thread sends the strict-priority chains
 * for hooks 1, 3 and 5 as one ipseckctl request (ipk_testbed_ctl -> ipk_ctl_execute, the
 * control socket's handler) while packets flow.
 *
 * ipseckd runs every changing request inside ipk_gateway_pause() (gw/gwctl.c), which
 * waits until the engine is empty, because SAD and SPD changes need it. A QoS-only request
 * does not: hooks attach under each queue's lock and hand the packets the FIFO held over
 * to the new chain (engine/hooks.h, engine/equeue.h). The testbed has no pause, so this
 * run shows the attach itself under traffic.
 */
#include "exp/scenarios.h"

#include <errno.h>
#include <string.h>

#include "engine/equeue.h"
#include "exp/gen.h"

#define EF_PKTS 64

struct rc_ctx {
	struct ipk_scn_reconfig *out;
	uint64_t change_ns;
	struct ipk_err err;
};

/*
 * EF first at each hook; best effort keeps exactly the room its FIFO had (the queue's own
 * limit), so the handover, which moves every held packet into the new chain, has room
 * for all of them: a packet the chain refused there would be lost by the change.
 */
static void chain_text(struct ipk_engine *e, char *buf, size_t size)
{
	static const unsigned hooks[] = {1, 3, 5};
	size_t len = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < 3; i++) {
		unsigned h = hooks[i];
		struct ipk_equeue *q = ipk_engine_queue(e, h);
		int n;

		n = snprintf(buf + len, size - len,
			     "qos add name c%u kind dscp ef 0 default 1\n"
			     "qos add name ef%u kind fifo limit %u\n"
			     "qos add name be%u kind fifo limit %u\n"
			     "qos add name sp%u kind prio\n"
			     "qos node name n%u classify c%u children ef%u,be%u schedule sp%u\n"
			     "hook attach %u n%u\n",
			     h, h, EF_PKTS, h, q ? q->limit_pkts : 256, h, h, h, h, h, h, h, h);
		if (n > 0 && (size_t)n < size - len)
			len += (size_t)n;
	}
}

/* Per engine queue: packets that arrived (in) and were dropped (all reasons), so far. */
static void queue_counts(struct ipk_engine *e, uint64_t in[5], uint64_t drops[5])
{
	for (unsigned n = 1; n <= 5; n++) {
		struct ipk_equeue *q = ipk_engine_queue(e, n);

		in[n - 1] = q ? atomic_load_explicit(&q->in, memory_order_relaxed) : 0;
		drops[n - 1] = q ? ipk_drop_total(&q->drops) : 0;
	}
}

/*
 * A packet the new chain refused at the handover is dropped under its own reason
 * (queue-full, like the flood's) but never counted as arriving (`in`): at each queue,
 * drops beyond arrivals during the request are packets the change lost. Enqueue counts
 * `in` under the queue lock and the drop after unlock, so one producer per queue may
 * straddle the window's start: one packet of slack per queue.
 */
static void change_losses(struct ipk_scn_reconfig *s, const uint64_t in0[5], const uint64_t d0[5],
			  struct ipk_engine *e)
{
	uint64_t in1[5], d1[5];

	queue_counts(e, in1, d1);
	for (unsigned q = 0; q < 5; q++) {
		uint64_t arrived = in1[q] - in0[q], dropped = d1[q] - d0[q];

		s->window_in += arrived;
		s->window_drops += dropped;
		if (dropped > arrived + 1)
			s->lost_by_change += dropped - arrived;
	}
}

static void rc_phase(void *arg, struct ipk_testbed *tb, enum ipk_tb_phase ph, uint64_t now)
{
	struct rc_ctx *x = arg;
	struct ipk_engine *e = ipk_testbed_engine(tb);
	uint64_t t0, t1, in0[5], d0[5];
	char text[2048];

	if (ph != IPK_TB_PHASE_EVENT)
		return;
	chain_text(e, text, sizeof(text));
	x->out->q3_len = ipk_equeue_len(ipk_engine_queue(e, 3));
	x->out->h5_len = ipk_equeue_len(ipk_engine_queue(e, 5));
	queue_counts(e, in0, d0);
	t0 = ipk_gen_now_ns();
	x->out->apply_rc = ipk_testbed_ctl(tb, text, &x->err);
	t1 = ipk_gen_now_ns();
	change_losses(x->out, in0, d0, e);
	x->change_ns = t0;
	x->out->apply_ms = (double)(t1 - t0) / 1e6;
	snprintf(x->out->apply_msg, sizeof(x->out->apply_msg), "%s", x->err.msg);
}

static void fill_reconfig(struct ipk_scn_reconfig *s, struct ipk_testbed *tb,
			  const struct ipk_tb_config *c)
{
	const struct ipk_prober *p = ipk_testbed_prober(tb);
	uint64_t drops[IPK_DROP_COUNT], total = 0;
	uint32_t first = c->idle_probes + s->change_probe;

	ipk_prober_summarize(p, c->idle_probes, s->change_probe, &s->before);
	ipk_prober_summarize(p, first, c->probes - s->change_probe, &s->after);
	s->settle_ms =
	    (double)atomic_load_explicit(&p->probe[first].rtt_ns, memory_order_relaxed) / 1e6;
	ipk_engine_balance(ipk_testbed_engine(tb), &s->end);
	ipk_scn_engine_drops(ipk_testbed_engine(tb), drops);
	for (unsigned k = 0; k < IPK_DROP_COUNT; k++)
		total += drops[k];
	s->drops_queue_full = drops[IPK_DROP_QUEUE_FULL];
	s->drops_hook_detached = drops[IPK_DROP_HOOK_DETACHED];
	s->drops_other = total - s->drops_queue_full - s->drops_hook_detached;
}

int ipk_scn_reconfig_run(const struct ipk_tb_config *base, const struct ipk_report *r,
			 struct ipk_scn_reconfig *out, struct ipk_err *err)
{
	struct rc_ctx x = {.out = out, .err = {""}};
	struct ipk_tb_config c = *base;
	struct ipk_testbed *tb = NULL;
	FILE *f;
	int rc;

	memset(out, 0, sizeof(*out));
	c.design = IPK_TB_DECOUPLED;
	c.probe = IPK_TB_PROBE_IPSEC;
	c.event_probe = c.probes / 2;
	c.obs = (struct ipk_tb_observer){rc_phase, NULL, &x};
	out->probes = c.probes;
	out->change_probe = c.event_probe;
	out->interval_ms = c.interval_ns / 1e6;
	out->apply_rc = -EAGAIN;
	printf("[reconfig] decoupled, QoS attached before probe %u of %u ", out->change_probe,
	       out->probes);
	fflush(stdout);
	rc = ipk_testbed_create(&tb, &c, err);
	if (!rc)
		rc = ipk_testbed_run(tb, &out->res, err);
	if (!rc)
		fill_reconfig(out, tb, &c);
	if (!rc && (f = ipk_report_open(r, "reconfig.dat"))) {
		ipk_testbed_write_series(tb, f);
		fclose(f);
	}
	ipk_testbed_destroy(tb);
	if (!rc)
		printf("%5.1f s  apply %.2f ms  EF loss before %.1f%% after %.1f%%\n",
		       out->res.seconds, out->apply_ms, out->before.loss_pct, out->after.loss_pct);
	return rc;
}

void ipk_scn_reconfig_print(const struct ipk_scn_reconfig *s, FILE *f)
{
	fprintf(f,
		"\nReconfiguration under the flood: EF probes inside IPsec every %.0f ms; strict "
		"priority\nattached at hooks 1, 3, 5 before probe %u (one ipseckctl request, %s "
		"in %.2f ms)\n",
		s->interval_ms, s->change_probe, s->apply_rc ? "FAILED" : "applied", s->apply_ms);
	if (s->apply_rc)
		fprintf(f, "  %s\n", s->apply_msg);
	fprintf(f, "%-8s %7s %7s %7s %7s %7s %6s\n", "EF", "min", "avg", "max", "p50", "p99",
		"loss");
	fprintf(f, "%-8s %7.2f %7.2f %7.2f %7.2f %7.2f %5.1f%%\n", "before", s->before.min_ms,
		s->before.avg_ms, s->before.max_ms, s->before.p50_ms, s->before.p99_ms,
		s->before.loss_pct);
	fprintf(f, "%-8s %7.2f %7.2f %7.2f %7.2f %7.2f %5.1f%%\n", "after", s->after.min_ms,
		s->after.avg_ms, s->after.max_ms, s->after.p50_ms, s->after.p99_ms,
		s->after.loss_pct);
	fprintf(f,
		"first probe after the change: RTT %.2f ms; the FIFOs held %u (queue 3) and %u "
		"(hook 5) packets,\nhanded over to the new chains; during the request %llu "
		"packets arrived at the queues, %llu were\ndropped, %llu lost by the change. "
		"Engine at the end: in %llu = out %llu + drops %llu\n+ in flight %llu (%s); "
		"drops: queue-full %llu, hook-detached %llu, other %llu\n",
		s->settle_ms, s->q3_len, s->h5_len, (unsigned long long)s->window_in,
		(unsigned long long)s->window_drops, (unsigned long long)s->lost_by_change,
		(unsigned long long)s->end.in, (unsigned long long)s->end.out,
		(unsigned long long)s->end.drops, (unsigned long long)s->end.in_flight,
		s->res.balanced ? "exact" : "BROKEN", (unsigned long long)s->drops_queue_full,
		(unsigned long long)s->drops_hook_detached, (unsigned long long)s->drops_other);
}

static void json_summary(FILE *f, const char *key, const struct ipk_prober_summary *s)
{
	fprintf(f,
		"\"%s\": {\"sent\": %u, \"received\": %u, \"loss_pct\": %.3f, \"min_ms\": %.4f, "
		"\"avg_ms\": %.4f, \"max_ms\": %.4f, \"p50_ms\": %.4f, \"p99_ms\": %.4f}",
		key, s->sent, s->received, s->loss_pct, s->min_ms, s->avg_ms, s->max_ms, s->p50_ms,
		s->p99_ms);
}

void ipk_scn_reconfig_json(const struct ipk_scn_reconfig *s, FILE *f)
{
	fprintf(f,
		",\n  \"reconfig\": {\"probes\": %u, \"change_probe\": %u, \"interval_ms\": %.1f, "
		"\"apply_rc\": %d, \"apply_ms\": %.3f, \"first_rtt_ms\": %.4f, "
		"\"q3_len\": %u, \"h5_len\": %u, \"window_in\": %llu, \"window_drops\": %llu, "
		"\"lost_by_change\": %llu, \"series\": \"reconfig.dat\",\n    ",
		s->probes, s->change_probe, s->interval_ms, s->apply_rc, s->apply_ms, s->settle_ms,
		s->q3_len, s->h5_len, (unsigned long long)s->window_in,
		(unsigned long long)s->window_drops, (unsigned long long)s->lost_by_change);
	json_summary(f, "before", &s->before);
	fprintf(f, ",\n    ");
	json_summary(f, "after", &s->after);
	fprintf(
	    f,
	    ",\n    \"end\": {\"in\": %llu, \"out\": %llu, \"drops\": %llu, \"absorbed\": %llu, "
	    "\"in_flight\": %llu}, \"balanced\": %s,\n    \"drops\": {\"queue_full\": %llu, "
	    "\"hook_detached\": %llu, \"other\": %llu}, \"link_drops\": %llu}",
	    (unsigned long long)s->end.in, (unsigned long long)s->end.out,
	    (unsigned long long)s->end.drops, (unsigned long long)s->end.absorbed,
	    (unsigned long long)s->end.in_flight, s->res.balanced ? "true" : "false",
	    (unsigned long long)s->drops_queue_full, (unsigned long long)s->drops_hook_detached,
	    (unsigned long long)s->drops_other, (unsigned long long)s->res.link_drops);
}

int ipk_scn_reconfig_plot(const struct ipk_report *rep, const struct ipk_scn_reconfig *s)
{
	FILE *gp = ipk_report_open(rep, "reconfig.gp");

	if (!gp)
		return -errno;
	for (unsigned t = 0; t < 2; t++)
		fprintf(gp,
			"set terminal %s size 960,540\nset output 'reconfig.%s'\n"
			"set title 'EF probes inside IPsec under the flood; QoS attached at probe "
			"%u'\nset xlabel 'probe'\nset ylabel 'RTT [ms] (x: lost)'\nset logscale y\n"
			"set yrange [0.1:2000]\nset grid\nset key top right\n"
			"set arrow 1 from %u, graph 0 to %u, graph 1 nohead dt 2 lc rgb 'red'\n"
			"plot 'reconfig.dat' using 1:3 with linespoints pt 7 ps 0.5 title 'RTT', "
			"'' using 1:(strcol(3) eq 'NaN' ? 1000 : 1/0) with points pt 2 "
			"title 'lost'\nunset output\n",
			t ? "svg" : "pngcairo", t ? "svg" : "png", s->change_probe, s->change_probe,
			s->change_probe);
	fclose(gp);
	ipk_scn_gnuplot(rep, "reconfig.gp");
	return 0;
}
