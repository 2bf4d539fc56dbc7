// SPDX-License-Identifier: GPL-2.0-only
/*
 * json.c - a small streaming JSON writer.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "main.h"
#include "text.h"

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no element yet at this depth */
	bool after_name;	  /* the value completes a "name": pair */
};

/* -j may come after the command name, so the writer is set up on demand. */
struct json_writer *cf_json(void)
{
	static struct json_writer out;

	if (!out.f) {
		out.f = stdout;
		out.pretty = cf_g.pretty;
		out.first[0] = true;
	}
	return &out;
}

struct json_writer *jw_new(FILE *f, bool pretty)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->f = f;
	jw->pretty = pretty;
	jw->first[0] = true;
	return jw;
}

void jw_destroy(struct json_writer **jw)
{
	if (!*jw)
		return;
	fflush((*jw)->f);
	free(*jw);
	*jw = NULL;
}

static void jw_indent(struct json_writer *jw)
{
	if (!jw->pretty)
		return;
	fputc('\n', jw->f);
	for (int i = 0; i < jw->depth; i++)
		fputs("    ", jw->f);
}

/* Separator before a new element (or nothing after "name":). */
static void jw_elem(struct json_writer *jw)
{
	if (jw->after_name) {
		jw->after_name = false;
		return;
	}
	if (jw->depth && !jw->first[jw->depth])
		fputc(',', jw->f);
	jw->first[jw->depth] = false;
	if (jw->depth)
		jw_indent(jw);
}

/* A top-level value is complete: one document per line. */
static void jw_value_done(struct json_writer *jw)
{
	if (!jw->depth) {
		fputc('\n', jw->f);
		fflush(jw->f);
	}
}

static void jw_open(struct json_writer *jw, char c)
{
	jw_elem(jw);
	fputc(c, jw->f);
	if (jw->depth + 1 < JW_MAX_DEPTH)
		jw->depth++;
	jw->first[jw->depth] = true;
}

static void jw_close(struct json_writer *jw, char c)
{
	bool empty = jw->first[jw->depth];

	if (jw->depth)
		jw->depth--;
	if (!empty)
		jw_indent(jw);
	fputc(c, jw->f);
	jw_value_done(jw);
}

void jw_start_object(struct json_writer *jw)
{
	jw_open(jw, '{');
}

void jw_end_object(struct json_writer *jw)
{
	jw_close(jw, '}');
}

void jw_start_array(struct json_writer *jw)
{
	jw_open(jw, '[');
}

void jw_end_array(struct json_writer *jw)
{
	jw_close(jw, ']');
}

/*
 * JSON is UTF-8 (RFC 8259): a byte that is not part of valid UTF-8 (an AS
 * name in Latin-1, a damaged file) becomes U+FFFD, so the document stays
 * valid.  Controls are escaped, C1 and the characters that reorder or
 * break lines too, so the raw output is as safe on a terminal as text.
 */
static void jw_char(struct json_writer *jw, const char *s, size_t k,
		    uint32_t cp)
{
	switch (cp) {
	case '"':  fputs("\\\"", jw->f); break;
	case '\\': fputs("\\\\", jw->f); break;
	case '\n': fputs("\\n", jw->f); break;
	case '\r': fputs("\\r", jw->f); break;
	case '\t': fputs("\\t", jw->f); break;
	case '\b': fputs("\\b", jw->f); break;
	case '\f': fputs("\\f", jw->f); break;
	default:
		if (cf_text_control(cp))
			fprintf(jw->f, "\\u%04x", cp);
		else
			fwrite(s, 1, k, jw->f);
	}
}

static void jw_quoted(struct json_writer *jw, const char *s)
{
	size_t n = strlen(s), k;
	uint32_t cp;

	fputc('"', jw->f);
	for (size_t i = 0; i < n; i += k) {
		k = cf_utf8_char(s + i, n - i, &cp);
		if (k) {
			jw_char(jw, s + i, k, cp);
		} else {
			fputs("\\ufffd", jw->f);
			k = 1;
		}
	}
	fputc('"', jw->f);
}

void jw_name(struct json_writer *jw, const char *name)
{
	jw_elem(jw);
	jw_quoted(jw, name);
	fputs(jw->pretty ? ": " : ":", jw->f);
	jw->after_name = true;
}

void jw_string(struct json_writer *jw, const char *s)
{
	jw_elem(jw);
	if (s)
		jw_quoted(jw, s);
	else
		fputs("null", jw->f);
	jw_value_done(jw);
}

void jw_printf(struct json_writer *jw, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jw_string(jw, buf);
}

void jw_uint(struct json_writer *jw, uint64_t v)
{
	jw_elem(jw);
	fprintf(jw->f, "%" PRIu64, v);
	jw_value_done(jw);
}

void jw_int(struct json_writer *jw, int64_t v)
{
	jw_elem(jw);
	fprintf(jw->f, "%" PRId64, v);
	jw_value_done(jw);
}

void jw_float(struct json_writer *jw, double v)
{
	jw_elem(jw);
	if (isfinite(v))
		fprintf(jw->f, "%.3f", v);
	else
		fputs("null", jw->f); /* JSON has no NaN or infinity */
	jw_value_done(jw);
}

void jw_bool(struct json_writer *jw, bool v)
{
	jw_elem(jw);
	fputs(v ? "true" : "false", jw->f);
	jw_value_done(jw);
}

void jw_null(struct json_writer *jw)
{
	jw_elem(jw);
	fputs("null", jw->f);
	jw_value_done(jw);
}

void jw_string_field(struct json_writer *jw, const char *name, const char *s)
{
	jw_name(jw, name);
	jw_string(jw, s);
}

void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v)
{
	jw_name(jw, name);
	jw_uint(jw, v);
}

void jw_int_field(struct json_writer *jw, const char *name, int64_t v)
{
	jw_name(jw, name);
	jw_int(jw, v);
}

void jw_float_field(struct json_writer *jw, const char *name, double v)
{
	jw_name(jw, name);
	jw_float(jw, v);
}

void jw_bool_field(struct json_writer *jw, const char *name, bool v)
{
	jw_name(jw, name);
	jw_bool(jw, v);
}

void jw_printf_field(struct json_writer *jw, const char *name,
		     const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jw_string_field(jw, name, buf);
}

void json_print_error(const char *fmt, va_list ap)
{
	struct json_writer *jw = jw_new(stdout, cf_g.pretty);
	char msg[1024];

	if (!jw)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	jw_start_object(jw);
	jw_string_field(jw, "error", msg);
	jw_end_object(jw);
	jw_destroy(&jw);
}
