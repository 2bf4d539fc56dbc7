/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * err.h - one error, with where it happened.
 *
 * Everything in policy/ that can fail on operator input fills a cf_err and
 * returns a negative errno.  The message reads "file:line:column: what" for
 * policy and CSV input, "database: why" for whole-file problems.
 */
#ifndef CF_ERR_H
#define CF_ERR_H

#include <stdarg.h>

struct cf_err {
	char msg[512];
	char file[256]; /* "" when not tied to a file */
	unsigned line;	/* 0 when not tied to a line */
	unsigned col;	/* 1-based, 0 when unknown */
};

/* Set *e (if non-NULL) and return -errnum (errnum is a positive errno). */
int cf_err_set(struct cf_err *e, int errnum, const char *file, unsigned line,
	       unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* "file:line:col: msg", "file: msg" or "msg" into buf. */
const char *cf_err_str(const struct cf_err *e, char *buf, unsigned len);

#endif /* CF_ERR_H */
