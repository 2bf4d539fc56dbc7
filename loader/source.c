// SPDX-License-Identifier: GPL-2.0-only
/*
 * source.c - read, parse and compile a policy, or decode an artifact.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "artifact.h"
#include "cache.h"
#include "json.h"
#include "log.h"
#include "main.h"
#include "source.h"
#include "state.h"

/* The parser refuses more than 16 MiB; one byte over lets it say so. */
#define TEXT_MAX (16u * 1024 * 1024 + 1)

double cf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int report(struct cf_source *s, const struct cf_err *e, int err)
{
	cf_err_str(e, s->msg, sizeof(s->msg));
	if (!s->quiet)
		pr_err("%s", s->msg);
	return err == -ENOMEM ? err : -EINVAL;
}

/* Text stops at TEXT_MAX; an artifact is read whole, up to its limit. */
static size_t read_limit(const char *buf, size_t n)
{
	return cf_artifact_sniff(buf, n) ? CF_ARTIFACT_MAX : TEXT_MAX;
}

/* Binary-safe: an artifact holds NUL bytes. */
static int read_stream(FILE *f, char **text, size_t *len)
{
	size_t n = 0, cap = 0, want, got;
	char *buf = NULL, *nb;

	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 64 * 1024;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		want = cap - n;
		if (want > read_limit(buf, n) - n)
			want = read_limit(buf, n) - n;
		got = fread(buf + n, 1, want, f);
		n += got;
	} while (got && n < read_limit(buf, n));
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*text = buf;
	*len = n;
	return 0;
}

static int read_text(const char *path, char **text, size_t *len)
{
	bool std_in = !strcmp(path, "-");
	FILE *f = std_in ? stdin : fopen(path, "re");
	int err;

	if (!f) {
		err = -errno;
		pr_err("%s: cannot open: %s", path, strerror(-err));
		return err == -ENOMEM ? err : -EINVAL;
	}
	err = read_stream(f, text, len);
	if (!std_in)
		fclose(f);
	if (err)
		pr_err("%s: cannot read: %s", std_in ? "<stdin>" : path,
		       strerror(-err));
	return err;
}

/* Decision of policy.h: no database line means the embedded default. */
static int add_default_db(struct cf_policy *p)
{
	p->dbs = calloc(1, sizeof(*p->dbs));
	if (!p->dbs)
		return -ENOMEM;
	p->dbs[0].format = CF_DB_AUTO;
	p->dbs[0].path = strdup(cf_default_database());
	if (!p->dbs[0].path)
		return -ENOMEM;
	p->n_dbs = 1;
	return 0;
}

/* Its database lines name files of the machine that compiled it. */
static void drop_dbs(struct cf_policy *p)
{
	for (size_t i = 0; i < p->n_dbs; i++)
		free(p->dbs[i].path);
	free(p->dbs);
	p->dbs = NULL;
	p->n_dbs = 0;
}

/*
 * Compiled elsewhere: checked and decoded, nothing else.  The rules are
 * parsed again from the text it carries, for lookup's explanations.
 */
static int parse_artifact(struct cf_source *s, char *buf, size_t len)
{
	struct cf_compiled *c = NULL;
	struct cf_err e = {};
	double t0 = cf_now_ms();
	int err;

	s->artifact = buf;
	s->artifact_len = len;
	err = cf_artifact_read(buf, len, cf_path_name(s->path), &c, &s->text,
			       &s->len, NULL, &e);
	if (!err)
		err = cf_policy_parse(s->text, s->len, c->policy_path, &s->pol,
				      &e);
	if (!err)
		drop_dbs(s->pol);
	s->comp = c;
	s->artifact_ms = cf_now_ms() - t0;
	return err ? report(s, &e, err) : 0;
}

