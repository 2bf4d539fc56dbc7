// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - `camfence status`: what is loaded, where it is attached and
 * which policy judges the traffic.
 */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "config.h"
#include "hook.h"
#include "image.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "source.h"
#include "state.h"

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static const char *fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !localtime_r(&t, &tm))
		return "unknown";
	strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm);
	return buf;
}

static void programs(const struct cf_runtime *rt)
{
	if (cf_g.json) {
		jw_name(cf_json(), "programs");
		jw_start_array(cf_json());
	} else {
		printf("programs:");
	}
	for (int i = 0; i < CF_PROG_MAX; i++) {
		if (!cf_g.json) {
			printf("%s %s (id %u)", i ? "," : "", cf_prog_names[i],
			       prog_id(rt->prog[i]));
			continue;
		}
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "name", cf_prog_names[i]);
		jw_uint_field(cf_json(), "id", prog_id(rt->prog[i]));
		jw_end_object(cf_json());
	}
	if (cf_g.json)
		jw_end_array(cf_json());
	else
		printf("\n");
}

static void hook_json(const char *name, const struct cf_att *a, enum cf_hook h)
{
	const struct cf_hook_att *ha = &a->hook[h];

	jw_name(cf_json(), name);
	if (!ha->present) {
		jw_null(cf_json());
		return;
	}
	jw_start_object(cf_json());
	jw_string_field(cf_json(), "mode", cf_hook_mode_str(a->ifindex, h, ha));
	if (ha->clsact) {
		jw_uint_field(cf_json(), "handle", ha->handle);
		jw_uint_field(cf_json(), "priority", ha->priority);
	} else {
		jw_uint_field(cf_json(), "link_id", ha->link_id);
	}
	jw_uint_field(cf_json(), "prog_id", ha->prog_id);
	jw_bool_field(cf_json(), "defunct", ha->defunct);
	jw_end_object(cf_json());
}

static const char *hook_text(const struct cf_att *a, enum cf_hook h,
			     char *buf, size_t len)
{
	const struct cf_hook_att *ha = &a->hook[h];
	const char *mode = cf_hook_mode_str(a->ifindex, h, ha);

	if (!ha->present)
		snprintf(buf, len, "none");
	else if (ha->clsact)
		snprintf(buf, len, "%s (filter %u:%u)", mode, ha->priority,
			 ha->handle);
	else
		snprintf(buf, len, "%s (link %u%s)", mode, ha->link_id,
			 ha->defunct ? ", defunct" : "");
	return buf;
}

static void iface(const struct cf_att *a)
{
	enum cf_hook in = a->hook[CF_HOOK_XDP].present ? CF_HOOK_XDP :
							 CF_HOOK_TC_INGRESS;
	struct cf_iface ifc = { .ifindex = a->ifindex };
	bool gone = cf_iface_by_index(a->ifindex, &ifc) != 0;
	char b1[96], b2[96];

	if (gone)
		snprintf(ifc.name, sizeof(ifc.name), "if%d", a->ifindex);
	if (!cf_g.json) {
		cf_line("  %s (ifindex %d, %s): ingress %s, egress %s",
			ifc.name, a->ifindex,
			gone ? "gone" : ifc.up && ifc.lower_up ? "up" : "down",
			hook_text(a, in, b1, sizeof(b1)),
			hook_text(a, CF_HOOK_TC_EGRESS, b2, sizeof(b2)));
		return;
	}
	jw_start_object(cf_json());
	jw_string_field(cf_json(), "ifname", ifc.name);
	jw_int_field(cf_json(), "ifindex", a->ifindex);
	jw_bool_field(cf_json(), "exists", !gone);
	jw_bool_field(cf_json(), "up", !gone && ifc.up);
	jw_bool_field(cf_json(), "carrier", !gone && ifc.lower_up);
	jw_string_field(cf_json(), "operstate", gone ? "gone" : ifc.operstate);
	hook_json("ingress", a, in);
	hook_json("egress", a, CF_HOOK_TC_EGRESS);
	jw_end_object(cf_json());
}

static void interfaces(const struct cf_att_list *l)
{
	if (cf_g.json) {
		jw_name(cf_json(), "interfaces");
		jw_start_array(cf_json());
	} else {
		printf("interfaces:%s\n", l->n ? "" : " none attached");
	}
	for (size_t i = 0; i < l->n; i++)
		iface(&l->v[i]);
	if (cf_g.json)
		jw_end_array(cf_json());
}

/* How old the database is, against --max-db-age (metrics.h). */
static void db_age_json(struct json_writer *jw, const struct cf_image_hdr *h)
{
	struct cf_db_age a;

	cf_db_age_get((time_t)h->db_built_at, time(NULL), &a);
	jw_name(jw, "db_age_days");
	if (a.known)
		jw_uint(jw, (uint64_t)a.age_s / 86400);
	else
		jw_null(jw);
	jw_uint_field(jw, "db_max_age_days", a.max_days);
	jw_bool_field(jw, "db_stale", a.stale);
}

