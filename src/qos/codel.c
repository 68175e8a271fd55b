// SPDX-License-Identifier: BSD-2-Clause
#include "qos/codel.h"

#include <errno.h>

#include "core/clock.h"
#include "core/compiler.h"

#define CODEL_MAX_PKTS 1000000

struct codel {
	struct ipk_pkt_list list;
	uint64_t target_ns, interval_ns, limit_pkts;
	uint64_t first_above_time; /* 0: sojourn below target (or not yet an interval) */
	uint64_t drop_next;
	uint32_t count, lastcount;
	bool dropping;
	uint32_t maxpacket;        /* largest packet seen: never drop down to one packet */
	uint64_t codel_drops, limit_drops;
};

static int codel_read(const struct ipk_qos_args *args, struct codel *c, struct ipk_err *err)
{
	static const char *const keys[] = { "target", "interval", "limit", NULL };

	if (ipk_qos_args_check(args, keys, "codel", err) ||
	    ipk_qos_arg_ns(args, "target", 5000000, 1000, IPK_NSEC_PER_SEC, &c->target_ns,
			   "codel", err) ||
	    ipk_qos_arg_ns(args, "interval", 100000000, 1000000, 10 * IPK_NSEC_PER_SEC,
			   &c->interval_ns, "codel", err) ||
	    ipk_qos_arg_u64(args, "limit", 1000, 1, CODEL_MAX_PKTS, &c->limit_pkts, "codel",
			    err))
		return -EINVAL;
	if (c->target_ns >= c->interval_ns)
		return ipk_err_set(err, -EINVAL, "codel: target %lluus not below interval %lluus",
				   (unsigned long long)c->target_ns / 1000,
				   (unsigned long long)c->interval_ns / 1000);
	return 0;
}

static int codel_parse(const struct ipk_qos_args *args, struct ipk_err *err)
{
	struct codel scratch;

	return codel_read(args, &scratch, err);
}

static int codel_init(struct ipk_qos *q, const struct ipk_qos_args *args, struct ipk_err *err)
{
	return codel_read(args, ipk_qos_priv(q), err);
}

static uint64_t isqrt64(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;

	while (bit > x)
		bit >>= 2;
	for (; bit; bit >>= 2) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
	}
	return r;
}

uint64_t ipk_codel_spacing_ns(uint64_t interval_ns, uint32_t count)
{
	/* sqrt(count << 32) = sqrt(count) << 16: 16 fraction bits. */
	uint64_t root = isqrt64((uint64_t)(count ? count : 1) << 32);

	return (interval_ns << 16) / root;
}

/* RFC 8289 §5.4 */
static uint64_t control_law(const struct codel *c, uint64_t t)
{
	return t + ipk_codel_spacing_ns(c->interval_ns, c->count);
}

static enum ipk_qos_verdict codel_enqueue(struct ipk_qos *q, struct ipk_pkt *pkt,
					  uint64_t now, struct ipk_pkt_list *evicted,
					  enum ipk_drop_reason *why)
{
	struct codel *c = ipk_qos_priv(q);

	if (c->list.count >= c->limit_pkts) {
		c->limit_drops++;
		*why = IPK_DROP_QUEUE_FULL;
		return IPK_QOS_DROP;
	}
	if (pkt->len > c->maxpacket)
		c->maxpacket = pkt->len;
	pkt->meta.enq_ns = now;
	ipk_pkt_list_push(&c->list, pkt);
	return IPK_QOS_PASS;
}

/* RFC 8289 §5.5: takes the head and says whether it may be dropped. */
static struct ipk_pkt *dodequeue(struct codel *c, uint64_t now, bool *ok_to_drop)
{
	struct ipk_pkt *pkt = ipk_pkt_list_pop(&c->list);
	uint64_t sojourn;

	*ok_to_drop = false;
	if (!pkt) {
		c->first_above_time = 0;
		return NULL;
	}
	sojourn = now > pkt->meta.enq_ns ? now - pkt->meta.enq_ns : 0;
	if (sojourn < c->target_ns || c->list.bytes <= c->maxpacket)
		c->first_above_time = 0;
	else if (c->first_above_time == 0)
		c->first_above_time = now + c->interval_ns;
	else if (now >= c->first_above_time)
		*ok_to_drop = true;
	return pkt;
}

