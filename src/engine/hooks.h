/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The QoS objects an operator created and where they are attached: what the `qos` and
 * `hook` commands of the configuration language act on (ctl/config_qos.c).
 *
 * Objects have unique names. A component (`qos add`) is free until a node takes it as a
 * meter, classifier, child, scheduler or shaper (`qos node`); the node then owns it. A
 * queue or node is attached at one hook (`hook attach`): hooks 1-4 are the enqueue and
 * dequeue hooks Na/Nb of queues 1-4 (a chain always holds both sides of its queue), hook 5
 * the dispatcher's 5a/5b. Attaching at an occupied hook replaces the chain: the packets
 * the old chain holds move to the new one, in order, none lost or duplicated
 * (engine/equeue.h); the old chain and every object in it are then deleted, as `tc`
 * deletes a replaced qdisc. `hook detach` gives the queue back its plain FIFO the same way.
 *
 * Threads: control plane only (one thread at a time); attach/detach are safe while
 * packets flow through the engine.
 */
#ifndef IPK_ENGINE_HOOKS_H
#define IPK_ENGINE_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "qos/component.h"
#include "sa/sa.h"

#define IPK_HOOKS_COUNT 5
#define IPK_HOOKS_NODE_CHILDREN 64

struct ipk_engine;
struct ipk_hooks;

/* A node described by the names of its parts. */
struct ipk_hooks_node_spec {
	char name[IPK_NAME_MAX];
	char meters[4][IPK_NAME_MAX];
	uint32_t n_meters;
	char classifier[IPK_NAME_MAX]; /* "" for none */
	char children[IPK_HOOKS_NODE_CHILDREN][IPK_NAME_MAX];
	uint32_t n_children;
	char scheduler[IPK_NAME_MAX];
	char shaper[IPK_NAME_MAX];
};

/* What the configuration checks need to know about an existing object. */
struct ipk_hooks_info {
	enum ipk_qos_kind kind;
	const char *type;      /* "fifo", "drr", "node", ... */
	uint32_t n_classes;    /* classifiers */
	bool in_use;           /* part of a node or attached */
	unsigned hook;         /* 1..5 when attached at a hook, else 0 */
};

/* @engine may be NULL (a configuration that is only checked, the pcap mode): objects can
 * be made but not attached. Returns 0 or -ENOMEM. */
int ipk_hooks_create(struct ipk_hooks **out, struct ipk_engine *engine);
/* Detaches every chain (held packets go back to the plain FIFOs) and deletes all objects. */
void ipk_hooks_destroy(struct ipk_hooks *h);

/* Parses "1".."5", "1a".."4b", "5a", "5b". Returns 0 or -EINVAL. */
int ipk_hooks_parse(const char *word, unsigned *hook);
/* 0, or -ENOENT when no object has that name. */
int ipk_hooks_lookup(const struct ipk_hooks *h, const char *name, struct ipk_hooks_info *info);

/* `qos add`: creates a component. Returns 0, -EEXIST, -EINVAL (its message) or -ENOMEM. */
int ipk_hooks_add(struct ipk_hooks *h, const char *name, const char *kind,
		  const struct ipk_qos_args *args, struct ipk_err *err);
/* `qos node`: builds a node from free objects, which it then owns. */
int ipk_hooks_add_node(struct ipk_hooks *h, const struct ipk_hooks_node_spec *spec,
		       struct ipk_err *err);
/* `qos del`: deletes a free object (a node with every part in it). */
int ipk_hooks_del(struct ipk_hooks *h, const char *name, struct ipk_err *err);
/* `hook attach`: attaches the free queue or node @name at @hook, replacing what is there. */
int ipk_hooks_attach(struct ipk_hooks *h, unsigned hook, const char *name, struct ipk_err *err);
/* `hook detach`: back to the plain FIFO; the chain's objects are deleted. */
int ipk_hooks_detach(struct ipk_hooks *h, unsigned hook, struct ipk_err *err);
/* True when @hook has a queue to attach to: an engine runs and has it (coupled mode has
 * only queues 1 and 2). The configuration's check step asks this, so a batch that could
 * not attach fails before it changes anything. */
bool ipk_hooks_available(const struct ipk_hooks *h, unsigned hook);
/* The name attached at @hook, or NULL. */
const char *ipk_hooks_attached(const struct ipk_hooks *h, unsigned hook);

/* `show hooks`: every hook with its chain as an indented tree, and the free objects. */
void ipk_hooks_show(const struct ipk_hooks *h, char *buf, size_t size);

#endif
