// SPDX-License-Identifier: BSD-2-Clause
#include "exp/sockio.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/alg.h"
#include "ctl/config.h"

int ipk_sockio_open_tx(struct ipk_err *err)
{
	/* IPPROTO_RAW implies IP_HDRINCL: our header, DSCP included, goes out as built. */
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		return ipk_err_set(err, -errno, "raw socket: %s", strerror(errno));
	return fd;
}

int ipk_sockio_open_rx(int proto, int rcvbuf, struct ipk_err *err)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return ipk_err_set(err, -errno, "raw socket (protocol %d): %s", proto,
				   strerror(errno));
	/* A smaller buffer than asked (net.core.rmem_max) only costs replies under bursts,
	 * which then count as lost: no reason to refuse to run. */
	if (rcvbuf)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

bool ipk_sockio_send(int fd, struct ipk_pkt *pkt, struct ipk_sockio_stats *st)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	const uint8_t *ip = ipk_pkt_data(pkt);
	uint32_t len = pkt->len;
	bool ok = false;

	if (len >= 20) {
		memcpy(&to.sin_addr, ip + 16, 4);
		ok = sendto(fd, ip, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len;
	}
	ipk_pkt_free(pkt);
	if (st) {
		st->sent += ok;
		st->bytes += ok ? len : 0;
		st->errors += !ok;
	}
	return ok;
}

int ipk_sockio_recv(int fd, struct ipk_pkt *pkt, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint32_t room = ipk_pkt_tailroom(pkt);
	ssize_t n;
	int rc = poll(&pfd, 1, timeout_ms);

	if (rc <= 0)
		return rc < 0 && errno != EINTR ? -errno : 0;
	n = recv(fd, ipk_pkt_data(pkt), room, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	/* A raw socket truncates what does not fit; such a packet is not ours. */
	if ((size_t)n >= room)
		return 0;
	ipk_pkt_put(pkt, (uint32_t)n);
	return (int)n;
}

/* Appends @n key bytes, byte i = (spi * mul + i * step) mod 256, as hex. */
static int append_key(char *buf, size_t size, size_t *len, uint32_t spi, uint32_t mul,
		      uint32_t step, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int w = snprintf(buf + *len, size - *len, "%02x", (spi * mul + i * step) & 0xff);

		if (w < 0 || (size_t)w >= size - *len)
			return -ENOSPC;
		*len += (size_t)w;
	}
	return 0;
}

int ipk_sockio_sa_line(char *buf, size_t size, const char *alg_name, const char *name, uint32_t spi,
		       const char *dir, const char *src, const char *dst, struct ipk_err *err)
{
	const struct ipk_alg *alg = ipk_alg_find(alg_name);
	size_t len;
	int w, rc;

	if (!alg || alg->insecure)
		return ipk_err_set(err, -EINVAL, "unknown algorithm '%s' (expected one of %s)",
				   alg_name, ipk_alg_names());
	w = snprintf(buf, size,
		     "sa add name %s spi 0x%x dir %s mode tunnel src %s dst %s proposal %s %s0x",
		     name, spi, dir, src, dst, alg->name, alg->auth_key_len ? "enc-key " : "key ");
	if (w < 0 || (size_t)w >= size)
		return -ENOSPC;
	len = (size_t)w;
	rc = append_key(buf, size, &len, spi, 7, 13, alg->enc_key_len + alg->salt_len);
	if (rc || !alg->auth_key_len)
		return rc;
	w = snprintf(buf + len, size - len, " auth-key 0x");
	if (w < 0 || (size_t)w >= size - len)
		return -ENOSPC;
	len += (size_t)w;
	return append_key(buf, size, &len, spi, 11, 5, alg->auth_key_len);
}

int ipk_sockio_sa_add(struct ipk_sad *sad, const char *alg, const char *name, uint32_t spi,
		      const char *dir, const char *src, const char *dst, const char *extra,
		      struct ipk_err *err)
{
	struct ipk_config_ctx ctx = {.sad = sad};
	char line[640];
	size_t len;
	int rc = ipk_sockio_sa_line(line, sizeof(line) - 128, alg, name, spi, dir, src, dst, err);

	if (rc)
		return rc;
	len = strlen(line);
	if (extra &&
	    (size_t)snprintf(line + len, sizeof(line) - len, " %s", extra) >= sizeof(line) - len)
		return -ENOSPC;
	return ipk_config_apply(&ctx, line, name, err);
}

int ipk_sockio_parse_rate(const char *text, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || v <= 0)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		v *= 1e3;
	else if (*end == 'M')
		v *= 1e6;
	else if (*end == 'G')
		v *= 1e9;
	else if (*end)
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	if (v > 1e12)
		return -EINVAL;
	*out = (uint64_t)v;
	return *out ? 0 : -EINVAL;
}

void ipk_sockio_precise_timers(void)
{
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}
