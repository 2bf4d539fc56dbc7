// SPDX-License-Identifier: GPL-2.0-only
/*
 * push.c - `camfence push`: compile a policy and switch to it atomically.
 *
 * Nothing before the one map update in cf_image_install touches the
 * running policy: the new image lives in a map only this process holds
 * until then, so a push that fails or is killed at any point leaves the
 * old policy enforcing (decision 3 of DESIGN.md).  What follows the
 * switch (recording it, undoing it on failure) is apply.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "counters.h"
#include "json.h"
#include "log.h"
#include "main.h"
#include "push.h"
#include "state.h"

int cf_push_prepare(struct cf_push *p, const char *path)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->live.fd = -1;
	err = cf_source_read(&p->src, path);
	/* an artifact (camfence compile) arrives compiled, without databases */
	if (err || p->src.artifact)
		return err;
	return cf_source_load_dbs(&p->src) ?: cf_source_compile(&p->src);
}

void cf_push_free(struct cf_push *p)
{
	cf_live_close(&p->live);
	cf_image_free(&p->img);
	cf_source_free(&p->src);
}

/* The live image, if any, for counter slots and the generation. */
static int open_live(struct cf_push *p, int policy_fd)
{
	int err = cf_live_open(policy_fd, &p->live);

	p->have_live = !err;
	/* a push is how a broken image gets replaced */
	if (err == -EBADMSG)
		pr_warn("%s; replacing it", p->live.why);
	return err == -ENOENT || err == -EBADMSG ? 0 : err;
}

static uint64_t next_generation(const struct cf_push *p)
{
	struct cf_active a;

	if (p->have_live)
		return cf_image_hdr(p->live.w)->generation + 1;
	if (!cf_active_read(&a))
		return a.generation + 1;
	return 1;
}

static int build(struct cf_push *p, size_t capacity)
{
	struct cf_err e = {};
	double t0 = cf_now_ms();
	char msg[600];
	int err;

	err = cf_image_build(p->src.comp, p->generation, capacity, &p->img, &e);
	p->build_ms = cf_now_ms() - t0;
	if (err) {
		pr_err("%s", cf_err_str(&e, msg, sizeof(msg)));
		return err == -ENOMEM ? err : -E2BIG;
	}
	return 0;
}

/* Stable counter slots; new ones zeroed while no image counts into them. */
static int assign_slots(struct cf_push *p, const struct cf_runtime *rt)
{
	uint32_t *fresh = calloc(CF_CLASS_MAX, sizeof(*fresh));
	int err;

	if (!fresh)
		return -ENOMEM;
	err = cf_slots_assign(p->img.w, p->have_live ? p->live.w : NULL,
			      fresh, &p->n_fresh);
	for (size_t i = 0; !err && i < p->n_fresh; i++)
		err = cf_counter_zero(rt->map[CF_MAP_COUNTERS], fresh[i]);
	if (err)
		pr_err("cannot prepare the counters: %s", strerror(-err));
	free(fresh);
	return err;
}

int cf_push_commit(struct cf_push *p, const struct cf_runtime *rt)
{
	int fd = -1, err;
	double t0;

	err = open_live(p, rt->map[CF_MAP_POLICY]);
	err = err ?: cf_image_shape(p->have_live ? &p->live : NULL, &p->shape);
	if (err)
		return err;
	if (p->want_capacity && p->want_capacity != cf_shape_words(&p->shape)) {
		/* the verifier inlined lookups for the template's size */
		pr_err("--capacity %zu: the loaded datapath takes images of exactly %zu words",
		       p->want_capacity, cf_shape_words(&p->shape));
		return -EINVAL;
	}
	p->generation = next_generation(p);
	err = build(p, cf_shape_words(&p->shape)) ?: assign_slots(p, rt);
	if (err)
		return err;
	fd = cf_image_create(&p->shape, &p->img);
	if (fd < 0)
		return fd;
	t0 = cf_now_ms();
	err = cf_image_install(rt->map[CF_MAP_POLICY], fd);
	p->switch_ms = cf_now_ms() - t0;
	p->switched = !err;
	close(fd); /* cf_policy holds the image now */
	return err;
}

