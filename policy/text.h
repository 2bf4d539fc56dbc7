/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * text.h - showing text camfence did not write (AS names, paths, lines
 * of files, interface names) on a terminal or in a log.
 *
 * A database, an artifact or the network can put bytes in that text that
 * a terminal acts on (ESC and CSI sequences, C1 controls such as U+009B),
 * that start a new log line, or that turn the line around (bidirectional
 * overrides).  Here is the one rule for all text output: valid UTF-8 is
 * kept as it is, and a control character or a byte that is not part of
 * valid UTF-8 is shown as \xNN, each of its bytes.  In the policy library
 * because every binary and every test links it.
 */
#ifndef CF_TEXT_H
#define CF_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The UTF-8 character at s, of at most n bytes: its length (1-4) and code
 * point, or 0 when the bytes there are not UTF-8 (a stray continuation
 * byte, an overlong form, a surrogate, past U+10FFFF, or cut short).
 */
size_t cf_utf8_char(const char *s, size_t n, uint32_t *cp);

/*
 * Code points a terminal or a log viewer acts on instead of showing: C0
 * (U+0000-U+001F), DEL, C1 (U+0080-U+009F), the line and paragraph
 * separators U+2028/U+2029 and the bidirectional embeddings, overrides
 * and isolates (U+202A-U+202E, U+2066-U+2069).
 */
static inline bool cf_text_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Room for any s of n bytes escaped: each byte may become \xNN. */
#define CF_TEXT_ESC_LEN(n) (4 * (n) + 1)

/*
 * s as it may be shown, into buf (len bytes with the NUL; cut short at a
 * character, never inside an escape): controls and bytes that are not
 * UTF-8 become \xNN per byte; the rest, backslashes included, stays, so
 * escaping escaped text changes nothing.  NULL shows as "".  Returns buf.
 */
char *cf_text_escape(const char *s, char *buf, size_t len);

/* True when cf_text_escape would return s unchanged. */
bool cf_text_clean(const char *s);

#endif /* CF_TEXT_H */
