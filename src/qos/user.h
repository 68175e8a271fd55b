/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * user: per-user classifier for fairness between users (the paper's user/profile
 * classifier). One instance holds every user's profile, not one component per user.
 *
 * A packet belongs to a user by the name of its SA (pkt->meta.sa; checked first) or else
 * by the longest source prefix that matches its IP source address. The classifier writes
 * the user id to pkt->meta.user_id and returns the user's index: users are numbered
 * 0..users-1 in the order they first appear in the arguments, and the default class,
 * `users`, takes everything unmatched. Pair it with `drr` over users + 1 queues.
 *
 * Arguments:
 *   map <entries>  repeatable; comma-separated <key>:<user id> items. <key> is an SA name
 *                  or a prefix (10.0.0.0/24, 2001:db8::/48, a bare address = full length;
 *                  the user id follows the last ':'). User ids 0..4294967294. Several keys
 *                  may name one user. Each key once. At most IPK_USER_MAX users and
 *                  IPK_USER_MAX_KEYS keys.
 *                  e.g. `map alice:1,bob:2,10.1.0.0/16:3,2001:db8::/48:3`
 *   default <id>   user id written for unmatched packets (default 0)
 * Classes: users + 1.
 * Counters: "users", "keys", "defaulted" (no key matched), "unparsed" (no SA match and
 * not valid IP).
 * Threads: single thread (the hook's). Cost: one hash probe for the SA name, one per
 * distinct prefix length (longest first) for the source address. The tables are built
 * once at creation.
 */
#ifndef IPK_QOS_USER_H
#define IPK_QOS_USER_H

#include "qos/component.h"

#define IPK_USER_MAX 4096
#define IPK_USER_MAX_KEYS 16384

extern const struct ipk_qos_ops ipk_user_ops;

/* The user id of class @cls (cls < users), or the default id. */
uint32_t ipk_user_id_of(const struct ipk_qos *q, uint32_t cls);

#endif
