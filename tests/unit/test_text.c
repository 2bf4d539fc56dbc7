// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_text.c - text from databases, files and the network as camfence
 * shows it (policy/text.c): controls (C0, DEL, C1 as UTF-8, the raw C1
 * bytes) and bytes that are not UTF-8 become \xNN, real UTF-8 stays.  And
 * the JSON writer (loader/json.c, included whole): valid UTF-8 out,
 * whatever the bytes in.  Octal escapes where a hex one would run on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

#include "../loader/json.c"

struct cf_global cf_g; /* json.c's cf_json() reads it */

/* AS59265's name in Debian's packaged location.db (2022-10-29): an en
 * dash encoded twice, leaving U+0080 and U+0093 (C1) in it. */
#define AS59265 \
	"China telecom \xc3\xa2\xc2\x80\xc2\x93 China Next Generation Internet"

static void shows(const char *in, const char *want)
{
	char out[CF_TEXT_ESC_LEN(256)], again[CF_TEXT_ESC_LEN(1024)];

	assert_true(strlen(in) <= 256);
	assert_ptr_equal(cf_text_escape(in, out, sizeof(out)), out);
	assert_string_equal(out, want);
	/* shown text shows as it is: escaping is idempotent */
	assert_string_equal(cf_text_escape(out, again, sizeof(again)), out);
	assert_true(cf_text_clean(out));
	assert_int_equal(cf_text_clean(in), !strcmp(in, want));
}

static void test_plain_kept(void **state)
{
	(void)state;
	shows("", "");
	shows("AS64500 EXAMPLE-NET, a \"name\" with \\ and ~",
	      "AS64500 EXAMPLE-NET, a \"name\" with \\ and ~");
	shows("\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", /* Москва */
	      "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0");
	shows("Z\xc3\xbcrich \xc2\xa0\xe2\x80\x93 \xf0\x9f\x93\xb7", /* ü NBSP – 📷 */
	      "Z\xc3\xbcrich \xc2\xa0\xe2\x80\x93 \xf0\x9f\x93\xb7");
	shows("\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
	assert_true(cf_text_clean(NULL));
}

static void test_c0_del(void **state)
{
	(void)state;
	shows("a\x1b[31mred\x1b[0m", "a\\x1b[31mred\\x1b[0m");
	shows("one\nDec  4 12:00:00 gw camfence: forged",
	      "one\\x0aDec  4 12:00:00 gw camfence: forged");
	shows("\t\r\x01\x1f\x7f", "\\x09\\x0d\\x01\\x1f\\x7f");
}

/* C1 as UTF-8 (U+0080-U+009F): both bytes shown; U+00A0 is text. */
static void test_c1_utf8(void **state)
{
	(void)state;
	shows(AS59265,
	      "China telecom \xc3\xa2\\xc2\\x80\\xc2\\x93 China Next Generation Internet");
	shows("\302\2332J", "\\xc2\\x9b2J"); /* CSI: clear the screen */
	shows("\xc2\x85\xc2\x9f\xc2\xa0", "\\xc2\\x85\\xc2\\x9f\xc2\xa0");
}

/* Raw C1 bytes, Latin-1 text and broken UTF-8: each bad byte alone. */
static void test_not_utf8(void **state)
{
	(void)state;
	shows("\23331m", "\\x9b31m");
	shows("\x80\x9f", "\\x80\\x9f");
	shows("Caf\xe9 M\xfcnchen", "Caf\\xe9 M\\xfcnchen");
	/* overlong forms of LF and CSI may not hide a control */
	shows("\xc0\x8a", "\\xc0\\x8a");
	shows("\xe0\x82\x9b", "\\xe0\\x82\\x9b");
	shows("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
	shows("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
	shows("\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80");
	shows("end \xe2\x82", "end \\xe2\\x82"); /* cut short */
	shows("\342\202A", "\\xe2\\x82A");
}

/* Characters that break a line or turn it around in a viewer. */
static void test_format_controls(void **state)
{
	(void)state;
	shows("a\342\200\250b", "a\\xe2\\x80\\xa8b"); /* U+2028 */
	shows("deny\342\200\256wolla", "deny\\xe2\\x80\\xaewolla");
	shows("\xe2\x81\xa6x\xe2\x81\xa9", "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
	shows("\xe2\x80\x8f", "\xe2\x80\x8f"); /* RLM is a mark: kept */
}

/* Cut at a character, never inside one or inside an escape. */
static void test_truncation(void **state)
{
	char out[8];

	(void)state;
	assert_string_equal(cf_text_escape("ab\033cd", out, 6), "ab");
	assert_string_equal(cf_text_escape("ab\033cd", out, 7), "ab\\x1b");
	assert_string_equal(cf_text_escape("\xd0\x9c\xd0\xbe", out, 4),
			    "\xd0\x9c");
	assert_string_equal(cf_text_escape("abc", out, 1), "");
	assert_string_equal(cf_text_escape(NULL, out, sizeof(out)), "");
}

static void test_utf8_char(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(cf_utf8_char("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(cf_utf8_char("\xc2\x93", 2, &cp), 2);
	assert_int_equal(cp, 0x93);
	assert_int_equal(cf_utf8_char("\xe2\x80\x93", 3, &cp), 3);
	assert_int_equal(cp, 0x2013);
	assert_int_equal(cf_utf8_char("\xf0\x9f\x93\xb7", 4, &cp), 4);
	assert_int_equal(cp, 0x1f4f7);
	assert_int_equal(cf_utf8_char("\xe2\x80\x93", 2, &cp), 0);
	assert_int_equal(cf_utf8_char("\x93", 1, &cp), 0);
	assert_int_equal(cf_utf8_char("", 0, &cp), 0);
}

/* What the JSON writer makes of s, as a string the caller frees. */
static char *json_of(const char *s)
{
	struct json_writer *jw;
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	jw = jw_new(f, false);
	assert_non_null(jw);
	jw_string(jw, s);
	jw_destroy(&jw);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void json_is(const char *s, const char *want)
{
	char *got = json_of(s);
	size_t n = strlen(got), k;
	uint32_t cp;

	assert_string_equal(got, want);
	for (size_t i = 0; i < n; i += k) { /* valid UTF-8, no raw control */
		k = cf_utf8_char(got + i, n - i, &cp);
		assert_true(k > 0);
		assert_false(cf_text_control(cp) && cp != '\n');
	}
	free(got);
}

static void test_json(void **state)
{
	(void)state;
	json_is("\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 \"q\" \\",
		"\"\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 \\\"q\\\" \\\\\"\n");
	json_is("\x1b[2J\n\x7f", "\"\\u001b[2J\\n\\u007f\"\n");
	json_is(AS59265,
		"\"China telecom \xc3\xa2\\u0080\\u0093 China Next Generation Internet\"\n");
	/* not UTF-8: U+FFFD for each bad byte, so the document parses */
	json_is("Caf\xe9 \x9b\xc0\x8a",
		"\"Caf\\ufffd \\ufffd\\ufffd\\ufffd\"\n");
	json_is("\xe2\x80\xae", "\"\\u202e\"\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_kept),
		cmocka_unit_test(test_c0_del),
		cmocka_unit_test(test_c1_utf8),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_format_controls),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_utf8_char),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