/*
 * The digest status shows is what the live image enforces, read back
 * from its tables (image.h); the one in its header is only what the
 * camfence that pushed it wrote there.
 */
struct live_digest {
	bool known;
	char hex[65];
	char why[700]; /* when not known */
};

static void live_digest(const struct cf_live_image *li, struct live_digest *dg)
{
	uint8_t d[32];

	dg->known = !cf_live_digest(li, d, dg->why, sizeof(dg->why));
	if (dg->known)
		cf_digest_hex(d, dg->hex);
	else
		snprintf(dg->hex, sizeof(dg->hex), "unknown");
}

static void policy_json(const struct cf_live_image *li,
			const struct live_digest *dg)
{
	const struct cf_image_hdr *h = cf_image_hdr(li->w);
	struct json_writer *jw = cf_json();

	jw_name(jw, "policy");
	jw_start_object(jw);
	jw_string_field(jw, "path", h->policy_path);
	jw_name(jw, "digest");
	if (dg->known)
		jw_string(jw, dg->hex);
	else
		jw_null(jw);
	jw_uint_field(jw, "generation", h->generation);
	jw_uint_field(jw, "compiled_at", h->compiled_at);
	jw_uint_field(jw, "db_built_at", h->db_built_at);
	db_age_json(jw, h);
	jw_uint_field(jw, "classes", h->n_classes);
	jw_uint_field(jw, "v4_ranges", h->v4_ranges);
	jw_uint_field(jw, "v6_ranges", h->v6_ranges);
	jw_uint_field(jw, "image_words", h->n_words);
	jw_uint_field(jw, "capacity", cf_shape_words(&li->shape));
	jw_uint_field(jw, "table_bytes", (uint64_t)h->n_words * 4);
	jw_uint_field(jw, "map_bytes", cf_shape_words(&li->shape) * 4);
	jw_uint_field(jw, "map_id", li->id);
	jw_end_object(jw);
}

static void policy_text(const struct cf_live_image *li,
			const struct live_digest *dg)
{
	const struct cf_image_hdr *h = cf_image_hdr(li->w);
	size_t cap = cf_shape_words(&li->shape);
	char t1[64], t2[64];
	struct cf_db_age age;

	cf_line("policy: %s", cf_path_name(h->policy_path));
	printf("  generation %" PRIu64 ", digest %s\n", (uint64_t)h->generation,
	       dg->hex);
	cf_db_age_get((time_t)h->db_built_at, time(NULL), &age);
	printf("  compiled %s, database built %s",
	       fmt_time((time_t)h->compiled_at, t1, sizeof(t1)),
	       fmt_time((time_t)h->db_built_at, t2, sizeof(t2)));
	if (age.known)
		printf(" (%" PRId64 " days old)", age.age_s / 86400);
	printf("\n");
	printf("  %u classes, %u IPv4 ranges, %u IPv6 ranges\n", h->n_classes,
	       h->v4_ranges, h->v6_ranges);
	printf("  image %u of %zu words (%.1f%%): tables %.1f MiB in a %.1f MiB map (id %u)\n",
	       h->n_words, cap, 100.0 * h->n_words / cap,
	       h->n_words * 4.0 / (1 << 20),
	       cap * 4.0 / (1 << 20), li->id);
}

static void warn(const char *msg)
{
	if (cf_g.json)
		jw_string(cf_json(), msg);
	else
		cf_line("WARNING: %s", msg);
}

/* Links whose interface went away judge nothing; say how to clear them. */
static void warn_gone(const struct cf_att_list *l)
{
	struct cf_iface ifc;
	char msg[160];

	for (size_t i = 0; i < l->n; i++) {
		if (!cf_iface_by_index(l->v[i].ifindex, &ifc))
			continue;
		snprintf(msg, sizeof(msg),
			 "interface %d is gone; `camfence detach %d` removes what camfence left for it",
			 l->v[i].ifindex, l->v[i].ifindex);
		warn(msg);
	}
}

/* An image whose tables are not what it claims, or not readable at all. */
static void warn_digest(const struct cf_live_image *li,
			const struct live_digest *dg)
{
	char claim[65], msg[200];

	if (!li)
		return;
	if (!dg->known) {
		warn(dg->why);
		return;
	}
	cf_digest_hex(cf_image_hdr(li->w)->digest, claim);
	if (!strcmp(claim, dg->hex))
		return;
	snprintf(msg, sizeof(msg),
		 "the live image claims digest %.16s but its tables are %.16s; push the policy again",
		 claim, dg->hex);
	warn(msg);
}

/* The state files describe the last push; say so if the kernel differs. */
static void warn_state(const struct cf_live_image *li,
		       const struct live_digest *dg)
{
	struct cf_active a;
	char msg[PATH_MAX + 96];

	if (!li || cf_active_read(&a))
		return;
	if (!strcmp(a.digest, dg->hex))
		return;
	snprintf(msg, sizeof(msg),
		 "%s/active does not describe the live image (a push was interrupted?)",
		 cf_g.state_dir);
	warn(msg);
}

