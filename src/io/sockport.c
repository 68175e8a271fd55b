// SPDX-License-Identifier: BSD-2-Clause
#include "io/sockport.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/compiler.h"
#include "proto/ip.h"

static struct ipk_sockport *sp_of(struct ipk_io_port *port)
{
	return ipk_io_priv(port);
}

/* --- receive: the kernel's bytes into a whole IP packet ------------------------------ */

static int finish_raw4(struct ipk_pkt *pkt, uint32_t n, const struct ipk_dgram_info *info,
		       const struct ipk_sockport *sp)
{
	/* An IPv4 raw socket returns the datagram with its header, as received. */
	pkt->len = n;
	if (n < IPK_IPV4_HDR_LEN)
		return IPK_DROP_TRUNCATED_IP;
	if (ipk_pkt_data(pkt)[0] >> 4 != 4)
		return IPK_DROP_BAD_IP_VERSION;
	return 0;
}

static int finish_raw6(struct ipk_pkt *pkt, uint32_t n, const struct ipk_dgram_info *info,
		       const struct ipk_sockport *sp)
{
	/* An IPv6 raw socket returns the payload after the last extension header: rebuild
	 * the header from the addresses and the ancillary data (io/dgram.h). */
	if (info->dst.family != 6 || info->src.family != 6)
		return IPK_DROP_BAD_IP_HEADER;
	if (n > 0xffff)
		return IPK_DROP_TOO_BIG;
	ipk_dgram_build_ipv6(ipk_pkt_data(pkt), info, IPK_PROTO_ESP, n);
	pkt->len = IPK_IPV6_HDR_LEN + n;
	return 0;
}

static int finish_udp(struct ipk_pkt *pkt, uint32_t n, const struct ipk_dgram_info *info,
		      const struct ipk_sockport *sp)
{
	struct ipk_dgram_info full = *info;
	uint32_t hdr = ipk_dgram_udp_hdr_len(info->src.family);

	if (info->dst.family != info->src.family || !info->src.family)
		return IPK_DROP_BAD_IP_HEADER;
	if (hdr + n > 0xffff)
		return IPK_DROP_TOO_BIG;
	full.dst_port = sp->local_port;
	ipk_dgram_build_udp(ipk_pkt_data(pkt), &full, n);
	pkt->len = hdr + n;
	return 0;
}

static void rx_slot(struct ipk_sockport_slots *sl, uint32_t i, void *base, size_t len)
{
	sl->iov[i] = (struct iovec){ .iov_base = base, .iov_len = len };
	sl->msg[i].msg_hdr = (struct msghdr){
		.msg_name = &sl->name[i],
		.msg_namelen = sizeof(sl->name[i]),
		.msg_iov = &sl->iov[i],
		.msg_iovlen = 1,
		.msg_control = sl->cmsg[i],
		.msg_controllen = sizeof(sl->cmsg[i]),
	};
}

