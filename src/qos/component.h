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
 *   QUEUE       enqueue(pkt, now, evicted) -> PASS (the queue owns pkt now) or DROP (pkt
 *               stays with the caller, who drops it with the reason); packets a queue
 *               evicts to make room (drop-head) are appended to @evicted;
 *               dequeue(now, dropped) -> pkt or NULL; packets the queue decides to drop
 *               while dequeuing (CoDel) are appended to @dropped, never freed by the
 *               component; peek, len
 *   SCHEDULER   a dequeue discipline over child queues: select(children, n, now) -> index
 *               of the child to serve, or -1 when none may send now; served() then
 *               advances its state (so select() can be asked twice: peek, then dequeue)
 *   SHAPER      conform(len, now) -> may a packet of len bytes leave now; consume(len, now)
 *
 * Components never free packets (STYLE §3.2): the hook that runs them frees and counts.
 * Arguments come from the configuration language as `key value` word pairs, e.g.
 * `drr quantum 1500 weights 4,1,1`; parse() validates them without side effects and init()
 * applies them to a fresh instance. A scheduler, a classifier and child queues compose
 * into one queue with qos/tree.h.
 *
 * Time is passed in (`now` in ns, from core/clock.h), so tests run on a simulated clock.
 * Threads: an instance is used by one thread at a time (the hook serialises); a
 * component declares this in its ops (`threading`).
 */
#ifndef IPK_QOS_COMPONENT_H
#define IPK_QOS_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/drop.h"
#include "core/err.h"
#include "core/pkt.h"

/* Classes of the DSCP, 5-tuple and IPsec classifiers; the user classifier has up to
 * IPK_USER_MAX + 1 (qos/user.h). */
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

/* Meter colours in pkt->meta.color (RFC 2697 / 2698 names). */
enum ipk_qos_color { IPK_QOS_GREEN = 0, IPK_QOS_YELLOW = 1, IPK_QOS_RED = 2 };

/* Arity and threading, checked by a hook before it publishes a chain (STYLE §2). */
enum ipk_qos_threading { IPK_QOS_SINGLE_THREAD, IPK_QOS_MP_SC, IPK_QOS_MP_MC };

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
	/* QUEUE. enqueue: on PASS the queue owns @pkt; packets it evicted to make room (a
	 * drop-head FIFO) are appended to @evicted and *why names their reason. On DROP @pkt
	 * stays with the caller, *why says why, and @evicted is left alone. */
	enum ipk_qos_verdict (*enqueue)(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
					struct ipk_pkt_list *evicted, enum ipk_drop_reason *why);
	/* Returns the next packet (the caller owns it) or NULL. Packets dropped on the way
	 * (CoDel) are appended to @dropped, all for the one reason left in *why. NULL with
	 * new packets in @dropped does not mean empty: call again while len_pkts > 0. */
	struct ipk_pkt *(*dequeue)(struct ipk_qos *q, uint64_t now, struct ipk_pkt_list *dropped,
				   enum ipk_drop_reason *why);
	struct ipk_pkt *(*peek)(struct ipk_qos *q);
	/* Moves every held packet to the end of @out, in service order within each class,
	 * without AQM drops or shaping: the handover when a chain is replaced or detached
	 * at a hook, so that no packet is lost or duplicated by the change. */
	void (*drain)(struct ipk_qos *q, struct ipk_pkt_list *out);
	uint32_t (*len_pkts)(const struct ipk_qos *q);
	uint64_t (*len_bytes)(const struct ipk_qos *q);
	/* Optional: bytes of the packet dequeue() would hand out at @now, 0 when none (empty,
	 * or held back by a shaper). Without it: the length of peek(), or 0. */
	uint32_t (*ready_len)(struct ipk_qos *q, uint64_t now);
	/* Optional: earliest time >= @now at which a packet may leave; UINT64_MAX if empty.
	 * Without it: @now when non-empty. */
	uint64_t (*next_ns)(struct ipk_qos *q, uint64_t now);
	/* SCHEDULER: @children are QUEUE instances (or nodes of qos/tree.h). Returns the index
	 * to serve (a child whose ready_len is not 0) or -1. Asking twice without served() in
	 * between gives the same answer. */
	int (*select)(struct ipk_qos *q, struct ipk_qos *const *children, uint32_t n,
		      uint64_t now);
	/* Optional: sizes per-child state for @n children once, before the first select().
	 * Returns 0 or -EINVAL (e.g. weights given for another number of children) / -ENOMEM. */
	int (*attach)(struct ipk_qos *q, uint32_t n, struct ipk_err *err);
	/* Optional: child @idx (as selected) just handed out a packet of @len bytes. */
	void (*served)(struct ipk_qos *q, uint32_t idx, uint32_t len, uint64_t now);
	/* SHAPER */
	bool (*conform)(struct ipk_qos *q, uint32_t len, uint64_t now);
	void (*consume)(struct ipk_qos *q, uint32_t len, uint64_t now);
	/* Optional: ns from @now until a packet of @len bytes conforms (0: it does now). */
	uint64_t (*wait_ns)(struct ipk_qos *q, uint32_t len, uint64_t now);

	/* All kinds: fills up to @max named figures, returns how many. */
	uint32_t (*stats)(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max);
};

struct ipk_qos {
	const struct ipk_qos_ops *ops;
	char name[32];   /* instance name given by the operator */
	uint64_t in_pkts;  /* maintained by the ipk_qos_enqueue/dequeue/meter/classify */
	uint64_t out_pkts; /* wrappers below */
	uint64_t drops;
	uint8_t priv[] __attribute__((aligned(16)));
};

