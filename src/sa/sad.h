/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Security Association Database (RFC 4301 §4.4.2).
 *
 * Inbound lookup is by SPI and outer destination (RFC 4301 §4.1: the SPI alone may
 * identify a unicast SA; the destination is compared when the SA names one) in a hash
 * table that grows with the number of SAs, so lookup stays O(1) whatever their number.
 * Every SA also has a unique name (control plane, O(1) by a second table).
 *
 * Threads: add/del/iterate are control-plane calls. Lookups are safe concurrently with
 * each other, not with add/del: the caller serialises changes with packet processing (the
 * engine parks its packet scheduler, the one thread that looks up: engine/scheduler.h).
 */
#ifndef IPK_SA_SAD_H
#define IPK_SA_SAD_H

#include "sa/sa.h"

struct ipk_sad;

/* @n_workers: crypto contexts each SA gets (one per crypto unit; at least 1). */
int ipk_sad_create(struct ipk_sad **out, uint32_t n_workers);
/* The crypto contexts each SA gets: the most crypto units an engine over this SAD may run. */
uint32_t ipk_sad_workers(const struct ipk_sad *sad);
/* Deletes every SA (keys wiped) and frees the table. */
void ipk_sad_destroy(struct ipk_sad *sad);

/* Checks that @p could be added: parameters valid, name unused, (SPI, dst) unused for
 * inbound SAs. Changes nothing. Returns 0 or -EINVAL / -EEXIST with a message. */
int ipk_sad_check_add(const struct ipk_sad *sad, const struct ipk_sa_params *p,
		      struct ipk_err *err);
/* Adds an SA. Returns 0, -EINVAL, -EEXIST or -ENOMEM (message in @err). */
int ipk_sad_add(struct ipk_sad *sad, const struct ipk_sa_params *p, struct ipk_err *err);
/* Removes the SA named @name (marked dead; freed when its last packet is done). Returns 0
 * or -ENOENT. */
int ipk_sad_del(struct ipk_sad *sad, const char *name, struct ipk_err *err);

/* Inbound lookup; NULL if no live SA. The result is valid while the caller serialises
 * with ipk_sad_del (take ipk_sa_get to keep it longer). */
struct ipk_sa *ipk_sad_lookup_in(const struct ipk_sad *sad, uint32_t spi,
				 const struct ipk_addr *dst);
/* By name; NULL if none. */
struct ipk_sa *ipk_sad_find(const struct ipk_sad *sad, const char *name);
uint32_t ipk_sad_count(const struct ipk_sad *sad);
/* Calls @fn for every SA, in the order they were added. */
void ipk_sad_foreach(const struct ipk_sad *sad, void (*fn)(struct ipk_sa *sa, void *arg),
		     void *arg);
/* Soft/hard lifetime events of every SA of this SAD (present and future) go to @fn. */
void ipk_sad_set_event(struct ipk_sad *sad, ipk_sa_event_fn fn, void *arg);
ipk_sa_event_fn ipk_sad_event_fn(const struct ipk_sad *sad, void **arg);

#endif
