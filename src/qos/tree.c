// SPDX-License-Identifier: BSD-2-Clause
#include "qos/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

struct node {
	struct ipk_qos *meters[IPK_QOS_NODE_MAX_METERS];
	uint32_t n_meters;
	struct ipk_qos *classifier, *scheduler, *shaper;
	struct ipk_qos **children;
	uint32_t n;
	uint32_t pkts;       /* sum over the children, kept as packets come and go */
	uint64_t bytes;
	uint64_t last_now;   /* for peek(), which is not given the time */
};

static int check_kind(const struct ipk_qos *q, enum ipk_qos_kind kind, const char *what,
		      const char *name, struct ipk_err *err)
{
	if (q && q->ops->kind != kind)
		return ipk_err_set(err, -EINVAL, "node %s: %s '%s' is not a %s", name, what,
				   q->ops->name, what);
	return 0;
}

static int check_cfg(const struct ipk_qos_node_cfg *cfg, const char *name,
		     struct ipk_err *err)
{
	uint32_t classes;

	if (cfg->n_children < 1 || cfg->n_children > IPK_QOS_NODE_MAX_CHILDREN || !cfg->children)
		return ipk_err_set(err, -EINVAL, "node %s: %u children not in 1..%d", name,
				   cfg->n_children, IPK_QOS_NODE_MAX_CHILDREN);
	if (cfg->n_meters > IPK_QOS_NODE_MAX_METERS)
		return ipk_err_set(err, -EINVAL, "node %s: %u meters, at most %d", name,
				   cfg->n_meters, IPK_QOS_NODE_MAX_METERS);
	for (uint32_t i = 0; i < cfg->n_meters; i++)
		if (!cfg->meters[i] || cfg->meters[i]->ops->kind != IPK_QOS_METER)
			return ipk_err_set(err, -EINVAL, "node %s: meter %u is not a meter", name,
					   i);
	for (uint32_t i = 0; i < cfg->n_children; i++)
		if (!cfg->children[i] || cfg->children[i]->ops->kind != IPK_QOS_QUEUE)
			return ipk_err_set(err, -EINVAL, "node %s: child %u is not a queue", name,
					   i);
	if (check_kind(cfg->classifier, IPK_QOS_CLASSIFIER, "classifier", name, err) ||
	    check_kind(cfg->scheduler, IPK_QOS_SCHEDULER, "scheduler", name, err) ||
	    check_kind(cfg->shaper, IPK_QOS_SHAPER, "shaper", name, err))
		return -EINVAL;
	if (cfg->n_children > 1 && (!cfg->classifier || !cfg->scheduler))
		return ipk_err_set(err, -EINVAL,
				   "node %s: %u children need a classifier and a scheduler", name,
				   cfg->n_children);
	classes = cfg->classifier ? cfg->classifier->ops->n_classes(cfg->classifier) : 1;
	if (classes != cfg->n_children)
		return ipk_err_set(err, -EINVAL, "node %s: classifier %s has %u classes for %u "
				   "children", name, cfg->classifier->ops->name, classes,
				   cfg->n_children);
	return 0;
}

int ipk_qos_node_create(struct ipk_qos **out, const char *name,
			const struct ipk_qos_node_cfg *cfg, struct ipk_err *err)
{
	struct ipk_qos *q;
	struct node *nd;
	int rc;

	name = name ? name : "node";
	rc = check_cfg(cfg, name, err);
	if (rc)
		return rc;
	q = ipk_qos_alloc(&ipk_qos_node_ops, name);
	if (!q)
		return ipk_err_set(err, -ENOMEM, "node %s: out of memory", name);
	nd = ipk_qos_priv(q);
	nd->children = calloc(cfg->n_children, sizeof(*nd->children));
	if (!nd->children) {
		rc = ipk_err_set(err, -ENOMEM, "node %s: out of memory", name);
		goto err_free_node;
	}
	if (cfg->scheduler && cfg->scheduler->ops->attach) {
		rc = cfg->scheduler->ops->attach(cfg->scheduler, cfg->n_children, err);
		if (rc)
			goto err_free_children;
	}
	memcpy(nd->children, cfg->children, cfg->n_children * sizeof(*nd->children));
	memcpy(nd->meters, cfg->meters, sizeof(nd->meters));
	nd->n_meters = cfg->n_meters;
	nd->n = cfg->n_children;
	nd->classifier = cfg->classifier;
	nd->scheduler = cfg->scheduler;
	nd->shaper = cfg->shaper;
	*out = q;
	return 0;

err_free_children:
	free(nd->children);
err_free_node:
	free(q);
	return rc;
}

static void node_destroy(struct ipk_qos *q)
{
	struct node *nd = ipk_qos_priv(q);

	for (uint32_t i = 0; i < nd->n_meters; i++)
		ipk_qos_destroy(nd->meters[i]);
	for (uint32_t i = 0; i < nd->n; i++)
		ipk_qos_destroy(nd->children[i]);
	ipk_qos_destroy(nd->classifier);
	ipk_qos_destroy(nd->scheduler);
	ipk_qos_destroy(nd->shaper);
	free(nd->children);
}

struct ipk_qos *ipk_qos_node_child(struct ipk_qos *node, uint32_t idx)
{
	struct node *nd = ipk_qos_priv(node);

	return idx < nd->n ? nd->children[idx] : NULL;
}

/* The child the scheduler would serve now, or -1. */
static int node_pick(struct node *nd, uint64_t now)
{
	if (!nd->scheduler)
		return ipk_qos_ready_len(nd->children[0], now) ? 0 : -1;
	return nd->scheduler->ops->select(nd->scheduler, nd->children, nd->n, now);
}