int cf_source_parse(struct cf_source *s, char *text, size_t len,
		    const char *path)
{
	struct cf_err e = {};
	int err;

	snprintf(s->path, sizeof(s->path), "%s", path);
	if (cf_artifact_sniff(text, len))
		return parse_artifact(s, text, len);
	s->text = text;
	s->len = len;
	err = cf_policy_parse(text, len, path, &s->pol, &e);
	if (err)
		return report(s, &e, err);
	if (!s->pol->n_dbs)
		err = add_default_db(s->pol);
	return err;
}

int cf_source_read(struct cf_source *s, const char *path)
{
	char *text;
	size_t len;
	int err;

	memset(s, 0, sizeof(*s));
	err = read_text(path, &text, &len);
	return err ?: cf_source_parse(s, text, len, path);
}

/* What push saved: policy text or an artifact, so binary-safe.  Opened
 * as state files are (state.h): not through a link, not a FIFO. */
static int read_saved(char **text, size_t *len)
{
	FILE *f;
	int err;

	err = cf_state_fopen("policy.conf", &f);
	if (err)
		return err;
	err = read_stream(f, text, len);
	fclose(f);
	return err;
}

int cf_source_active(struct cf_source *s, bool quiet)
{
	struct cf_active a;
	char *text;
	size_t len;
	int err;

	memset(s, 0, sizeof(*s));
	s->quiet = quiet;
	err = read_saved(&text, &len);
	if (err) {
		snprintf(s->msg, sizeof(s->msg),
			 "cannot read %s/policy.conf: %s", cf_g.state_dir,
			 cf_state_strerror(err));
		/* -ENOENT: no push yet, the caller falls back */
		if (!quiet && err != -ENOENT)
			pr_err("%s", s->msg);
		return err;
	}
	/* parse as the original file, so relative database paths hold */
	if (cf_active_read(&a) || !a.path[0] || !strcmp(a.path, "-"))
		cf_state_path(a.path, sizeof(a.path), "policy.conf");
	return cf_source_parse(s, text, len, a.path);
}

int cf_source_load_dbs(struct cf_source *s)
{
	struct cf_err e = {};
	double t0 = cf_now_ms();
	int err;

	if (s->artifact) {
		snprintf(s->msg, sizeof(s->msg),
			 "%.900s: databases not available (a compiled artifact)",
			 cf_path_name(s->path));
		return -ENOENT;
	}
	cf_cache_setup();
	err = cf_dbset_load(s->pol, &s->dbs, &e);
	s->db_ms = cf_now_ms() - t0;
	for (size_t i = 0; !err && i < s->dbs->n; i++) /* libloc signatures */
		if (cf_db_verify_note(s->dbs->db[i]))
			pr_debug("%s: %s", cf_db_path(s->dbs->db[i]),
				 cf_db_verify_note(s->dbs->db[i]));
	return err ? report(s, &e, err) : 0;
}

int cf_source_compile(struct cf_source *s)
{
	struct cf_err e = {};
	double t0 = cf_now_ms();
	int err;

	if (s->artifact)
		return 0;
	err = cf_compile(s->pol, s->dbs, &s->comp, &e);
	s->compile_ms = cf_now_ms() - t0;
	if (err)
		return report(s, &e, err);
	if (s->comp->n_embedded_v6 && !s->quiet)
		pr_info("note: %zu IPv6 database range%s in 64:ff9b::/96, 2002::/16 or ::ffff:0:0/96 left out: the datapath judges those addresses by the IPv4 address inside",
			s->comp->n_embedded_v6,
			s->comp->n_embedded_v6 == 1 ? "" : "s");
	return 0;
}

void cf_source_json_embedded(const struct cf_source *s)
{
	struct json_writer *jw = cf_json();

	jw_name(jw, "embedded_v6_left_out");
	if (s->artifact || !s->comp)
		jw_null(jw); /* an artifact does not record it */
	else
		jw_uint(jw, s->comp->n_embedded_v6);
}

void cf_source_free(struct cf_source *s)
{
	cf_compiled_free(s->comp);
	cf_dbset_free(s->dbs);
	cf_policy_free(s->pol);
	free(s->text);
	free(s->artifact);
	memset(s, 0, sizeof(*s));
}
