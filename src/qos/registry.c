// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every QoS component kind, in one table (STYLE §2): to add a kind, add its ops here.
 * The tree node (qos/tree.h) is not listed: it is built from other components, not from
 * arguments.
 */
#include "qos/component.h"

#include <string.h>

#include "core/compiler.h"
#include "qos/codel.h"
#include "qos/drr.h"
#include "qos/dscp.h"
#include "qos/fifo.h"
#include "qos/fivetuple.h"
#include "qos/ipsec.h"
#include "qos/prio.h"
#include "qos/red.h"
#include "qos/rr.h"
#include "qos/shaper.h"
#include "qos/srtcm.h"
#include "qos/tb.h"
#include "qos/trtcm.h"
#include "qos/user.h"

static const struct ipk_qos_ops *const kinds[] = {
	/* classifiers */
	&ipk_dscp_ops,
	&ipk_fivetuple_ops,
	&ipk_ipsec_ops,
	&ipk_user_ops,
	/* meters and markers */
	&ipk_tb_ops,
	&ipk_srtcm_ops,
	&ipk_trtcm_ops,
	/* queues */
	&ipk_fifo_ops,
	&ipk_red_ops,
	&ipk_wred_ops,
	&ipk_codel_ops,
	/* schedulers */
	&ipk_rr_ops,
	&ipk_prio_ops,
	&ipk_drr_ops,
	/* shapers */
	&ipk_shaper_ops,
};

const struct ipk_qos_ops *ipk_qos_find(const char *kind)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i]->name, kind) == 0)
			return kinds[i];
	return NULL;
}

const struct ipk_qos_ops *const *ipk_qos_kinds(uint32_t *n)
{
	*n = IPK_ARRAY_SIZE(kinds);
	return kinds;
}
