/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * QoS components: the pieces an operator chains at a hook (DESIGN.md "QoS components").
 *
 * A component is an instance header (struct ipk_qos) plus `priv_size` private bytes that
 * the framework allocates; its behaviour is a const struct ipk_qos_ops. Kinds:
 *
 *   CLASSIFIER  classify(pkt) -> class index 0..n_classes-1 (may set pkt->meta.class_id,
 *               user_id); never drops
 *   METER       meter(pkt, now) -> IPK_QOS_PASS (maybe recoloured / DSCP remarked) or
 *               IPK_QOS_DROP with a reason
 *   QUEUE       enqueue(pkt, now) -> PASS (the queue owns pkt now) or DROP (pkt stays with
 *               the caller, who drops it with the reason); dequeue(now, dropped) -> pkt or
 *               NULL; packets the queue decides to drop while dequeuing (CoDel, drop-head)
 *               are appended to @dropped, never freed by the component; peek, len
 *   SCHEDULER   a dequeue discipline over child queues: select(children, n, now) -> index
 *               of the child to serve, or -1 when none may send now
 *   SHAPER      conform(len, now) -> may a packet of len bytes leave now; consume(len, now)
 *
 * Components never free packets (STYLE §3.2): the hook that runs them frees and counts.
 * Arguments come from the configuration language as `key value` word pairs, e.g.
 * `drr quantum 1500 weights 4,1,1`; parse() validates them without side effects and init()
 * applies them to a fresh instance.
 *
 * Time is passed in (`now` in ns, from core/clock.h), so tests run on a simulated clock.
 * Threads: an instance is used by one thread at a time (the hook serialises); a
 * component declares this in its ops (`threading`).
 */
#ifndef IPK_QOS_COMPONENT_H
#define IPK_QOS_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/err.h"
#include "core/pkt.h"

#define IPK_QOS_MAX_CLASSES 64
#define IPK_QOS_MAX_ARGS 32

enum ipk_qos_kind {
	IPK_QOS_CLASSIFIER,
	IPK_QOS_METER,
	IPK_QOS_QUEUE,
	IPK_QOS_SCHEDULER,
	IPK_QOS_SHAPER,
};

enum ipk_qos_verdict { IPK_QOS_PASS = 0, IPK_QOS_DROP = 1 };

/* Arity and threading, checked by a hook before it publishes a chain (STYLE §2). */
enum ipk_qos_threading { IPK_QOS_SINGLE_THREAD, IPK_QOS_MP_SC, IPK_QOS_MP_MC };

/* A packet list (FIFO order) linked through pkt->next. */
struct ipk_pkt_list {
	struct ipk_pkt *head;
	struct ipk_pkt *tail;
	uint32_t count;
	uint64_t bytes;
};

/* Arguments as word pairs: argv = { "quantum", "1500", "weights", "4,1,1" }. */
struct ipk_qos_args {
	int argc;
	const char *argv[IPK_QOS_MAX_ARGS];
};

struct ipk_qos;

/* Named counters and tunables that a component exposes ("drops", "quantum"). */
struct ipk_qos_stat {
	const char *name;
	uint64_t value;
};

struct ipk_qos_ops {
	const char *name;           /* "drr", "fifo", "dscp" ... as in the language */
	enum ipk_qos_kind kind;
	enum ipk_qos_threading threading;
	size_t priv_size;
	/* Validates @args; touches nothing. Returns 0 or -EINVAL with a message. */
	int (*parse)(const struct ipk_qos_args *args, struct ipk_err *err);
	/* Sets up the private part of a zeroed instance from valid @args. */
	int (*init)(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err);
	/* Frees what init allocated. A queue must be empty (the hook drains it first). */
	void (*destroy)(struct ipk_qos *q);

	/* CLASSIFIER */
	uint32_t (*classify)(struct ipk_qos *q, struct ipk_pkt *pkt);
	uint32_t (*n_classes)(const struct ipk_qos *q);
	/* METER */
	enum ipk_qos_verdict (*meter)(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				      enum ipk_drop_reason *why);
	/* QUEUE */
	enum ipk_qos_verdict (*enqueue)(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					enum ipk_drop_reason *why);
	struct ipk_pkt *(*dequeue)(struct ipk_qos *q, uint64_t now, struct ipk_pkt_list *dropped,
				   enum ipk_drop_reason *why);
	struct ipk_pkt *(*peek)(struct ipk_qos *q);
	uint32_t (*len_pkts)(const struct ipk_qos *q);
	uint64_t (*len_bytes)(const struct ipk_qos *q);
	/* SCHEDULER: @children are QUEUE instances (or nested schedulers wrapped as queues by
	 * the hook). Returns the index to serve or -1. Called only when some child is
	 * non-empty. */
	int (*select)(struct ipk_qos *q, struct ipk_qos *const *children, uint32_t n,
		      uint64_t now);
	/* SHAPER */
	bool (*conform)(struct ipk_qos *q, uint32_t len, uint64_t now);
	void (*consume)(struct ipk_qos *q, uint32_t len, uint64_t now);

	/* All kinds: fills up to @max named figures, returns how many. */
	uint32_t (*stats)(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max);
};

struct ipk_qos {
	const struct ipk_qos_ops *ops;
	char name[32];   /* instance name given by the operator */
	uint64_t in_pkts;
	uint64_t out_pkts;
	uint64_t drops;
	uint8_t priv[] __attribute__((aligned(16)));
};

static inline void *ipk_qos_priv(struct ipk_qos *q)
{
	return q->priv;
}

/* Looks a kind up by name in the registry (qos/registry.c); NULL if unknown. */
const struct ipk_qos_ops *ipk_qos_find(const char *kind);
/* Creates an instance: parse, allocate header + priv_size, init. Returns 0 or -EINVAL /
 * -ENOMEM with a message. */
int ipk_qos_create(struct ipk_qos **out, const char *kind, const char *name,
		   const struct ipk_qos_args *args, struct ipk_err *err);
void ipk_qos_destroy(struct ipk_qos *q);

/* Argument helpers for parse/init: value of @key or NULL; numbers with bounds. */
const char *ipk_qos_arg(const struct ipk_qos_args *args, const char *key);
int ipk_qos_arg_u64(const struct ipk_qos_args *args, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out, const char *comp,
		    struct ipk_err *err);

/* Packet list helpers. */
void ipk_pkt_list_push(struct ipk_pkt_list *l, struct ipk_pkt *pkt);
struct ipk_pkt *ipk_pkt_list_pop(struct ipk_pkt_list *l);

#endif