static int recv_some(struct ipk_io_port *port, int fd, struct ipk_sockport_slots *sl, uint32_t k)
{
	int r = recvmmsg(fd, sl->msg, k, MSG_DONTWAIT, NULL);

	if (r < 0) {
		if (unlikely(errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			ipk_io_count_err(port, IPK_IO_ERR_RX_SYSCALL, 1);
		return 0;
	}
	return r;
}

/* The pool is empty: take the datagrams anyway and count them, so that ipseck's queues,
 * not the socket buffer, decide what is lost (DESIGN.md "Threads and cores"). */
static uint32_t drain(struct ipk_io_port *port, struct ipk_sockport *sp,
		      struct ipk_sockport_sock *s, uint32_t k)
{
	int r;

	for (uint32_t i = 0; i < k; i++)
		rx_slot(&sp->rx, i, sp->scratch, sizeof(sp->scratch));
	r = recv_some(port, s->fd, &sp->rx, k);
	for (int i = 0; i < r; i++)
		ipk_drop_count(&port->stats.drops, IPK_DROP_NO_BUFFER);
	return (uint32_t)r;
}

/* Message @i arrived: finish it into a packet, or drop it. Returns true when kept. */
static bool rx_one(struct ipk_io_port *port, struct ipk_sockport *sp,
		   struct ipk_sockport_sock *s, uint32_t i)
{
	struct mmsghdr *m = &sp->rx.msg[i];
	struct ipk_pkt *pkt = sp->rx.pkt[i];
	struct ipk_dgram_info info = { .ifindex = 0 };
	int reason;

	ipk_dgram_from_sockaddr((struct sockaddr *)&sp->rx.name[i], &info.src, &info.src_port);
	ipk_dgram_parse_cmsg(&m->msg_hdr, &info);
	if (info.has_drops && info.drops != s->last_drops) {
		ipk_io_count_err(port, IPK_IO_ERR_RX_KERNEL, info.drops - s->last_drops);
		s->last_drops = info.drops;
	}
	if (unlikely(m->msg_hdr.msg_flags & MSG_TRUNC)) {
		ipk_io_count_err(port, IPK_IO_ERR_RX_TRUNCATED, 1);
		ipk_pkt_free(pkt);
		return false;
	}
	reason = s->finish(pkt, m->msg_len, &info, sp);
	if (unlikely(reason)) {
		ipk_pkt_drop(pkt, &port->stats.drops, reason);
		return false;
	}
	pkt->meta.in_port = port->id;
	pkt->meta.l3_family = s->family;
	return true;
}

/* One recvmmsg on @s into fresh packets. Returns the messages taken from the kernel
 * (kept or dropped); the kept ones are appended to @pkts at *n. */
static uint32_t rx_sock(struct ipk_io_port *port, struct ipk_sockport *sp,
			struct ipk_sockport_sock *s, struct ipk_pool *pool, uint32_t want,
			struct ipk_pkt **pkts, uint32_t *n)
{
	struct ipk_sockport_slots *sl = &sp->rx;
	uint32_t got = 0, r;
	uint64_t bytes = 0, kept = 0;

	while (got < want && (sl->pkt[got] = ipk_pkt_alloc(pool)))
		got++;
	if (!got)
		return drain(port, sp, s, want);
	for (uint32_t i = 0; i < got; i++) {
		struct ipk_pkt *pkt = sl->pkt[i];
		uint32_t cap = pkt->room - pkt->head - IPK_PKT_TAILROOM - s->rx_off;

		rx_slot(sl, i, ipk_pkt_data(pkt) + s->rx_off, cap);
	}
	r = (uint32_t)recv_some(port, s->fd, sl, got);
	for (uint32_t i = 0; i < r; i++) {
		if (!rx_one(port, sp, s, i))
			continue;
		bytes += sl->pkt[i]->len;
		kept++;
		pkts[(*n)++] = sl->pkt[i];
	}
	for (uint32_t i = r; i < got; i++)
		ipk_pkt_free(sl->pkt[i]);
	ipk_io_count(&port->stats.rx_pkts, kept);
	ipk_io_count(&port->stats.rx_bytes, bytes);
	return r;
}

/* Reads each open socket in turn (the first one alternates) until @max messages were
 * taken or every socket is empty. */
static uint32_t rx_all(struct ipk_io_port *port, struct ipk_sockport *sp, struct ipk_pool *pool,
		       struct ipk_pkt **pkts, uint32_t max)
{
	uint32_t n = 0, budget = max;

	for (unsigned k = 0; k < 2 && budget; k++) {
		struct ipk_sockport_sock *s = &sp->sock[(sp->rx_next + k) & 1];
		uint32_t want, took;

		if (s->fd < 0)
			continue;
		do {
			want = budget < sp->batch ? budget : sp->batch;
			took = rx_sock(port, sp, s, pool, want, pkts, &n);
			budget -= took;
		} while (took == want && budget);
	}
	sp->rx_next ^= 1;
	return n;
}

uint32_t ipk_sockport_rx_burst(struct ipk_io_port *port, struct ipk_pool *pool,
			       struct ipk_pkt **pkts, uint32_t max, int timeout_ms)
{
	struct ipk_sockport *sp = sp_of(port);
	int fds[2];
	uint32_t n = rx_all(port, sp, pool, pkts, max);

	if (n || timeout_ms <= 0)
		return n;
	if (!ipk_io_wait(port, fds, ipk_sockport_fds(port, fds, 2), timeout_ms))
		return 0;
	return rx_all(port, sp, pool, pkts, max);
}

/* --- transmit: a whole IP packet into what the socket takes ------------------------- */

/* An IPv4 fragment of an ESP packet (post-encapsulation fragmentation, engine/mtu.h)
 * goes out as it is: with IP_HDRINCL the kernel keeps the fragment fields (raw(7)). */
static int parse_raw4(const uint8_t *data, uint32_t n, struct ipk_dgram_info *info,
		      uint32_t *off, uint32_t *len)
{
	struct ipk_ip_info ip;

	if (ipk_ip_parse(data, n, &ip) || ip.version != 4 || !ip.is_fragment ||
	    ip.proto != IPK_PROTO_ESP)
		return ipk_dgram_parse_out(data, n, IPK_PROTO_ESP, info, off, len);
	memset(info, 0, sizeof(*info));
	info->src = ip.src;
	info->dst = ip.dst;
	*off = ip.hdr_len;
	*len = ip.total_len - ip.hdr_len;
	return 0;
}

static int prepare_raw4(struct ipk_sockport *sp, struct ipk_sockport_sock *s,
			struct ipk_pkt *pkt, uint32_t i)
{
	struct ipk_sockport_slots *sl = &sp->tx;
	struct ipk_dgram_info info;
	uint32_t off, len;
	int rc = parse_raw4(ipk_pkt_data(pkt), pkt->len, &info, &off, &len);

	if (rc)
		return rc;
	/* IP_HDRINCL: the header goes as it is; the kernel fills in the total length and
	 * header checksum (raw(7)), and routes by msg_name. */
	sl->iov[i] = (struct iovec){ .iov_base = ipk_pkt_data(pkt), .iov_len = off + len };
	sl->msg[i].msg_hdr = (struct msghdr){
		.msg_name = &sl->name[i],
		.msg_namelen = ipk_dgram_to_sockaddr(&info.dst, 0, &sl->name[i]),
		.msg_iov = &sl->iov[i],
		.msg_iovlen = 1,
	};
	return 0;
}

/* IPv6 and UDP: the kernel builds the header, from msg_name and the control messages. */
static int prepare_cmsg(struct ipk_sockport *sp, struct ipk_sockport_sock *s,
			struct ipk_pkt *pkt, uint32_t i)
{
	struct ipk_sockport_slots *sl = &sp->tx;
	struct ipk_dgram_info info;
	uint32_t off, len;
	unsigned what = IPK_DGRAM_CMSG_TOS | IPK_DGRAM_CMSG_TTL;
	int rc = ipk_dgram_parse_out(ipk_pkt_data(pkt), pkt->len, sp->proto, &info, &off, &len);

	if (rc)
		return rc;
	if (s->set_src)
		what |= IPK_DGRAM_CMSG_SRC;
	sl->iov[i] = (struct iovec){ .iov_base = ipk_pkt_data(pkt) + off, .iov_len = len };
	sl->msg[i].msg_hdr = (struct msghdr){
		.msg_name = &sl->name[i],
		.msg_namelen = ipk_dgram_to_sockaddr(&info.dst, info.dst_port, &sl->name[i]),
		.msg_iov = &sl->iov[i],
		.msg_iovlen = 1,
		.msg_control = sl->cmsg[i],
		.msg_controllen = ipk_dgram_build_cmsg(sl->cmsg[i], sizeof(sl->cmsg[i]), &info, what),
	};
	return 0;
}

static struct ipk_sockport_sock *sock_for(struct ipk_sockport *sp, const struct ipk_pkt *pkt)
{
	unsigned v = pkt->len ? pkt->buf[pkt->head] >> 4 : 0;

	if (v == 4 && sp->sock[0].fd >= 0)
		return &sp->sock[0];
	if (v == 6 && sp->sock[1].fd >= 0)
		return &sp->sock[1];
	return NULL;
}

/* Sends tx slots 0..k-1 (packets @pkts). Returns how many packets were consumed: all of
 * them, unless the kernel queue is full. */
static uint32_t send_batch(struct ipk_io_port *port, struct ipk_sockport *sp,
			   struct ipk_sockport_sock *s, struct ipk_pkt **pkts, uint32_t k)
{
	uint64_t bytes = 0, sent = 0;
	uint32_t i = 0;

	while (i < k) {
		int r = sendmmsg(s->fd, sp->tx.msg + i, k - i, MSG_DONTWAIT);

		if (r > 0) {
			for (int j = 0; j < r; j++, i++) {
				bytes += pkts[i]->len;
				ipk_pkt_free(pkts[i]);
			}
			sent += (uint64_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			ipk_io_count_err(port, IPK_IO_ERR_TX_BUSY, 1);
			break;
		}
		/* Message i failed alone (sendmmsg reports an error only for the first). */
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

/*
 * Outer fragments (post-encapsulation fragmentation, engine/mtu.h) through a socket whose
 * kernel builds the IP header (UDP, raw IPv6): no such socket can express a fragment, so
 * they leave by an IPPROTO_RAW socket of the family, which takes the whole packet as it
 * is (raw(7): IP_HDRINCL implied; IPv6 likewise since Linux 4.5). One sendto per
 * fragment: a rare path.
 */
static bool needs_frag_fd(const struct ipk_sockport_sock *s, const struct ipk_pkt *pkt)
{
	const uint8_t *d = pkt->buf + pkt->head;

	if (s->prepare == prepare_raw4 || pkt->len < IPK_IPV4_HDR_LEN)
		return false;
	if (d[0] >> 4 == 4)
		return ((d[6] << 8 | d[7]) & 0x3fff) != 0; /* MF or an offset */
	return d[0] >> 4 == 6 && pkt->len >= IPK_IPV6_HDR_LEN && d[6] == IPK_PROTO_IPV6_FRAG;
}

/* Sends the fragment @pkt (consumed). Returns 0 or the reason it was dropped. */
static int send_fragment(struct ipk_io_port *port, struct ipk_sockport_sock *s,
			 struct ipk_pkt *pkt)
{
	struct sockaddr_storage ss;
	struct ipk_ip_info ip;
	int rc = ipk_ip_parse(ipk_pkt_data(pkt), pkt->len, &ip);

	if (!rc && s->frag_fd < 0)
		rc = IPK_DROP_UNSUPPORTED;
	if (!rc && sendto(s->frag_fd, ipk_pkt_data(pkt), pkt->len, MSG_DONTWAIT,
			  (struct sockaddr *)&ss, ipk_dgram_to_sockaddr(&ip.dst, 0, &ss)) < 0)
		rc = errno == EMSGSIZE ? IPK_DROP_TOO_BIG : -errno;
	if (rc > 0) {
		ipk_pkt_drop(pkt, &port->stats.drops, (enum ipk_drop_reason)rc);
		return rc;
	}
	if (rc < 0) {
		ipk_io_count_err(port, IPK_IO_ERR_TX_SYSCALL, 1);
	} else {
		ipk_io_count(&port->stats.tx_pkts, 1);
		ipk_io_count(&port->stats.tx_bytes, pkt->len);
	}
	ipk_pkt_free(pkt);
	return rc;
}

static int no_sock_reason(const struct ipk_pkt *pkt)
{
	unsigned v;

	if (!pkt->len)
		return IPK_DROP_TRUNCATED_IP;
	v = pkt->buf[pkt->head] >> 4;
	return v == 4 || v == 6 ? IPK_DROP_UNSUPPORTED : IPK_DROP_BAD_IP_VERSION;
}

/* Fills a batch from the front of @pkts: consecutive packets for one socket. A bad packet
 * at the front is dropped at once (*dropped = 1); one further on ends the batch. */
static uint32_t fill_batch(struct ipk_io_port *port, struct ipk_sockport *sp,
			   struct ipk_pkt **pkts, uint32_t n, struct ipk_sockport_sock **out,
			   uint32_t *dropped)
{
	struct ipk_sockport_sock *first = sock_for(sp, pkts[0]);
	uint32_t k;

	*dropped = 0;
	*out = first;
	for (k = 0; k < n && k < sp->batch; k++) {
		struct ipk_sockport_sock *s = k ? sock_for(sp, pkts[k]) : first;
		int reason;

		if (s && needs_frag_fd(s, pkts[k])) {
			/* Sent alone, at the front; further on it ends the batch. */
			if (k == 0) {
				send_fragment(port, s, pkts[0]);
				*dropped = 1;
			}
			break;
		}
		reason = s ? s->prepare(sp, s, pkts[k], k) : no_sock_reason(pkts[k]);

		if (s && s == first && !reason)
			continue;
		if (k == 0) {
			ipk_pkt_drop(pkts[0], &port->stats.drops, reason);
			*dropped = 1;
		}
		break;
	}
	return k;
}

uint32_t ipk_sockport_tx_burst(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n)
{
	struct ipk_sockport *sp = sp_of(port);
	struct ipk_sockport_sock *s;
	uint32_t done = 0, k, dropped, sent;

	while (done < n) {
		k = fill_batch(port, sp, pkts + done, n - done, &s, &dropped);
		if (dropped) {
			done++;
			continue;
		}
		sent = send_batch(port, sp, s, pkts + done, k);
		done += sent;
		if (sent < k)
			break;
	}
	return done;
}

uint32_t ipk_sockport_fds(const struct ipk_io_port *port, int *fds, uint32_t max)
{
	const struct ipk_sockport *sp = ipk_io_priv_const(port);
	uint32_t n = 0;

	for (unsigned i = 0; i < 2; i++)
		if (sp->sock[i].fd >= 0 && n < max)
			fds[n++] = sp->sock[i].fd;
	return n;
}

/* --- set-up ---------------------------------------------------------------------------- */

static const char *const keys[] = { "family", "local", "port", "dev", "batch", "rcvbuf",
				    "sndbuf", NULL };

static int parse_locals(const char *name, const struct ipk_io_args *args,
			struct ipk_sockport_cfg *cfg, struct ipk_err *err)
{
	const char *v;
	int pos = 0;

	while ((v = ipk_io_arg_next(args, "local", &pos))) {
		struct ipk_addr a;
		unsigned f;

		if (ipk_addr_parse(v, &a))
			return ipk_err_set(err, -EINVAL, "%s: local '%s' is not an address", name, v);
		f = a.family == 6;
		if (cfg->local[f].family)
			return ipk_err_set(err, -EINVAL, "%s: two local IPv%u addresses", name,
					   a.family);
		if (!(cfg->families & (1u << f)))
			return ipk_err_set(err, -EINVAL, "%s: local %s but family is not %u", name,
					   v, a.family);
		cfg->local[f] = a;
	}
	return 0;
}

int ipk_sockport_parse(const char *name, enum ipk_sockport_kind kind,
		       const struct ipk_io_args *args, struct ipk_sockport_cfg *cfg,
		       struct ipk_err *err)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = ipk_io_args_check(name, args, keys, err);
	rc = rc ? rc : ipk_io_arg_family(name, args, &cfg->families, err);
	rc = rc ? rc : parse_locals(name, args, cfg, err);
	rc = rc ? rc : ipk_io_arg_u32(name, args, "port", 4500, 1, 65535, &cfg->port, err);
	rc = rc ? rc : ipk_io_arg_ifname(name, args, "dev", &cfg->dev, err);
	rc = rc ? rc : ipk_io_arg_u32(name, args, "batch", IPK_IO_BATCH_DEFAULT, 1,
				      IPK_IO_BATCH_MAX, &cfg->batch, err);
	rc = rc ? rc : ipk_io_arg_u32(name, args, "rcvbuf", 0, 0, 1u << 30, &cfg->rcvbuf, err);
	rc = rc ? rc : ipk_io_arg_u32(name, args, "sndbuf", 0, 0, 1u << 30, &cfg->sndbuf, err);
	if (!rc && kind == IPK_SOCKPORT_RAW && ipk_io_arg(args, "port"))
		rc = ipk_err_set(err, -EINVAL, "%s: raw ESP has no port", name);
	return rc;
}

static int opt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) ? -errno : 0;
}

/* Ancillary data for io/dgram.h: what the kernel strips, it must tell. Raw IPv4 needs
 * none (the header comes along). IPV6_V6ONLY keeps IPv4 on the IPv4 socket; raw sockets
 * cannot take it (their inet_num is the protocol) and never see IPv4 anyway. */
static int setup_cmsg(int fd, uint8_t family, enum ipk_sockport_kind kind)
{
	int rc = opt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);

	if (!rc && kind == IPK_SOCKPORT_RAW && family == 4)
		rc = opt(fd, IPPROTO_IP, IP_HDRINCL, 1);
	if (!rc && kind == IPK_SOCKPORT_UDP && family == 4) {
		rc = opt(fd, IPPROTO_IP, IP_PKTINFO, 1);
		rc = rc ? rc : opt(fd, IPPROTO_IP, IP_RECVTOS, 1);
		rc = rc ? rc : opt(fd, IPPROTO_IP, IP_RECVTTL, 1);
	}
	if (!rc && kind == IPK_SOCKPORT_UDP && family == 6)
		rc = opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (!rc && family == 6) {
		rc = opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		rc = rc ? rc : opt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
		rc = rc ? rc : opt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
	}
	return rc;
}

static int setup_buffers(int fd, const struct ipk_sockport_cfg *cfg)
{
	int rc = 0;

	/* FORCE needs CAP_NET_ADMIN and passes net.core.rmem_max; else the capped one. */
	if (cfg->rcvbuf && opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)cfg->rcvbuf))
		rc = opt(fd, SOL_SOCKET, SO_RCVBUF, (int)cfg->rcvbuf);
	if (!rc && cfg->sndbuf && opt(fd, SOL_SOCKET, SO_SNDBUFFORCE, (int)cfg->sndbuf))
		rc = opt(fd, SOL_SOCKET, SO_SNDBUF, (int)cfg->sndbuf);
	if (!rc && cfg->dev &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->dev, (socklen_t)strlen(cfg->dev)))
		rc = -errno;
	return rc;
}

