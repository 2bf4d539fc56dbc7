// SPDX-License-Identifier: GPL-2.0-only
/*
 * hook.c - attach, find and detach camfence's programs on interfaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "hook.h"
#include "log.h"
#include "main.h"
#include "state.h"

/*
 * tcx (kernel 6.6) postdates Debian 12's uapi headers (6.1) and libbpf 1.1,
 * so the attach types are spelled out; the values are the kernel's enum
 * bpf_attach_type and never change.
 */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal, leaks out of some BPF paths */
#endif

const char *const cf_hook_names[CF_HOOK_MAX] = {
	[CF_HOOK_XDP] = "xdp",
	[CF_HOOK_TC_INGRESS] = "tc-ingress",
	[CF_HOOK_TC_EGRESS] = "tc-egress",
};

int cf_mode_parse(const char *s, enum cf_mode *mode)
{
	static const char *const names[] = { "auto", "native", "generic",
					     "tc" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*mode = (enum cf_mode)i;
			return 0;
		}
	}
	pr_err("--mode: '%s' is not one of auto, native, generic, tc", s);
	return -EINVAL;
}

static int link_pin_path(char *buf, size_t len, int ifindex,
			 enum cf_hook hook)
{
	char name[64];

	snprintf(name, sizeof(name), "%d-%s", ifindex, cf_hook_names[hook]);
	return cf_pin_path(buf, len, "links", name);
}

static int tc_record_name(char *buf, size_t len, int ifindex,
			  enum cf_hook hook)
{
	snprintf(buf, len, "tc/%d-%s", ifindex, cf_hook_names[hook]);
	return 0;
}

/* Pin a fresh link; on failure the link dies with its fd. */
static int pin_link(int fd, int ifindex, enum cf_hook hook)
{
	char path[PATH_MAX];
	int err;

	err = link_pin_path(path, sizeof(path), ifindex, hook);
	if (!err && bpf_obj_pin(fd, path)) {
		err = -errno;
		pr_err("cannot pin link %s: %s", path, strerror(-err));
	}
	close(fd);
	return err;
}

static int create_link(int prog_fd, int ifindex, int type, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd;

	fd = bpf_link_create(prog_fd, ifindex, type, &opts);
	return fd < 0 ? -errno : fd;
}

/* For tests and for kernels whose tcx is broken: CAMFENCE_NO_TCX=1. */
static bool tcx_disabled(void)
{
	const char *s = getenv("CAMFENCE_NO_TCX");

	return s && *s && strcmp(s, "0");
}

static void tc_hook_init(struct bpf_tc_hook *h, int ifindex,
			 enum cf_hook hook)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = hook == CF_HOOK_TC_EGRESS ? BPF_TC_EGRESS :
						      BPF_TC_INGRESS;
}

static int record_clsact(int ifindex, enum cf_hook hook,
			 const struct bpf_tc_opts *o)
{
	char name[64], rec[128];
	int n;

	tc_record_name(name, sizeof(name), ifindex, hook);
	n = snprintf(rec, sizeof(rec), "handle %u priority %u prog %u\n",
		     o->handle, o->priority, o->prog_id);
	return cf_state_mkdir("tc") ?: cf_state_write(name, rec, (size_t)n);
}

/* A cls_bpf filter in a clsact qdisc; the kernel picks handle and
 * priority, so we never replace an operator's own filter. */
static int attach_clsact(int prog_fd, int ifindex, const char *ifname,
			 enum cf_hook hook)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd);
	struct bpf_tc_hook h;
	int err;

	tc_hook_init(&h, ifindex, hook);
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST) {
		pr_err("cannot add a clsact qdisc to %s: %s", ifname,
		       strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&h, &o);
	if (err) {
		pr_err("cannot attach the %s filter to %s: %s",
		       cf_hook_names[hook], ifname, strerror(-err));
		return err;
	}
	err = record_clsact(ifindex, hook, &o);
	if (err) {
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = o.handle,
			    .priority = o.priority);
		bpf_tc_detach(&h, &d);
	}
	return err;
}

static int attach_tc(const struct cf_runtime *rt, int ifindex,
		     const char *ifname, enum cf_hook hook)
{
	bool egress = hook == CF_HOOK_TC_EGRESS;
	int prog_fd = rt->prog[egress ? CF_PROG_TC_EGRESS : CF_PROG_TC_INGRESS];
	int fd;

	if (tcx_disabled())
		return attach_clsact(prog_fd, ifindex, ifname, hook);
	fd = create_link(prog_fd, ifindex,
			 egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, 0);
	if (fd >= 0)
		return pin_link(fd, ifindex, hook);
	/* kernels before 6.6 reject the attach type itself */
	if (fd != -EINVAL && fd != -EOPNOTSUPP && fd != -ENOTSUPP) {
		pr_err("cannot attach tcx %s to %s: %s", cf_hook_names[hook],
		       ifname, strerror(-fd));
		return fd;
	}
	pr_debug("tcx %s on %s: %s; falling back to clsact",
		 cf_hook_names[hook], ifname, strerror(-fd));
	return attach_clsact(prog_fd, ifindex, ifname, hook);
}

