/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet buffers and the pool they come from.
 *
 * A packet is one fixed-size buffer taken from a pool sized at start: no malloc on the
 * packet path. The data sits between `head` and `head + len` inside `buf`; the space
 * before it (headroom) takes the outer IPv4/IPv6 + UDP + ESP header + IV on encapsulation,
 * the space after it (tailroom) the ESP padding, trailer and ICV.
 *
 *   buf: [ headroom | data (len bytes) | tailroom ]
 *          ^0        ^head              ^head+len  ^room
 *
 * Ownership: whoever holds the pointer owns the packet. Handing it to a queue or another
 * function that "consumes @pkt" transfers ownership; the giver must not touch it after.
 * Only ipk_pkt_free() (delivered) and ipk_pkt_drop() (counted) end a packet's life.
 *
 * Threads: a pool may be used from any thread (alloc and free take the pool lock).
 */
#ifndef IPK_CORE_PKT_H
#define IPK_CORE_PKT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/drop.h"

/* Outer IPv6 (40) + UDP (8) + ESP header (8) + IV (16) = 72; rounded up for an Ethernet
 * or VLAN header that an I/O back end may prepend. */
#define IPK_PKT_HEADROOM 128
/* Padding (at most block-1 = 15 with AES-CBC; 255 allowed by RFC 4303 but never built),
 * pad length + next header (2), ICV (16); rounded up. */
#define IPK_PKT_TAILROOM 64
/* Default data room: an Ethernet MTU frame plus slack. Reassembly uses a larger pool. */
#define IPK_PKT_DEFAULT_ROOM (IPK_PKT_HEADROOM + 2048 + IPK_PKT_TAILROOM)

struct ipk_sa;

/*
 * Per-packet metadata, filled as the packet moves along the path. Fixed size, inside the
 * buffer header (STYLE 3.5).
 */
struct ipk_pkt_meta {
	struct ipk_sa *sa;     /* SA being applied; holds a reference (ipk_sa_get) */
	uint64_t rx_ns;        /* when the packet entered ipseck */
	uint64_t enq_ns;       /* when it entered its current queue */
	uint32_t class_id;     /* QoS class chosen by a classifier */
	uint32_t user_id;      /* user/profile for fairness */
	uint16_t bundle_pos;   /* index of the SA in the policy's bundle */
	uint8_t dir;           /* enum ipk_dir */
	uint8_t color;         /* meter colour */
	uint8_t l3_family;     /* 4 or 6, once parsed */
	uint8_t in_port;       /* back-end port the packet came from */
	uint16_t flags;
};
_Static_assert(sizeof(struct ipk_pkt_meta) == 40, "packet metadata must stay small");

struct ipk_pool;

struct ipk_pkt {
	struct ipk_pkt *next;   /* link for queues and the pool's free list */
	struct ipk_pool *pool;
	uint32_t head;          /* offset of the first data byte in buf */
	uint32_t len;           /* data bytes */
	uint32_t room;          /* size of buf */
	uint32_t index;         /* position in its input (pcap record, test row) */
	struct ipk_pkt_meta meta;
	uint8_t buf[] __attribute__((aligned(16)));
};

struct ipk_pool {
	pthread_mutex_t lock;
	struct ipk_pkt *free_list;
	uint32_t room;          /* bytes of buf in each packet */
	uint32_t count;         /* packets in the pool */
	uint32_t available;     /* packets on the free list */
	void *memory;           /* one allocation holding every packet */
};

/* Creates a pool of @count packets with @room bytes of buffer each (room must be at least
 * IPK_PKT_HEADROOM + IPK_PKT_TAILROOM + 64). Returns 0, -EINVAL or -ENOMEM. */
int ipk_pool_create(struct ipk_pool **out, uint32_t count, uint32_t room);
/* Frees the pool. Every packet must have come back. */
void ipk_pool_destroy(struct ipk_pool *pool);
uint32_t ipk_pool_available(struct ipk_pool *pool);

/* Takes a packet with empty data at IPK_PKT_HEADROOM and zeroed metadata; NULL when the
 * pool is empty. The caller owns the result. */
struct ipk_pkt *ipk_pkt_alloc(struct ipk_pool *pool);
/* Returns a delivered (or never used) packet to its pool. Consumes @pkt. Puts the SA
 * reference in meta.sa if one is held. */
void ipk_pkt_free(struct ipk_pkt *pkt);
/* Counts @pkt under @reason in @stats (may be NULL), then frees it. Consumes @pkt. */
void ipk_pkt_drop(struct ipk_pkt *pkt, struct ipk_drop_stats *stats, enum ipk_drop_reason reason);

/* A packet list in FIFO order, linked through pkt->next: the storage of queues.
 * Zero-initialised means empty. Whoever holds the list owns its packets. */
struct ipk_pkt_list {
	struct ipk_pkt *head;
	struct ipk_pkt *tail;
	uint32_t count;
	uint64_t bytes;
};