static void add_sock(struct ipk_sockport *sp, int fd, uint8_t family,
		     enum ipk_sockport_kind kind, bool wildcard)
{
	struct ipk_sockport_sock *s = &sp->sock[family == 6];

	s->fd = fd;
	s->family = family;
	s->last_drops = 0;
	s->set_src = wildcard;
	if (kind == IPK_SOCKPORT_UDP) {
		s->rx_off = ipk_dgram_udp_hdr_len(family);
		s->finish = finish_udp;
		s->prepare = prepare_cmsg;
	} else {
		s->rx_off = family == 6 ? IPK_IPV6_HDR_LEN : 0;
		s->finish = family == 6 ? finish_raw6 : finish_raw4;
		s->prepare = family == 6 ? prepare_cmsg : prepare_raw4;
	}
}

static int open_one(struct ipk_sockport *sp, uint8_t family, enum ipk_sockport_kind kind,
		    const struct ipk_sockport_cfg *cfg, const char **what)
{
	struct sockaddr_storage ss;
	struct ipk_addr any = { .family = family };
	const struct ipk_addr *local = cfg->local[family == 6].family ? &cfg->local[family == 6]
								       : &any;
	int type = kind == IPK_SOCKPORT_UDP ? SOCK_DGRAM : SOCK_RAW;
	int fd, rc;

	*what = "socket";
	fd = socket(family == 6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    kind == IPK_SOCKPORT_UDP ? 0 : IPPROTO_ESP);
	if (fd < 0)
		return -errno;
	*what = "socket options";
	rc = setup_cmsg(fd, family, kind);
	rc = rc ? rc : setup_buffers(fd, cfg);
	if (!rc) {
		*what = "bind";
		if (bind(fd, (struct sockaddr *)&ss,
			 ipk_dgram_to_sockaddr(local, kind == IPK_SOCKPORT_UDP ? (uint16_t)cfg->port
									       : 0, &ss)))
			rc = -errno;
	}
	if (rc) {
		close(fd);
		return rc;
	}
	add_sock(sp, fd, family, kind, local == &any);
	/* Without CAP_NET_RAW there is none: outer fragments are then dropped (unsupported). */
	sp->sock[family == 6].frag_fd = socket(family == 6 ? AF_INET6 : AF_INET,
					       SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
					       IPPROTO_RAW);
	return 0;
}

