// SPDX-License-Identifier: BSD-2-Clause
#include "engine/qos_chain.h"

#include <errno.h>
#include <stdlib.h>

static void move_list(struct ipk_pkt_list *from, struct ipk_equeue_dropped *to,
		      enum ipk_drop_reason why)
{
	struct ipk_pkt *pkt;

	if (from->count)
		to->why = why;
	while ((pkt = ipk_pkt_list_pop(from)))
		ipk_equeue_dropped_add(to, pkt);
}

static int chain_enqueue(void *priv, struct ipk_pkt *pkt, uint64_t now,
			 struct ipk_equeue_dropped *evicted)
{
	struct ipk_pkt_list out = { 0 };
	enum ipk_drop_reason why = IPK_DROP_NONE;
	enum ipk_qos_verdict v = ipk_qos_enqueue(priv, pkt, now, &out, &why);

	/* A drop-head queue may have evicted older packets to make room. */
	move_list(&out, evicted, why ? why : IPK_DROP_QUEUE_FULL);
	if (v == IPK_QOS_DROP)
		return why ? (int)why : IPK_DROP_QUEUE_FULL;
	return 0;
}

static struct ipk_pkt *chain_dequeue(void *priv, uint64_t now, struct ipk_equeue_dropped *dropped)
{
	struct ipk_pkt_list lost = { 0 };
	enum ipk_drop_reason why = IPK_DROP_NONE;
	struct ipk_pkt *pkt;

	/* Each call drops for one reason at most, which is all an equeue_dropped list
	 * carries; NULL with drops makes the queue ask again (engine/equeue.h). */
	pkt = ipk_qos_dequeue(priv, now, &lost, &why);
	move_list(&lost, dropped, why ? why : IPK_DROP_QUEUE_FULL);
	return pkt;
}

static void chain_drain(void *priv, struct ipk_equeue_dropped *out)
{
	struct ipk_pkt_list all = { 0 };
	struct ipk_pkt *pkt;

	ipk_qos_drain(priv, &all);
	while ((pkt = ipk_pkt_list_pop(&all)))
		ipk_equeue_dropped_add(out, pkt);
}

static uint32_t chain_len_pkts(const void *priv)
{
	const struct ipk_qos *q = priv;

	return q->ops->len_pkts(q);
}

static uint64_t chain_len_bytes(const void *priv)
{
	const struct ipk_qos *q = priv;

	return q->ops->len_bytes(q);
}

static uint64_t chain_next_ns(void *priv, uint64_t now)
{
	return ipk_qos_next_ns(priv, now);
}

static const struct ipk_equeue_chain_ops qos_chain_ops = {
	.name = "qos",
	.enqueue = chain_enqueue,
	.dequeue = chain_dequeue,
	.drain = chain_drain,
	.len_pkts = chain_len_pkts,
	.len_bytes = chain_len_bytes,
	.next_ns = chain_next_ns,
};

int ipk_qos_chain_create(struct ipk_equeue_chain **out, struct ipk_qos *q, struct ipk_err *err)
{
	struct ipk_equeue_chain *chain;

	if (q->ops->kind != IPK_QOS_QUEUE || !q->ops->drain)
		return ipk_err_set(err, -EINVAL,
				   "%s: a %s cannot be attached at a hook (a queue or node can)",
				   q->name, q->ops->name);
	chain = calloc(1, sizeof(*chain));
	if (!chain)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", q->name);
	chain->ops = &qos_chain_ops;
	chain->priv = q;
	*out = chain;
	return 0;
}

void ipk_qos_chain_destroy(struct ipk_equeue_chain *chain)
{
	if (!chain)
		return;
	ipk_qos_destroy(chain->priv);
	free(chain);
}

struct ipk_qos *ipk_qos_chain_queue(struct ipk_equeue_chain *chain)
{
	return chain->priv;
}
