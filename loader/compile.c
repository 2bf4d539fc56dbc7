// SPDX-License-Identifier: GPL-2.0-only
/*
 * compile.c - `camfence compile POLICY -o FILE`: compile once where the
 * databases are; push the artifact on gateways that have none.
 *
 * Needs neither root nor the datapath: only the policy and its databases.
 * The artifact's digest is the one `status` shows once it is pushed, so a
 * fleet can be checked against it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "artifact.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "main.h"
#include "source.h"
#include "state.h"

struct compile_args {
	const char *policy;
	const char *out; /* NULL: check and report only; "-": stdout */
};

struct result {
	struct cf_source src;
	void *buf; /* the artifact written, when compiled here */
	size_t len;
	double write_ms;
};

static const char *out_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdout>";
}

/* Beside the target, then renamed: a reader never sees half a file.
 * The mode any new file would get. */
static int save_file(const char *path, const void *buf, size_t len)
{
	mode_t mask = umask(0);

	umask(mask);
	return cf_replace_file(path, buf, len, 0666 & ~mask);
}

static int save(const char *path, const void *buf, size_t len)
{
	int err;

	if (!strcmp(path, "-"))
		err = cf_write_all(STDOUT_FILENO, buf, len);
	else
		err = save_file(path, buf, len);
	if (!err)
		return 0;
	pr_err("%s: cannot write: %s", out_name(path), strerror(-err));
	return -EIO; /* a system error, whatever errno said (ENOENT too) */
}

/* Encode, unless the input is an artifact already: then its own bytes. */
static int encode(struct result *r)
{
	struct cf_source *s = &r->src;
	struct cf_err e = {};
	char msg[600];
	int err;

	if (s->artifact) {
		r->len = s->artifact_len;
		return 0;
	}
	err = cf_artifact_write(s->comp, s->text, s->len, time(NULL), &r->buf,
				&r->len, &e);
	if (err)
		pr_err("%s: %s", cf_path_name(s->path),
		       cf_err_str(&e, msg, sizeof(msg)));
	return err == -ENOMEM ? err : err ? -E2BIG : 0;
}

static int compile(const struct compile_args *a, struct result *r)
{
	double t0;
	int err;

	err = cf_source_read(&r->src, a->policy);
	if (!err && !r->src.artifact)
		err = cf_source_load_dbs(&r->src) ?: cf_source_compile(&r->src);
	if (err)
		return err;
	t0 = cf_now_ms();
	err = encode(r);
	if (!err && a->out)
		err = save(a->out, r->buf ? r->buf : r->src.artifact, r->len);
	r->write_ms = cf_now_ms() - t0;
	return err;
}

static void report_json(const struct compile_args *a, const struct result *r)
{
	const struct cf_compiled *c = r->src.comp;
	struct json_writer *jw = cf_json();
	char hex[65];

	cf_digest_hex(c->digest, hex);
	jw_start_object(jw);
	jw_string_field(jw, "policy", r->src.path);
	jw_bool_field(jw, "artifact", r->src.artifact != NULL);
	jw_string_field(jw, "output", a->out);
	jw_string_field(jw, "digest", hex);
	jw_uint_field(jw, "classes", c->n_classes);
	jw_uint_field(jw, "v4_ranges", c->v4.n);
	jw_uint_field(jw, "v6_ranges", c->v6.n);
	cf_source_json_embedded(&r->src);
	jw_uint_field(jw, "bytes", r->len);
	jw_int_field(jw, "db_built_at", (int64_t)c->db_built_at);
	jw_name(jw, "timing_ms");
	jw_start_object(jw);
	if (r->src.artifact) {
		jw_float_field(jw, "artifact", r->src.artifact_ms);
	} else {
		jw_float_field(jw, "databases", r->src.db_ms);
		jw_float_field(jw, "compile", r->src.compile_ms);
	}
	jw_float_field(jw, "write", r->write_ms);
	jw_end_object(jw);
	jw_end_object(jw);
}

static void report_text(const struct compile_args *a, const struct result *r)
{
	const struct cf_compiled *c = r->src.comp;
	const struct cf_source *s = &r->src;
	char hex[65];

	cf_digest_hex(c->digest, hex);
	pr_info("%s %s%s%s: %zu classes, %zu IPv4 + %zu IPv6 ranges, %zu bytes",
		a->out ? "compiled" : "checked", cf_path_name(s->path),
		a->out ? " -> " : "", a->out ? out_name(a->out) : "",
		c->n_classes, c->v4.n, c->v6.n, r->len);
	pr_info("digest %s", hex);
	if (s->artifact)
		pr_info("timing: artifact %.1f ms", s->artifact_ms);
	else
		pr_info("timing: databases %.1f ms, compile %.1f ms, write %.1f ms",
			s->db_ms, s->compile_ms, r->write_ms);
}

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct compile_args *a)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		CF_COMMON_LONGOPTS,
		{},
	};
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'o')
			a->out = optarg;
		else if ((ret = cf_common_opt(c, &cf_cmd_compile)) >= 0)
			return ret;
	}
	if (argc - optind > 1) {
		cf_cmd_usage(&cf_cmd_compile, true);
		return CF_EXIT_USAGE;
	}
	if (a->out && !strcmp(a->out, "-") && cf_g.json) {
		pr_err("compile: -o - writes the artifact to stdout; -j needs -o FILE");
		return CF_EXIT_USAGE;
	}
	a->policy = optind < argc ? argv[optind] : CF_POLICY_DEFAULT;
	return -1;
}

static int do_compile(int argc, char **argv)
{
	struct compile_args a = {};
	struct result r = {};
	int err;

	err = parse_args(argc, argv, &a);
	if (err >= 0)
		return err;
	err = compile(&a, &r);
	if (!err && cf_g.json)
		report_json(&a, &r);
	else if (!err)
		report_text(&a, &r);
	free(r.buf);
	cf_source_free(&r.src);
	return cf_exit_for(err);
}

const struct cf_cmd cf_cmd_compile = {
	.name = "compile",
	.run = do_compile,
	.summary = "compile a policy into an artifact that push loads without databases",
	.args = "[FILE|-] [-o ARTIFACT|-]",
	.options =
		"  FILE               the policy (default " CF_POLICY_DEFAULT "; - reads stdin);\n"
		"                     an artifact is checked and its digest shown\n"
		"  -o, --output FILE  write the artifact there (- for stdout); without\n"
		"                     it, compile and report only\n",
};
