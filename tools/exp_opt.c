// SPDX-License-Identifier: BSD-2-Clause
#include "tools/exp_opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exp/sockio.h"

#define MAX_OPTS 48

static int store_number(char *p, const struct ipseck_opt *o, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || v > o->max || arg[0] == '-')
		return -EINVAL;
	if (o->kind == IPSECK_OPT_U32)
		*(uint32_t *)(void *)p = (uint32_t)v;
	else if (o->kind == IPSECK_OPT_U16)
		*(uint16_t *)(void *)p = (uint16_t)v;
	else
		*(uint8_t *)p = (uint8_t)v;
	return 0;
}

/* Stores @arg as option @o says. Returns 0 or -EINVAL. */
static int store(void *base, const struct ipseck_opt *o, const char *arg)
{
	char *p = (char *)base + o->off, *end;
	double d;

	switch (o->kind) {
	case IPSECK_OPT_STR:
		memcpy(p, &arg, sizeof(arg));
		return 0;
	case IPSECK_OPT_FLAG:
		*(bool *)p = true;
		return 0;
	case IPSECK_OPT_RATE:
		return ipk_sockio_parse_rate(arg, (uint64_t *)(void *)p);
	case IPSECK_OPT_DOUBLE:
		d = strtod(arg, &end);
		if (end == arg || *end || !(d > 0))
			return -EINVAL;
		*(double *)(void *)p = d;
		return 0;
	default:
		return store_number(p, o, arg);
	}
}

int ipseck_opt_parse(const char *cmd, const struct ipseck_opt *specs, size_t n, void *base,
		     int argc, char **argv, void (*usage)(FILE *f))
{
	struct option opts[MAX_OPTS + 2];
	int ch;

	if (n > MAX_OPTS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		opts[i] = (struct option){specs[i].name,
					  specs[i].kind == IPSECK_OPT_FLAG ? no_argument
									   : required_argument,
					  NULL, (int)(i + 256)};
	opts[n] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n + 1] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 1;
		}
		if (ch < 256) {
			usage(stderr);
			return -EINVAL;
		}
		if (store(base, &specs[ch - 256], optarg)) {
			fprintf(stderr, "ipseck %s: bad value for --%s: '%s'\n", cmd,
				specs[ch - 256].name, optarg);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ipseck %s: unexpected argument '%s'\n", cmd, argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}
