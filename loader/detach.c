// SPDX-License-Identifier: GPL-2.0-only
/*
 * detach.c - `camfence detach IFACE...|--all`: remove exactly what camfence
 * attached, and unload when no interface is left (decision 7).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "pin.h"
#include "state.h"

struct detach_args {
	bool all;
	bool keep;
	int n;
	int *ifindex; /* the interfaces to detach */
};

/* Detach every hook of one interface, egress first (reverse of attach). */
static int detach_one(const struct cf_att *att)
{
	int err = 0;

	for (int h = CF_HOOK_MAX - 1; !err && h >= 0; h--)
		err = cf_hook_detach(att->ifindex, (enum cf_hook)h,
				     &att->hook[h]);
	return err;
}

/* Nothing attached any more: remove the pins and what the state says. */
static int unload(bool *unloaded)
{
	struct cf_att_list l;
	int err;

	*unloaded = false;
	err = cf_att_list_read(&l);
	if (err || l.n) {
		cf_att_list_free(&l);
		return err;
	}
	err = cf_runtime_remove();
	cf_state_remove("active");
	cf_state_remove("policy.conf");
	cf_state_rmdir("tc");
	*unloaded = !err;
	return err;
}

static void report(const struct detach_args *a, bool unloaded)
{
	char name[IF_NAMESIZE + 8];

	if (cf_g.json) {
		jw_start_object(cf_json());
		jw_name(cf_json(), "detached");
		jw_start_array(cf_json());
	}
	for (int i = 0; i < a->n; i++) {
		cf_iface_name(a->ifindex[i], name, sizeof(name));
		if (!cf_g.json) {
			pr_info("detached %s (ifindex %d)", name, a->ifindex[i]);
			continue;
		}
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "ifname", name);
		jw_int_field(cf_json(), "ifindex", a->ifindex[i]);
		jw_end_object(cf_json());
	}
	if (!cf_g.json) {
		if (unloaded)
			pr_info("no interface attached: unloaded (removed %s)",
				cf_g.pin_dir);
		return;
	}
	jw_end_array(cf_json());
	jw_bool_field(cf_json(), "unloaded", unloaded);
	jw_end_object(cf_json());
}

static int detach_list(const struct detach_args *a,
		       const struct cf_att_list *l)
{
	bool unloaded = false;
	int err = 0;

	for (int i = 0; !err && i < a->n; i++)
		err = detach_one(cf_att_find(l, a->ifindex[i]));
	if (!err && !a->keep)
		err = unload(&unloaded);
	if (!err)
		report(a, unloaded);
	return err;
}

/*
 * The interfaces to detach: each must be attached (else -ENOENT, exit 4).
 * A number names an interface that may be gone already.
 */
static int pick(char **names, int n, const struct cf_att_list *l,
		struct detach_args *a)
{
	struct cf_iface ifc;
	char *end;
	int err;

	for (int i = 0; i < n; i++) {
		ifc.ifindex = (int)strtol(names[i], &end, 10);
		if (*end || !cf_att_find(l, ifc.ifindex)) {
			err = cf_iface_resolve(names[i], &ifc);
			if (err)
				return err;
		}
		if (!cf_att_find(l, ifc.ifindex)) {
			pr_err("%s is not attached by camfence (pins under %s)",
			       names[i], cf_g.pin_dir);
			return -ENOENT;
		}
		a->ifindex[a->n++] = ifc.ifindex;
	}
	return 0;
}

static int pick_all(const struct cf_att_list *l, struct detach_args *a)
{
	for (size_t i = 0; i < l->n; i++)
		a->ifindex[a->n++] = l->v[i].ifindex;
	return 0;
}

static int run(char **names, int n, struct detach_args *a)
{
	struct cf_att_list l = {};
	struct cf_runtime rt;
	int lock, err;

	lock = cf_state_lock();
	if (lock < 0)
		return lock;
	err = cf_att_list_read(&l);
	if (!err && !l.n && cf_runtime_open(&rt, 0) == 0) {
		/* loaded but attached nowhere: only --all has work to do */
		cf_runtime_close(&rt);
		if (!a->all) {
			pr_err("%s is not attached by camfence", names[0]);
			err = -ENOENT;
		}
	} else if (!err && !l.n) {
		err = -ENOENT; /* not loaded: cf_runtime_open said so */
	}
	a->ifindex = calloc(l.n + (size_t)n + 1, sizeof(*a->ifindex));
	if (!err && !a->ifindex)
		err = -ENOMEM;
	if (!err)
		err = a->all ? pick_all(&l, a) : pick(names, n, &l, a);
	if (!err)
		err = detach_list(a, &l);
	cf_att_list_free(&l);
	cf_state_unlock(lock);
	return err;
}

enum { OPT_KEEP = 256 };

int do_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "keep", no_argument, NULL, OPT_KEEP },
		CF_COMMON_LONGOPTS,
		{},
	};
	struct detach_args a = {};
	int c, ret;

	while ((c = getopt_long(argc, argv, "a" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'a')
			a.all = true;
		else if (c == OPT_KEEP)
			a.keep = true;
		else if ((ret = cf_common_opt(c, &cf_cmd_detach)) >= 0)
			return ret;
	}
	if (a.all == (optind < argc)) {
		pr_err("detach: name interfaces or give --all, not both or neither");
		return CF_EXIT_USAGE;
	}
	ret = cf_exit_for(run(argv + optind, argc - optind, &a));
	free(a.ifindex);
	return ret;
}

const struct cf_cmd cf_cmd_detach = {
	.name = "detach",
	.run = do_detach,
	.summary = "detach from interfaces; unload when none is left",
	.args = "IFACE...|--all [--keep]",
	.options =
		"  -a, --all      every interface camfence is attached to\n"
		"      --keep     keep programs, maps (policy, counters) pinned\n"
		"                 even when no interface is left\n",
};
