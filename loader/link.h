/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * link.h - network interfaces by name or index (rtnetlink via libnl).
 */
#ifndef CF_LINK_H
#define CF_LINK_H

#include <net/if.h>
#include <stdbool.h>

struct cf_iface {
	int ifindex;
	char name[IF_NAMESIZE];
	bool up;	    /* administratively up (IFF_UP) */
	bool lower_up;	    /* carrier (IFF_LOWER_UP) */
	char operstate[16]; /* "up", "down", "lowerlayerdown", ... */
};

/*
 * Resolve "cam0" or "7".  On failure prints the one error line
 * ("interface 'cam9' not found") and returns -ENODEV, or another negative
 * errno when netlink itself fails.
 */
int cf_iface_resolve(const char *arg, struct cf_iface *out);

/* Quietly: -ENODEV when no interface has this index. */
int cf_iface_by_index(int ifindex, struct cf_iface *out);

/* The name, or "if<N>" when the interface is gone; buf >= IF_NAMESIZE+8. */
const char *cf_iface_name(int ifindex, char *buf, size_t len);

#endif /* CF_LINK_H */
