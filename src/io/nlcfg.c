// SPDX-License-Identifier: BSD-2-Clause
#include "io/nlcfg.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request: header, fixed part, and room for a few attributes. */
struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifaddrmsg ifa;
		struct ifinfomsg ifi;
	};
	uint8_t attrs[128];
};

static void add_attr(struct nl_req *req, uint16_t type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((uint8_t *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends @req and reads the kernel's acknowledgement: 0 or the -errno it carries. */
static int transact(struct nl_req *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nh;
		uint8_t bytes[1024];
	} ans;
	int fd, rc;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nh.nlmsg_seq = 1;
	rc = 0;
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		rc = -errno;
	while (!rc) {
		n = recv(fd, &ans, sizeof(ans), 0);
		if (n < 0) {
			rc = errno == EINTR ? 0 : -errno;
			continue;
		}
		if ((size_t)n >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
		    ans.nh.nlmsg_type == NLMSG_ERROR) {
			rc = ((struct nlmsgerr *)NLMSG_DATA(&ans.nh))->error;
			break;
		}
	}
	close(fd);
	return rc;
}

int ipk_nl_addr_add(unsigned ifindex, const struct ipk_prefix *prefix)
{
	struct nl_req req;
	size_t alen = ipk_addr_len(prefix->addr.family);

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	req.ifa.ifa_family = prefix->addr.family == 6 ? AF_INET6 : AF_INET;
	req.ifa.ifa_prefixlen = prefix->len;
	req.ifa.ifa_index = ifindex;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	if (prefix->addr.family == 6)
		req.ifa.ifa_flags = IFA_F_NODAD;
	add_attr(&req, IFA_LOCAL, prefix->addr.bytes, alen);
	add_attr(&req, IFA_ADDRESS, prefix->addr.bytes, alen);
	return transact(&req);
}

int ipk_nl_link_set(unsigned ifindex, uint32_t mtu, bool up)
{
	struct nl_req req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)ifindex;
	req.ifi.ifi_change = IFF_UP;
	req.ifi.ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		add_attr(&req, IFLA_MTU, &mtu, sizeof(mtu));
	return transact(&req);
}
