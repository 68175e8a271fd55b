// SPDX-License-Identifier: BSD-2-Clause
#include "core/drop.h"

#include <errno.h>
#include <string.h>

static const char *const drop_names[IPK_DROP_COUNT] = {
	[IPK_DROP_NONE] = "none",
#define IPK_DROP_NAME(id, name, help) [IPK_DROP_##id] = name,
	IPK_DROP_REASONS(IPK_DROP_NAME)
#undef IPK_DROP_NAME
};

static const char *const drop_helps[IPK_DROP_COUNT] = {
	[IPK_DROP_NONE] = "not dropped",
#define IPK_DROP_HELP(id, name, help) [IPK_DROP_##id] = help,
	IPK_DROP_REASONS(IPK_DROP_HELP)
#undef IPK_DROP_HELP
};

const char *ipk_drop_name(enum ipk_drop_reason reason)
{
	return (unsigned)reason < IPK_DROP_COUNT ? drop_names[reason] : "?";
}

const char *ipk_drop_help(enum ipk_drop_reason reason)
{
	return (unsigned)reason < IPK_DROP_COUNT ? drop_helps[reason] : "?";
}

int ipk_drop_parse(const char *name, enum ipk_drop_reason *reason)
{
	for (unsigned i = 0; i < IPK_DROP_COUNT; i++) {
		if (strcmp(name, drop_names[i]) == 0) {
			*reason = (enum ipk_drop_reason)i;
			return 0;
		}
	}
	return -ENOENT;
}

uint64_t ipk_drop_total(const struct ipk_drop_stats *stats)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < IPK_DROP_COUNT; i++)
		sum += ipk_drop_read(stats, (enum ipk_drop_reason)i);
	return sum;
}
