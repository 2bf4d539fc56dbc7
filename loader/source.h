/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * source.h - a policy from its text to compiled classes, in stages.
 *
 * push needs all of it; events only the databases (to attribute remote
 * addresses); lookup all of it to explain a verdict.  The text is kept so
 * push can save exactly what it installed.
 *
 * An artifact (`camfence compile`, recognised by its magic) arrives
 * compiled: reading it gives comp, the policy's text and its rules at
 * once, and there are no databases to load.
 */
#ifndef CF_SOURCE_H
#define CF_SOURCE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "compile.h"
#include "policy.h"

struct cf_source {
	char path[PATH_MAX]; /* as given; "-" for standard input */
	char *text;
	size_t len;
	struct cf_policy *pol;
	struct cf_dbset *dbs;
	struct cf_compiled *comp;
	double db_ms;	   /* reading the databases */
	double compile_ms;
	void *artifact;	   /* the artifact's bytes, NULL for policy text */
	size_t artifact_len;
	double artifact_ms; /* checking and decoding the artifact */
	bool quiet;	   /* keep errors in msg instead of printing them */
	char msg[1024];	   /* the last error */
};

/*
 * Read and parse a policy file ("-": standard input).  A policy without a
 * database line gets cf_default_database().  Errors print file:line:col
 * and return -EINVAL (bad input) or another negative errno.
 */
int cf_source_read(struct cf_source *s, const char *path);

/*
 * Parse text as if read from path (relative database paths resolve
 * against path's directory), or decode it when it is an artifact.  Takes
 * ownership of text.
 */
int cf_source_parse(struct cf_source *s, char *text, size_t len,
		    const char *path);

/* The policy last pushed, from the state directory; -ENOENT if none. */
int cf_source_active(struct cf_source *s, bool quiet);

/* -ENOENT for an artifact: it carries no databases. */
int cf_source_load_dbs(struct cf_source *s);
/* Nothing to do for an artifact. */
int cf_source_compile(struct cf_source *s);
void cf_source_free(struct cf_source *s);

/*
 * The JSON field "embedded_v6_left_out": how many IPv6 database ranges
 * cf_source_compile left out (wholly or in part) because they lie in
 * 64:ff9b::/96, 2002::/16 or ::ffff:0:0/96, as its note says in text
 * mode; null for an artifact, which does not record it.
 */
void cf_source_json_embedded(const struct cf_source *s);

/* How to name a policy path to the operator: "-" is standard input. */
static inline const char *cf_path_name(const char *path)
{
	return path[0] == '-' && !path[1] ? "<stdin>" : path;
}

/* Milliseconds on CLOCK_MONOTONIC, for the timings push reports. */
double cf_now_ms(void);

#endif /* CF_SOURCE_H */
