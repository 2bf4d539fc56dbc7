// SPDX-License-Identifier: GPL-2.0-only
/*
 * source.c - read, parse and compile a policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int read_stream(FILE *f, char **text, size_t *len)
{
	char *buf = malloc(TEXT_MAX);

	if (!buf)
		return -ENOMEM;
	*len = fread(buf, 1, TEXT_MAX, f);
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*text = buf;
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

int cf_source_parse(struct cf_source *s, char *text, size_t len,
		    const char *path)
{
	struct cf_err e = {};
	int err;

	snprintf(s->path, sizeof(s->path), "%s", path);
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

int cf_source_active(struct cf_source *s, bool quiet)
{
	struct cf_active a;
	char *text;
	size_t len;
	int err;

	memset(s, 0, sizeof(*s));
	s->quiet = quiet;
	err = cf_state_read("policy.conf", &text, &len);
	if (err) {
		snprintf(s->msg, sizeof(s->msg), "%s/policy.conf: %s",
			 cf_g.state_dir, strerror(-err));
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

	err = cf_dbset_load(s->pol, &s->dbs, &e);
	s->db_ms = cf_now_ms() - t0;
	return err ? report(s, &e, err) : 0;
}

int cf_source_compile(struct cf_source *s)
{
	struct cf_err e = {};
	double t0 = cf_now_ms();
	int err;

	err = cf_compile(s->pol, s->dbs, &s->comp, &e);
	s->compile_ms = cf_now_ms() - t0;
	return err ? report(s, &e, err) : 0;
}

void cf_source_free(struct cf_source *s)
{
	cf_compiled_free(s->comp);
	cf_dbset_free(s->dbs);
	cf_policy_free(s->pol);
	free(s->text);
	memset(s, 0, sizeof(*s));
}
