/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The read-only commands of the configuration language, and the registry of statistics
 * providers:
 *
 *   show sa [name NAME] [keys]
 *   show policy [dir in|out]
 *   stats
 *
 * They are rows of config.c's command table (so files and ipseckctl share one grammar),
 * with a `run` function instead of check and apply; ctl/ctl.h runs them alone, never in a
 * batch. Each writes a human table (like `ip -s xfrm state`) or, when asked, one JSON
 * object. Keys are shown only with the word `keys`.
 *
 * `stats` prints the SA and policy counters and every drop counter, then one section per
 * registered provider: modules that keep counters of their own (the engine's hooks, queues
 * and units) register a struct ipk_stats_provider at start-up and report named counters
 * ("hook1.fifo0.drops", STYLE §8) through ipk_stats_counter(), without changes here.
 *
 * Threads: control plane. The provider list has its own lock, so providers may be
 * registered and removed from any thread; `stats` calls providers under that lock, so an
 * emit function must not register or remove providers.
 */
#ifndef IPK_CTL_SHOW_H
#define IPK_CTL_SHOW_H

#include <stdint.h>

#include "core/drop.h"
#include "ctl/cmd.h"

extern const struct ipk_cmd_def ipk_show_sa;
extern const struct ipk_cmd_def ipk_show_policy;
extern const struct ipk_cmd_def ipk_show_stats;

/* Where a provider writes its counters (text or JSON, decided by the command). */
struct ipk_stats_emit;

struct ipk_stats_provider {
	const char *name; /* the section: "engine", "hook1"; unique */
	/* Reports the counters with ipk_stats_counter()/ipk_stats_drops(). */
	void (*emit)(void *arg, struct ipk_stats_emit *e);
	void *arg;
	struct ipk_stats_provider *next; /* the registry's */
};

/* Adds @p (owned by the caller, which keeps it alive until ipk_stats_unregister). Sections
 * appear in the order of registration. Returns 0, or -EEXIST when the name is taken. */
int ipk_stats_register(struct ipk_stats_provider *p);
/* Removes @p; after return its emit is not running and will not run again. */
void ipk_stats_unregister(struct ipk_stats_provider *p);

/* One named counter: "NAME VALUE" in text, a member of the section's object in JSON. */
void ipk_stats_counter(struct ipk_stats_emit *e, const char *name, uint64_t value);
/* Every non-zero counter of @drops, named "PREFIX.REASON" ("hook1.drops.queue-full"). */
void ipk_stats_drops(struct ipk_stats_emit *e, const char *prefix,
		     const struct ipk_drop_stats *drops);

#endif
