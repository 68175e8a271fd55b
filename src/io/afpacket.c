// SPDX-License-Identifier: BSD-2-Clause
#include "io/afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/compiler.h"
#include "io/ether.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct wire_cfg {
	const char *dev;
	bool promisc, strip, csum, qdisc_bypass;
	uint32_t blocks, block_size, block_timeout_ms, batch;
};

struct wire_tx_slot {
	struct iovec iov[2];
	uint8_t hdr[IPK_ETHER_MAX_HDR];
};

struct wire {
	int fd;
	int ifindex;
	uint8_t *ring;
	size_t ring_size;
	uint32_t block_size;
	uint32_t n_blocks;
	/* Read position: the block being read, the next frame in it, frames left. */
	uint32_t block;
	struct tpacket3_hdr *frame;
	uint32_t left;
	uint32_t frame_no;      /* pkt->index of the next frame */
	bool check_outgoing;    /* no PACKET_IGNORE_OUTGOING: test each frame's type */
	uint32_t batch;
	/* Fast paths, chosen at open from `csum` and `strip`. */
	void (*fixup)(struct wire *w, const struct tpacket3_hdr *f, struct ipk_pkt *pkt);
	int (*prepare)(struct wire *w, struct ipk_pkt *pkt, uint32_t i);
	/* Own counters (rx thread writes, any thread reads). */
	_Atomic uint64_t outgoing_skipped, csum_completed, vlan_restored, non_ip, freezes;
	struct mmsghdr tx_msg[IPK_IO_BATCH_MAX];
	struct wire_tx_slot tx[IPK_IO_BATCH_MAX];
};

static void choose_paths(struct wire *w, const struct wire_cfg *c);

static const char *const keys[] = { "dev", "promisc", "strip", "csum", "blocks", "block-size",
				    "block-timeout", "batch", "qdisc-bypass", NULL };

static int parse_cfg(const struct ipk_io_args *args, struct wire_cfg *c, struct ipk_err *err)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = ipk_io_args_check("wire", args, keys, err);
	rc = rc ? rc : ipk_io_arg_ifname("wire", args, "dev", &c->dev, err);
	rc = rc ? rc : ipk_io_arg_bool("wire", args, "promisc", false, &c->promisc, err);
	rc = rc ? rc : ipk_io_arg_bool("wire", args, "strip", false, &c->strip, err);
	rc = rc ? rc : ipk_io_arg_bool("wire", args, "csum", true, &c->csum, err);
	rc = rc ? rc : ipk_io_arg_bool("wire", args, "qdisc-bypass", false, &c->qdisc_bypass, err);
	/* A quiet link retires a block per block-timeout, so the number of blocks is about
	 * how many milliseconds the receive thread may fall behind before frames are lost
	 * (with 32, tests on a busy machine lost frames). 128 blocks of 128 KiB (room for a
	 * 64 KiB GRO frame): 16 MiB per port. */
	rc = rc ? rc : ipk_io_arg_u32("wire", args, "blocks", 128, 2, 1024, &c->blocks, err);
	rc = rc ? rc : ipk_io_arg_u32("wire", args, "block-size", 1u << 17, 4096, 1u << 22,
				      &c->block_size, err);
	rc = rc ? rc : ipk_io_arg_u32("wire", args, "block-timeout", 1, 1, 1000,
				      &c->block_timeout_ms, err);
	rc = rc ? rc : ipk_io_arg_u32("wire", args, "batch", IPK_IO_BATCH_DEFAULT, 1,
				      IPK_IO_BATCH_MAX, &c->batch, err);
	if (rc)
		return rc;
	if (!c->dev)
		return ipk_err_set(err, -EINVAL, "wire: dev IFNAME is required");
	if (c->block_size & (c->block_size - 1))
		return ipk_err_set(err, -EINVAL, "wire: block-size %u is not a power of two",
				   c->block_size);
	return 0;
}

static int wire_parse(const struct ipk_io_args *args, struct ipk_err *err)
{
	struct wire_cfg c;

	return parse_cfg(args, &c, err);
}