static inline void *ipk_qos_priv(struct ipk_qos *q)
{
	return q->priv;
}

static inline const void *ipk_qos_priv_const(const struct ipk_qos *q)
{
	return q->priv;
}

/* Looks a kind up by name in the registry (qos/registry.c); NULL if unknown. */
const struct ipk_qos_ops *ipk_qos_find(const char *kind);
/* Every registered kind, for listings and tests; @n receives the count. */
const struct ipk_qos_ops *const *ipk_qos_kinds(uint32_t *n);
/* Creates an instance: parse, allocate header + priv_size, init. Returns 0 or -EINVAL /
 * -ENOMEM with a message. Control plane only. */
int ipk_qos_create(struct ipk_qos **out, const char *kind, const char *name,
		   const struct ipk_qos_args *args, struct ipk_err *err);
/* Allocates a zeroed instance of @ops without parse/init (for composites such as the
 * nodes of qos/tree.h). NULL when out of memory. */
struct ipk_qos *ipk_qos_alloc(const struct ipk_qos_ops *ops, const char *name);
/* Calls ops->destroy and frees @q. NULL is a no-op. */
void ipk_qos_destroy(struct ipk_qos *q);

/* Argument helpers for parse/init: value of @key (first occurrence) or NULL. */
const char *ipk_qos_arg(const struct ipk_qos_args *args, const char *key);
/* Checks that @args are pairs and every key is in the NULL-terminated @keys; a key
 * written with a trailing '+' ("rule+") may repeat, the others may not. Messages:
 * "fifo: unknown argument 'foo'", "fifo: 'limit' has no value", "fifo: 'limit' given
 * twice". */
int ipk_qos_args_check(const struct ipk_qos_args *args, const char *const *keys,
		       const char *comp, struct ipk_err *err);
/* Decimal number with an optional k, M or G suffix (x1000, x10^6, x10^9): "10M". Returns
 * 0 or -EINVAL. */
int ipk_qos_parse_u64(const char *text, uint64_t *out);
/* @key as a number in min..max (@def when absent). Message: "drr: quantum 0 not in
 * 1..65535". */
int ipk_qos_arg_u64(const struct ipk_qos_args *args, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out, const char *comp,
		    struct ipk_err *err);
/* @key as a time with a unit ("5ms", "100us", "1s", "250ns") in min..max ns. */
int ipk_qos_arg_ns(const struct ipk_qos_args *args, const char *key, uint64_t def,
		   uint64_t min, uint64_t max, uint64_t *out, const char *comp,
		   struct ipk_err *err);
/* @key as a decimal fraction ("0.002") in min..max. */
int ipk_qos_arg_frac(const struct ipk_qos_args *args, const char *key, double def,
		     double min, double max, double *out, const char *comp, struct ipk_err *err);
/* Comma-separated numbers in min..max ("4,1,1"). Stores up to @max_n of them in @vals
 * (which may be NULL to only validate and count) and their count in @n. */
int ipk_qos_parse_list(const char *text, uint64_t min, uint64_t max, uint64_t *vals,
		       uint32_t max_n, uint32_t *n, const char *comp, const char *key,
		       struct ipk_err *err);

/* A rule written as comma-separated field=value items: "src=10.0.0.0/8,dport=53,class=1". */
#define IPK_QOS_SPEC_MAX 12
struct ipk_qos_spec {
	uint32_t n;
	const char *key[IPK_QOS_SPEC_MAX];
	const char *val[IPK_QOS_SPEC_MAX];
	char buf[256];
};
/* Splits @text into @spec (pointers into spec->buf). Returns 0 or -EINVAL with a message
 * ("fivetuple: rule 'src' is not field=value"). */
int ipk_qos_spec_split(const char *text, struct ipk_qos_spec *spec, const char *comp,
		       struct ipk_err *err);


/*
 * Data-path wrappers: call the op and keep the instance's in/out/drops counters, so that
 * in_pkts == out_pkts + drops + len_pkts holds for every queue. Same ownership as the
 * ops. Called by the thread that owns the chain.
 */
uint32_t ipk_qos_classify(struct ipk_qos *q, struct ipk_pkt *pkt);
enum ipk_qos_verdict ipk_qos_meter(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				   enum ipk_drop_reason *why);
enum ipk_qos_verdict ipk_qos_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt, uint64_t now,
				     struct ipk_pkt_list *evicted, enum ipk_drop_reason *why);
struct ipk_pkt *ipk_qos_dequeue(struct ipk_qos *q, uint64_t now, struct ipk_pkt_list *dropped,
				enum ipk_drop_reason *why);
/* ops->drain with the counters kept (every drained packet counts as out). */
void ipk_qos_drain(struct ipk_qos *q, struct ipk_pkt_list *out);
/* ops->ready_len, or the length of ops->peek(), or 0. */
uint32_t ipk_qos_ready_len(struct ipk_qos *q, uint64_t now);
/* ops->next_ns, or @now when len_pkts > 0, else UINT64_MAX. */
uint64_t ipk_qos_next_ns(struct ipk_qos *q, uint64_t now);
/* Copies up to @max of the @n figures in @src to @out; returns how many (for stats ops). */
uint32_t ipk_qos_stats_copy(struct ipk_qos_stat *out, uint32_t max,
			    const struct ipk_qos_stat *src, uint32_t n);
/* "in", "out", "drops" from the header, then the component's own figures. */
uint32_t ipk_qos_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max);

#endif