static void codel_drop(struct codel *c, struct ipk_pkt *pkt, struct ipk_pkt_list *dropped,
		       enum ipk_drop_reason *why)
{
	ipk_pkt_list_push(dropped, pkt);
	c->codel_drops++;
	*why = IPK_DROP_CODEL;
}

/* RFC 8289 §5.6, dropping state: drop on schedule until the sojourn falls below target. */
static struct ipk_pkt *drop_on_schedule(struct codel *c, struct ipk_pkt *pkt, bool ok,
					uint64_t now, struct ipk_pkt_list *dropped,
					enum ipk_drop_reason *why)
{
	if (!ok)
		c->dropping = false;
	while (c->dropping && now >= c->drop_next) {
		codel_drop(c, pkt, dropped, why);
		c->count++;
		pkt = dodequeue(c, now, &ok);
		if (!ok)
			c->dropping = false;
		else
			c->drop_next = control_law(c, c->drop_next);
	}
	return pkt;
}

static struct ipk_pkt *codel_dequeue(struct ipk_qos *q, uint64_t now,
				     struct ipk_pkt_list *dropped, enum ipk_drop_reason *why)
{
	struct codel *c = ipk_qos_priv(q);
	uint32_t delta;
	bool ok;
	struct ipk_pkt *pkt = dodequeue(c, now, &ok);

	if (c->dropping)
		return drop_on_schedule(c, pkt, ok, now, dropped, why);
	if (!ok)
		return pkt;
	codel_drop(c, pkt, dropped, why);
	pkt = dodequeue(c, now, &ok);
	c->dropping = true;
	/* §5.6 (the Linux form): resume near the drop rate that last controlled the queue
	 * if that was recent. The signed difference tolerates drop_next in the future. */
	delta = c->count - c->lastcount;
	c->count = 1;
	if (delta > 1 && (int64_t)(now - c->drop_next) < (int64_t)(16 * c->interval_ns))
		c->count = delta;
	c->drop_next = control_law(c, now);
	c->lastcount = c->count;
	return pkt;
}

static struct ipk_pkt *codel_peek(struct ipk_qos *q)
{
	struct codel *c = ipk_qos_priv(q);

	return c->list.head;
}

static uint32_t codel_len_pkts(const struct ipk_qos *q)
{
	const struct codel *c = ipk_qos_priv_const(q);

	return c->list.count;
}

static uint64_t codel_len_bytes(const struct ipk_qos *q)
{
	const struct codel *c = ipk_qos_priv_const(q);

	return c->list.bytes;
}

static uint32_t codel_stats(const struct ipk_qos *q, struct ipk_qos_stat *out, uint32_t max)
{
	const struct codel *c = ipk_qos_priv_const(q);
	const struct ipk_qos_stat s[] = {
		{ "len", c->list.count },
		{ "bytes", c->list.bytes },
		{ "codel-drops", c->codel_drops },
		{ "limit-drops", c->limit_drops },
		{ "dropping", c->dropping },
		{ "count", c->count },
	};

	return ipk_qos_stats_copy(out, max, s, IPK_ARRAY_SIZE(s));
}

/* The handover: everything, oldest first, no AQM. */
static void codel_drain(struct ipk_qos *q, struct ipk_pkt_list *out)
{
	struct codel *c = ipk_qos_priv(q);

	ipk_pkt_list_splice(out, &c->list);
}

const struct ipk_qos_ops ipk_codel_ops = {
	.name = "codel",
	.kind = IPK_QOS_QUEUE,
	.threading = IPK_QOS_SINGLE_THREAD,
	.priv_size = sizeof(struct codel),
	.parse = codel_parse,
	.init = codel_init,
	.enqueue = codel_enqueue,
	.dequeue = codel_dequeue,
	.peek = codel_peek,
	.len_pkts = codel_len_pkts,
	.len_bytes = codel_len_bytes,
	.drain = codel_drain,
	.stats = codel_stats,
};