/* Appends @pkt; takes the packet from the caller. */
void ipk_pkt_list_push(struct ipk_pkt_list *l, struct ipk_pkt *pkt);
/* Removes and returns the first packet (the caller owns it), or NULL. */
struct ipk_pkt *ipk_pkt_list_pop(struct ipk_pkt_list *l);
/* Moves every packet of @from to the end of @to; @from is empty after. */
void ipk_pkt_list_splice(struct ipk_pkt_list *to, struct ipk_pkt_list *from);

/*
 * Answers made by ipseck itself (an ICMP error about @orig, sent back toward @orig's
 * sender) must leave by the link @orig came from, addressed to its sender. What a back end
 * saved of that link lives in the first IPK_PKT_LINK_SAVE bytes of the buffer and in the
 * top byte of meta.flags (io/port.h, io/ether.h); the engine does not read it.
 * ipk_pkt_reply_to() copies both, and the index that validates them, into @reply and
 * marks it IPK_PKT_F_REPLY, so that a back end that addresses frames swaps the source and
 * destination (io/ether.c).
 */
#define IPK_PKT_LINK_SAVE 32
#define IPK_PKT_F_REPLY 0x1000 /* in the back ends' byte of meta.flags */

static inline void ipk_pkt_reply_to(struct ipk_pkt *reply, const struct ipk_pkt *orig)
{
	memcpy(reply->buf, orig->buf, IPK_PKT_LINK_SAVE);
	reply->index = orig->index;
	reply->meta.in_port = orig->meta.in_port;
	reply->meta.flags = (uint16_t)((reply->meta.flags & 0x00ff) |
				       (orig->meta.flags & 0xff00) | IPK_PKT_F_REPLY);
}

/*
 * More SA references than meta.sa: a packet between two passes of an ESP bundle keeps the
 * bundle's SAs (outbound: all of them; inbound: the layers already removed), each with a
 * reference, in a record in the last bytes of its buffer, so that deleting an SA or the
 * policy never frees what the packet still points at (engine/scheduler.c). The flag, in
 * the engine's byte of meta.flags, marks the record valid; ipk_pkt_free() puts its
 * references. The writer checks that the data end never reaches the record.
 */
#define IPK_PKT_F_SA_REFS 0x0001
#define IPK_PKT_SA_REFS_MAX 4

struct ipk_pkt_sa_refs {
	struct ipk_sa *sa[IPK_PKT_SA_REFS_MAX]; /* NULL: none at that place */
	uint32_t n;                             /* places in use */
};

static inline void ipk_pkt_sa_refs_read(const struct ipk_pkt *pkt, struct ipk_pkt_sa_refs *r)
{
	memcpy(r, pkt->buf + pkt->room - sizeof(*r), sizeof(*r));
}

/* Stores @r, whose references the caller took, and sets the flag. */
static inline void ipk_pkt_sa_refs_write(struct ipk_pkt *pkt, const struct ipk_pkt_sa_refs *r)
{
	memcpy(pkt->buf + pkt->room - sizeof(*r), r, sizeof(*r));
	pkt->meta.flags |= IPK_PKT_F_SA_REFS;
}

/* Puts the record's references and clears the flag (nothing when there is none). */
void ipk_pkt_sa_refs_put(struct ipk_pkt *pkt);

/* Copies @len bytes from @data into a fresh packet; NULL if the pool is empty or the data
 * does not fit between headroom and tailroom. */
struct ipk_pkt *ipk_pkt_from_bytes(struct ipk_pool *pool, const void *data, size_t len);

static inline uint8_t *ipk_pkt_data(struct ipk_pkt *pkt)
{
	return pkt->buf + pkt->head;
}

static inline uint32_t ipk_pkt_headroom(const struct ipk_pkt *pkt)
{
	return pkt->head;
}

static inline uint32_t ipk_pkt_tailroom(const struct ipk_pkt *pkt)
{
	return pkt->room - pkt->head - pkt->len;
}

/* Grows the data at the front by @n bytes; returns the new start or NULL (no headroom). */
static inline uint8_t *ipk_pkt_push(struct ipk_pkt *pkt, uint32_t n)
{
	if (pkt->head < n)
		return NULL;
	pkt->head -= n;
	pkt->len += n;
	return pkt->buf + pkt->head;
}

/* Removes @n bytes from the front; returns the new start or NULL (fewer than @n bytes). */
static inline uint8_t *ipk_pkt_pull(struct ipk_pkt *pkt, uint32_t n)
{
	if (pkt->len < n)
		return NULL;
	pkt->head += n;
	pkt->len -= n;
	return pkt->buf + pkt->head;
}

/* Grows the data at the end by @n bytes; returns a pointer to the new bytes or NULL. */
static inline uint8_t *ipk_pkt_put(struct ipk_pkt *pkt, uint32_t n)
{
	uint8_t *tail;

	if (ipk_pkt_tailroom(pkt) < n)
		return NULL;
	tail = pkt->buf + pkt->head + pkt->len;
	pkt->len += n;
	return tail;
}

/* Cuts the data to @len bytes (no-op if already shorter). */
static inline void ipk_pkt_trim(struct ipk_pkt *pkt, uint32_t len)
{
	if (len < pkt->len)
		pkt->len = len;
}

#endif
