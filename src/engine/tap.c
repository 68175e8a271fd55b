// SPDX-License-Identifier: BSD-2-Clause
#include "engine/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

/* The writer's nap when the ring is empty: at 1 ms a 1024-slot ring holds a gateway's
 * worth of packets up to about 1 Mpps. */
#define WRITER_POLL_NS 1000000ull
/* How long the control thread naps while a packet-path thread finishes a copy. */
#define DETACH_POLL_NS 20000ull
/* cap_len of a slot claimed by a producer that then found the count reached. */
#define SLOT_VOID UINT32_MAX

/* One ring entry. seq says whose turn it is (Vyukov's bounded queue): equal to the
 * position, free for the producer claiming that position; position + 1, filled and
 * waiting for the writer; position + slots, free again for the next lap. */
struct tap_slot {
	_Atomic uint64_t seq;
	uint64_t ts_ns;     /* CLOCK_REALTIME */
	uint32_t orig_len;
	uint32_t cap_len;   /* SLOT_VOID: nothing to write */
	uint8_t data[];
};

struct ipk_tap {
	struct ipk_tap_config cfg;
	uint8_t *ring;
	size_t stride;                          /* bytes per slot */
	_Alignas(IPK_CACHELINE) _Atomic uint64_t head; /* next position to claim */
	_Atomic uint64_t taken;                 /* claims that passed the count check */
	_Atomic uint64_t skipped;
	_Alignas(IPK_CACHELINE) uint64_t tail;  /* next position to write (the consumer) */
	_Atomic uint64_t written;
	_Atomic bool done;
	_Atomic bool stop;
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	pthread_t thread;
	bool started;
};

void ipk_tap_config_init(struct ipk_tap_config *cfg)
{
	cfg->count = IPK_TAP_DEFAULT_COUNT;
	cfg->slots = IPK_TAP_DEFAULT_SLOTS;
	cfg->snap_bytes = IPK_TAP_DEFAULT_SNAP;
}

static struct tap_slot *slot_at(const struct ipk_tap *t, uint64_t pos)
{
	return (struct tap_slot *)(t->ring + (pos & (t->cfg.slots - 1)) * t->stride);
}

static int check_config(const struct ipk_tap_config *cfg, struct ipk_err *err)
{
	if (cfg->count < 1 || cfg->count > IPK_TAP_MAX_COUNT)
		return ipk_err_set(err, -EINVAL, "tap: count %llu not in 1..%u",
				   (unsigned long long)cfg->count, IPK_TAP_MAX_COUNT);
	if (cfg->slots < 2 || cfg->slots > IPK_TAP_MAX_SLOTS || (cfg->slots & (cfg->slots - 1)))
		return ipk_err_set(err, -EINVAL, "tap: %u slots is not a power of two in 2..%u",
				   cfg->slots, IPK_TAP_MAX_SLOTS);
	if (cfg->snap_bytes < 64 || cfg->snap_bytes > IPK_TAP_MAX_SNAP)
		return ipk_err_set(err, -EINVAL, "tap: snap length %u not in 64..%u",
				   cfg->snap_bytes, IPK_TAP_MAX_SNAP);
	return 0;
}

static int alloc_ring(struct ipk_tap *t)
{
	size_t hdr = sizeof(struct tap_slot) + t->cfg.snap_bytes;

	t->stride = (hdr + IPK_CACHELINE - 1) / IPK_CACHELINE * IPK_CACHELINE;
	t->ring = aligned_alloc(IPK_CACHELINE, t->stride * t->cfg.slots);
	if (!t->ring)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->cfg.slots; i++)
		atomic_init(&slot_at(t, i)->seq, i);
	return 0;
}

