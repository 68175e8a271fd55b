/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The `policy add` and `policy del` commands of the configuration language (ctl/config.h):
 * their keyword tables, the rules that span several keywords, and their check and apply
 * steps against the SPD. Registered in config.c's command table.
 *
 * Threads: control plane only.
 */
#ifndef IPK_CTL_CONFIG_POLICY_H
#define IPK_CTL_CONFIG_POLICY_H

#include "ctl/cmd.h"

extern const struct ipk_cmd_def ipk_config_policy_add;
extern const struct ipk_cmd_def ipk_config_policy_del;

#endif
