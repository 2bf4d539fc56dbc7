// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon_link.c - keep the configured interfaces attached.
 *
 * A NETLINK_ROUTE socket subscribed to RTNLGRP_LINK tells us when links
 * come and go; libnl-route parses each message into a link object.  An
 * interface that is deleted takes its XDP and tcx links with it (they
 * turn defunct: their pins stay, attached to nothing) and its clsact
 * filters; when an interface of that name appears again it has a new
 * ifindex, so we remove the dead pins and records and attach afresh.
 *
 * Reconciling reads the kernel's state (pins, interfaces by name) rather
 * than trusting the event stream, so a lost event (socket overrun) or a
 * rename costs nothing but the next event or tick.
 */
#include <errno.h>
#include <string.h>

#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <linux/rtnetlink.h>

#include "daemon.h"
#include "hook.h"
#include "link.h"
#include "log.h"
#include "state.h"

static int track(const struct cf_daemon *d, const char *name, int ifindex)
{
	for (size_t i = 0; i < d->conf.n_ifaces; i++)
		if ((name && !strcmp(d->conf.ifaces[i].name, name)) ||
		    (ifindex && d->ifs[i].ifindex == ifindex))
			return 1;
	return 0;
}

static void on_link(struct nl_object *obj, void *arg)
{
	struct rtnl_link *link = (struct rtnl_link *)obj;
	struct cf_daemon *d = arg;
	const char *name = rtnl_link_get_name(link);
	int ifindex = rtnl_link_get_ifindex(link);
	int type = nl_object_get_msgtype(obj);

	pr_debug("link event: %s %s (ifindex %d)",
		 type == RTM_DELLINK ? "del" : "new", name ? name : "?",
		 ifindex);
	if (track(d, name, ifindex))
		d->links_changed = true;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	int type = nlmsg_hdr(msg)->nlmsg_type;

	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		nl_msg_parse(msg, on_link, arg);
	return NL_OK;
}

int dmn_link_open(struct cf_daemon *d)
{
	int err;

	d->nl = nl_socket_alloc();
	if (!d->nl)
		return -ENOMEM;
	/* notifications carry no sequence numbers of ours */
	nl_socket_disable_seq_check(d->nl);
	nl_socket_modify_cb(d->nl, NL_CB_VALID, NL_CB_CUSTOM, on_msg, d);
	err = nl_connect(d->nl, NETLINK_ROUTE);
	err = err ?: nl_socket_add_membership(d->nl, RTNLGRP_LINK);
	err = err ?: nl_socket_set_nonblocking(d->nl);
	if (err) {
		pr_err("cannot follow link changes (rtnetlink): %s",
		       nl_geterror(err));
		dmn_link_close(d);
		return -EIO;
	}
	/* a burst of link events (a bridge rebuilt) must not overrun us */
	nl_socket_set_buffer_size(d->nl, 1 << 20, 0);
	return 0;
}

void dmn_link_close(struct cf_daemon *d)
{
	nl_socket_free(d->nl);
	d->nl = NULL;
}

int dmn_link_fd(const struct cf_daemon *d)
{
	return d->nl ? nl_socket_get_fd(d->nl) : -1;
}

void dmn_link_read(struct cf_daemon *d)
{
	int err = nl_recvmsgs_default(d->nl);

	/* an overrun (ENOBUFS, NLE_NOMEM in libnl) lost events: look again */
	if (err < 0 && err != -NLE_AGAIN) {
		pr_debug("rtnetlink: %s; reconciling", nl_geterror(err));
		d->links_changed = true;
	}
	if (d->links_changed) {
		d->links_changed = false;
		dmn_reconcile(d);
	}
}

/* A link whose interface is gone, or a clsact record of a gone one. */
static bool dead(const struct cf_att *a, enum cf_hook h, bool gone)
{
	const struct cf_hook_att *ha = &a->hook[h];

	return ha->present && (ha->clsact ? gone : ha->defunct);
}

