// SPDX-License-Identifier: GPL-2.0-only
/*
 * link.c - interface lookup through rtnetlink (libnl-route).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "link.h"
#include "log.h"

/* glibc's <net/if.h> stops at IFF_DYNAMIC; <linux/if.h> clashes with it */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static struct nl_sock *sk;

static void nl_free(void)
{
	nl_socket_free(sk);
	sk = NULL;
}

static int nl_open(void)
{
	int err;

	if (sk)
		return 0;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		pr_err("cannot open rtnetlink: %s", nl_geterror(err));
		nl_socket_free(sk);
		sk = NULL;
		return -EIO;
	}
	atexit(nl_free);
	return 0;
}

static void fill(struct rtnl_link *link, struct cf_iface *out)
{
	unsigned flags = rtnl_link_get_flags(link);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
	out->up = flags & IFF_UP;
	out->lower_up = flags & IFF_LOWER_UP;
	rtnl_link_operstate2str(rtnl_link_get_operstate(link), out->operstate,
				sizeof(out->operstate));
}

/* One RTM_GETLINK by index or by name. */
static int get_link(int ifindex, const char *name, struct cf_iface *out)
{
	struct rtnl_link *link = NULL;
	int err;

	err = nl_open();
	if (err)
		return err;
	err = rtnl_link_get_kernel(sk, ifindex, name, &link);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return -ENODEV;
	if (err < 0) {
		pr_err("rtnetlink: cannot query interface: %s",
		       nl_geterror(err));
		return -EIO;
	}
	fill(link, out);
	rtnl_link_put(link);
	return 0;
}

int cf_iface_by_index(int ifindex, struct cf_iface *out)
{
	if (ifindex <= 0)
		return -ENODEV;
	return get_link(ifindex, NULL, out);
}

int cf_iface_resolve(const char *arg, struct cf_iface *out)
{
	char *end;
	long idx;
	int err;

	if (!*arg || strlen(arg) >= IF_NAMESIZE) {
		pr_err("'%s' is not a valid interface name", arg);
		return -ENODEV;
	}
	idx = strtol(arg, &end, 10);
	if (!*end && idx > 0 && idx < 1L << 30)
		err = get_link((int)idx, NULL, out);
	else
		err = get_link(0, arg, out);
	if (err == -ENODEV)
		pr_err("interface '%s' not found", arg);
	return err;
}

const char *cf_iface_name(int ifindex, char *buf, size_t len)
{
	struct cf_iface ifc;

	if (!cf_iface_by_index(ifindex, &ifc))
		snprintf(buf, len, "%s", ifc.name);
	else
		snprintf(buf, len, "if%d", ifindex);
	return buf;
}
