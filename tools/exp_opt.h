/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Long options of the experiment tools (`ipseck gen`, `ipseck probe`), read through one
 * table each: the option's name, its kind and where it lands in the tool's argument
 * struct, so that a tool lists its options once.
 */
#ifndef IPK_TOOLS_EXP_OPT_H
#define IPK_TOOLS_EXP_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ipseck_opt_kind {
	IPSECK_OPT_U32, /* number, decimal or 0x, up to max */
	IPSECK_OPT_U16,
	IPSECK_OPT_U8,
	IPSECK_OPT_STR,	   /* const char * into argv */
	IPSECK_OPT_RATE,   /* uint64_t, suffixes k, M, G (exp/sockio.h) */
	IPSECK_OPT_DOUBLE, /* positive double */
	IPSECK_OPT_FLAG,   /* bool set to true; no value */
};

struct ipseck_opt {
	const char *name;
	enum ipseck_opt_kind kind;
	size_t off;   /* offset in the argument struct */
	uint64_t max; /* numbers: the largest value */
};

/* Reads @argv (after the subcommand's name) into @base as @specs say. Returns 0, 1 when
 * --help printed the usage, or -EINVAL after a message and the usage on stderr. */
int ipseck_opt_parse(const char *cmd, const struct ipseck_opt *specs, size_t n, void *base,
		     int argc, char **argv, void (*usage)(FILE *f));

#endif
