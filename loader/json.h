/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * json.h - a small streaming JSON writer (bpftool's json_writer in spirit).
 *
 * The writer tracks nesting and commas; names are given with jw_name()
 * before a value inside an object.  Each top-level value ends with a
 * newline, so a stream of events is one object per line.
 */
#ifndef CF_JSON_H
#define CF_JSON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_writer;

struct json_writer *jw_new(FILE *f, bool pretty);
void jw_destroy(struct json_writer **jw);

void jw_start_object(struct json_writer *jw);
void jw_end_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);

void jw_name(struct json_writer *jw, const char *name);
void jw_string(struct json_writer *jw, const char *s);
void jw_printf(struct json_writer *jw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void jw_uint(struct json_writer *jw, uint64_t v);
void jw_int(struct json_writer *jw, int64_t v);
void jw_float(struct json_writer *jw, double v);
void jw_bool(struct json_writer *jw, bool v);
void jw_null(struct json_writer *jw);

/* name + value in one call. */
void jw_string_field(struct json_writer *jw, const char *name, const char *s);
void jw_uint_field(struct json_writer *jw, const char *name, uint64_t v);
void jw_int_field(struct json_writer *jw, const char *name, int64_t v);
void jw_float_field(struct json_writer *jw, const char *name, double v);
void jw_bool_field(struct json_writer *jw, const char *name, bool v);
void jw_printf_field(struct json_writer *jw, const char *name,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The writer of this run's output (stdout). */
struct json_writer *cf_json(void);

/* {"error": "<message>"} on stdout, as one document. */
void json_print_error(const char *fmt, va_list ap);

#endif /* CF_JSON_H */
