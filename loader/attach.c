// SPDX-License-Identifier: GPL-2.0-only
/*
 * attach.c - `camfence attach IFACE...`: load (once), attach, optionally
 * push a policy.
 *
 * Everything this invocation does is recorded so a failure at any step
 * undoes it in reverse order: the hooks it attached, the policy it
 * switched to, the on-missing-policy it wrote, the pins it created.  What
 * was there before stays as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "config.h"
#include "hook.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "push.h"
#include "state.h"

struct attach_args {
	enum cf_mode mode;
	bool mode_set;
	bool egress;
	const char *policy;
	bool on_missing_set;
	__u32 on_missing;
	int n_ifaces;
	struct cf_iface *ifaces;
};

/* One attachment made by this run, to undo on failure. */
struct made {
	int ifindex;
	enum cf_hook hook;
};

struct attach_run {
	struct attach_args *a;
	struct cf_runtime rt;
	struct cf_push push;
	bool have_push;
	struct cf_config old_cfg;
	bool cfg_written;
	struct made *made;
	size_t n_made;
	bool *already; /* per interface: nothing new attached */
};

static void add_made(struct attach_run *r, int ifindex, enum cf_hook hook)
{
	r->made[r->n_made].ifindex = ifindex;
	r->made[r->n_made].hook = hook;
	r->n_made++;
}

static int set_on_missing(struct attach_run *r)
{
	struct cf_config cfg;
	int fd = r->rt.map[CF_MAP_CONFIG];
	int err;

	if (!r->a->on_missing_set)
		return 0;
	err = cf_config_read(fd, &r->old_cfg);
	if (err)
		return err;
	cfg = r->old_cfg;
	cfg.on_missing = r->a->on_missing;
	err = cf_config_write(fd, &cfg);
	r->cfg_written = !err;
	return err;
}

/* Attach what is missing on one interface. */
static int attach_iface(struct attach_run *r, int i)
{
	const struct cf_iface *ifc = &r->a->ifaces[i];
	const struct cf_att *old;
	struct cf_att_list l;
	enum cf_hook hook;
	int err;

	err = cf_att_list_read(&l);
	if (err)
		return err;
	old = cf_att_find(&l, ifc->ifindex);
	r->already[i] = true;
	if (!old || (!old->hook[CF_HOOK_XDP].present &&
		     !old->hook[CF_HOOK_TC_INGRESS].present)) {
		err = cf_attach_ingress(&r->rt, ifc->ifindex, ifc->name,
					r->a->mode, &hook);
		if (!err)
			add_made(r, ifc->ifindex, hook);
		r->already[i] = false;
	}
	if (!err && r->a->egress &&
	    (!old || !old->hook[CF_HOOK_TC_EGRESS].present)) {
		err = cf_attach_egress(&r->rt, ifc->ifindex, ifc->name);
		if (!err)
			add_made(r, ifc->ifindex, CF_HOOK_TC_EGRESS);
		r->already[i] = false;
	}
	cf_att_list_free(&l);
	return err;
}

/*
 * Reverse order: hooks, config, then pins if nothing is left.  The
 * policy is cf_apply's to put back; it has, unless that failed too.
 */
static void undo(struct attach_run *r)
{
	const struct cf_att *att;
	struct cf_att_list l;

	if (!cf_att_list_read(&l)) {
		while (r->n_made > 0) {
			struct made *m = &r->made[--r->n_made];

			att = cf_att_find(&l, m->ifindex);
			if (att)
				cf_hook_detach(m->ifindex, m->hook,
					       &att->hook[m->hook]);
		}
		cf_att_list_free(&l);
	}
	if (r->have_push)
		cf_push_rollback(&r->push, &r->rt);
	if (r->cfg_written)
		cf_config_write(r->rt.map[CF_MAP_CONFIG], &r->old_cfg);
	if (r->rt.created && !cf_att_list_read(&l)) {
		if (!l.n)
			cf_runtime_remove();
		cf_att_list_free(&l);
	}
}

static const char *const mode_hooks[] = {
	[CF_MODE_NATIVE] = "xdp-native",
	[CF_MODE_GENERIC] = "xdp-generic",
	[CF_MODE_TC] = "tc",
};

