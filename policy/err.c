// SPDX-License-Identifier: GPL-2.0-only
/*
 * err.c - one error, with where it happened.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"

int cf_err_set(struct cf_err *e, int errnum, const char *file, unsigned line,
	       unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		/* snprintf rather than strncpy: always terminated. */
		snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
		e->line = line;
		e->col = line ? col : 0;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

const char *cf_err_str(const struct cf_err *e, char *buf, unsigned len)
{
	if (!len)
		return buf;
	if (!e->file[0])
		snprintf(buf, len, "%s", e->msg);
	else if (!e->line)
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	else if (!e->col)
		snprintf(buf, len, "%s:%u: %s", e->file, e->line, e->msg);
	else
		snprintf(buf, len, "%s:%u:%u: %s", e->file, e->line, e->col,
			 e->msg);
	return buf;
}
