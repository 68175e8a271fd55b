// SPDX-License-Identifier: BSD-2-Clause
#include "io/port.h"

#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

static const char *const error_names[] = {
#define IPK_IO_ERR_NAME(id, name, help) name,
	IPK_IO_ERRORS(IPK_IO_ERR_NAME)
#undef IPK_IO_ERR_NAME
};

const char *ipk_io_error_name(enum ipk_io_error e)
{
	return (unsigned)e < IPK_IO_ERR_COUNT ? error_names[e] : "?";
}

int ipk_io_parse(const char *kind, const struct ipk_io_args *args, struct ipk_err *err)
{
	const struct ipk_io_ops *ops = ipk_io_find(kind);

	if (!ops)
		return ipk_err_set(err, -ENOENT, "io: unknown port kind '%s'", kind);
	if (args->argc < 0 || args->argc > IPK_IO_MAX_ARGS)
		return ipk_err_set(err, -EINVAL, "%s: %d words, at most %d", kind, args->argc,
				   IPK_IO_MAX_ARGS);
	return ops->parse(args, err);
}

int ipk_io_open(struct ipk_io_port **out, const char *kind, const struct ipk_io_args *args,
		uint8_t id, struct ipk_err *err)
{
	const struct ipk_io_ops *ops = ipk_io_find(kind);
	struct ipk_io_port *port;
	int rc;

	rc = ipk_io_parse(kind, args, err);
	if (rc)
		return rc;
	port = aligned_alloc(64, (sizeof(*port) + ops->priv_size + 63) / 64 * 64);
	if (!port)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", kind);
	memset(port, 0, sizeof(*port) + ops->priv_size);
	port->ops = ops;
	port->id = id;
	snprintf(port->name, sizeof(port->name), "%s", ops->name);
	rc = ops->open(port, args, err);
	if (rc) {
		free(port);
		return rc;
	}
	*out = port;
	return 0;
}

void ipk_io_close(struct ipk_io_port *port)
{
	if (!port)
		return;
	port->ops->close(port);
	free(port);
}

static uint64_t rd(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void put(struct ipk_io_stat *out, uint32_t max, uint32_t *n, const char *name,
		uint64_t value)
{
	if (*n < max)
		out[*n] = (struct ipk_io_stat){ .name = name, .value = value };
	(*n)++;
}

uint32_t ipk_io_stats_read(const struct ipk_io_port *port, struct ipk_io_stat *out, uint32_t max)
{
	const struct ipk_io_stats *s = &port->stats;
	uint32_t n = 0;

	put(out, max, &n, "rx-packets", rd(&s->rx_pkts));
	put(out, max, &n, "rx-bytes", rd(&s->rx_bytes));
	put(out, max, &n, "tx-packets", rd(&s->tx_pkts));
	put(out, max, &n, "tx-bytes", rd(&s->tx_bytes));
	for (unsigned e = 0; e < IPK_IO_ERR_COUNT; e++)
		put(out, max, &n, error_names[e], rd(&s->err[e]));
	for (unsigned r = 1; r < IPK_DROP_COUNT; r++)
		if (ipk_drop_read(&s->drops, r))
			put(out, max, &n, ipk_drop_name(r), ipk_drop_read(&s->drops, r));
	if (n > max)
		n = max;
	if (port->ops->stats)
		n += port->ops->stats(port, out + n, max - n);
	return n;
}

uint64_t ipk_io_stat_get(const struct ipk_io_port *port, const char *name)
{
	struct ipk_io_stat st[IPK_IO_ERR_COUNT + IPK_DROP_COUNT + 32];
	uint32_t n = ipk_io_stats_read(port, st, IPK_ARRAY_SIZE(st));

	for (uint32_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	return 0;
}

bool ipk_io_wait(struct ipk_io_port *port, const int *fds, uint32_t n, int timeout_ms)
{
	struct pollfd pfd[IPK_IO_MAX_FDS];
	int rc;

	if (n > IPK_IO_MAX_FDS)
		n = IPK_IO_MAX_FDS;
	for (uint32_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	rc = poll(pfd, n, timeout_ms);
	if (unlikely(rc < 0 && errno != EINTR))
		ipk_io_count_err(port, IPK_IO_ERR_POLL, 1);
	return rc > 0;
}

int ipk_io_args_check(const char *kind, const struct ipk_io_args *args,
		      const char *const *keys, struct ipk_err *err)
{
	for (int i = 0; i < args->argc; i += 2) {
		const char *const *k = keys;

		while (*k && strcmp(*k, args->argv[i]) != 0)
			k++;
		if (!*k)
			return ipk_err_set(err, -EINVAL, "%s: unknown argument '%s'", kind,
					   args->argv[i]);
		if (i + 1 >= args->argc)
			return ipk_err_set(err, -EINVAL, "%s: '%s' needs a value", kind,
					   args->argv[i]);
	}
	return 0;
}

const char *ipk_io_arg_next(const struct ipk_io_args *args, const char *key, int *pos)
{
	for (int i = *pos; i + 1 < args->argc; i += 2) {
		if (strcmp(args->argv[i], key) == 0) {
			*pos = i + 2;
			return args->argv[i + 1];
		}
	}
	*pos = args->argc;
	return NULL;
}

const char *ipk_io_arg(const struct ipk_io_args *args, const char *key)
{
	const char *v, *last = NULL;
	int pos = 0;

	while ((v = ipk_io_arg_next(args, key, &pos)))
		last = v;
	return last;
}

int ipk_io_arg_u32(const char *kind, const struct ipk_io_args *args, const char *key,
		   uint32_t def, uint32_t min, uint32_t max, uint32_t *out, struct ipk_err *err)
{
	const char *v = ipk_io_arg(args, key);
	unsigned long long n;
	char *end;

	if (!v) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
		return ipk_err_set(err, -EINVAL, "%s: %s '%s' not in %" PRIu32 "..%" PRIu32, kind,
				   key, v, min, max);
	*out = (uint32_t)n;
	return 0;
}

int ipk_io_arg_bool(const char *kind, const struct ipk_io_args *args, const char *key,
		    bool def, bool *out, struct ipk_err *err)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	const char *v = ipk_io_arg(args, key);

	*out = def;
	if (!v)
		return 0;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(yes); i++) {
		if (strcmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not yes or no", kind, key, v);
}

int ipk_io_arg_family(const char *kind, const struct ipk_io_args *args, unsigned *mask,
		      struct ipk_err *err)
{
	const char *v = ipk_io_arg(args, "family");

	if (!v || strcmp(v, "any") == 0)
		*mask = 3;
	else if (strcmp(v, "4") == 0 || strcmp(v, "ipv4") == 0)
		*mask = 1;
	else if (strcmp(v, "6") == 0 || strcmp(v, "ipv6") == 0)
		*mask = 2;
	else
		return ipk_err_set(err, -EINVAL, "%s: family '%s' is not 4, 6 or any", kind, v);
	return 0;
}

int ipk_io_arg_ifname(const char *kind, const struct ipk_io_args *args, const char *key,
		      const char **out, struct ipk_err *err)
{
	const char *v = ipk_io_arg(args, key);

	*out = v;
	if (v && (!v[0] || strlen(v) >= IF_NAMESIZE || strchr(v, '/') || strchr(v, ' ')))
		return ipk_err_set(err, -EINVAL, "%s: %s '%s' is not an interface name (1..%d "
				   "characters, no '/')", kind, key, v, IF_NAMESIZE - 1);
	return 0;
}