/* An old database misplaces networks that changed hands since. */
static void warn_db_age(const struct cf_live_image *li)
{
	time_t built = li ? (time_t)cf_image_hdr(li->w)->db_built_at : 0;
	struct cf_db_age a;
	char msg[128];

	cf_db_age_get(built, time(NULL), &a);
	if (a.stale)
		warn(cf_db_age_warning(built, &a, msg, sizeof(msg)));
}

/* The loud part (decision 4): attached, yet no policy judges traffic. */
static void warnings(const struct cf_att_list *l,
		     const struct cf_live_image *li,
		     const struct live_digest *dg, const struct cf_config *cfg)
{
	bool have_policy = li != NULL;
	char msg[160];

	if (cf_g.json) {
		jw_name(cf_json(), "warnings");
		jw_start_array(cf_json());
	}
	if (!have_policy && l->n) {
		snprintf(msg, sizeof(msg),
			 "no policy loaded; traffic %s (on-missing-policy %s)",
			 cfg->on_missing == CF_VERDICT_DROP ? "is dropped" :
							      "passes",
			 cf_on_missing_str(cfg->on_missing));
		warn(msg);
	}
	if (!l->n)
		warn("not attached to any interface; nothing is judged");
	warn_gone(l);
	warn_digest(li, dg);
	warn_state(li, dg);
	warn_db_age(li);
	if (cf_g.json)
		jw_end_array(cf_json());
}

static void show(const struct cf_runtime *rt, const struct cf_att_list *l,
		 const struct cf_live_image *li, const struct live_digest *dg,
		 const struct cf_config *cfg)
{
	if (cf_g.json) {
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "version", CAMFENCE_VERSION);
		jw_string_field(cf_json(), "pin_dir", cf_g.pin_dir);
		jw_string_field(cf_json(), "state_dir", cf_g.state_dir);
	} else {
		printf("camfence %s, pinned under %s\n", CAMFENCE_VERSION,
		       cf_g.pin_dir);
	}
	programs(rt);
	interfaces(l);
	if (li && cf_g.json)
		policy_json(li, dg);
	else if (li)
		policy_text(li, dg);
	else if (cf_g.json)
		jw_string_field(cf_json(), "policy", NULL); /* null */
	else
		printf("policy: none\n");
	if (cf_g.json)
		jw_string_field(cf_json(), "on_missing_policy",
				cf_on_missing_str(cfg->on_missing));
	else
		printf("on-missing-policy: %s\n",
		       cf_on_missing_str(cfg->on_missing));
	warnings(l, li, dg, cfg);
	if (cf_g.json)
		jw_end_object(cf_json());
}

static int status(const struct cf_runtime *rt)
{
	struct cf_att_list l;
	struct cf_live_image li;
	struct live_digest dg = {};
	struct cf_config cfg;
	int live, err;

	err = cf_att_list_read(&l);
	if (err)
		return err;
	err = cf_config_read(rt->map[CF_MAP_CONFIG], &cfg);
	live = err ? err : cf_live_open(rt->map[CF_MAP_POLICY], &li);
	if (live == -EBADMSG)
		pr_err("%s; push a policy to replace it", li.why);
	if (live && live != -ENOENT) {
		cf_att_list_free(&l);
		return live;
	}
	if (!live)
		live_digest(&li, &dg);
	show(rt, &l, live ? NULL : &li, &dg, &cfg);
	if (!live)
		cf_live_close(&li);
	cf_att_list_free(&l);
	return 0;
}

int do_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-db-age", required_argument, NULL, 'A' },
		CF_COMMON_LONGOPTS,
		{},
	};
	const char *max_age = NULL;
	struct cf_runtime rt;
	int c, ret;

	while ((c = getopt_long(argc, argv, CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1)
		if (c == 'A')
			max_age = optarg;
		else if ((ret = cf_common_opt(c, &cf_cmd_status)) >= 0)
			return ret;
	if (cf_db_max_age_init(max_age))
		return CF_EXIT_USAGE;
	if (optind < argc) {
		cf_cmd_usage(&cf_cmd_status, true);
		return CF_EXIT_USAGE;
	}
	ret = cf_runtime_open(&rt, 0);
	if (!ret) {
		ret = status(&rt);
		cf_runtime_close(&rt);
	}
	return cf_exit_for(ret);
}

const struct cf_cmd cf_cmd_status = {
	.name = "status",
	.run = do_status,
	.summary = "show what is loaded, attached and enforced",
	.args = "[--max-db-age DAYS]",
	.options = "      --max-db-age DAYS  warn when the database is older (default 30,\n"
		   "                         env CAMFENCE_MAX_DB_AGE; 0: never)\n",
};
