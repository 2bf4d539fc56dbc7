// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_metrics_text.c - the Prometheus text format's escaping rules, on
 * loader/metrics_text.c included whole (it needs nothing but stdio).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../loader/metrics_text.c"

/* What fn printed, as a string the caller frees. */
#define CAPTURE(out, call)                                  \
	do {                                                \
		size_t len_;                                \
		FILE *f = open_memstream(&(out), &len_);    \
		assert_non_null(f);                         \
		call;                                       \
		assert_int_equal(fclose(f), 0);             \
	} while (0)

static void test_label_value_plain(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label_value(f, "deny country CN (policy.conf:3)"));
	assert_string_equal(out, "deny country CN (policy.conf:3)");
	free(out);
}

static void test_label_value_escapes(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label_value(f, "a\\b\"c\nd"));
	assert_string_equal(out, "a\\\\b\\\"c\\nd");
	free(out);
}

static void test_label_value_empty_and_null(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label_value(f, ""); cf_prom_label_value(f, NULL));
	assert_string_equal(out, "");
	free(out);
}

static void test_label_list(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label(f, "path", "/etc/\"x\".conf", true);
		cf_prom_label(f, "digest", "ab", false));
	assert_string_equal(out, "path=\"/etc/\\\"x\\\".conf\",digest=\"ab\"");
	free(out);
}

/* HELP escapes backslash and newline, but a quote stays a quote. */
static void test_family_help(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_family(f, "camfence_x_total", "counter",
				    "say \"hi\"\\\nbye"));
	assert_string_equal(out,
			    "# HELP camfence_x_total say \"hi\"\\\\\\nbye\n"
			    "# TYPE camfence_x_total counter\n");
	free(out);
}

/* UTF-8 passes through untouched: the format is UTF-8. */
static void test_label_value_utf8(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label_value(f, "r\xc3\xa8gle"));
	assert_string_equal(out, "r\xc3\xa8gle");
	free(out);
}

/*
 * The format wants UTF-8 and escapes only \, " and newline: other controls
 * and bytes that are not UTF-8 (a policy path from an artifact) show as
 * the text \xNN, so the scrape parses and a terminal showing it is safe.
 */
static void test_label_value_controls(void **state)
{
	char *out = NULL;

	(void)state;
	CAPTURE(out, cf_prom_label_value(f, "a\x1b[2J\rb\x7f\xc2\x9b\xe9\n"));
	/* the text \x1b, its backslash escaped as the format wants */
	assert_string_equal(
		out, "a\\\\x1b[2J\\\\x0db\\\\x7f\\\\xc2\\\\x9b\\\\xe9\\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_value_plain),
		cmocka_unit_test(test_label_value_escapes),
		cmocka_unit_test(test_label_value_empty_and_null),
		cmocka_unit_test(test_label_list),
		cmocka_unit_test(test_family_help),
		cmocka_unit_test(test_label_value_utf8),
		cmocka_unit_test(test_label_value_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
