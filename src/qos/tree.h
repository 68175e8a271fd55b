/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hierarchical QoS: a node composes meters, a classifier, child queues, a scheduler and an
 * optional shaper into one QUEUE component, which is what a hook holds (DESIGN.md "QoS
 * components": behaviour* -> classifier -> class queues; discipline over them). A child
 * may itself be a node, so trees nest, e.g.
 *
 *     node(prio)                     dscp: ef 0 default 1
 *      +- fifo "ef"
 *      +- node(drr)                  user: map 10.0.0.1:1,10.0.0.2:2,10.0.0.3:3
 *          +- fifo "user1" +- fifo "user2" +- fifo "user3" +- fifo "other"
 *
 * enqueue: each meter in order (a DROP verdict ends there, reason meter), then the
 *   classifier picks the child (class i -> child i), then the child's enqueue.
 * dequeue: the scheduler selects a ready child, the node dequeues from it and tells the
 *   scheduler (served). With a shaper the node hands out a packet only when it conforms
 *   and returns NULL while holding back (non-work-conserving); next_ns() then says when
 *   to come back. A shaped child counts as not ready, so a parent scheduler serves
 *   another child meanwhile.
 * A node keeps its own packet and byte counts, so len_pkts is O(1) however many children.
 * peek() has no clock: it answers for the time of the node's last call; parents use
 * ready_len(), which does.
 * Dequeue returns after the first child that dropped packets, so @dropped always holds
 * one reason; NULL then does not mean empty (see component.h).
 *
 * Ownership: ipk_qos_node_create() takes every component in @cfg on success (the node's
 * destroy destroys them); on failure they stay with the caller.
 * Counters: "len", "bytes", "children".
 * Threads: single thread (the hook's), like its parts. Creation: control plane.
 */
#ifndef IPK_QOS_TREE_H
#define IPK_QOS_TREE_H

#include "qos/component.h"

#define IPK_QOS_NODE_MAX_METERS 4
#define IPK_QOS_NODE_MAX_CHILDREN 8192

struct ipk_qos_node_cfg {
	struct ipk_qos *meters[IPK_QOS_NODE_MAX_METERS]; /* METERs, run in order */
	uint32_t n_meters;
	struct ipk_qos *classifier;  /* CLASSIFIER with n_classes == n_children; optional
				      * with one child */
	struct ipk_qos **children;   /* QUEUEs (or nodes), 1..IPK_QOS_NODE_MAX_CHILDREN */
	uint32_t n_children;
	struct ipk_qos *scheduler;   /* SCHEDULER; optional with one child */
	struct ipk_qos *shaper;      /* SHAPER or NULL */
};

extern const struct ipk_qos_ops ipk_qos_node_ops;

/* Validates @cfg (kinds, class count, the scheduler's attach) and builds the node.
 * Returns 0, -EINVAL with a message ("node voice: classifier dscp has 3 classes for 2
 * children") or -ENOMEM. Control plane. */
int ipk_qos_node_create(struct ipk_qos **out, const char *name,
			const struct ipk_qos_node_cfg *cfg, struct ipk_err *err);
/* Child @idx of a node, NULL if out of range (stats, tests). */
struct ipk_qos *ipk_qos_node_child(struct ipk_qos *node, uint32_t idx);

#endif