static int opt(int fd, int name, int value)
{
	return setsockopt(fd, SOL_PACKET, name, &value, sizeof(value)) ? -errno : 0;
}

/* TPACKET_V3 ring: n blocks of block_size bytes; frame_size only sizes the request (V3
 * packs frames of any length into a block). */
static int setup_ring(struct wire *w, const struct wire_cfg *c)
{
	struct tpacket_req3 req = {
		.tp_block_size = c->block_size,
		.tp_block_nr = c->blocks,
		.tp_frame_size = 2048,
		.tp_frame_nr = c->block_size / 2048 * c->blocks,
		.tp_retire_blk_tov = c->block_timeout_ms,
		.tp_feature_req_word = 0,
	};
	int rc = opt(w->fd, PACKET_VERSION, TPACKET_V3);

	if (rc)
		return rc;
	if (setsockopt(w->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return -errno;
	w->ring_size = (size_t)c->block_size * c->blocks;
	w->ring = mmap(NULL, w->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       w->fd, 0);
	if (w->ring == MAP_FAILED) {
		w->ring = NULL;
		return -errno;
	}
	w->block_size = c->block_size;
	w->n_blocks = c->blocks;
	return 0;
}

static int setup_iface(struct wire *w, const struct wire_cfg *c)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = w->ifindex,
	};
	struct packet_mreq mr = { .mr_ifindex = w->ifindex, .mr_type = PACKET_MR_PROMISC };

	/* Linux 4.20+; without it, fall back to checking each frame's packet type. Set
	 * before bind, so that no frame of ours is queued in between. */
	w->check_outgoing = opt(w->fd, PACKET_IGNORE_OUTGOING, 1) != 0;
	if (bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	if (c->promisc &&
	    setsockopt(w->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		return -errno;
	if (c->qdisc_bypass)
		return opt(w->fd, PACKET_QDISC_BYPASS, 1);
	return 0;
}

static void wire_close(struct ipk_io_port *port)
{
	struct wire *w = ipk_io_priv(port);

	if (w->ring)
		munmap(w->ring, w->ring_size);
	if (w->fd >= 0)
		close(w->fd);
	w->ring = NULL;
	w->fd = -1;
}

static int wire_open(struct ipk_io_port *port, const struct ipk_io_args *args,
		     struct ipk_err *err)
{
	struct wire *w = ipk_io_priv(port);
	struct wire_cfg c;
	const char *what = "socket";
	int rc = parse_cfg(args, &c, err);

	if (rc)
		return rc;
	w->ifindex = (int)if_nametoindex(c.dev);
	if (!w->ifindex)
		return ipk_err_set(err, -ENODEV, "wire: no interface %s", c.dev);
	snprintf(port->name, sizeof(port->name), "%s", c.dev);
	choose_paths(w, &c);
	w->batch = c.batch;
	/* Protocol 0: nothing is queued until bind() names the interface. */
	w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		return ipk_err_set(err, -errno, "wire: %s: socket: %s", c.dev, strerror(errno));
	rc = setup_ring(w, &c);
	if (rc)
		what = "TPACKET_V3 ring";
	if (!rc && (rc = setup_iface(w, &c)))
		what = "bind/options";
	if (rc) {
		wire_close(port);
		return ipk_err_set(err, rc, "wire: %s: %s: %s", c.dev, what, strerror(-rc));
	}
	return 0;
}

/* --- receive ---------------------------------------------------------------------------- */

static struct tpacket_block_desc *block_at(const struct wire *w, uint32_t i)
{
	return (struct tpacket_block_desc *)(w->ring + (size_t)i * w->block_size);
}

/* PACKET_STATISTICS: frames the kernel dropped since the last read (it resets them). */
static void read_kernel_drops(struct ipk_io_port *port, struct wire *w)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (getsockopt(w->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
		ipk_io_count_err(port, IPK_IO_ERR_RX_KERNEL, st.tp_drops);
		ipk_io_count(&w->freezes, st.tp_freeze_q_cnt);
	}
}

/* Copies the frame at @f into @pkt (tag restored); false when it does not fit. */
static bool copy_frame(struct wire *w, const struct tpacket3_hdr *f, struct ipk_pkt *pkt)
{
	const uint8_t *frame = (const uint8_t *)f + f->tp_mac;
	uint32_t cap = pkt->room - pkt->head - IPK_PKT_TAILROOM;
	bool tagged = (f->tp_status & TP_STATUS_VLAN_VALID) && f->tp_snaplen >= 12;

	if (f->tp_len != f->tp_snaplen || f->tp_snaplen + (tagged ? 4u : 0u) > cap)
		return false;
	if (tagged) {
		uint16_t tpid = (f->tp_status & TP_STATUS_VLAN_TPID_VALID) ? f->hv1.tp_vlan_tpid
									    : ETH_P_8021Q;

		pkt->len = ipk_ether_copy_tagged(ipk_pkt_data(pkt), frame, f->tp_snaplen, tpid,
						 (uint16_t)f->hv1.tp_vlan_tci);
		ipk_io_count(&w->vlan_restored, 1);
	} else {
		memcpy(ipk_pkt_data(pkt), frame, f->tp_snaplen);
		pkt->len = f->tp_snaplen;
	}
	return true;
}

/* The fix-ups of afpacket.h on a frame now in @pkt, one variant per configuration. */
static void fix_csum(struct wire *w, const struct tpacket3_hdr *f, struct ipk_pkt *pkt)
{
	uint16_t type;
	int off;

	if (!(f->tp_status & TP_STATUS_CSUMNOTREADY))
		return;
	off = ipk_ether_l3_offset(ipk_pkt_data(pkt), pkt->len, &type);
	if (off >= 0 && (type == IPK_ETH_P_IPV4 || type == IPK_ETH_P_IPV6) &&
	    ipk_ether_csum_complete(ipk_pkt_data(pkt) + off, pkt->len - (uint32_t)off)) {
		pkt->meta.flags |= IPK_IO_F_CSUM;
		ipk_io_count(&w->csum_completed, 1);
	}
}

static void fix_strip(struct wire *w, const struct tpacket3_hdr *f, struct ipk_pkt *pkt)
{
	if (ipk_ether_strip(pkt) <= IPK_ETHER_OTHER)
		ipk_io_count(&w->non_ip, 1);
}

static void fix_csum_strip(struct wire *w, const struct tpacket3_hdr *f, struct ipk_pkt *pkt)
{
	fix_csum(w, f, pkt);
	fix_strip(w, f, pkt);
}

/* Frame @f into a new packet. Returns it, or NULL when the frame was skipped or dropped
 * (counted). */
static struct ipk_pkt *take_frame(struct ipk_io_port *port, struct wire *w,
				  const struct tpacket3_hdr *f, struct ipk_pool *pool)
{
	const struct sockaddr_ll *sll =
		(const void *)((const uint8_t *)f + TPACKET_ALIGN(sizeof(*f)));
	struct ipk_pkt *pkt;

	if (w->check_outgoing && sll->sll_pkttype == PACKET_OUTGOING) {
		ipk_io_count(&w->outgoing_skipped, 1);
		return NULL;
	}
	pkt = ipk_pkt_alloc(pool);
	if (unlikely(!pkt)) {
		ipk_drop_count(&port->stats.drops, IPK_DROP_NO_BUFFER);
		return NULL;
	}
	if (unlikely(!copy_frame(w, f, pkt))) {
		ipk_io_count_err(port, IPK_IO_ERR_RX_TRUNCATED, 1);
		ipk_pkt_free(pkt);
		return NULL;
	}
	pkt->index = w->frame_no++;
	pkt->meta.in_port = port->id;
	if (w->fixup)
		w->fixup(w, f, pkt);
	return pkt;
}

/* Gives the current block back to the kernel and moves to the next one. */
static void release_block(struct ipk_io_port *port, struct wire *w)
{
	struct tpacket_block_desc *bd = block_at(w, w->block);

	if (unlikely(bd->hdr.bh1.block_status & TP_STATUS_LOSING))
		read_kernel_drops(port, w);
	/* Release: the kernel may refill the block once it sees TP_STATUS_KERNEL; our reads
	 * of it happen before (partner: the acquire load in open_block). */
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	w->frame = NULL;
	if (++w->block == w->n_blocks)
		w->block = 0;
}

/* Starts reading the current block if the kernel has handed it over (empty blocks, which
 * a timeout can retire, go straight back). */
static bool open_block(struct ipk_io_port *port, struct wire *w)
{
	for (uint32_t tries = 0; tries < w->n_blocks; tries++) {
		struct tpacket_block_desc *bd = block_at(w, w->block);

		/* Acquire: pairs with the kernel's barrier before it sets TP_STATUS_USER, so
		 * the frames are complete when we see the status. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			return false;
		if (bd->hdr.bh1.num_pkts) {
			w->frame = (struct tpacket3_hdr *)((uint8_t *)bd +
							   bd->hdr.bh1.offset_to_first_pkt);
			w->left = bd->hdr.bh1.num_pkts;
			return true;
		}
		release_block(port, w);
	}
	return false;
}

static uint32_t rx_ring(struct ipk_io_port *port, struct wire *w, struct ipk_pool *pool,
			struct ipk_pkt **pkts, uint32_t max)
{
	uint32_t n = 0;
	uint64_t bytes = 0;

	while (n < max) {
		struct ipk_pkt *pkt;

		if (!w->frame && !open_block(port, w))
			break;
		pkt = take_frame(port, w, w->frame, pool);
		if (--w->left)
			w->frame = (struct tpacket3_hdr *)((uint8_t *)w->frame +
							   w->frame->tp_next_offset);
		else
			release_block(port, w);
		if (!pkt)
			continue;
		bytes += pkt->len;
		pkts[n++] = pkt;
	}
	ipk_io_count(&port->stats.rx_pkts, n);
	ipk_io_count(&port->stats.rx_bytes, bytes);
	return n;
}

static uint32_t wire_rx_burst(struct ipk_io_port *port, struct ipk_pool *pool,
			      struct ipk_pkt **pkts, uint32_t max, int timeout_ms)
{
	struct wire *w = ipk_io_priv(port);
	uint32_t n = rx_ring(port, w, pool, pkts, max);

	if (n || timeout_ms <= 0)
		return n;
	if (!ipk_io_wait(port, &w->fd, 1, timeout_ms)) {
		read_kernel_drops(port, w);
		return 0;
	}
	return rx_ring(port, w, pool, pkts, max);
}

/* --- transmit --------------------------------------------------------------------------- */

/* Fills tx slot @i for @pkt, sent as the frame it is. Returns 0 or a drop reason. */
static int prepare_frame(struct wire *w, struct ipk_pkt *pkt, uint32_t i)
{
	struct wire_tx_slot *s = &w->tx[i];

	if (pkt->len < IPK_ETHER_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	s->iov[1] = (struct iovec){ .iov_base = ipk_pkt_data(pkt), .iov_len = pkt->len };
	w->tx_msg[i].msg_hdr = (struct msghdr){ .msg_iov = &s->iov[1], .msg_iovlen = 1 };
	return 0;
}

/* `strip yes`: the saved link header, then the IP packet, as two iovecs; the packet is
 * not changed, so one the kernel refuses (tx-busy) can be offered again. */
static int prepare_strip(struct wire *w, struct ipk_pkt *pkt, uint32_t i)
{
	struct wire_tx_slot *s = &w->tx[i];
	uint32_t hl;

	if (pkt->meta.flags & IPK_IO_F_NOT_IP)
		return prepare_frame(w, pkt, i);
	hl = ipk_ether_header(pkt, s->hdr);
	if (!hl)
		return IPK_DROP_UNSUPPORTED;
	s->iov[0] = (struct iovec){ .iov_base = s->hdr, .iov_len = hl };
	s->iov[1] = (struct iovec){ .iov_base = ipk_pkt_data(pkt), .iov_len = pkt->len };
	w->tx_msg[i].msg_hdr = (struct msghdr){ .msg_iov = s->iov, .msg_iovlen = 2 };
	return 0;
}

/* Sends slots 0..k-1; returns how many packets were consumed (sent or dropped). */
static uint32_t send_batch(struct ipk_io_port *port, struct wire *w, struct ipk_pkt **pkts,
			   uint32_t k)
{
	uint64_t sent = 0, bytes = 0;
	uint32_t i = 0;

	while (i < k) {
		int r = sendmmsg(w->fd, w->tx_msg + i, k - i, MSG_DONTWAIT);

		if (r > 0) {
			for (int j = 0; j < r; j++, i++) {
				bytes += w->tx_msg[i].msg_len;
				ipk_pkt_free(pkts[i]);
			}
			sent += (uint64_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			ipk_io_count_err(port, IPK_IO_ERR_TX_BUSY, 1);
			break;
		}
		if (errno == EMSGSIZE) {
			ipk_pkt_drop(pkts[i], &port->stats.drops, IPK_DROP_TOO_BIG);
		} else {
			ipk_io_count_err(port, IPK_IO_ERR_TX_SYSCALL, 1);
			ipk_pkt_free(pkts[i]);
		}
		i++;
	}
	ipk_io_count(&port->stats.tx_pkts, sent);
	ipk_io_count(&port->stats.tx_bytes, bytes);
	return i;
}

static uint32_t wire_tx_burst(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n)
{
	struct wire *w = ipk_io_priv(port);
	uint32_t done = 0;

	while (done < n) {
		uint32_t k = 0, sent;
		int reason = 0;

		while (done + k < n && k < w->batch &&
		       !(reason = w->prepare(w, pkts[done + k], k)))
			k++;
		if (k == 0) {
			/* A bad packet at the front: consumed as a counted drop. */
			ipk_pkt_drop(pkts[done++], &port->stats.drops, reason);
			continue;
		}
		sent = send_batch(port, w, pkts + done, k);
		done += sent;
		if (sent < k)
			break;
	}
	return done;
}

static void choose_paths(struct wire *w, const struct wire_cfg *c)
{
	if (c->csum)
		w->fixup = c->strip ? fix_csum_strip : fix_csum;
	else
		w->fixup = c->strip ? fix_strip : NULL;
	w->prepare = c->strip ? prepare_strip : prepare_frame;
}

static uint32_t wire_fds(const struct ipk_io_port *port, int *fds, uint32_t max)
{
	const struct wire *w = ipk_io_priv_const(port);

	if (!max)
		return 0;
	fds[0] = w->fd;
	return 1;
}

static uint64_t rd(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static uint32_t wire_stats(const struct ipk_io_port *port, struct ipk_io_stat *out,
			   uint32_t max)
{
	const struct wire *w = ipk_io_priv_const(port);
	const struct ipk_io_stat st[] = {
		{ "ring-blocks", w->n_blocks },
		{ "outgoing-skipped", rd(&w->outgoing_skipped) },
		{ "csum-completed", rd(&w->csum_completed) },
		{ "vlan-restored", rd(&w->vlan_restored) },
		{ "non-ip", rd(&w->non_ip) },
		{ "ring-freezes", rd(&w->freezes) },
	};
	uint32_t n = max < IPK_ARRAY_SIZE(st) ? max : (uint32_t)IPK_ARRAY_SIZE(st);

	memcpy(out, st, n * sizeof(st[0]));
	return n;
}

const struct ipk_io_ops ipk_afpacket_ops = {
	.name = "wire",
	.priv_size = sizeof(struct wire),
	.parse = wire_parse,
	.open = wire_open,
	.close = wire_close,
	.rx_burst = wire_rx_burst,
	.tx_burst = wire_tx_burst,
	.fds = wire_fds,
	.stats = wire_stats,
};
