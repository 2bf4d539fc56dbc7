// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_text.c - the escaping rules of the Prometheus text format.
 *
 * Kept apart from the rest of metrics so the unit tests can include it
 * whole: it needs nothing but stdio and the policy library.  Label values
 * escape backslash, double quote and newline; HELP text escapes backslash
 * and newline only.  The format wants UTF-8 and has no escape for other
 * bytes: a label value (a policy path from an artifact, say) shows its
 * other controls and its bytes that are not UTF-8 as the text \xNN, as
 * text output does (policy/text.h), or one bad byte would fail the scrape.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "text.h"

/* Bytes as the text \xNN, its backslash escaped for the format. */
static void hex_bytes(FILE *f, const char *s, size_t k)
{
	for (size_t j = 0; j < k; j++)
		fprintf(f, "\\\\x%02x", (unsigned char)s[j]);
}

static void escape(FILE *f, const char *s, bool quote)
{
	size_t n = s ? strlen(s) : 0, k;

	for (size_t i = 0; i < n; i += k) {
		uint32_t cp = 0;

		k = cf_utf8_char(s + i, n - i, &cp);
		if (!k) {
			hex_bytes(f, s + i, 1); /* not UTF-8: the byte alone */
			k = 1;
		} else if (cp == '\\') {
			fputs("\\\\", f);
		} else if (cp == '\n') {
			fputs("\\n", f);
		} else if (cp == '"' && quote) {
			fputs("\\\"", f);
		} else if (cf_text_control(cp)) {
			hex_bytes(f, s + i, k);
		} else {
			fwrite(s + i, 1, k, f);
		}
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