/* An explicit --mode that differs from what is attached is not applied. */
static void check_mode(const struct attach_args *a, const struct cf_att *att)
{
	enum cf_hook h = att->hook[CF_HOOK_XDP].present ? CF_HOOK_XDP :
							  CF_HOOK_TC_INGRESS;
	const char *now;
	char name[IF_NAMESIZE + 8];

	if (!a->mode_set || a->mode == CF_MODE_AUTO || !att->hook[h].present)
		return;
	now = cf_hook_mode_str(att->ifindex, h, &att->hook[h]);
	if (strncmp(now, mode_hooks[a->mode], strlen(mode_hooks[a->mode])))
		pr_warn("%s: ingress stays %s; detach first to change the mode",
			cf_iface_name(att->ifindex, name, sizeof(name)), now);
}

static int attach_ifaces(void *ctx)
{
	struct attach_run *r = ctx;
	int err = 0;

	for (int i = 0; !err && i < r->a->n_ifaces; i++)
		err = attach_iface(r, i);
	return err;
}

static int attach_all(struct attach_run *r)
{
	/* the policy goes in first, so the first packet is judged by it */
	const struct cf_apply_opts o = { .locked = true,
					 .then = attach_ifaces,
					 .ctx = r };
	int err;

	err = cf_runtime_open(&r->rt, CF_RT_CREATE);
	if (err)
		return err;
	err = set_on_missing(r);
	if (!err && r->have_push)
		err = cf_apply(&r->push, &r->rt, &o);
	else if (!err)
		err = attach_ifaces(r);
	if (err)
		undo(r);
	return err;
}

static void hook_json(const char *name, const struct cf_att *att,
		      enum cf_hook h)
{
	jw_name(cf_json(), name);
	if (att && att->hook[h].present)
		jw_string(cf_json(),
			  cf_hook_mode_str(att->ifindex, h, &att->hook[h]));
	else
		jw_null(cf_json());
}

static void report_iface(const struct cf_iface *ifc, const struct cf_att *att,
			 bool already)
{
	enum cf_hook in = att && att->hook[CF_HOOK_XDP].present ?
				  CF_HOOK_XDP : CF_HOOK_TC_INGRESS;
	bool eg = att && att->hook[CF_HOOK_TC_EGRESS].present;

	if (cf_g.json) {
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "ifname", ifc->name);
		jw_int_field(cf_json(), "ifindex", ifc->ifindex);
		hook_json("ingress", att, in);
		hook_json("egress", att, CF_HOOK_TC_EGRESS);
		jw_bool_field(cf_json(), "already_attached", already);
		jw_end_object(cf_json());
		return;
	}
	pr_info("%s %s (ifindex %d): ingress %s, egress %s",
		already ? "already attached" : "attached", ifc->name,
		ifc->ifindex,
		att ? cf_hook_mode_str(att->ifindex, in, &att->hook[in]) : "-",
		eg ? cf_hook_mode_str(att->ifindex, CF_HOOK_TC_EGRESS,
				      &att->hook[CF_HOOK_TC_EGRESS]) :
		     "none");
}

/* Decision 4 of DESIGN.md: say loudly when nothing judges the traffic. */
static void warn_no_policy(const struct cf_runtime *rt)
{
	struct cf_live_image li;
	struct cf_config cfg;

	if (!cf_live_open(rt->map[CF_MAP_POLICY], &li)) {
		cf_live_close(&li);
		return;
	}
	if (cf_config_read(rt->map[CF_MAP_CONFIG], &cfg))
		return;
	if (cf_g.json)
		jw_string_field(cf_json(), "warning", "no policy loaded");
	else
		pr_warn("no policy loaded; traffic %s (on-missing-policy %s); run camfence push FILE",
			cfg.on_missing == CF_VERDICT_DROP ? "is dropped" :
							    "passes",
			cf_on_missing_str(cfg.on_missing));
}

static void report(struct attach_run *r)
{
	const struct cf_att *att;
	struct cf_att_list l;

	if (cf_att_list_read(&l))
		return;
	if (cf_g.json) {
		jw_start_object(cf_json());
		jw_name(cf_json(), "interfaces");
		jw_start_array(cf_json());
	}
	for (int i = 0; i < r->a->n_ifaces; i++) {
		att = cf_att_find(&l, r->a->ifaces[i].ifindex);
		if (att && r->already[i])
			check_mode(r->a, att);
		report_iface(&r->a->ifaces[i], att, r->already[i]);
	}
	if (cf_g.json)
		jw_end_array(cf_json());
	cf_att_list_free(&l);
	if (r->have_push && !cf_g.json) {
		cf_push_report(&r->push);
	} else if (r->have_push) {
		jw_name(cf_json(), "policy");
		jw_start_object(cf_json());
		cf_push_report_json(&r->push);
		jw_end_object(cf_json());
	}
	warn_no_policy(&r->rt);
	if (cf_g.json)
		jw_end_object(cf_json());
}