/* Opens @path for the pcap file: no symbolic link followed, 0600. */
static int open_file(struct ipk_tap *t, const char *path, struct ipk_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;
	int ret;

	if (fd < 0) {
		ret = -errno;
		return ipk_err_set(err, ret, "%s: cannot create: %s", path, strerror(-ret));
	}
	f = fdopen(fd, "w");
	/* Nanosecond timestamps: the engine's stages are microseconds apart. */
	t->pcap = pcap_open_dead_with_tstamp_precision(DLT_RAW, (int)t->cfg.snap_bytes,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (f && t->pcap)
		t->dumper = pcap_dump_fopen(t->pcap, f);
	if (t->dumper)
		return 0;
	if (f)
		fclose(f);
	else
		close(fd);
	return ipk_err_set(err, -ENOMEM, "%s: cannot start a pcap file: %s", path,
			   t->pcap ? pcap_geterr(t->pcap) : "out of memory");
}

int ipk_tap_create(struct ipk_tap **out, const struct ipk_tap_config *cfg, const char *path,
		   struct ipk_err *err)
{
	struct ipk_tap *t;
	int ret;

	ret = check_config(cfg, err);
	if (ret)
		return ret;
	t = aligned_alloc(IPK_CACHELINE, sizeof(*t));
	if (!t)
		return ipk_err_set(err, -ENOMEM, "tap: out of memory");
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	ret = alloc_ring(t);
	if (ret) {
		ipk_err_set(err, ret, "tap: out of memory for %u slots", cfg->slots);
		goto err_free_tap;
	}
	ret = open_file(t, path, err);
	if (ret)
		goto err_free_ring;
	*out = t;
	return 0;

err_free_ring:
	if (t->pcap)
		pcap_close(t->pcap);
	free(t->ring);
err_free_tap:
	free(t);
	return ret;
}

static void close_file(struct ipk_tap *t)
{
	if (!t->dumper)
		return;
	pcap_dump_close(t->dumper);
	pcap_close(t->pcap);
	t->dumper = NULL;
	t->pcap = NULL;
	/* Release: pairs with the acquire load in ipk_tap_stats_read(). */
	atomic_store_explicit(&t->done, true, memory_order_release);
}

static void write_slot(struct ipk_tap *t, const struct tap_slot *s)
{
	struct pcap_pkthdr h = {
		.ts.tv_sec = (time_t)(s->ts_ns / IPK_NSEC_PER_SEC),
		/* Nanoseconds in tv_usec: the file was opened with nanosecond precision. */
		.ts.tv_usec = (suseconds_t)(s->ts_ns % IPK_NSEC_PER_SEC),
		.caplen = s->cap_len,
		.len = s->orig_len,
	};

	pcap_dump((u_char *)t->dumper, &h, s->data);
}

uint32_t ipk_tap_flush(struct ipk_tap *t)
{
	uint64_t written = atomic_load_explicit(&t->written, memory_order_relaxed);
	uint32_t n = 0;

	while (t->dumper && written < t->cfg.count) {
		struct tap_slot *s = slot_at(t, t->tail);

		/* Acquire: pairs with the release store of a producer that filled the slot. */
		if (atomic_load_explicit(&s->seq, memory_order_acquire) != t->tail + 1)
			break;
		if (s->cap_len != SLOT_VOID) {
			write_slot(t, s);
			written++;
			n++;
		}
		/* Release: the slot is free for the producer one lap later (its acquire load
		 * in claim()). */
		atomic_store_explicit(&s->seq, t->tail + t->cfg.slots, memory_order_release);
		t->tail++;
	}
	atomic_store_explicit(&t->written, written, memory_order_relaxed);
	if (n && t->dumper)
		pcap_dump_flush(t->dumper);
	if (written >= t->cfg.count)
		close_file(t);
	return n;
}

static void *writer_thread(void *arg)
{
	struct ipk_tap *t = arg;
	const struct timespec nap = { 0, (long)WRITER_POLL_NS };

	pthread_setname_np(pthread_self(), "ipk-capture");
	/* Acquire: pairs with the release store in ipk_tap_destroy(). */
	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		if (ipk_tap_flush(t) == 0 && !t->dumper)
			break;
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int ipk_tap_start(struct ipk_tap *t)
{
	int rc = pthread_create(&t->thread, NULL, writer_thread, t);

	t->started = rc == 0;
	return -rc;
}

void ipk_tap_destroy(struct ipk_tap *t, struct ipk_tap_stats *last)
{
	if (!t)
		return;
	if (t->started) {
		atomic_store_explicit(&t->stop, true, memory_order_release);
		pthread_join(t->thread, NULL);
	}
	ipk_tap_flush(t);
	close_file(t);
	if (last)
		ipk_tap_stats_read(t, last);
	free(t->ring);
	free(t);
}

int ipk_tap_attach(struct ipk_tap_point *tp, struct ipk_tap *tap)
{
	struct ipk_tap *none = NULL;

	/* Sequentially consistent (a release at least): the ring's initial state is visible
	 * to a thread that loads the pointer in ipk_tap_pass(). */
	if (!atomic_compare_exchange_strong(&tp->tap, &none, tap))
		return -EBUSY;
	return 0;
}

struct ipk_tap *ipk_tap_detach(struct ipk_tap_point *tp)
{
	const struct timespec nap = { 0, (long)DETACH_POLL_NS };
	struct ipk_tap *old = atomic_exchange(&tp->tap, NULL);

	/* Sequentially consistent: ordered with the increment and the load in
	 * ipk_tap_pass() (tap.h explains the pattern). */
	while (atomic_load(&tp->passing) != 0)
		nanosleep(&nap, NULL);
	return old;
}

/* Claims the next free slot (Vyukov's bounded MPMC queue, producer side); NULL when the
 * ring is full. Lock-free: the CAS fails only because another producer claimed. */
static struct tap_slot *claim(struct ipk_tap *t, uint64_t *pos_out)
{
	uint64_t pos = atomic_load_explicit(&t->head, memory_order_relaxed);

	for (;;) {
		struct tap_slot *s = slot_at(t, pos);
		/* Acquire: pairs with the writer's release store that freed the slot. */
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		int64_t diff = (int64_t)(seq - pos);

		if (diff < 0)
			return NULL;
		if (diff > 0) {
			pos = atomic_load_explicit(&t->head, memory_order_relaxed);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(&t->head, &pos, pos + 1,
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			*pos_out = pos;
			return s;
		}
	}
}

static void copy_in(struct ipk_tap *t, struct tap_slot *s, const struct ipk_pkt *pkt)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	s->ts_ns = (uint64_t)now.tv_sec * IPK_NSEC_PER_SEC + (uint64_t)now.tv_nsec;
	s->orig_len = pkt->len;
	s->cap_len = pkt->len < t->cfg.snap_bytes ? pkt->len : t->cfg.snap_bytes;
	memcpy(s->data, pkt->buf + pkt->head, s->cap_len);
}

static void tap_copy(struct ipk_tap *t, const struct ipk_pkt *pkt)
{
	struct tap_slot *s;
	uint64_t pos;

	if (atomic_load_explicit(&t->taken, memory_order_relaxed) >= t->cfg.count)
		return;
	s = claim(t, &pos);
	if (!s) {
		atomic_fetch_add_explicit(&t->skipped, 1, memory_order_relaxed);
		return;
	}
	/* Counted after the claim, so a full ring never uses up the count; a producer that
	 * lost the race for the last packets hands its slot back empty. */
	if (atomic_fetch_add_explicit(&t->taken, 1, memory_order_relaxed) < t->cfg.count)
		copy_in(t, s, pkt);
	else
		s->cap_len = SLOT_VOID;
	/* Release: pairs with the writer's acquire load in ipk_tap_flush(). */
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
}

void ipk_tap_pass(struct ipk_tap_point *tp, const struct ipk_pkt *pkt)
{
	struct ipk_tap *t;

	if (!pkt)
		return;
	/* Sequentially consistent increment and load: the partner of ipk_tap_detach(). */
	atomic_fetch_add(&tp->passing, 1);
	t = atomic_load(&tp->tap);
	if (t)
		tap_copy(t, pkt);
	/* Release: ipk_tap_detach() reads 0 only after every copy into the tap ended. */
	atomic_fetch_sub_explicit(&tp->passing, 1, memory_order_release);
}

void ipk_tap_stats_read(const struct ipk_tap *t, struct ipk_tap_stats *st)
{
	uint64_t taken = atomic_load_explicit(&t->taken, memory_order_relaxed);

	st->count = t->cfg.count;
	st->taken = taken < t->cfg.count ? taken : t->cfg.count;
	st->skipped = atomic_load_explicit(&t->skipped, memory_order_relaxed);
	st->written = atomic_load_explicit(&t->written, memory_order_relaxed);
	st->done = atomic_load_explicit(&t->done, memory_order_acquire);
}
