/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The `sa add` and `sa del` commands of the configuration language (ctl/config.h): their
 * keyword tables, the rules that span several keywords, and their check and apply steps
 * against the SAD. Registered in config.c's command table.
 *
 * Threads: control plane only.
 */
#ifndef IPK_CTL_CONFIG_SA_H
#define IPK_CTL_CONFIG_SA_H

#include "ctl/cmd.h"
#include "sa/sa.h"

extern const struct ipk_cmd_def ipk_config_sa_add;
extern const struct ipk_cmd_def ipk_config_sa_del;

/* The parameters of the SA named @name as the batch's commands so far leave the SAD, or
 * NULL if there is none. Valid until the batch ends. */
const struct ipk_sa_params *ipk_config_sa_lookup(const struct ipk_cmd_batch *b,
						 const char *name);

#endif