int cf_push_rollback(struct cf_push *p, const struct cf_runtime *rt)
{
	int err;

	if (!p->switched)
		return 0;
	err = cf_image_install(rt->map[CF_MAP_POLICY],
			       p->have_live ? p->live.fd : -1);
	p->switched = err != 0; /* p's image is still the live one */
	return err;
}

static void report_json(const struct cf_push *p, bool dry_run)
{
	struct json_writer *jw = cf_json();
	char hex[65];

	cf_digest_hex(p->src.comp->digest, hex);
	jw_string_field(jw, "policy", p->src.path);
	jw_bool_field(jw, "artifact", p->src.artifact != NULL);
	jw_bool_field(jw, "dry_run", dry_run);
	jw_uint_field(jw, "generation", p->generation);
	jw_string_field(jw, "digest", hex);
	jw_uint_field(jw, "classes", p->src.comp->n_classes);
	jw_uint_field(jw, "v4_ranges", p->src.comp->v4.n);
	jw_uint_field(jw, "v6_ranges", p->src.comp->v6.n);
	cf_source_json_embedded(&p->src);
	jw_uint_field(jw, "image_words", p->img.n_words);
	jw_uint_field(jw, "capacity", p->img.capacity);
	if (!dry_run)
		jw_uint_field(jw, "new_counter_slots", p->n_fresh);
	if (p->src.dbs) /* the layered records: read, or mapped from the cache */
		jw_bool_field(jw, "databases_cached", p->src.dbs->map != NULL);
	jw_name(jw, "timing_ms");
	jw_start_object(jw);
	if (p->src.artifact) {
		jw_float_field(jw, "artifact", p->src.artifact_ms);
	} else {
		jw_float_field(jw, "databases", p->src.db_ms);
		jw_float_field(jw, "compile", p->src.compile_ms);
	}
	jw_float_field(jw, "build", p->build_ms);
	if (!dry_run)
		jw_float_field(jw, "switch", p->switch_ms);
	jw_end_object(jw);
}

static void report_text(const struct cf_push *p)
{
	pr_info("pushed %s: generation %" PRIu64
		", %zu classes, %zu IPv4 + %zu IPv6 ranges, %zu of %zu words (%.1f%%)",
		cf_path_name(p->src.path), p->generation, p->src.comp->n_classes,
		p->src.comp->v4.n, p->src.comp->v6.n, p->img.n_words,
		p->img.capacity, 100.0 * p->img.n_words / p->img.capacity);
	if (p->src.artifact)
		pr_debug("timing: artifact %.1f ms, build %.1f ms, switch %.3f ms",
			 p->src.artifact_ms, p->build_ms, p->switch_ms);
	else
		pr_debug("timing: databases %.1f ms (%s), compile %.1f ms, build %.1f ms, switch %.3f ms",
			 p->src.db_ms, p->src.dbs && p->src.dbs->map ?
			 "cached records" : "read", p->src.compile_ms,
			 p->build_ms, p->switch_ms);
}

void cf_push_report(const struct cf_push *p)
{
	if (!cf_g.json) {
		report_text(p);
		return;
	}
	jw_start_object(cf_json());
	report_json(p, false);
	jw_end_object(cf_json());
}

void cf_push_report_json(const struct cf_push *p)
{
	report_json(p, false);
}

/* ---- --dry-run: what would change ------------------------------------ */

enum diff_op { DIFF_ADDED, DIFF_REMOVED, DIFF_CHANGED };

static const char *const diff_names[] = { "added", "removed",
					  "verdict_changed" };

/* Classes of the new policy vs the live image, one op at a time. */
struct differ {
	const struct cf_compiled *c;
	const uint32_t *live;
	struct cf_class_index old_ix, new_ix;
};

static void diff_item(const struct differ *d, enum diff_op op,
		      const struct cf_class_meta *m, uint8_t from)
{
	const char *path = op == DIFF_REMOVED ?
				   cf_image_hdr(d->live)->policy_path :
				   d->c->policy_path;
	static const char sign[] = "+-~";
	char label[384];

	cf_meta_label(m, path, label, sizeof(label));
	if (cf_g.json && op != DIFF_CHANGED) {
		jw_string(cf_json(), label);
	} else if (cf_g.json) {
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "class", label);
		jw_string_field(cf_json(), "from", cf_verdict_str(from));
		jw_string_field(cf_json(), "to", cf_verdict_str(m->verdict));
		jw_end_object(cf_json());
	} else if (op == DIFF_CHANGED) {
		cf_line("  %c %s: was %s", sign[op], label,
			cf_verdict_str(from));
	} else {
		cf_line("  %c %s", sign[op], label);
	}
}

