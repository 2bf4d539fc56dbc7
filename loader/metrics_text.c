// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_text.c - the escaping rules of the Prometheus text format.
 *
 * Kept apart from the rest of metrics so the unit tests can include it
 * whole: it needs nothing but stdio.  Label values escape backslash,
 * double quote and newline; HELP text escapes backslash and newline only.
 */
#include <stdbool.h>
#include <stdio.h>

#include "metrics.h"

static void escape(FILE *f, const char *s, bool quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void cf_prom_label_value(FILE *f, const char *s)
{
	escape(f, s, true);
}

void cf_prom_label(FILE *f, const char *name, const char *value, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	escape(f, value, true);
	fputc('"', f);
}

void cf_prom_family(FILE *f, const char *name, const char *type,
		    const char *help)
{
	fprintf(f, "# HELP %s ", name);
	escape(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}
