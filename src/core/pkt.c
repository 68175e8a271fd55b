// SPDX-License-Identifier: BSD-2-Clause
#include "core/pkt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sa/sa.h"

static size_t pkt_stride(uint32_t room)
{
	size_t size = sizeof(struct ipk_pkt) + room;

	return (size + 63) & ~(size_t)63;
}

int ipk_pool_create(struct ipk_pool **out, uint32_t count, uint32_t room)
{
	struct ipk_pool *pool;
	size_t stride;
	uint8_t *mem;

	if (count == 0 || room < IPK_PKT_HEADROOM + IPK_PKT_TAILROOM + 64)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	stride = pkt_stride(room);
	mem = aligned_alloc(64, stride * count);
	if (!mem) {
		free(pool);
		return -ENOMEM;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pool->memory = mem;
	pool->room = room;
	pool->count = count;
	for (uint32_t i = count; i-- > 0;) {
		struct ipk_pkt *pkt = (struct ipk_pkt *)(mem + stride * i);

		pkt->pool = pool;
		pkt->room = room;
		pkt->next = pool->free_list;
		pool->free_list = pkt;
	}
	pool->available = count;
	*out = pool;
	return 0;
}

void ipk_pool_destroy(struct ipk_pool *pool)
{
	if (!pool)
		return;
	pthread_mutex_destroy(&pool->lock);
	free(pool->memory);
	free(pool);
}

uint32_t ipk_pool_available(struct ipk_pool *pool)
{
	uint32_t n;

	pthread_mutex_lock(&pool->lock);
	n = pool->available;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

struct ipk_pkt *ipk_pkt_alloc(struct ipk_pool *pool)
{
	struct ipk_pkt *pkt;

	pthread_mutex_lock(&pool->lock);
	pkt = pool->free_list;
	if (pkt) {
		pool->free_list = pkt->next;
		pool->available--;
	}
	pthread_mutex_unlock(&pool->lock);
	if (!pkt)
		return NULL;
	pkt->next = NULL;
	pkt->head = IPK_PKT_HEADROOM;
	pkt->len = 0;
	pkt->index = 0;
	memset(&pkt->meta, 0, sizeof(pkt->meta));
	return pkt;
}

void ipk_pkt_sa_refs_put(struct ipk_pkt *pkt)
{
	struct ipk_pkt_sa_refs r;

	if (!(pkt->meta.flags & IPK_PKT_F_SA_REFS))
		return;
	ipk_pkt_sa_refs_read(pkt, &r);
	for (uint32_t i = 0; i < r.n && i < IPK_PKT_SA_REFS_MAX; i++)
		if (r.sa[i])
			ipk_sa_put(r.sa[i]);
	pkt->meta.flags &= (uint16_t)~IPK_PKT_F_SA_REFS;
}

void ipk_pkt_free(struct ipk_pkt *pkt)
{
	struct ipk_pool *pool = pkt->pool;

	ipk_pkt_sa_refs_put(pkt);
	if (pkt->meta.sa) {
		ipk_sa_put(pkt->meta.sa);
		pkt->meta.sa = NULL;
	}
	pthread_mutex_lock(&pool->lock);
	pkt->next = pool->free_list;
	pool->free_list = pkt;
	pool->available++;
	pthread_mutex_unlock(&pool->lock);
}

void ipk_pkt_drop(struct ipk_pkt *pkt, struct ipk_drop_stats *stats, enum ipk_drop_reason reason)
{
	ipk_drop_count(stats, reason);
	ipk_pkt_free(pkt);
}

struct ipk_pkt *ipk_pkt_from_bytes(struct ipk_pool *pool, const void *data, size_t len)
{
	struct ipk_pkt *pkt;
	uint8_t *dst;

	if (len > pool->room - IPK_PKT_HEADROOM - IPK_PKT_TAILROOM)
		return NULL;
	pkt = ipk_pkt_alloc(pool);
	if (!pkt)
		return NULL;
	dst = ipk_pkt_put(pkt, (uint32_t)len);
	memcpy(dst, data, len);
	return pkt;
}

void ipk_pkt_list_push(struct ipk_pkt_list *l, struct ipk_pkt *pkt)
{
	pkt->next = NULL;
	if (l->tail)
		l->tail->next = pkt;
	else
		l->head = pkt;
	l->tail = pkt;
	l->count++;
	l->bytes += pkt->len;
}

struct ipk_pkt *ipk_pkt_list_pop(struct ipk_pkt_list *l)
{
	struct ipk_pkt *pkt = l->head;

	if (!pkt)
		return NULL;
	l->head = pkt->next;
	if (!l->head)
		l->tail = NULL;
	pkt->next = NULL;
	l->count--;
	l->bytes -= pkt->len;
	return pkt;
}

void ipk_pkt_list_splice(struct ipk_pkt_list *to, struct ipk_pkt_list *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	to->count += from->count;
	to->bytes += from->bytes;
	memset(from, 0, sizeof(*from));
}