static const char *xdp_mode_name(__u32 flags)
{
	return flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

/* One XDP mode: >= 0 when attached and pinned, -EAGAIN to try the next. */
static int attach_xdp(const struct cf_runtime *rt, int ifindex,
		      const char *ifname, __u32 flags, bool last)
{
	int fd;

	fd = create_link(rt->prog[CF_PROG_XDP], ifindex, BPF_XDP, flags);
	if (fd >= 0)
		return pin_link(fd, ifindex, CF_HOOK_XDP);
	if (fd == -EBUSY || fd == -EEXIST) {
		pr_err("%s already has an XDP program camfence did not attach",
		       ifname);
		return fd;
	}
	if (last) {
		pr_err("cannot attach %s XDP to %s: %s", xdp_mode_name(flags),
		       ifname, strerror(-fd));
		return fd;
	}
	pr_debug("%s XDP on %s: %s; trying the next mode",
		 xdp_mode_name(flags), ifname, strerror(-fd));
	return -EAGAIN;
}

int cf_attach_ingress(const struct cf_runtime *rt, int ifindex,
		      const char *ifname, enum cf_mode mode,
		      enum cf_hook *hook)
{
	int err;

	*hook = CF_HOOK_XDP;
	if (mode == CF_MODE_AUTO || mode == CF_MODE_NATIVE) {
		err = attach_xdp(rt, ifindex, ifname, XDP_FLAGS_DRV_MODE,
				 mode == CF_MODE_NATIVE);
		if (err != -EAGAIN)
			return err;
	}
	if (mode == CF_MODE_AUTO || mode == CF_MODE_GENERIC) {
		err = attach_xdp(rt, ifindex, ifname, XDP_FLAGS_SKB_MODE,
				 mode == CF_MODE_GENERIC);
		if (err != -EAGAIN)
			return err;
	}
	*hook = CF_HOOK_TC_INGRESS;
	return attach_tc(rt, ifindex, ifname, CF_HOOK_TC_INGRESS);
}

int cf_attach_egress(const struct cf_runtime *rt, int ifindex,
		     const char *ifname)
{
	return attach_tc(rt, ifindex, ifname, CF_HOOK_TC_EGRESS);
}

/* Detach the link (so it goes now, whoever else holds an fd) and unpin. */
static int detach_link(int ifindex, enum cf_hook hook)
{
	char path[PATH_MAX];
	int fd, err;

	err = link_pin_path(path, sizeof(path), ifindex, hook);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* a defunct link (interface gone) has nothing left to detach */
	if (bpf_link_detach(fd))
		pr_debug("detach %s: %s", path, strerror(errno));
	close(fd);
	if (unlink(path)) {
		err = -errno;
		pr_err("cannot unpin %s: %s", path, strerror(-err));
	}
	return err;
}

/* Remove our filter only if it still runs our program. */
static int detach_clsact(int ifindex, enum cf_hook hook,
			 const struct cf_hook_att *att)
{
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = att->handle,
		    .priority = att->priority);
	struct bpf_tc_hook h;
	char name[64];
	int err;

	tc_hook_init(&h, ifindex, hook);
	err = bpf_tc_query(&h, &o);
	if (!err && o.prog_id != att->prog_id) {
		pr_warn("tc filter %u:%u on ifindex %d now runs program %u, not camfence's %u; left in place",
			att->priority, att->handle, ifindex, o.prog_id,
			att->prog_id);
	} else if (!err) {
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = att->handle,
			    .priority = att->priority);
		err = bpf_tc_detach(&h, &d);
	}
	if (err && err != -ENOENT && err != -EINVAL && err != -ENODEV) {
		pr_err("cannot remove the %s filter on ifindex %d: %s",
		       cf_hook_names[hook], ifindex, strerror(-err));
		return err;
	}
	tc_record_name(name, sizeof(name), ifindex, hook);
	return cf_state_remove(name);
}

int cf_hook_detach(int ifindex, enum cf_hook hook,
		   const struct cf_hook_att *att)
{
	if (!att->present)
		return 0;
	if (att->clsact)
		return detach_clsact(ifindex, hook, att);
	return detach_link(ifindex, hook);
}

