// SPDX-License-Identifier: BSD-2-Clause
#include "io/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/compiler.h"
#include "io/nlcfg.h"

struct tun_cfg {
	const char *name;
	struct ipk_prefix addr[IPK_TUN_MAX_ADDRS]; /* host bits kept: interface addresses */
	uint32_t n_addr;
	bool has_v6;
	uint32_t mtu;
	uint32_t overhead;
	uint32_t queues;
	bool attach;
};

struct tun {
	int fd[IPK_TUN_MAX_QUEUES];
	uint32_t n_fd;
	uint32_t rx_next;       /* queue to read first: fairness between queues */
	uint32_t mtu;           /* device MTU set (0 when attached) */
	uint8_t scratch[65536]; /* rx target when the pool is empty */
};

static const char *const keys[] = { "name", "address", "mtu", "overhead", "queues", "attach",
				    NULL };

/* "10.0.0.1/24": an interface address with its prefix length, host bits allowed. */
static int parse_address(const char *text, struct ipk_prefix *out, struct ipk_err *err)
{
	char buf[IPK_ADDR_STRLEN + 8];
	const char *slash = strchr(text, '/');
	char *end;
	unsigned long len;

	if (!slash || (size_t)(slash - text) >= IPK_ADDR_STRLEN)
		return ipk_err_set(err, -EINVAL, "tun: address '%s' is not ADDRESS/LENGTH", text);
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (ipk_addr_parse(buf, &out->addr))
		return ipk_err_set(err, -EINVAL, "tun: address '%s' is not an address", buf);
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len > (out->addr.family == 6 ? 128u : 32u))
		return ipk_err_set(err, -EINVAL, "tun: prefix length '%s' not in 0..%u", slash + 1,
				   out->addr.family == 6 ? 128u : 32u);
	out->len = (uint8_t)len;
	return 0;
}

static int parse_addresses(const struct ipk_io_args *args, struct tun_cfg *cfg,
			   struct ipk_err *err)
{
	const char *v;
	int pos = 0, rc;

	while ((v = ipk_io_arg_next(args, "address", &pos))) {
		if (cfg->n_addr == IPK_TUN_MAX_ADDRS)
			return ipk_err_set(err, -EINVAL, "tun: more than %d addresses",
					   IPK_TUN_MAX_ADDRS);
		rc = parse_address(v, &cfg->addr[cfg->n_addr], err);
		if (rc)
			return rc;
		if (cfg->addr[cfg->n_addr++].addr.family == 6)
			cfg->has_v6 = true;
	}
	return 0;
}

static int check_cfg(const struct tun_cfg *cfg, struct ipk_err *err)
{
	uint32_t min = cfg->has_v6 ? 1280 : 68; /* RFC 8200 §5, RFC 791 */

	if (cfg->attach && cfg->n_addr)
		return ipk_err_set(err, -EINVAL, "tun: attach configures nothing: no address");
	if (cfg->attach && strchr(cfg->name, '%'))
		return ipk_err_set(err, -EINVAL, "tun: attach needs the device's name, not '%s'",
				   cfg->name);
	if (cfg->overhead >= cfg->mtu || cfg->mtu - cfg->overhead < min)
		return ipk_err_set(err, -EINVAL, "tun: mtu %u - overhead %u is below %u", cfg->mtu,
				   cfg->overhead, min);
	return 0;
}

static int parse_cfg(const struct ipk_io_args *args, struct tun_cfg *cfg, struct ipk_err *err)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = ipk_io_args_check("tun", args, keys, err);
	rc = rc ? rc : ipk_io_arg_ifname("tun", args, "name", &cfg->name, err);
	rc = rc ? rc : parse_addresses(args, cfg, err);
	rc = rc ? rc : ipk_io_arg_u32("tun", args, "mtu", 1500, 68, 65535, &cfg->mtu, err);
	rc = rc ? rc : ipk_io_arg_u32("tun", args, "overhead", 0, 0, 1024, &cfg->overhead, err);
	rc = rc ? rc : ipk_io_arg_u32("tun", args, "queues", 1, 1, IPK_TUN_MAX_QUEUES,
				      &cfg->queues, err);
	rc = rc ? rc : ipk_io_arg_bool("tun", args, "attach", false, &cfg->attach, err);
	if (!rc && !cfg->name)
		cfg->name = "ipk%d";
	return rc ? rc : check_cfg(cfg, err);
}

static int tun_parse(const struct ipk_io_args *args, struct ipk_err *err)
{
	struct tun_cfg cfg;

	return parse_cfg(args, &cfg, err);
}