/* ---- the command ------------------------------------------------------ */

enum { OPT_NO_EGRESS = 256, OPT_ON_MISSING };

static int parse_opt(int c, struct attach_args *a)
{
	switch (c) {
	case 'm':
		a->mode_set = true;
		return cf_mode_parse(optarg, &a->mode) ? CF_EXIT_USAGE : -1;
	case 'P':
		a->policy = optarg;
		return -1;
	case 'e':
		a->egress = true;
		return -1;
	case OPT_NO_EGRESS:
		a->egress = false;
		return -1;
	case OPT_ON_MISSING:
		a->on_missing_set = true;
		return cf_on_missing_parse(optarg, &a->on_missing) ?
			       CF_EXIT_USAGE : -1;
	default:
		return cf_common_opt(c, &cf_cmd_attach);
	}
}

static int resolve_ifaces(int argc, char **argv, struct attach_args *a)
{
	a->n_ifaces = argc;
	a->ifaces = calloc((size_t)argc, sizeof(*a->ifaces));
	if (!a->ifaces)
		return -ENOMEM;
	for (int i = 0; i < argc; i++) {
		int err = cf_iface_resolve(argv[i], &a->ifaces[i]);

		if (err)
			return err;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct attach_args *a)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'P' },
		{ "egress", no_argument, NULL, 'e' },
		{ "no-egress", no_argument, NULL, OPT_NO_EGRESS },
		{ "on-missing-policy", required_argument, NULL, OPT_ON_MISSING },
		CF_COMMON_LONGOPTS,
		{},
	};
	int c, ret;

	a->egress = true;
	while ((c = getopt_long(argc, argv, "m:P:e" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		ret = parse_opt(c, a);
		if (ret >= 0)
			return ret;
	}
	if (optind >= argc) {
		pr_err("attach: which interface? (camfence attach IFACE...)");
		return CF_EXIT_USAGE;
	}
	return resolve_ifaces(argc - optind, argv + optind, a) ?
		       CF_EXIT_INPUT : -1;
}

static int run(struct attach_run *r)
{
	int lock, err;

	if (r->a->policy) {
		/* a bad policy stops us before anything is touched */
		r->have_push = true;
		err = cf_push_prepare(&r->push, r->a->policy);
		if (err)
			return err;
	}
	r->made = calloc(2 * (size_t)r->a->n_ifaces, sizeof(*r->made));
	r->already = calloc((size_t)r->a->n_ifaces, sizeof(*r->already));
	if (!r->made || !r->already)
		return -ENOMEM;
	lock = cf_state_lock();
	if (lock < 0)
		return lock;
	err = attach_all(r);
	if (!err)
		report(r);
	cf_state_unlock(lock);
	return err;
}

int do_attach(int argc, char **argv)
{
	struct attach_args a = {};
	struct attach_run r = { .a = &a };
	int ret;

	cf_runtime_init(&r.rt);
	ret = parse_args(argc, argv, &a);
	if (ret < 0) {
		ret = run(&r);
		/* a missing pin here is a system problem, not "not loaded" */
		ret = ret == -ENOENT ? CF_EXIT_SYSTEM : cf_exit_for(ret);
	}
	if (r.have_push)
		cf_push_free(&r.push);
	cf_runtime_close(&r.rt);
	free(r.made);
	free(r.already);
	free(a.ifaces);
	return ret;
}

const struct cf_cmd cf_cmd_attach = {
	.name = "attach",
	.run = do_attach,
	.summary = "attach the datapath to interfaces (loads it the first time)",
	.args = "IFACE... [--mode MODE] [--policy FILE] [--on-missing-policy pass|drop] [--no-egress]",
	.options =
		"  -m, --mode MODE        ingress: auto (native XDP, else generic XDP, else tc),\n"
		"                         native, generic or tc (default auto)\n"
		"  -P, --policy FILE      push this policy as part of the attach\n"
		"      --on-missing-policy pass|drop\n"
		"                         verdict while no policy is loaded (default pass)\n"
		"  -e, --egress           judge traffic to the cameras too (default)\n"
		"      --no-egress        ingress only\n",
};
