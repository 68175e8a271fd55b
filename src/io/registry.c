// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every I/O port kind, in one table (STYLE §2): to add a back end, add its ops here. The
 * offline pcap mode (io/pcapfile.h) is a reader and a writer, not a port.
 */
#include "io/port.h"

#include <string.h>

#include "core/compiler.h"
#include "io/afpacket.h"
#include "io/rawesp.h"
#include "io/tun.h"
#include "io/udpencap.h"

static const struct ipk_io_ops *const kinds[] = {
	&ipk_tun_ops,      /* plaintext side */
	&ipk_rawesp_ops,   /* protected side, IP protocol 50 */
	&ipk_udpencap_ops, /* protected side, UDP 4500 */
	&ipk_afpacket_ops, /* bump in the wire */
};

const struct ipk_io_ops *ipk_io_find(const char *kind)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i]->name, kind) == 0)
			return kinds[i];
	return NULL;
}

const struct ipk_io_ops *const *ipk_io_kinds(uint32_t *n)
{
	*n = IPK_ARRAY_SIZE(kinds);
	return kinds;
}
