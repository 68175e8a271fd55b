// SPDX-License-Identifier: BSD-2-Clause
#include "io/udpencap.h"

#include "io/sockport.h"

static int udpencap_parse(const struct ipk_io_args *args, struct ipk_err *err)
{
	struct ipk_sockport_cfg cfg;

	return ipk_sockport_parse("udp", IPK_SOCKPORT_UDP, args, &cfg, err);
}

static int udpencap_open(struct ipk_io_port *port, const struct ipk_io_args *args,
		       struct ipk_err *err)
{
	struct ipk_sockport_cfg cfg;
	int rc = ipk_sockport_parse("udp", IPK_SOCKPORT_UDP, args, &cfg, err);

	return rc ? rc : ipk_sockport_open(port, IPK_SOCKPORT_UDP, &cfg, err);
}

const struct ipk_io_ops ipk_udpencap_ops = {
	.name = "udp",
	.priv_size = sizeof(struct ipk_sockport),
	.parse = udpencap_parse,
	.open = udpencap_open,
	.close = ipk_sockport_port_close,
	.rx_burst = ipk_sockport_rx_burst,
	.tx_burst = ipk_sockport_tx_burst,
	.fds = ipk_sockport_fds,
};