static void diff_walk(const struct differ *d, enum diff_op op)
{
	const struct cf_class_meta *old = cf_image_meta(d->live);
	size_t n_old = cf_image_hdr(d->live)->n_classes;
	long j;

	if (op == DIFF_REMOVED) {
		for (size_t i = 0; i < n_old; i++)
			if (cf_class_index_find(&d->new_ix,
						cf_class_key(&old[i])) < 0)
				diff_item(d, op, &old[i], 0);
		return;
	}
	for (size_t i = 0; i < d->c->n_classes; i++) {
		const struct cf_class_meta *m = &d->c->classes[i];

		j = cf_class_index_find(&d->old_ix, cf_class_key(m));
		if (op == DIFF_ADDED && j < 0)
			diff_item(d, op, m, 0);
		if (op == DIFF_CHANGED && j >= 0 &&
		    old[j].verdict != m->verdict)
			diff_item(d, op, m, old[j].verdict);
	}
}

/*
 * The live image's digest, read back from its tables (image.h), in hex;
 * false (and hex "") when they cannot be: then it matches nothing.
 */
static bool live_hex(const struct cf_live_image *li, char hex[65])
{
	uint8_t d[32];
	char why[700];

	hex[0] = '\0';
	if (cf_live_digest(li, d, why, sizeof(why))) {
		pr_warn("%s", why);
		return false;
	}
	cf_digest_hex(d, hex);
	return true;
}

static bool live_changed(const struct cf_push *p, const char *live)
{
	char hex[65];

	cf_digest_hex(p->src.comp->digest, hex);
	return strcmp(hex, live) != 0;
}

static void live_json(const struct cf_push *p)
{
	const struct cf_image_hdr *h = cf_image_hdr(p->live.w);
	struct json_writer *jw = cf_json();
	char hex[65];
	bool known = live_hex(&p->live, hex);

	jw_name(jw, "live");
	jw_start_object(jw);
	jw_uint_field(jw, "generation", h->generation);
	jw_name(jw, "digest");
	if (known)
		jw_string(jw, hex);
	else
		jw_null(jw);
	jw_uint_field(jw, "classes", h->n_classes);
	jw_uint_field(jw, "v4_ranges", h->v4_ranges);
	jw_uint_field(jw, "v6_ranges", h->v6_ranges);
	jw_uint_field(jw, "image_words", h->n_words);
	jw_end_object(jw);
	jw_bool_field(jw, "changed", live_changed(p, hex));
}

static void live_text(const struct cf_push *p)
{
	const struct cf_image_hdr *h = cf_image_hdr(p->live.w);
	char hex[65];

	if (!live_hex(&p->live, hex))
		snprintf(hex, sizeof(hex), "unknown");
	printf("  live: generation %" PRIu64
	       ", %u classes, %u IPv4 + %u IPv6 ranges, digest %.16s\n",
	       (uint64_t)h->generation, h->n_classes, h->v4_ranges,
	       h->v6_ranges, hex);
	if (!live_changed(p, hex))
		printf("  no change: the live image has the same digest\n");
}

static void dry_text(const struct cf_push *p)
{
	char hex[65];

	cf_digest_hex(p->src.comp->digest, hex);
	cf_line("dry run of %s (nothing applied):", cf_path_name(p->src.path));
	printf("  would be generation %" PRIu64
	       ", %zu classes, %zu IPv4 + %zu IPv6 ranges, %zu of %zu words (%.1f%%), digest %.16s\n",
	       p->generation, p->src.comp->n_classes, p->src.comp->v4.n,
	       p->src.comp->v6.n, p->img.n_words, p->img.capacity,
	       100.0 * p->img.n_words / p->img.capacity, hex);
	if (p->have_live)
		live_text(p);
	else
		printf("  no live image to compare with\n");
}

