// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_conf.c - the daemon's configuration file parser (loader/conf.c).
 *
 * conf.c depends on nothing in loader/ but headers, so it is compiled
 * into this test; the unit-test rule links only the policy library.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../loader/conf.c"

static int parse(const char *text, struct cf_conf *c, struct cf_err *e)
{
	return cf_conf_parse(text, strlen(text), "/etc/camfence/camfence.conf",
			     c, e);
}

/* Parse text expecting an error at line:col whose message has want. */
static void expect_error(const char *text, unsigned line, unsigned col,
			 const char *want)
{
	struct cf_conf c;
	struct cf_err e = {};
	char buf[700];

	cf_conf_init(&c);
	assert_int_equal(parse(text, &c, &e), -EINVAL);
	cf_err_str(&e, buf, sizeof(buf));
	if (e.line != line || e.col != col || !strstr(e.msg, want))
		fail_msg("'%s': got '%s', expected line %u col %u with '%s'",
			 text, buf, line, col, want);
	assert_string_equal(e.file, "/etc/camfence/camfence.conf");
	cf_conf_free(&c);
}

static void test_defaults(void **state)
{
	struct cf_conf c;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(parse("# nothing but a comment\n\n", &c, NULL), 0);
	assert_int_equal(c.n_ifaces, 0);
	assert_string_equal(c.policy, "/etc/camfence/policy.conf");
	assert_int_equal(c.on_missing, -1);
	assert_string_equal(c.metrics_listen, "127.0.0.1:9733");
	assert_string_equal(c.metrics_textfile, "");
	assert_int_equal(c.database_max_age, 30);
	assert_int_equal(c.log, CF_CONF_LOG_SYSLOG);
	assert_int_equal(c.metrics_allow_uid, -1);
	assert_int_equal(c.metrics_allow_uid_line, 0);
	assert_int_equal(c.metrics_textfile_mode, 0640);
	cf_conf_free(&c);
}

static void test_full(void **state)
{
	static const char text[] =
		"interface cam0\n"
		"\tinterface  cam1 mode generic   # USB NIC\n"
		"interface br-cams mode tc\r\n"
		"policy fence.conf\n"
		"on-missing-policy drop\n"
		"metrics-listen [::1]:9100\n"
		"metrics-textfile /var/lib/node_exporter/camfence.prom\n"
		"database-max-age 7\n"
		"log stderr\n";
	struct cf_conf c;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(parse(text, &c, NULL), 0);
	assert_int_equal(c.n_ifaces, 3);
	assert_string_equal(c.ifaces[0].name, "cam0");
	assert_int_equal(c.ifaces[0].mode, CF_MODE_AUTO);
	assert_int_equal(c.ifaces[0].line, 1);
	assert_string_equal(c.ifaces[1].name, "cam1");
	assert_int_equal(c.ifaces[1].mode, CF_MODE_GENERIC);
	assert_string_equal(c.ifaces[2].name, "br-cams");
	assert_int_equal(c.ifaces[2].mode, CF_MODE_TC);
	/* relative to the configuration file's directory */
	assert_string_equal(c.policy, "/etc/camfence/fence.conf");
	assert_int_equal(c.on_missing, CF_VERDICT_DROP);
	assert_string_equal(c.metrics_listen, "[::1]:9100");
	assert_string_equal(c.metrics_textfile,
			    "/var/lib/node_exporter/camfence.prom");
	assert_int_equal(c.database_max_age, 7);
	assert_int_equal(c.log, CF_CONF_LOG_STDERR);
	cf_conf_free(&c);
}

static void test_metrics_off(void **state)
{
	struct cf_conf c;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(parse("metrics-listen off\npolicy /p.conf\n"
			       "database-max-age 0\n", &c, NULL), 0);
	assert_int_equal(c.database_max_age, 0);
	assert_string_equal(c.metrics_listen, "");
	assert_string_equal(c.policy, "/p.conf");
	cf_conf_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("interface cam0\nintreface cam1\n", 2, 1,
		     "unknown directive 'intreface'");
	expect_error("interface cam0 mode turbo\n", 1, 21,
		     "auto, native, generic or tc");
	expect_error("interface cam0 speed tc\n", 1, 16, "'mode'");
	expect_error("interface\n", 1, 10, "interface NAME");
	expect_error("interface cam0\n  interface cam0 mode tc\n", 2, 13,
		     "cam0 given twice (first on line 1)");
	expect_error("interface a/b\n", 1, 11, "not an interface name");
	expect_error("interface abcdefghijklmnop\n", 1, 11,
		     "not an interface name");
	expect_error("policy\n", 1, 7, "missing argument");
	expect_error("policy a b\n", 1, 10, "unexpected argument");
	expect_error("on-missing-policy maybe\n", 1, 19, "pass or drop");
	expect_error("metrics-listen localhost:9733\n", 1, 16, "ADDR:PORT");
	expect_error("metrics-listen 127.0.0.1:0\n", 1, 16, "ADDR:PORT");
	expect_error("metrics-listen 127.0.0.1:70000\n", 1, 16, "ADDR:PORT");
	expect_error("metrics-listen ::1:9733\n", 1, 16, "ADDR:PORT");
	expect_error("metrics-listen 127.0.0.1\n", 1, 16, "ADDR:PORT");
	expect_error("database-max-age 36501\n", 1, 18, "to 36500");
	expect_error("database-max-age -3\n", 1, 18, "to 36500");
	expect_error("database-max-age 3d\n", 1, 18, "to 36500");
	expect_error("log journal\n", 1, 5, "syslog or stderr");
	expect_error("log a b c d e f\n", 1, 13, "unexpected argument");
}

