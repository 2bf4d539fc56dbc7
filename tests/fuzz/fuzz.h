/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz.h - helpers the libFuzzer harnesses share: a reader that turns the
 * fuzzer's bytes into small numbers, invariant checks that abort() (so
 * libFuzzer saves the input), and line geometry for error positions.
 *
 * The reader never fails: past the end it yields zeros, so every input,
 * however short, decodes to something and the fuzzer wastes no runs.
 */
#ifndef CF_FUZZ_H
#define CF_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t lo = fz_u8(f);

	return (uint16_t)(lo | fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t lo = fz_u16(f);

	return lo | (uint32_t)fz_u16(f) << 16;
}

/* A number below n (n > 0), from as few bytes as n needs. */
static inline uint32_t fz_below(struct fz *f, uint32_t n)
{
	uint32_t v;

	if (n <= 0x100)
		v = fz_u8(f);
	else if (n <= 0x10000)
		v = fz_u16(f);
	else
		v = fz_u32(f);
	return v % n;
}

/* Report a broken invariant and abort, so libFuzzer keeps the input. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FZ_CHECK(cond, ...)                   \
	do {                                  \
		if (!(cond))                  \
			fz_fail(__VA_ARGS__); \
	} while (0)

/* An address for a message; two buffers so one message can show two. */
static inline const char *fz_addr(cf_u128 a, int family)
{
	static char buf[2][CF_ADDR_STRLEN];
	static unsigned next;

	return cf_addr_format(a, family, buf[next++ % 2]);
}

/*
 * Lines as the readers count them: split at '\n', a last line without
 * one still counts, a UTF-8 byte order mark is no part of line 1 and a
 * CR before the '\n' no part of its line.
 */
static inline unsigned fz_count_lines(const uint8_t *d, size_t n)
{
	unsigned lines = 0;
	size_t i;

	for (i = 0; i < n; i++)
		lines += d[i] == '\n';
	return lines + (n && d[n - 1] != '\n');
}

/* Length of line `line` (1-based) as above; 0 when there is none. */
static inline size_t fz_line_len(const uint8_t *d, size_t n, unsigned line)
{
	const uint8_t *p = d, *end = d + n, *nl;
	size_t len;

	if (n >= 3 && !memcmp(d, "\xef\xbb\xbf", 3))
		p += 3;
	for (;;) {
		nl = memchr(p, '\n', end - p);
		if (!--line || !nl)
			break;
		p = nl + 1;
	}
	if (line)
		return 0;
	len = (nl ? nl : end) - p;
	return len && p[len - 1] == '\r' ? len - 1 : len;
}

/*
 * What every error on text input owes the operator: a message, the file
 * it was asked to read, and, when it names a line, a line and a column
 * that exist in the input.  Returns the formatted error for callers that
 * want to print it.
 */
static inline void fz_check_text_err(const struct cf_err *e, const char *file,
				     const uint8_t *d, size_t n)
{
	unsigned lines = fz_count_lines(d, n);
	size_t len;

	FZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) && e->msg[0],
		 "error without a message");
	FZ_CHECK(!strcmp(e->file, file), "error names '%s', not '%s': %s",
		 e->file, file, e->msg);
	if (!e->line)
		return;
	FZ_CHECK(e->line <= lines, "error at line %u of a %u-line input: %s",
		 e->line, lines, e->msg);
	len = fz_line_len(d, n, e->line);
	FZ_CHECK(e->col >= 1 && e->col <= len + 1,
		 "error at %u:%u, the line has %zu bytes: %s", e->line, e->col,
		 len, e->msg);
}

#endif /* CF_FUZZ_H */