/* Opens one queue on device @name; the kernel writes the name it chose back. */
static int open_queue(char name[IFNAMSIZ], bool multi)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* The ICMP errors of path MTU handling (engine/mtu.h) come out of the device with one of
 * this host's addresses as their source, the SA's local one; the kernel forwards such a
 * packet only with accept_local (else it is a martian). Absent on a kernel without IPv4
 * configuration for the device, which is no error. */
static int allow_local_sources(const char *name, struct ipk_err *err)
{
	char path[96];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : ipk_err_set(err, -errno, "tun: %s: %s", path,
							  strerror(errno));
	if (write(fd, "1", 1) != 1)
		rc = ipk_err_set(err, -errno, "tun: %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* MTU, up, addresses (after the MTU: the kernel disables IPv6 under 1280). */
static int configure(const char *name, const struct tun_cfg *cfg, struct ipk_err *err)
{
	unsigned ifindex = if_nametoindex(name);
	char text[IPK_ADDR_STRLEN];
	int rc;

	if (!ifindex)
		return ipk_err_set(err, -errno, "tun: %s vanished: %s", name, strerror(errno));
	rc = ipk_nl_link_set(ifindex, cfg->mtu - cfg->overhead, true);
	if (rc)
		return ipk_err_set(err, rc, "tun: %s: setting mtu %u and up: %s", name,
				   cfg->mtu - cfg->overhead, strerror(-rc));
	for (uint32_t i = 0; i < cfg->n_addr; i++) {
		rc = ipk_nl_addr_add(ifindex, &cfg->addr[i]);
		if (rc)
			return ipk_err_set(err, rc, "tun: %s: adding %s/%u: %s", name,
					   ipk_addr_str(&cfg->addr[i].addr, text), cfg->addr[i].len,
					   strerror(-rc));
	}
	return allow_local_sources(name, err);
}

static void tun_close(struct ipk_io_port *port)
{
	struct tun *t = ipk_io_priv(port);

	for (uint32_t i = 0; i < t->n_fd; i++)
		close(t->fd[i]);
	t->n_fd = 0;
}

static int tun_open(struct ipk_io_port *port, const struct ipk_io_args *args,
		    struct ipk_err *err)
{
	struct tun *t = ipk_io_priv(port);
	struct tun_cfg cfg;
	char name[IFNAMSIZ];
	bool multi;
	int rc = parse_cfg(args, &cfg, err);

	if (rc)
		return rc;
	multi = cfg.queues > 1 || cfg.attach;
	memset(name, 0, sizeof(name));
	snprintf(name, sizeof(name), "%s", cfg.name);
	for (uint32_t q = 0; q < cfg.queues; q++) {
		rc = open_queue(name, multi);
		if (rc < 0) {
			tun_close(port);
			return ipk_err_set(err, rc, "tun: %s queue %u: %s", name, q, strerror(-rc));
		}
		t->fd[t->n_fd++] = rc;
	}
	snprintf(port->name, sizeof(port->name), "%s", name);
	if (!cfg.attach) {
		rc = configure(name, &cfg, err);
		if (rc) {
			tun_close(port);
			return rc;
		}
		t->mtu = cfg.mtu - cfg.overhead;
	}
	return 0;
}

/* Reads one packet from queue @fd. Returns 1 with *out set, 0 when something was read
 * and dropped, -1 when the queue is empty (or failed, counted). */
static int read_one(struct ipk_io_port *port, struct tun *t, int fd, struct ipk_pool *pool,
		    struct ipk_pkt **out)
{
	struct ipk_pkt *pkt = ipk_pkt_alloc(pool);
	uint32_t cap;
	ssize_t n;

	if (unlikely(!pkt)) {
		/* Drain anyway: ipseck's queues decide what is lost, not the device's. */
		n = read(fd, t->scratch, sizeof(t->scratch));
		if (n < 0)
			return -1;
		ipk_drop_count(&port->stats.drops, IPK_DROP_NO_BUFFER);
		return 0;
	}
	cap = pkt->room - pkt->head - IPK_PKT_TAILROOM;
	n = read(fd, ipk_pkt_data(pkt), cap);
	if (n <= 0) {
		ipk_pkt_free(pkt);
		if (n < 0 && errno == EFAULT) {
			/* The kernel could not copy all of a packet larger than @cap. */
			ipk_io_count_err(port, IPK_IO_ERR_RX_TRUNCATED, 1);
			return 0;
		}
		if (unlikely(n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			ipk_io_count_err(port, IPK_IO_ERR_RX_SYSCALL, 1);
		return -1;
	}
	if (unlikely((size_t)n > cap)) {
		/* tun returns the packet's full length even when it copied only @cap bytes. */
		ipk_io_count_err(port, IPK_IO_ERR_RX_TRUNCATED, 1);
		ipk_pkt_free(pkt);
		return 0;
	}
	pkt->len = (uint32_t)n;
	pkt->meta.l3_family = ipk_pkt_data(pkt)[0] >> 4;
	if (unlikely(pkt->meta.l3_family != 4 && pkt->meta.l3_family != 6)) {
		ipk_pkt_drop(pkt, &port->stats.drops, IPK_DROP_BAD_IP_VERSION);
		return 0;
	}
	pkt->meta.in_port = port->id;
	*out = pkt;
	return 1;
}

/* Reads the queues in turn, one packet each, until @max reads or all are empty. */
static uint32_t rx_all(struct ipk_io_port *port, struct tun *t, struct ipk_pool *pool,
		       struct ipk_pkt **pkts, uint32_t max)
{
	uint32_t n = 0, empty = 0, q = t->rx_next;
	uint64_t bytes = 0;

	for (uint32_t reads = 0; reads < max && empty < t->n_fd; reads++) {
		int r = read_one(port, t, t->fd[q], pool, &pkts[n]);

		if (r > 0)
			bytes += pkts[n++]->len;
		empty = r < 0 ? empty + 1 : 0;
		if (++q == t->n_fd)
			q = 0;
	}
	t->rx_next = q;
	ipk_io_count(&port->stats.rx_pkts, n);
	ipk_io_count(&port->stats.rx_bytes, bytes);
	return n;
}

static uint32_t tun_rx_burst(struct ipk_io_port *port, struct ipk_pool *pool,
			     struct ipk_pkt **pkts, uint32_t max, int timeout_ms)
{
	struct tun *t = ipk_io_priv(port);
	uint32_t n = rx_all(port, t, pool, pkts, max);

	if (n || timeout_ms <= 0)
		return n;
	if (!ipk_io_wait(port, t->fd, t->n_fd, timeout_ms))
		return 0;
	return rx_all(port, t, pool, pkts, max);
}

/* Writes one packet. Returns false when the device queue is full (@pkt stays with the
 * caller); otherwise @pkt is consumed: sent, or dropped and counted. */
static bool write_one(struct ipk_io_port *port, struct tun *t, struct ipk_pkt *pkt,
		      uint64_t *sent, uint64_t *bytes)
{
	unsigned v = pkt->len ? ipk_pkt_data(pkt)[0] >> 4 : 0;
	ssize_t n;

	if (unlikely(v != 4 && v != 6)) {
		ipk_pkt_drop(pkt, &port->stats.drops,
			     pkt->len ? IPK_DROP_BAD_IP_VERSION : IPK_DROP_TRUNCATED_IP);
		return true;
	}
	do
		n = write(t->fd[0], ipk_pkt_data(pkt), pkt->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		ipk_io_count_err(port, IPK_IO_ERR_TX_BUSY, 1);
		return false;
	}
	if (unlikely(n < 0)) {
		ipk_io_count_err(port, IPK_IO_ERR_TX_SYSCALL, 1);
	} else {
		(*sent)++;
		*bytes += pkt->len;
	}
	ipk_pkt_free(pkt);
	return true;
}

static uint32_t tun_tx_burst(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n)
{
	struct tun *t = ipk_io_priv(port);
	uint64_t sent = 0, bytes = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!write_one(port, t, pkts[i], &sent, &bytes))
			break;
	ipk_io_count(&port->stats.tx_pkts, sent);
	ipk_io_count(&port->stats.tx_bytes, bytes);
	return i;
}

static uint32_t tun_fds(const struct ipk_io_port *port, int *fds, uint32_t max)
{
	const struct tun *t = ipk_io_priv_const(port);
	uint32_t n = t->n_fd < max ? t->n_fd : max;

	memcpy(fds, t->fd, n * sizeof(int));
	return n;
}

static uint32_t tun_stats(const struct ipk_io_port *port, struct ipk_io_stat *out, uint32_t max)
{
	const struct tun *t = ipk_io_priv_const(port);
	struct ipk_io_stat st[] = { { "queues", t->n_fd }, { "mtu", t->mtu } };
	uint32_t n = max < IPK_ARRAY_SIZE(st) ? max : (uint32_t)IPK_ARRAY_SIZE(st);

	memcpy(out, st, n * sizeof(st[0]));
	return n;
}

const struct ipk_io_ops ipk_tun_ops = {
	.name = "tun",
	.priv_size = sizeof(struct tun),
	.parse = tun_parse,
	.open = tun_open,
	.close = tun_close,
	.rx_burst = tun_rx_burst,
	.tx_burst = tun_tx_burst,
	.fds = tun_fds,
	.stats = tun_stats,
};