/* Unpin what outlived its interface, so its ifindex can be used again. */
static void clean_dead(const struct cf_att_list *l)
{
	struct cf_iface ifc;
	bool gone, any;

	for (size_t i = 0; i < l->n; i++) {
		const struct cf_att *a = &l->v[i];

		gone = cf_iface_by_index(a->ifindex, &ifc) == -ENODEV;
		any = false;
		for (int h = CF_HOOK_MAX - 1; h >= 0; h--) {
			if (!dead(a, (enum cf_hook)h, gone))
				continue;
			cf_hook_detach(a->ifindex, (enum cf_hook)h,
				       &a->hook[h]);
			any = true;
		}
		if (any)
			pr_info("removed the pins of ifindex %d: its interface is gone",
				a->ifindex);
	}
}

static bool has(const struct cf_att *a, enum cf_hook h)
{
	return a && a->hook[h].present && !a->hook[h].defunct;
}

/* Attach what is missing on one interface; *made says if anything was. */
static int ensure(struct cf_daemon *d, size_t i, const struct cf_att *a,
		  bool *made)
{
	const struct cf_conf_iface *ci = &d->conf.ifaces[i];
	int ifindex = d->ifs[i].ifindex;
	enum cf_hook hook = CF_HOOK_XDP;
	int err = 0;

	*made = false;
	if (!has(a, CF_HOOK_XDP) && !has(a, CF_HOOK_TC_INGRESS)) {
		err = cf_attach_ingress(&d->rt, ifindex, ci->name, ci->mode,
					&hook);
		*made = !err;
	}
	if (!err && !has(a, CF_HOOK_TC_EGRESS)) {
		err = cf_attach_egress(&d->rt, ifindex, ci->name);
		*made |= !err;
	}
	return err;
}

static void report(const struct cf_daemon *d, size_t i)
{
	const struct cf_att *a;
	struct cf_att_list l;
	enum cf_hook in;
	int ifindex = d->ifs[i].ifindex;

	if (cf_att_list_read(&l))
		return;
	a = cf_att_find(&l, ifindex);
	in = has(a, CF_HOOK_XDP) ? CF_HOOK_XDP : CF_HOOK_TC_INGRESS;
	if (a)
		pr_info("attached %s (ifindex %d): ingress %s, egress %s",
			d->conf.ifaces[i].name, ifindex,
			cf_hook_mode_str(ifindex, in, &a->hook[in]),
			has(a, CF_HOOK_TC_EGRESS) ? "tc" : "none");
	cf_att_list_free(&l);
}

/* The configured interface's ifindex now; log when it came or went. */
static void locate(struct cf_daemon *d, size_t i)
{
	const char *name = d->conf.ifaces[i].name;
	int now = (int)if_nametoindex(name), was = d->ifs[i].ifindex;

	if (now == was)
		return;
	if (!now) {
		pr_warn("%s (ifindex %d) is gone; it is attached again when it comes back",
			name, was);
		d->ifs[i].gone_ifindex = was;
	} else if (was || d->ifs[i].gone_ifindex) {
		pr_info("%s is back as ifindex %d (was %d)", name, now,
			was ?: d->ifs[i].gone_ifindex);
	}
	d->ifs[i].ifindex = now;
}

static void reconcile_locked(struct cf_daemon *d)
{
	struct cf_att_list l;
	bool made;
	int err;

	if (cf_att_list_read(&l))
		return;
	clean_dead(&l);
	cf_att_list_free(&l);
	if (cf_att_list_read(&l))
		return;
	for (size_t i = 0; i < d->conf.n_ifaces; i++) {
		struct dmn_iface *s = &d->ifs[i];

		if (!s->ifindex)
			continue;
		err = ensure(d, i, cf_att_find(&l, s->ifindex), &made);
		if (err && s->failed_ifindex != s->ifindex)
			pr_warn("%s: attach failed; retrying every 10 s",
				d->conf.ifaces[i].name);
		s->failed_ifindex = err ? s->ifindex : 0;
		if (made)
			report(d, i);
	}
	cf_att_list_free(&l);
}

void dmn_reconcile(struct cf_daemon *d)
{
	int lock;

	for (size_t i = 0; i < d->conf.n_ifaces; i++)
		locate(d, i);
	lock = cf_state_lock();
	if (lock < 0)
		return;
	reconcile_locked(d);
	cf_state_unlock(lock);
}

bool dmn_attach_pending(const struct cf_daemon *d)
{
	for (size_t i = 0; i < d->conf.n_ifaces; i++)
		if (d->ifs[i].failed_ifindex)
			return true;
	return false;
}