/* parse_uid_ok TEXT: the one metrics-allow-uid line of TEXT, resolved. */
static long parse_uid_ok(const char *text, unsigned want_line)
{
	struct cf_conf c;
	struct cf_err e = {};
	char buf[700];
	long uid;

	cf_conf_init(&c);
	if (parse(text, &c, &e))
		fail_msg("'%s': %s", text, cf_err_str(&e, buf, sizeof(buf)));
	assert_int_equal(c.metrics_allow_uid_line, want_line);
	uid = c.metrics_allow_uid;
	cf_conf_free(&c);
	return uid;
}

static void test_allow_uid(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	long nobody = pw ? (long)pw->pw_uid : -1; /* pw is libc's, reused */

	(void)state;
	assert_int_equal(parse_uid_ok("metrics-allow-uid 65534\n", 1), 65534);
	assert_int_equal(parse_uid_ok("# scraper\n\tmetrics-allow-uid 0 # x\n",
				      2), 0);
	assert_int_equal(parse_uid_ok("metrics-allow-uid 2147483647\n", 1),
			 2147483647L);
	/* a name is looked up in the user database when the file is read */
	assert_int_equal(parse_uid_ok("metrics-allow-uid root\n", 1), 0);
	if (nobody >= 0)
		assert_int_equal(parse_uid_ok("metrics-allow-uid nobody\n", 1),
				 nobody);
}

static void test_allow_uid_errors(void **state)
{
	(void)state;
	expect_error("metrics-allow-uid cf-no-such-user\n", 1, 19,
		     "unknown user 'cf-no-such-user'");
	expect_error("log stderr\n  metrics-allow-uid -5\n", 2, 21,
		     "'-5' is negative");
	expect_error("metrics-allow-uid 65534x\n", 1, 19,
		     "'65534x' is not a uid (0 to 2147483647) or a user name");
	expect_error("metrics-allow-uid 2147483648\n", 1, 19, "is not a uid");
	expect_error("metrics-allow-uid 99999999999999999999999\n", 1, 19,
		     "is not a uid");
	expect_error("metrics-allow-uid nobody,daemon\n", 1, 19,
		     "is not a uid");
	expect_error("metrics-allow-uid -x\n", 1, 19, "is not a uid");
	expect_error("metrics-allow-uid\n", 1, 18, "missing argument: UID");
	expect_error("metrics-allow-uid 1 2\n", 1, 21, "unexpected argument");
	expect_error("metrics-allow-uid 1\n# two scrapers?\n"
		     "  metrics-allow-uid 2\n",
		     3, 3, "given twice (first on line 1)");
}

/* The file is layered over what c holds: a re-read is no duplicate, and
 * a bad file keeps the uid in force. */