int ipk_sockport_open(struct ipk_io_port *port, enum ipk_sockport_kind kind,
		      const struct ipk_sockport_cfg *cfg, struct ipk_err *err)
{
	struct ipk_sockport *sp = sp_of(port);
	const char *what;

	sp->sock[0].fd = sp->sock[0].frag_fd = -1;
	sp->sock[1].fd = sp->sock[1].frag_fd = -1;
	port->families = (uint8_t)cfg->families;
	sp->proto = kind == IPK_SOCKPORT_UDP ? IPK_PROTO_UDP : IPK_PROTO_ESP;
	sp->local_port = (uint16_t)cfg->port;
	sp->batch = cfg->batch;
	for (uint8_t f = 0; f < 2; f++) {
		int rc;

		if (!(cfg->families & (1u << f)))
			continue;
		rc = open_one(sp, f ? 6 : 4, kind, cfg, &what);
		if (rc) {
			ipk_sockport_close(sp);
			return ipk_err_set(err, rc, "%s: IPv%d %s: %s", port->name, f ? 6 : 4, what,
					   strerror(-rc));
		}
	}
	return 0;
}

void ipk_sockport_close(struct ipk_sockport *sp)
{
	for (unsigned i = 0; i < 2; i++) {
		if (sp->sock[i].fd >= 0)
			close(sp->sock[i].fd);
		if (sp->sock[i].frag_fd >= 0)
			close(sp->sock[i].frag_fd);
		sp->sock[i].fd = sp->sock[i].frag_fd = -1;
	}
}

void ipk_sockport_port_close(struct ipk_io_port *port)
{
	ipk_sockport_close(sp_of(port));
}