static enum ipk_qos_verdict node_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					 struct ipk_pkt_list *evicted,
					 enum ipk_drop_reason *why)
{
	struct node *nd = ipk_qos_priv(q);
	uint32_t cls = 0, len = pkt->len, ev_pkts = evicted->count;
	uint64_t ev_bytes = evicted->bytes;
	enum ipk_qos_verdict v;

	nd->last_now = now;
	for (uint32_t i = 0; i < nd->n_meters; i++)
		if (ipk_qos_meter(nd->meters[i], pkt, now, why) == IPK_QOS_DROP)
			return IPK_QOS_DROP;
	if (nd->classifier)
		cls = ipk_qos_classify(nd->classifier, pkt);
	if (unlikely(cls >= nd->n))
		cls = nd->n - 1;
	v = ipk_qos_enqueue(nd->children[cls], pkt, now, evicted, why);
	nd->pkts -= evicted->count - ev_pkts;
	nd->bytes -= evicted->bytes - ev_bytes;
	if (v == IPK_QOS_PASS) {
		nd->pkts++;
		nd->bytes += len;
	}
	return v;
}

static struct ipk_pkt *node_dequeue(struct ipk_qos *q, uint64_t now,
				    struct ipk_pkt_list *dropped, enum ipk_drop_reason *why)
{
	struct node *nd = ipk_qos_priv(q);
	uint32_t dr_pkts = dropped->count;
	uint64_t dr_bytes = dropped->bytes;
	struct ipk_pkt *pkt;
	struct ipk_qos *child;
	int idx;

	nd->last_now = now;
	if (!nd->pkts)
		return NULL;
	idx = node_pick(nd, now);
	if (idx < 0)
		return NULL;
	child = nd->children[idx];
	if (nd->shaper &&
	    !nd->shaper->ops->conform(nd->shaper, ipk_qos_ready_len(child, now), now))
		return NULL;
	pkt = ipk_qos_dequeue(child, now, dropped, why);
	nd->pkts -= dropped->count - dr_pkts;
	nd->bytes -= dropped->bytes - dr_bytes;
	if (!pkt)
		return NULL;
	nd->pkts--;
	nd->bytes -= pkt->len;
	if (nd->scheduler && nd->scheduler->ops->served)
		nd->scheduler->ops->served(nd->scheduler, (uint32_t)idx, pkt->len, now);
	if (nd->shaper)
		nd->shaper->ops->consume(nd->shaper, pkt->len, now);
	return pkt;
}

static uint32_t node_ready_len(struct ipk_qos *q, uint64_t now)
{
	struct node *nd = ipk_qos_priv(q);
	uint32_t len;
	int idx;

	nd->last_now = now;
	if (!nd->pkts)
		return 0;
	idx = node_pick(nd, now);
	if (idx < 0)
		return 0;
	len = ipk_qos_ready_len(nd->children[idx], now);
	if (nd->shaper && !nd->shaper->ops->conform(nd->shaper, len, now))
		return 0;
	return len;
}

/* Earliest time a packet may leave: now, the shaper's answer for the head, or (every
 * backlogged child is held by its own shaper) the earliest child's time. A lower bound
 * when both this node's shaper and a child's hold: the caller asks again then. */
static uint64_t node_next_ns(struct ipk_qos *q, uint64_t now)
{
	struct node *nd = ipk_qos_priv(q);
	uint64_t best = UINT64_MAX;
	int idx;

	if (!nd->pkts)
		return UINT64_MAX;
	idx = node_pick(nd, now);
	if (idx >= 0) {
		uint32_t len = ipk_qos_ready_len(nd->children[idx], now);

		if (!nd->shaper || !nd->shaper->ops->wait_ns)
			return now;
		return now + nd->shaper->ops->wait_ns(nd->shaper, len, now);
	}
	for (uint32_t i = 0; i < nd->n; i++) {
		uint64_t t = ipk_qos_next_ns(nd->children[i], now);

		best = t < best ? t : best;
	}
	return best;
}

static struct ipk_pkt *node_peek(struct ipk_qos *q)
{
	struct node *nd = ipk_qos_priv(q);
	int idx = nd->pkts ? node_pick(nd, nd->last_now) : -1;
	struct ipk_qos *child;

	if (idx < 0)
		return NULL;
	child = nd->children[idx];
	return child->ops->peek ? child->ops->peek(child) : NULL;
}

/* The handover: each child drained in turn, so order within every class is kept. */
static void node_drain(struct ipk_qos *q, struct ipk_pkt_list *out)
{
	struct node *nd = ipk_qos_priv(q);

	for (uint32_t i = 0; i < nd->n; i++)
		ipk_qos_drain(nd->children[i], out);
	nd->pkts = 0;
	nd->bytes = 0;
}

static uint32_t node_len_pkts(const struct ipk_qos *q)
{
	const struct node *nd = ipk_qos_priv_const(q);

	return nd->pkts;
}

static uint64_t node_len_bytes(const struct ipk_qos *q)
{
	const struct node *nd = ipk_qos_priv_const(q);

	return nd->bytes;
}

static uint32_t node_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct node *nd = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "len", nd->pkts },
		{ "bytes", nd->bytes },
		{ "children", nd->n },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

const struct ipk_qos_ops ipk_qos_node_ops = {
	.name = "node",
	.kind = IPK_QOS_QUEUE,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct node),
	.destroy = node_destroy,
	.enqueue = node_enqueue,
	.dequeue = node_dequeue,
	.peek = node_peek,
	.len_pkts = node_len_pkts,
	.len_bytes = node_len_bytes,
	.drain = node_drain,
	.ready_len = node_ready_len,
	.next_ns = node_next_ns,
	.stats = node_stats,
};