static int dry_diff(const struct cf_push *p)
{
	struct differ d = { .c = p->src.comp, .live = p->live.w };
	int err;

	err = cf_class_index_build(cf_image_meta(d.live),
				   cf_image_hdr(d.live)->n_classes, &d.old_ix);
	err = err ?: cf_class_index_build(d.c->classes, d.c->n_classes,
					  &d.new_ix);
	for (int op = DIFF_ADDED; !err && op <= DIFF_CHANGED; op++) {
		if (cf_g.json) {
			jw_name(cf_json(), diff_names[op]);
			jw_start_array(cf_json());
		}
		diff_walk(&d, (enum diff_op)op);
		if (cf_g.json)
			jw_end_array(cf_json());
	}
	cf_class_index_free(&d.old_ix);
	cf_class_index_free(&d.new_ix);
	return err;
}

static int dry_report(const struct cf_push *p)
{
	int err = 0;

	if (!cf_g.json) {
		dry_text(p);
		return p->have_live ? dry_diff(p) : 0;
	}
	jw_start_object(cf_json());
	report_json(p, true);
	if (p->have_live) {
		live_json(p);
		err = dry_diff(p);
	}
	jw_end_object(cf_json());
	return err;
}

/* Compile and build as push would, compare with the live image. */
static int dry_run(struct cf_push *p, unsigned long capacity)
{
	struct cf_map_shape shape;
	struct cf_runtime rt;
	int err;

	err = cf_runtime_open(&rt, CF_RT_QUIET);
	if (!err) {
		err = open_live(p, rt.map[CF_MAP_POLICY]);
		cf_runtime_close(&rt);
	} else if (err == -ENOENT) {
		err = 0;
	}
	if (!err && !capacity) {
		err = cf_image_shape(p->have_live ? &p->live : NULL, &shape);
		capacity = cf_shape_words(&shape);
	}
	if (err)
		return err;
	p->generation = next_generation(p);
	return build(p, capacity) ?: dry_report(p);
}

/* ---- the command ------------------------------------------------------ */

struct push_args {
	const char *path;
	bool dry_run;
	unsigned long capacity;
};

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct push_args *a)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "capacity", required_argument, NULL, 'c' },
		CF_COMMON_LONGOPTS,
		{},
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "nc:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'n') {
			a->dry_run = true;
		} else if (c == 'c') {
			if (cf_parse_ulong("--capacity", optarg, CF_ENT_BASE_MASK,
					   &a->capacity))
				return CF_EXIT_USAGE;
		} else if ((ret = cf_common_opt(c, &cf_cmd_push)) >= 0) {
			return ret;
		}
	}
	if (argc - optind > 1) {
		cf_cmd_usage(&cf_cmd_push, true);
		return CF_EXIT_USAGE;
	}
	a->path = optind < argc ? argv[optind] : CF_POLICY_DEFAULT;
	return -1;
}

static int push(struct cf_push *p)
{
	struct cf_runtime rt;
	int err;

	err = cf_runtime_open(&rt, 0);
	if (err)
		return err;
	err = cf_apply(p, &rt, NULL);
	cf_runtime_close(&rt);
	return err;
}

int do_push(int argc, char **argv)
{
	struct push_args a = {};
	struct cf_push p;
	int err;

	err = parse_args(argc, argv, &a);
	if (err >= 0)
		return err;
	err = cf_push_prepare(&p, a.path);
	if (!err && a.dry_run) {
		err = dry_run(&p, a.capacity);
	} else if (!err) {
		p.want_capacity = a.capacity;
		err = push(&p);
		if (!err)
			cf_push_report(&p);
	}
	cf_push_free(&p);
	return cf_exit_for(err);
}

const struct cf_cmd cf_cmd_push = {
	.name = "push",
	.run = do_push,
	.summary = "compile a policy and switch the datapath to it atomically",
	.args = "[FILE|-] [--dry-run] [--capacity WORDS]",
	.options =
		"  FILE              the policy (default " CF_POLICY_DEFAULT "; - reads stdin),\n"
		"                    or an artifact from `camfence compile`\n"
		"  -n, --dry-run     compile and show what would change; apply nothing\n"
		"  -c, --capacity N  image size in words (must match the datapath's)\n",
};
