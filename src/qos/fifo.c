// SPDX-License-Identifier: BSD-2-Clause
#include "qos/fifo.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"

#define FIFO_MAX_PKTS 1000000

struct fifo {
	struct ipk_pkt_list list;
	uint64_t limit_pkts;
	uint64_t limit_bytes;  /* 0: none */
	bool drop_head;
	uint64_t tail_drops, head_drops;
};

static int fifo_read(const struct ipk_qos_args *args, struct fifo *f, struct ipk_err *err)
{
	static const char *const keys[] = { "limit", "limit-bytes", "drop", NULL };
	const char *drop = ipk_qos_arg(args, "drop");

	if (ipk_qos_args_check(args, keys, "fifo", err) ||
	    ipk_qos_arg_u64(args, "limit", 1000, 1, FIFO_MAX_PKTS, &f->limit_pkts, "fifo", err) ||
	    ipk_qos_arg_u64(args, "limit-bytes", 0, 0, 1000000000, &f->limit_bytes, "fifo", err))
		return -EINVAL;
	f->drop_head = drop && strcmp(drop, "head") == 0;
	if (drop && !f->drop_head && strcmp(drop, "tail") != 0)
		return ipk_err_set(err, -EINVAL, "fifo: drop '%s' is not tail or head", drop);
	return 0;
}

static int fifo_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct fifo scratch;

	return fifo_read(args, &scratch, err);
}

static int fifo_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return fifo_read(args, ipk_qos_priv(q), err);
}

static bool fits(const struct fifo *f, uint32_t len)
{
	return f->list.count < f->limit_pkts &&
	       (!f->limit_bytes || f->list.bytes + len <= f->limit_bytes);
}

/* Larger than the byte limit on its own: no eviction can make room. */
static bool never_fits(const struct fifo *f, uint32_t len)
{
	return f->limit_bytes && len > f->limit_bytes;
}

static enum ipk_qos_verdict fifo_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					 struct ipk_pkt_list *evicted,
					 enum ipk_drop_reason *why)
{
	struct fifo *f = ipk_qos_priv(q);

	if (!fits(f, pkt->len) && (!f->drop_head || never_fits(f, pkt->len))) {
		f->tail_drops++;
		*why = IPK_DROP_QUEUE_FULL;
		return IPK_QOS_DROP;
	}
	while (!fits(f, pkt->len)) {
		ipk_pkt_list_push(evicted, ipk_pkt_list_pop(&f->list));
		f->head_drops++;
		*why = IPK_DROP_QUEUE_FULL;
	}
	pkt->meta.enq_ns = now;
	ipk_pkt_list_push(&f->list, pkt);
	return IPK_QOS_PASS;
}

static struct ipk_pkt *fifo_dequeue(struct ipk_qos *q, uint64_t now,
				    struct ipk_pkt_list *dropped, enum ipk_drop_reason *why)
{
	struct fifo *f = ipk_qos_priv(q);

	return ipk_pkt_list_pop(&f->list);
}

static struct ipk_pkt *fifo_peek(struct ipk_qos *q)
{
	struct fifo *f = ipk_qos_priv(q);

	return f->list.head;
}

static uint32_t fifo_len_pkts(const struct ipk_qos *q)
{
	const struct fifo *f = ipk_qos_priv_const(q);

	return f->list.count;
}

static uint64_t fifo_len_bytes(const struct ipk_qos *q)
{
	const struct fifo *f = ipk_qos_priv_const(q);

	return f->list.bytes;
}

static uint32_t fifo_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct fifo *f = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "len", f->list.count },
		{ "bytes", f->list.bytes },
		{ "tail-drops", f->tail_drops },
		{ "head-drops", f->head_drops },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

/* The handover: everything, oldest first, no AQM. */
static void fifo_drain(struct ipk_qos *q, struct ipk_pkt_list *out)
{
	struct fifo *c = ipk_qos_priv(q);

	ipk_pkt_list_splice(out, &c->list);
}

const struct ipk_qos_ops ipk_fifo_ops = {
	.name = "fifo",
	.kind = IPK_QOS_QUEUE,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct fifo),
	.parse = fifo_parse,
	.init = fifo_init,
	.enqueue = fifo_enqueue,
	.dequeue = fifo_dequeue,
	.peek = fifo_peek,
	.len_pkts = fifo_len_pkts,
	.len_bytes = fifo_len_bytes,
	.drain = fifo_drain,
	.stats = fifo_stats,
};
