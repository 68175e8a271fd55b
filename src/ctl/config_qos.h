/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The QoS commands of the configuration language (ctl/config.h), acting on the objects
 * of engine/hooks.h:
 *
 *   qos add name NAME kind KIND [ARGUMENTS...]   a component; its arguments are its own
 *                                                (qos/README.md), e.g. `kind fifo limit 100`
 *   qos node name NAME [meter M[,M...]] [classify C] children Q[,Q...] [schedule S]
 *            [shape SH]                          a node: a queue made of those parts
 *   qos del name NAME                            a free object (a node with its parts)
 *   hook attach HOOK NAME                        HOOK 1..4 (queues 1-4, both Na and Nb), 5
 *                                                (dispatcher 5a/5b); replaces what is there
 *   hook detach HOOK                             back to the plain FIFO
 *
 * Like every batch, all or nothing: each command is checked against the state the
 * earlier ones leave (names, kinds, parts free, a classifier's classes matching the
 * children) before anything is created.
 */
#ifndef IPK_CTL_CONFIG_QOS_H
#define IPK_CTL_CONFIG_QOS_H

#include "ctl/cmd.h"

extern const struct ipk_cmd_def ipk_config_qos_add;
extern const struct ipk_cmd_def ipk_config_qos_node;
extern const struct ipk_cmd_def ipk_config_qos_del;
extern const struct ipk_cmd_def ipk_config_hook_attach;
extern const struct ipk_cmd_def ipk_config_hook_detach;
/* Read-only: every hook with its chain as a tree, counters included. */
extern const struct ipk_cmd_def ipk_config_show_hooks;

#endif
