/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gateway's sections of `ipseckctl stats` (ctl/show.h providers):
 *
 *   engine    mode, units, the conservation terms (in, out, drops, absorbed, in-flight,
 *             balanced), per queue qN.in/out/len/max-len and qN.drops.REASON, the
 *             scheduler's and dispatcher's counters, per place PLACE.drops.REASON, per unit
 *             unitN.received/processed/bytes/asks/max-occupancy and unitN.drops.REASON
 *   ports     per interface NAME.rx-packets, NAME.tx-packets, ... (ipk_io_stats_read:
 *             rx/tx packets and bytes, system-call errors, drops by reason, the back
 *             end's own figures)
 *   gateway   interfaces, drops.REASON of the I/O threads (gw/pump.h)
 *
 * Threads: register/unregister and emit on the control thread (which also is the only one
 * that changes the gateway's ports, so emit reads the port table without a lock).
 */
#ifndef IPK_GW_GWSTATS_H
#define IPK_GW_GWSTATS_H

#include "ctl/show.h"

struct ipk_gateway;

struct ipk_gwstats {
	struct ipk_stats_provider engine, ports, gateway;
	bool registered;
};

/* Registers the three sections for @gw. Returns 0 or -EEXIST (a section name taken). */
int ipk_gwstats_register(struct ipk_gwstats *st, struct ipk_gateway *gw);
/* Removes them (no emit runs after return). Fine when not registered. */
void ipk_gwstats_unregister(struct ipk_gwstats *st);

#endif
