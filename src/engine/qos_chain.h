/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A QoS queue (a component of kind QUEUE, usually a node of qos/tree.h: meters,
 * classifier, class queues, scheduler, shaper) presented as an engine queue chain, so it
 * can be attached at the hooks Na/Nb of queues 1-4 and at hook 5 of the dispatcher
 * (engine/equeue.h). Runs under the engine queue's lock: one caller at a time.
 *
 * Ownership: the chain owns its QoS queue from create to destroy; destroy frees it and
 * must only be called on a chain that is detached and empty (ipk_equeue_attach hands
 * the held packets over before it returns the old chain).
 */
#ifndef IPK_ENGINE_QOS_CHAIN_H
#define IPK_ENGINE_QOS_CHAIN_H

#include "core/err.h"
#include "engine/equeue.h"
#include "qos/component.h"

/* Wraps @q (kind QUEUE with a drain op). Returns 0, -EINVAL (message in @err) or
 * -ENOMEM. On success the chain owns @q. */
int ipk_qos_chain_create(struct ipk_equeue_chain **out, struct ipk_qos *q, struct ipk_err *err);
/* Destroys the chain and its QoS queue. NULL is a no-op. */
void ipk_qos_chain_destroy(struct ipk_equeue_chain *chain);
/* The QoS queue inside (for `show hooks` and stats). */
struct ipk_qos *ipk_qos_chain_queue(struct ipk_equeue_chain *chain);

#endif