static void test_allow_uid_reparse(void **state)
{
	struct cf_conf c;
	struct cf_err e = {};
	char why[160];
	long uid = -1;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(parse("metrics-allow-uid 7\n", &c, NULL), 0);
	assert_int_equal(parse("\nmetrics-allow-uid 8\n", &c, NULL), 0);
	assert_int_equal(c.metrics_allow_uid, 8);
	assert_int_equal(c.metrics_allow_uid_line, 2);
	assert_int_equal(parse("metrics-allow-uid 9\nmetrics-allow-uid x-\n",
			       &c, &e), -EINVAL);
	assert_int_equal(c.metrics_allow_uid, 8);
	/* the checker the command line shares */
	assert_int_equal(cf_conf_parse_uid("root", &uid, why, sizeof(why)), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(cf_conf_parse_uid("", &uid, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "is not a uid"));
	cf_conf_free(&c);
}

/* parse_mode_ok TEXT: the metrics-textfile-mode TEXT sets. */
static unsigned parse_mode_ok(const char *text)
{
	struct cf_conf c;
	struct cf_err e = {};
	char buf[700];
	unsigned mode;

	cf_conf_init(&c);
	if (parse(text, &c, &e))
		fail_msg("'%s': %s", text, cf_err_str(&e, buf, sizeof(buf)));
	mode = c.metrics_textfile_mode;
	cf_conf_free(&c);
	return mode;
}

static void test_textfile_mode(void **state)
{
	(void)state;
	assert_int_equal(parse_mode_ok("metrics-textfile-mode 0644\n"), 0644);
	assert_int_equal(parse_mode_ok("metrics-textfile-mode 600\n"), 0600);
	assert_int_equal(parse_mode_ok("  metrics-textfile-mode 0775 # g+w\n"),
			 0775);
	assert_int_equal(parse_mode_ok("metrics-textfile-mode 0000\n"), 0);
	/* the last line wins, as for the other single-value directives */
	assert_int_equal(parse_mode_ok("metrics-textfile-mode 0600\n"
				       "metrics-textfile-mode 0640\n"),
			 0640);
	assert_int_equal(parse_mode_ok("metrics-textfile /x.prom\n"), 0640);
}

static void test_textfile_mode_errors(void **state)
{
	unsigned mode = 0123;
	char why[160];

	(void)state;
	expect_error("metrics-textfile-mode 0646\n", 1, 23,
		     "'0646' lets every user write the textfile");
	expect_error("log stderr\n\tmetrics-textfile-mode 777\n", 2, 24,
		     "lets every user write");
	expect_error("metrics-textfile-mode 4750\n", 1, 23,
		     "setuid, setgid or sticky");
	expect_error("metrics-textfile-mode 1640\n", 1, 23,
		     "setuid, setgid or sticky");
	expect_error("metrics-textfile-mode 0o640\n", 1, 23,
		     "'0o640' is not an octal file mode");
	expect_error("metrics-textfile-mode 0680\n", 1, 23,
		     "not an octal file mode");
	expect_error("metrics-textfile-mode 64\n", 1, 23, "not an octal");
	expect_error("metrics-textfile-mode 06400\n", 1, 23, "not an octal");
	expect_error("metrics-textfile-mode -640\n", 1, 23, "not an octal");
	expect_error("metrics-textfile-mode +640\n", 1, 23, "not an octal");
	expect_error("metrics-textfile-mode rw-r-----\n", 1, 23,
		     "not an octal");
	expect_error("metrics-textfile-mode\n", 1, 22,
		     "missing argument: MODE");
	expect_error("metrics-textfile-mode 0640 0644\n", 1, 28,
		     "unexpected argument");
	/* the checker the command line shares leaves *mode alone on error */
	assert_int_equal(cf_conf_parse_file_mode("0602", &mode, why,
						 sizeof(why)), -EINVAL);
	assert_int_equal(mode, 0123);
	assert_int_equal(cf_conf_parse_file_mode("", &mode, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "not an octal file mode"));
	assert_int_equal(cf_conf_parse_file_mode("0750", &mode, why,
						 sizeof(why)), 0);
	assert_int_equal(mode, 0750);
}

/* A bad file changes nothing, not even what the lines before it set. */
static void test_error_applies_nothing(void **state)
{
	struct cf_conf c;
	struct cf_err e = {};

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(parse("interface cam0\nlog stderr\n", &c, NULL), 0);
	assert_int_equal(parse("interface cam9\npolicy /x.conf\nlog stdout\n",
			       &c, &e), -EINVAL);
	assert_int_equal(e.line, 3);
	assert_int_equal(c.n_ifaces, 1);
	assert_string_equal(c.ifaces[0].name, "cam0");
	assert_string_equal(c.policy, "/etc/camfence/policy.conf");
	assert_int_equal(c.log, CF_CONF_LOG_STDERR);
	/* nor a textfile mode that an error after it takes back */
	assert_int_equal(parse("metrics-textfile-mode 0600\n", &c, NULL), 0);
	assert_int_equal(parse("metrics-textfile-mode 0644\nlog stdout\n", &c,
			       &e), -EINVAL);
	assert_int_equal(c.metrics_textfile_mode, 0600);
	cf_conf_free(&c);
}

static void test_load(void **state)
{
	char path[] = "/tmp/cf-test-conf-XXXXXX";
	struct cf_conf c;
	struct cf_err e = {};
	int fd;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(cf_conf_load("/nonexistent/camfence.conf", &c, &e),
			 -ENOENT);
	assert_string_equal(e.file, "/nonexistent/camfence.conf");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "interface eth1 mode native\npolicy p\n", 36),
			 36);
	close(fd);
	assert_int_equal(cf_conf_load(path, &c, &e), 0);
	assert_int_equal(c.n_ifaces, 1);
	assert_int_equal(c.ifaces[0].mode, CF_MODE_NATIVE);
	assert_string_equal(c.policy, "/tmp/p");
	unlink(path);
	cf_conf_free(&c);
}

static void test_add_iface(void **state)
{
	struct cf_conf c;

	(void)state;
	cf_conf_init(&c);
	assert_int_equal(cf_conf_add_iface(&c, "cam0", CF_MODE_AUTO, 0), 0);
	assert_int_equal(cf_conf_add_iface(&c, "cam0", CF_MODE_TC, 0), 0);
	assert_int_equal(c.n_ifaces, 1);
	assert_int_equal(c.ifaces[0].mode, CF_MODE_TC);
	assert_int_equal(cf_conf_add_iface(&c, "", CF_MODE_TC, 0), -EINVAL);
	cf_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_metrics_off),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_allow_uid),
		cmocka_unit_test(test_allow_uid_errors),
		cmocka_unit_test(test_allow_uid_reparse),
		cmocka_unit_test(test_textfile_mode),
		cmocka_unit_test(test_textfile_mode_errors),
		cmocka_unit_test(test_error_applies_nothing),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_add_iface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
