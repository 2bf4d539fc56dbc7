// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats.c - `camfence stats`: packets and bytes per class (per rule and per
 * country/ASN listed), summed over CPUs, and the datapath's own counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "counters.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "main.h"
#include "source.h"

static void counter_json(const char *name, const struct cf_counter *c)
{
	jw_name(cf_json(), name);
	jw_start_object(cf_json());
	jw_uint_field(cf_json(), "packets", c->packets);
	jw_uint_field(cf_json(), "bytes", c->bytes);
	jw_end_object(cf_json());
}

static void class_json(const uint32_t *w, uint32_t cls,
		       const struct cf_counter *c)
{
	const struct cf_class_meta *m = cf_image_class(w, cls);
	uint32_t word = w[CF_CLASS_OFF + cls];
	char label[384];

	jw_start_object(cf_json());
	jw_uint_field(cf_json(), "class", cls);
	jw_string_field(cf_json(), "label",
			cf_class_label(w, cls, label, sizeof(label)));
	jw_string_field(cf_json(), "verdict",
			cf_verdict_str(CF_CLASS_VERDICT(word)));
	if (m->kind == CF_KIND_COUNTRY) {
		jw_name(cf_json(), "country");
		jw_printf(cf_json(), "%.2s", (const char *)m->cc);
	} else if (m->kind == CF_KIND_ASN) {
		jw_uint_field(cf_json(), "asn", m->asn);
	}
	jw_uint_field(cf_json(), "line", m->line);
	jw_uint_field(cf_json(), "counter", CF_CLASS_COUNTER(word));
	jw_uint_field(cf_json(), "packets", c->packets);
	jw_uint_field(cf_json(), "bytes", c->bytes);
	jw_end_object(cf_json());
}

static int classes(const struct cf_runtime *rt, const uint32_t *w)
{
	const struct cf_image_hdr *h = cf_image_hdr(w);
	struct cf_counter c;
	char label[384];
	uint32_t slot;
	int err = 0;

	if (cf_g.json) {
		jw_uint_field(cf_json(), "generation", h->generation);
		jw_string_field(cf_json(), "policy", h->policy_path);
		jw_name(cf_json(), "classes");
		jw_start_array(cf_json());
	} else {
		cf_line("policy %s, generation %" PRIu64,
			cf_path_name(h->policy_path), (uint64_t)h->generation);
		printf("%14s %16s  %-8s %s\n", "packets", "bytes", "verdict",
		       "class");
	}
	for (uint32_t i = 0; !err && i < h->n_classes; i++) {
		slot = CF_CLASS_COUNTER(w[CF_CLASS_OFF + i]);
		err = cf_counter_read(rt->map[CF_MAP_COUNTERS], slot, &c);
		if (err)
			break;
		if (cf_g.json)
			class_json(w, i, &c);
		else
			cf_line("%14" PRIu64 " %16" PRIu64 "  %-8s %s",
				(uint64_t)c.packets, (uint64_t)c.bytes,
				cf_verdict_str(
					CF_CLASS_VERDICT(w[CF_CLASS_OFF + i])),
				cf_class_label(w, i, label, sizeof(label)));
	}
	if (cf_g.json)
		jw_end_array(cf_json());
	return err;
}

static int globals(const struct cf_runtime *rt)
{
	struct cf_counter c[CF_STAT_MAX];
	int err = 0;

	for (int i = 0; !err && i < CF_STAT_MAX; i++)
		err = cf_counter_read(rt->map[CF_MAP_STATS], (uint32_t)i, &c[i]);
	if (err)
		return err;
	if (cf_g.json) {
		jw_name(cf_json(), "global");
		jw_start_object(cf_json());
	} else {
		printf("datapath:\n");
	}
	for (int i = 0; i < CF_STAT_MAX; i++) {
		if (cf_g.json)
			counter_json(cf_stat_names[i], &c[i]);
		else
			printf("%14" PRIu64 " %16" PRIu64 "  %s\n",
			       (uint64_t)c[i].packets, (uint64_t)c[i].bytes,
			       cf_stat_names[i]);
	}
	if (cf_g.json)
		jw_end_object(cf_json());
	return 0;
}

/* Zero the live classes' slots and the datapath counters. */
static int zero(const struct cf_runtime *rt, const uint32_t *w)
{
	uint32_t n = w ? cf_image_hdr(w)->n_classes : 0;
	int err = 0;

	for (uint32_t i = 0; !err && i < n; i++)
		err = cf_counter_zero(rt->map[CF_MAP_COUNTERS],
				      CF_CLASS_COUNTER(w[CF_CLASS_OFF + i]));
	for (int i = 0; !err && i < CF_STAT_MAX; i++)
		err = cf_counter_zero(rt->map[CF_MAP_STATS], (uint32_t)i);
	if (err)
		pr_err("cannot zero the counters: %s", strerror(-err));
	return err;
}

/*
 * Read everything before printing anything: an error must leave stdout
 * holding only the JSON error object.
 */
static int check_readable(const struct cf_runtime *rt, const uint32_t *w)
{
	struct cf_counter c;
	int err;

	err = cf_counter_read(rt->map[CF_MAP_STATS], 0, &c);
	if (!err && w)
		err = cf_counter_read(rt->map[CF_MAP_COUNTERS], 0, &c);
	if (err)
		pr_err("cannot read the counters: %s", strerror(-err));
	return err;
}

static int stats(const struct cf_runtime *rt, bool do_zero)
{
	struct cf_live_image li;
	const uint32_t *w;
	int err;

	err = cf_live_open(rt->map[CF_MAP_POLICY], &li);
	if (err == -EBADMSG)
		pr_err("%s", li.why);
	if (err && err != -ENOENT)
		return err;
	w = err ? NULL : li.w;
	err = check_readable(rt, w);
	if (err)
		goto out;
	if (cf_g.json)
		jw_start_object(cf_json());
	if (w)
		err = classes(rt, w);
	else if (!cf_g.json)
		printf("no policy loaded\n");
	err = err ?: globals(rt);
	if (!err && do_zero)
		err = zero(rt, w);
	if (cf_g.json) {
		jw_bool_field(cf_json(), "zeroed", do_zero && !err);
		jw_end_object(cf_json());
	} else if (!err && do_zero) {
		printf("counters zeroed\n");
	}
out:
	if (w)
		cf_live_close(&li);
	return err;
}

int do_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zero", no_argument, NULL, 'z' },
		CF_COMMON_LONGOPTS,
		{},
	};
	struct cf_runtime rt;
	bool do_zero = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "z" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'z')
			do_zero = true;
		else if ((ret = cf_common_opt(c, &cf_cmd_stats)) >= 0)
			return ret;
	}
	if (optind < argc) {
		cf_cmd_usage(&cf_cmd_stats, true);
		return CF_EXIT_USAGE;
	}
	ret = cf_runtime_open(&rt, 0);
	if (!ret) {
		ret = stats(&rt, do_zero);
		cf_runtime_close(&rt);
	}
	return cf_exit_for(ret);
}

const struct cf_cmd cf_cmd_stats = {
	.name = "stats",
	.run = do_stats,
	.summary = "show packet and byte counters per class and of the datapath",
	.args = "[--zero]",
	.options = "  -z, --zero     zero the counters after showing them\n",
};