/* "<ifindex>-<hook>" */
static int parse_entry(const char *name, int *ifindex, enum cf_hook *hook)
{
	char *end;
	long idx = strtol(name, &end, 10);

	if (end == name || *end != '-' || idx <= 0 || idx > INT_MAX)
		return -EINVAL;
	for (int h = 0; h < CF_HOOK_MAX; h++) {
		if (!strcmp(end + 1, cf_hook_names[h])) {
			*ifindex = (int)idx;
			*hook = (enum cf_hook)h;
			return 0;
		}
	}
	return -EINVAL;
}

static struct cf_att *att_get(struct cf_att_list *l, int ifindex)
{
	struct cf_att *v;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	l->v = v;
	memset(&v[l->n], 0, sizeof(v[l->n]));
	v[l->n].ifindex = ifindex;
	return &v[l->n++];
}

static void read_link(const char *path, struct cf_hook_att *a)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	a->present = true;
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		a->link_id = info.id;
		a->prog_id = info.prog_id;
		/* tcx's info starts with the ifindex too, where xdp's is */
		a->defunct = !info.xdp.ifindex;
	}
	close(fd);
}

/*
 * A record detach goes by, read without the lock (status, metrics), so
 * opened as every state file is: one that is a link, a FIFO or not
 * root's is said and left out, never followed nor blocked on.
 */
static void read_clsact(const char *name, struct cf_hook_att *a)
{
	char rec[NAME_MAX + 8];
	FILE *f;
	int err;

	snprintf(rec, sizeof(rec), "tc/%s", name);
	err = cf_state_fopen(rec, &f);
	if (err) {
		if (err != -ENOENT)
			pr_warn("%s/%s left out: %s", cf_g.state_dir, rec,
				cf_state_strerror(err));
		return;
	}
	if (fscanf(f, "handle %u priority %u prog %u", &a->handle,
		   &a->priority, &a->prog_id) == 3)
		a->present = a->clsact = true;
	fclose(f);
}

/* A directory to scan_dir: its fd, or -errno. */
static int open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* fd (taken; -errno when it could not be opened, -ENOENT is empty): the
 * pinned links in dir, or the tc records. */
static int scan_dir(int fd, bool clsact, const char *dir,
		    struct cf_att_list *l)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	enum cf_hook hook;
	struct cf_att *a;
	int ifindex, err = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		err = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return err == -ENOENT ? 0 : err;
	}
	while (!err && (de = readdir(d))) {
		if (parse_entry(de->d_name, &ifindex, &hook))
			continue;
		a = att_get(l, ifindex);
		if (!a) {
			err = -ENOMEM;
			break;
		}
		if (clsact) {
			read_clsact(de->d_name, &a->hook[hook]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		read_link(path, &a->hook[hook]);
	}
	closedir(d);
	return err;
}

static int cmp_att(const void *a, const void *b)
{
	return ((const struct cf_att *)a)->ifindex -
	       ((const struct cf_att *)b)->ifindex;
}

int cf_att_list_read(struct cf_att_list *l)
{
	char links[PATH_MAX];
	int err;

	l->v = NULL;
	l->n = 0;
	err = cf_pin_path(links, sizeof(links), NULL, "links");
	err = err ?: scan_dir(open_dir(links), false, links, l);
	err = err ?: scan_dir(cf_state_opendir("tc"), true, NULL, l);
	if (err) {
		pr_err("cannot list attachments: %s", strerror(-err));
		cf_att_list_free(l);
		return err;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_att);
	return 0;
}

void cf_att_list_free(struct cf_att_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct cf_att *cf_att_find(const struct cf_att_list *l, int ifindex)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].ifindex == ifindex)
			return &l->v[i];
	return NULL;
}

bool cf_att_any(const struct cf_att *a)
{
	for (int h = 0; a && h < CF_HOOK_MAX; h++)
		if (a->hook[h].present)
			return true;
	return false;
}

const char *cf_hook_mode_str(int ifindex, enum cf_hook hook,
			     const struct cf_hook_att *att)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (hook != CF_HOOK_XDP)
		return att->clsact ? "tc-clsact" : "tc";
	if (att->defunct || bpf_xdp_query(ifindex, 0, &q))
		return "xdp";
	if (q.drv_prog_id == att->prog_id)
		return "xdp-native";
	if (q.skb_prog_id == att->prog_id)
		return "xdp-generic";
	if (q.hw_prog_id == att->prog_id)
		return "xdp-offload";
	return "xdp";
}
