// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_parse.c - the policy parser, its error messages, country codes and
 * cf_err formatting.
 *
 * Every error test names the exact line and column the parser must blame
 * and a piece of the message; every failed parse must leave *out alone
 * (no partial policy), and LeakSanitizer checks nothing is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

#define PATH "/etc/camfence/policy.conf"

static struct cf_policy *parse_ok_n(const char *text, size_t len,
				    const char *path)
{
	struct cf_policy *p = NULL;
	struct cf_err e = { .line = 0 };
	char buf[1024];
	int err;

	err = cf_policy_parse(text, len, path, &p, &e);
	if (err)
		fail_msg("unexpected error %d: %s", err,
			 cf_err_str(&e, buf, sizeof(buf)));
	assert_non_null(p);
	return p;
}

static struct cf_policy *parse_ok(const char *text)
{
	return parse_ok_n(text, strlen(text), PATH);
}

/* A parse that must fail at line:col with sub in the message. */
static void parse_bad_n(const char *text, size_t len, unsigned line,
			unsigned col, const char *sub)
{
	struct cf_policy sentinel, *p = &sentinel;
	struct cf_err e;
	int err;

	memset(&e, 0x5a, sizeof(e));
	err = cf_policy_parse(text, len, PATH, &p, &e);
	if (err != -EINVAL)
		fail_msg("'%s': got %d, want -EINVAL", text, err);
	assert_ptr_equal(p, &sentinel);
	assert_string_equal(e.file, PATH);
	if (e.line != line || e.col != col || !strstr(e.msg, sub))
		fail_msg("got %u:%u '%s', want %u:%u '...%s...'", e.line, e.col,
			 e.msg, line, col, sub);
}

static void parse_bad(const char *text, unsigned line, unsigned col,
		      const char *sub)
{
	parse_bad_n(text, strlen(text), line, col, sub);
}

static const struct cf_rule *rule(const struct cf_policy *p, size_t i)
{
	assert_true(i < p->n_rules);
	return &p->rules[i];
}

/* ---- defaults, comments, layout --------------------------------------- */

static void assert_defaults(const struct cf_policy *p)
{
	assert_int_equal(p->default_action, CF_ALLOW);
	assert_int_equal(p->malformed, CF_DENY);
	assert_int_equal(p->event_rate, CF_EVENT_RATE_DEFAULT);
	assert_int_equal(p->event_burst, CF_EVENT_BURST_DEFAULT);
}

static void test_empty(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("");
	assert_defaults(p);
	assert_int_equal(p->n_rules, 0);
	assert_int_equal(p->n_dbs, 0);
	assert_string_equal(p->path, PATH);
	cf_policy_free(p);

	p = parse_ok_n(NULL, 0, "-");
	assert_string_equal(p->path, "-");
	assert_defaults(p);
	cf_policy_free(p);

	p = parse_ok("# nothing but a comment\n\n   \n\t\n");
	assert_defaults(p);
	assert_int_equal(p->n_rules, 0);
	cf_policy_free(p);
	cf_policy_free(NULL);
}

static void test_comments(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("# camfence policy\n"
		     "\n"
		     "   # indented comment\n"
		     "deny country CN # trailing comment RU\n"
		     "deny asn 64500#glued comment 64501\n"
		     "deny net 192.0.2.0/24\t#\ttab comment\n"
		     "#deny country RU\n"
		     "default deny # allow-list mode\n");
	assert_int_equal(p->n_rules, 3);
	assert_int_equal(rule(p, 0)->n_items, 1);
	assert_string_equal(rule(p, 0)->items[0].cc, "CN");
	assert_int_equal(rule(p, 0)->line, 4);
	assert_int_equal(rule(p, 1)->n_items, 1);
	assert_int_equal(rule(p, 1)->items[0].asn, 64500);
	assert_int_equal(rule(p, 1)->line, 5);
	assert_int_equal(rule(p, 2)->n_items, 1);
	assert_int_equal(rule(p, 2)->line, 6);
	assert_int_equal(p->default_action, CF_DENY);
	cf_policy_free(p);
}

static void test_crlf_tabs_bom(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("\xef\xbb\xbf"
		     "default deny\r\n"
		     "\r\n"
		     "\tdeny\tcountry\tCN\t\tRU\r\n"
		     "# comment\r\n"
		     "monitor asn 64500\r\n"
		     "allow net 192.0.2.0/24"); /* no final newline */
	assert_int_equal(p->default_action, CF_DENY);
	assert_int_equal(p->n_rules, 3);
	assert_int_equal(rule(p, 0)->line, 3);
	assert_int_equal(rule(p, 0)->n_items, 2);
	assert_string_equal(rule(p, 0)->items[1].cc, "RU");
	/* Tabs count one column each. */
	assert_int_equal(rule(p, 0)->items[0].col, 15);
	assert_int_equal(rule(p, 0)->items[1].col, 19);
	assert_int_equal(rule(p, 1)->items[0].asn, 64500);
	assert_int_equal(rule(p, 2)->line, 6);
	assert_int_equal(rule(p, 2)->items[0].net.len, 24);
	cf_policy_free(p);

	/* A CR is no part of the last token, so errors quote it clean. */
	parse_bad("deny country XY\r\n", 1, 14, "unknown country code 'XY'");
	parse_bad("default\r\n", 1, 8, "expected allow or deny");
}

static void test_case_insensitive(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("DEFAULT DENY\n"
		     "Malformed Pass\n"
		     "EVENT-RATE 7\n"
		     "DATABASE MMDB /x.mmdb\n"
		     "DENY COUNTRY cn Ru tW\n"
		     "Monitor ASN As64500 aS64501 as64502\n"
		     "ALLOW NET 2001:DB8::/32\n");
	assert_int_equal(p->default_action, CF_DENY);
	assert_int_equal(p->malformed, CF_ALLOW);
	assert_int_equal(p->event_rate, 7);
	assert_int_equal(p->dbs[0].format, CF_DB_MMDB);
	assert_int_equal(rule(p, 0)->action, CF_DENY);
	assert_int_equal(rule(p, 0)->match, CF_MATCH_COUNTRY);
	assert_string_equal(rule(p, 0)->items[0].cc, "CN");
	assert_string_equal(rule(p, 0)->items[1].cc, "RU");
	assert_string_equal(rule(p, 0)->items[2].cc, "TW");
	assert_int_equal(rule(p, 1)->action, CF_MONITOR);
	assert_int_equal(rule(p, 1)->match, CF_MATCH_ASN);
	assert_int_equal(rule(p, 1)->items[2].asn, 64502);
	assert_int_equal(rule(p, 2)->action, CF_ALLOW);
	assert_int_equal(rule(p, 2)->match, CF_MATCH_NET);
	cf_policy_free(p);
}

/* ---- rules ------------------------------------------------------------- */

static void test_rule_country(void **state)
{
	struct cf_policy *p;
	const struct cf_rule *r;

	(void)state;
	p = parse_ok("deny country CN RU BY KP IR\n"
		     "monitor country HK XK EU\n"
		     "allow country AP A1 A2 A3 XD\n");
	r = rule(p, 0);
	assert_int_equal(r->action, CF_DENY);
	assert_int_equal(r->match, CF_MATCH_COUNTRY);
	assert_int_equal(r->line, 1);
	assert_int_equal(r->n_items, 5);
	assert_string_equal(r->items[0].cc, "CN");
	assert_string_equal(r->items[4].cc, "IR");
	assert_int_equal(r->items[0].col, 14);
	assert_int_equal(r->items[1].col, 17);
	assert_int_equal(r->items[4].col, 26);
	r = rule(p, 1);
	assert_int_equal(r->action, CF_MONITOR);
	assert_int_equal(r->line, 2);
	assert_string_equal(r->items[1].cc, "XK");
	assert_string_equal(r->items[2].cc, "EU");
	r = rule(p, 2);
	assert_int_equal(r->action, CF_ALLOW);
	assert_int_equal(r->n_items, 5);
	assert_string_equal(r->items[4].cc, "XD");
	cf_policy_free(p);
}

static void test_rule_asn(void **state)
{
	struct cf_policy *p;
	const struct cf_rule *r;

	(void)state;
	p = parse_ok(
		"deny asn 37963 AS45102 as1 4294967295 AS4294967294 007\n");
	r = rule(p, 0);
	assert_int_equal(r->match, CF_MATCH_ASN);
	assert_int_equal(r->n_items, 6);
	assert_int_equal(r->items[0].asn, 37963);
	assert_int_equal(r->items[1].asn, 45102);
	assert_int_equal(r->items[2].asn, 1);
	assert_int_equal(r->items[3].asn, 4294967295u);
	assert_int_equal(r->items[4].asn, 4294967294u);
	assert_int_equal(r->items[5].asn, 7);
	assert_int_equal(r->items[1].col, 16);
	cf_policy_free(p);
}

static void assert_net(const struct cf_item *it, const char *addr, unsigned len)
{
	struct cf_prefix want;

	assert_int_equal(cf_prefix_parse(addr, &want, NULL), 0);
	assert_int_equal(it->net.family, want.family);
	assert_true(it->net.addr == want.addr);
	assert_int_equal(it->net.len, len);
}

static void test_rule_net(void **state)
{
	struct cf_policy *p;
	const struct cf_rule *r;

	(void)state;
	p = parse_ok("allow net 203.0.113.10/32 203.0.113.11 10.0.0.0/8\n"
		     "deny net 0.0.0.0/0 ::/0\n"
		     "monitor net 2001:db8::/32 2001:db8:1::1 ::1/128\n"
		     "allow net ::fffe:192.0.2.0/120 128.0.0.0/1 0.0.0.0\n");
	r = rule(p, 0);
	assert_int_equal(r->match, CF_MATCH_NET);
	assert_int_equal(r->n_items, 3);
	assert_net(&r->items[0], "203.0.113.10", 32);
	assert_net(&r->items[1], "203.0.113.11", 32); /* bare = /32 */
	assert_net(&r->items[2], "10.0.0.0", 8);
	assert_int_equal(r->items[2].col, 40);
	r = rule(p, 1);
	assert_net(&r->items[0], "0.0.0.0", 0);
	assert_net(&r->items[1], "::", 0);
	assert_int_equal(r->items[1].net.family, CF_AF_V6);
	r = rule(p, 2);
	assert_net(&r->items[0], "2001:db8::", 32);
	assert_net(&r->items[1], "2001:db8:1::1", 128); /* bare = /128 */
	assert_net(&r->items[2], "::1", 128);
	r = rule(p, 3);
	assert_net(&r->items[0], "::fffe:192.0.2.0", 120);
	assert_net(&r->items[1], "128.0.0.0", 1);
	assert_net(&r->items[2], "0.0.0.0", 32);
	cf_policy_free(p);
}

/* Same value in different kinds, lengths or families is no duplicate. */
static void test_not_duplicates(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("deny country AS\n" /* American Samoa */
		     "deny asn AS1\n"
		     "deny net 192.0.2.0/24 192.0.2.0/25 192.0.2.0\n"
		     "deny net 0.0.0.0/0 ::/0 ::/96 ::\n"
		     "deny net ::192.0.2.0/120 192.0.2.0/23\n");
	assert_int_equal(p->n_rules, 5);
	cf_policy_free(p);
}

/* Thousands of items: the duplicate table must grow and still catch. */
static void test_many_items(void **state)
{
	size_t cap = 1 << 20, n = 0, i;
	char *text = malloc(cap);
	struct cf_policy *p;

	(void)state;
	assert_non_null(text);
	n += sprintf(text + n, "deny asn");
	for (i = 1; i <= 5000; i++)
		n += sprintf(text + n, " AS%zu", i * 7919);
	n += sprintf(text + n, "\ndeny net");
	for (i = 0; i < 3000; i++)
		n += sprintf(text + n, " 10.%zu.%zu.0/24", i / 256, i % 256);
	n += sprintf(text + n, "\n");
	p = parse_ok(text);
	assert_int_equal(rule(p, 0)->n_items, 5000);
	assert_int_equal(rule(p, 0)->items[4999].asn, 5000 * 7919);
	assert_int_equal(rule(p, 1)->n_items, 3000);
	assert_net(&rule(p, 1)->items[2999], "10.11.183.0", 24);
	cf_policy_free(p);

	sprintf(text + n, "monitor asn 1 %u\n", 2500 * 7919);
	parse_bad(text, 3, 15, "ASN 19797500 already in the rule at line 1");
	sprintf(text + n, "allow net 10.11.183.0/24\n");
	parse_bad(text, 3, 11,
		  "net 10.11.183.0/24 already in the rule at line 2");
	free(text);
}

/* ---- other directives -------------------------------------------------- */

static void test_database(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("database /usr/share/libloc-location/location.db\n"
		     "database location.db\n"
		     "database mmdb geo/country.mmdb\n"
		     "database csv ../asn.csv\n"
		     "database libloc ./x.db\n"
		     "database LibLoc /abs.db\n");
	assert_int_equal(p->n_dbs, 6);
	assert_int_equal(p->dbs[0].format, CF_DB_AUTO);
	assert_string_equal(p->dbs[0].path,
			    "/usr/share/libloc-location/location.db");
	assert_int_equal(p->dbs[0].line, 1);
	/* the path's column: refusals of the database point there */
	assert_int_equal(p->dbs[0].col, 10);
	assert_string_equal(p->dbs[1].path, "/etc/camfence/location.db");
	assert_int_equal(p->dbs[2].format, CF_DB_MMDB);
	assert_string_equal(p->dbs[2].path, "/etc/camfence/geo/country.mmdb");
	assert_int_equal(p->dbs[3].format, CF_DB_CSV);
	assert_string_equal(p->dbs[3].path, "/etc/camfence/../asn.csv");
	assert_int_equal(p->dbs[4].format, CF_DB_LIBLOC);
	assert_string_equal(p->dbs[4].path, "/etc/camfence/./x.db");
	assert_int_equal(p->dbs[5].format, CF_DB_LIBLOC);
	assert_string_equal(p->dbs[5].path, "/abs.db");
	assert_int_equal(p->dbs[5].line, 6);
	assert_int_equal(p->dbs[5].col, 17);
	assert_int_equal(p->n_rules, 0);
	cf_policy_free(p);
}

/* Relative database paths against the policy's directory, or the cwd. */
static void db_resolves(const char *policy, const char *db, const char *want)
{
	char text[256];
	struct cf_policy *p;

	snprintf(text, sizeof(text), "database %s\n", db);
	p = parse_ok_n(text, strlen(text), policy);
	assert_string_equal(p->dbs[0].path, want);
	cf_policy_free(p);
}

static void test_database_resolution(void **state)
{
	(void)state;
	db_resolves("/etc/camfence/policy.conf", "l.db", "/etc/camfence/l.db");
	db_resolves("/etc/camfence/policy.conf", "/l.db", "/l.db");
	db_resolves("/policy.conf", "l.db", "/l.db");
	db_resolves("policy.conf", "l.db", "l.db");
	db_resolves("conf/policy.conf", "l.db", "conf/l.db");
	db_resolves("./policy.conf", "sub/l.db", "./sub/l.db");
	db_resolves("-", "l.db", "l.db");
	db_resolves("-", "/var/l.db", "/var/l.db");
	db_resolves(NULL, "l.db", "l.db");
}

static void test_default_malformed(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("default allow\nmalformed drop\n");
	assert_int_equal(p->default_action, CF_ALLOW);
	assert_int_equal(p->malformed, CF_DENY);
	cf_policy_free(p);
	p = parse_ok("default deny\nmalformed pass\n");
	assert_int_equal(p->default_action, CF_DENY);
	assert_int_equal(p->malformed, CF_ALLOW);
	cf_policy_free(p);
}

static void rate_ok(const char *text, uint32_t rate, uint32_t burst)
{
	struct cf_policy *p = parse_ok(text);

	assert_int_equal(p->event_rate, rate);
	assert_int_equal(p->event_burst, burst);
	cf_policy_free(p);
}

static void test_event_rate(void **state)
{
	(void)state;
	rate_ok("event-rate 10\n", 10, 20);
	rate_ok("event-rate 10 15\n", 10, 15);
	rate_ok("event-rate 10 10\n", 10, 10);
	rate_ok("event-rate 0\n", 0, 0);
	rate_ok("event-rate 0 5\n", 0, 5);
	rate_ok("event-rate 1000000\n", 1000000, 2000000);
	rate_ok("event-rate 1 2000000\n", 1, 2000000);
	rate_ok("# no event-rate\n", CF_EVENT_RATE_DEFAULT,
		CF_EVENT_BURST_DEFAULT);
}

static void test_full_example(void **state)
{
	struct cf_policy *p;

	(void)state;
	p = parse_ok("# /etc/camfence/policy.conf\n"
		     "database  /usr/share/libloc-location/location.db\n"
		     "default   allow            # allow | deny\n"
		     "deny      country CN RU BY KP IR\n"
		     "deny      asn 37963 45102  # AS numbers\n"
		     "allow     net 203.0.113.10/32   # NTP\n"
		     "monitor   country HK\n");
	assert_int_equal(p->n_dbs, 1);
	assert_int_equal(p->n_rules, 4);
	assert_int_equal(rule(p, 0)->items[0].col, 19);
	assert_int_equal(rule(p, 3)->action, CF_MONITOR);
	assert_int_equal(rule(p, 3)->line, 7);
	cf_policy_free(p);
}

/* ---- errors ------------------------------------------------------------ */

static void test_err_unknown_directive(void **state)
{
	(void)state;
	parse_bad("denyy country CN\n", 1, 1, "unknown directive 'denyy'");
	parse_bad("# c\n\n   block CN\n", 3, 4, "unknown directive 'block'");
	parse_bad("country CN\n", 1, 1, "expected allow, deny, monitor");
	/* Bytes a terminal would act on are escaped in the message. */
	parse_bad("\x1b[2Jdeny\n", 1, 1, "unknown directive '\\x1b[2Jdeny'");
	/* The first error wins. */
	parse_bad("deny country CN\nfoo\nbar\n", 2, 1, "'foo'");
}

static void test_err_rule_shape(void **state)
{
	(void)state;
	parse_bad("deny\n", 1, 5, "expected country, asn or net after 'deny'");
	parse_bad("allow   # nothing\n", 1, 6,
		  "expected country, asn or net after 'allow'");
	parse_bad("monitor cuntry CN\n", 1, 9,
		  "expected country, asn or net after 'monitor', not 'cuntry'");
	parse_bad("deny CN RU\n", 1, 6, "not 'CN'");
	parse_bad("deny country\n", 1, 13,
		  "missing items after 'deny country'");
	parse_bad("monitor asn   # later\n", 1, 12,
		  "missing items after 'monitor asn'");
	parse_bad("ALLOW NET\n", 1, 10, "missing items after 'allow net'");
}

static void test_err_country(void **state)
{
	(void)state;
	parse_bad("deny country CN XY\n", 1, 17, "unknown country code 'XY'");
	parse_bad("deny country zz\n", 1, 14, "unknown country code 'zz'");
	parse_bad("deny country UK\n", 1, 14, "the United Kingdom is GB");
	parse_bad("deny country C\n", 1, 14, "'C' is not a country code");
	parse_bad("deny country CHN\n", 1, 14,
		  "'CHN' is not a country code; expected two letters");
	parse_bad("deny country A4\n", 1, 14, "unknown country code 'A4'");
	parse_bad("deny country C-\n", 1, 14, "'C-' is not a country code");
	/* A long token is shortened in the message. */
	parse_bad("deny country "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		  1, 14, "AAAA...' is not a country code");
}

static void test_err_country_dup(void **state)
{
	(void)state;
	parse_bad("deny country CN RU cn\n", 1, 20,
		  "country CN appears twice in this rule (also at column 14)");
	parse_bad("deny country CN\n\nmonitor country RU CN\n", 3, 20,
		  "country CN already in the rule at line 1");
	parse_bad("deny country CN\ndeny country cn\n", 2, 14,
		  "country CN already in the rule at line 1");
}

static void test_err_asn(void **state)
{
	(void)state;
	parse_bad("deny asn AS12x\n", 1, 10, "ASN 'AS12x' is not a number");
	parse_bad("deny asn 1 AS\n", 1, 12, "ASN 'AS' is not a number");
	parse_bad("deny asn ASN64500\n", 1, 10,
		  "ASN 'ASN64500' is not a number");
	parse_bad("deny asn -5\n", 1, 10, "ASN '-5' is not a number");
	parse_bad("deny asn +5\n", 1, 10, "ASN '+5' is not a number");
	parse_bad("deny asn 0x10\n", 1, 10, "ASN '0x10' is not a number");
	parse_bad("deny asn 12345678901x\n", 1, 10, "is not a number");
	parse_bad("deny asn 0\n", 1, 10, "ASN 0 is reserved");
	parse_bad("deny asn 1 AS0\n", 1, 12, "ASN 0 is reserved");
	parse_bad("deny asn 4294967296\n", 1, 10,
		  "ASN '4294967296' is out of range (1-4294967295)");
	parse_bad("deny asn AS99999999999999999999\n", 1, 10, "out of range");
	parse_bad("deny asn AS64500 64500\n", 1, 18,
		  "ASN 64500 appears twice in this rule (also at column 10)");
	parse_bad("deny asn 64500\nmonitor asn as64500\n", 2, 13,
		  "ASN 64500 already in the rule at line 1");
}

static void test_err_net(void **state)
{
	(void)state;
	parse_bad("deny net 192.0.2.1/24\n", 1, 10,
		  "host bits set in 192.0.2.1/24; did you mean 192.0.2.0/24?");
	parse_bad(
		"deny net 2001:db8::1/32\n", 1, 10,
		"host bits set in 2001:db8::1/32; did you mean 2001:db8::/32?");
	parse_bad(
		"deny net 10.0.0.0/8 1.2.3.4/33\n", 1, 21,
		"invalid prefix '1.2.3.4/33': prefix length out of range for IPv4 (0-32)");
	parse_bad(
		"deny net ::/129\n", 1, 10,
		"invalid prefix '::/129': prefix length out of range for IPv6");
	parse_bad("deny net 1.2.3\n", 1, 10,
		  "invalid prefix '1.2.3': not an IPv4 or IPv6 address");
	parse_bad("deny net 1.2.3.4/\n", 1, 10, "missing prefix length");
	parse_bad("deny net /8\n", 1, 10, "missing address");
	parse_bad("deny net 1.2.3.0/x\n", 1, 10,
		  "prefix length is not a number");
	parse_bad("deny net example.com\n", 1, 10, "not an IPv4 or IPv6");
	parse_bad("deny net fe80::1%eth0\n", 1, 10, "not an IPv4 or IPv6");
}

/*
 * The datapath judges addresses in ::ffff:0:0/96, 64:ff9b::/96 and
 * 2002::/16 by the IPv4 address inside: a prefix wholly in one of them can
 * never match, and the error says which IPv4 rule to write.
 */
static void test_err_net_embedded(void **state)
{
	(void)state;
	parse_bad("deny net ::ffff:1.2.3.4\n", 1, 10,
		  "::ffff:1.2.3.4 can never match: IPv4-mapped addresses "
		  "(::ffff:0:0/96) are judged as the IPv4 address they carry; "
		  "write `net 1.2.3.4/32`");
	parse_bad("allow net 10.0.0.0/8 64:ff9b::c000:200/120\n", 1, 22,
		  "64:ff9b::c000:200/120 can never match: NAT64 addresses "
		  "(64:ff9b::/96) are judged as the IPv4 address they carry; "
		  "write `net 192.0.2.0/24`");
	parse_bad("default deny\nmonitor net 2002:c000:200::/40\n", 2, 13,
		  "2002:c000:200::/40 can never match: 6to4 addresses "
		  "(2002::/16) are judged as the IPv4 address they carry; "
		  "write `net 192.0.2.0/24`");
	/* past /48 a 6to4 prefix is within one IPv4 address's share */
	parse_bad("deny net 2002:c000:201:7::/64\n", 1, 10,
		  "write `net 192.0.2.1/32`");
	parse_bad("deny net 2001:db8::/32   2002::/16\n", 1, 26,
		  "write `net 0.0.0.0/0`");
	parse_bad("deny net 64:ff9b::/96\n", 1, 10, "write `net 0.0.0.0/0`");
	parse_bad("deny net ::FFFF:0:0/96\n", 1, 10, /* quoted as written */
		  "::FFFF:0:0/96 can never match: IPv4-mapped");
	parse_bad("deny net ::ffff:198.51.100.0/120\n", 1, 10,
		  "write `net 198.51.100.0/24`");
}

/*
 * Prefixes around an embedded range still match the rest of their
 * addresses; RFC 8215's 64:ff9b:1::/48 is not decoded, so it is IPv6.
 */
static void test_net_embedded_neighbours(void **state)
{
	struct cf_policy *p;
	const struct cf_rule *r;

	(void)state;
	p = parse_ok("deny net 64:ff9b:1::/48 64:ff9b:1::c000:201\n"
		     "allow net ::/0 2000::/3 2002::/15 64:ff9b::/64\n"
		     "monitor net ::fffe:0:0/95 64:ff9b::/32 ::/96 ::1.2.3.4\n"
		     "deny net 2001::/16 2003::/16 ::fffe:1.2.3.4\n");
	r = rule(p, 0);
	assert_net(&r->items[0], "64:ff9b:1::", 48);
	assert_net(&r->items[1], "64:ff9b:1::c000:201", 128);
	assert_int_equal(rule(p, 1)->n_items, 4);
	assert_net(&rule(p, 2)->items[0], "::fffe:0:0", 95);
	assert_int_equal(rule(p, 3)->n_items, 3);
	cf_policy_free(p);
}

static void test_err_net_dup(void **state)
{
	(void)state;
	/* A bare address is its /32: the same prefix. */
	parse_bad("deny net 192.0.2.1\nallow net 192.0.2.1/32\n", 2, 11,
		  "net 192.0.2.1/32 already in the rule at line 1");
	/* Spelling does not matter, the value does. */
	parse_bad(
		"deny net 2001:db8::/32 2001:0DB8:0::/32\n", 1, 24,
		"net 2001:db8::/32 appears twice in this rule (also at column 10)");
	parse_bad("deny net ::/0\nmonitor net ::/0\n", 2, 13,
		  "net ::/0 already in the rule at line 1");
}

static void test_err_database(void **state)
{
	(void)state;
	parse_bad("database\n", 1, 9, "missing path after 'database'");
	parse_bad("database   # where?\n", 1, 9,
		  "missing path after 'database'");
	parse_bad("database mmdb\n", 1, 14,
		  "missing path after 'database mmdb'");
	parse_bad("database CSV\n", 1, 13, "missing path after 'database csv'");
	parse_bad(
		"database sqlite /x.db\n", 1, 10,
		"unknown database format 'sqlite'; expected libloc, mmdb or csv");
	parse_bad("database csv /my file.csv\n", 1, 18,
		  "unexpected 'file.csv' after the database path");
}

static void test_err_default(void **state)
{
	(void)state;
	parse_bad("default\n", 1, 8, "expected allow or deny after 'default'");
	parse_bad("default monitor\n", 1, 9,
		  "expected allow or deny after 'default', not 'monitor'");
	parse_bad("default allow deny\n", 1, 15,
		  "unexpected 'deny' after 'default allow'");
	parse_bad("default deny\n# c\nDefault deny\n", 3, 1,
		  "'default' already set at line 1");
}

static void test_err_malformed(void **state)
{
	(void)state;
	parse_bad("malformed\n", 1, 10,
		  "expected pass or drop after 'malformed'");
	parse_bad("malformed allow\n", 1, 11,
		  "expected pass or drop after 'malformed', not 'allow'");
	parse_bad("malformed drop now\n", 1, 16,
		  "unexpected 'now' after 'malformed drop'");
	parse_bad("malformed drop\nmalformed pass\n", 2, 1,
		  "'malformed' already set at line 1");
}

static void test_err_event_rate(void **state)
{
	(void)state;
	parse_bad("event-rate\n", 1, 11, "expected events per second");
	parse_bad("event-rate x\n", 1, 12, "event rate 'x' is not a number");
	parse_bad("event-rate -1\n", 1, 12, "event rate '-1' is not a number");
	parse_bad("event-rate 1.5\n", 1, 12, "is not a number");
	parse_bad("event-rate 1000001\n", 1, 12,
		  "event rate '1000001' is out of range (0-1000000)");
	parse_bad("event-rate 10 y\n", 1, 15,
		  "event burst 'y' is not a number");
	parse_bad("event-rate 10 2000001\n", 1, 15,
		  "event burst '2000001' is out of range (0-2000000)");
	parse_bad("event-rate 10 5\n", 1, 15,
		  "event burst 5 is below the rate 10; expected at least 10");
	parse_bad("event-rate 10 20 30\n", 1, 18, "unexpected '30'");
	parse_bad("event-rate 1\nevent-rate 2\n", 2, 1,
		  "'event-rate' already set at line 1");
}

static void test_err_line_too_long(void **state)
{
	size_t max = 64 * 1024;
	char *text = malloc(max + 64);

	(void)state;
	assert_non_null(text);
	/* Exactly the limit is fine, with or without CR. */
	text[0] = '#';
	memset(text + 1, 'x', max - 1);
	strcpy(text + max, "\r\ndeny country CN\n");
	cf_policy_free(parse_ok(text));
	/* One byte more is not, and the error points just past the limit. */
	memcpy(text, "deny country CN\n#", 17);
	memset(text + 17, 'x', max);
	strcpy(text + 16 + max + 1, "\n");
	parse_bad(text, 2, max + 1, "line too long");
	free(text);
}

static void test_err_nul(void **state)
{
	static const char t1[] = "deny country CN\0 RU\n";
	static const char t2[] = "deny country CN\n# a comment\0with NUL\n";

	(void)state;
	parse_bad_n(t1, sizeof(t1) - 1, 1, 16, "NUL byte");
	parse_bad_n(t2, sizeof(t2) - 1, 2, 12, "NUL byte");
}

static void test_err_too_large(void **state)
{
	size_t max = 16 * 1024 * 1024;
	char *text = malloc(max + 1);
	struct cf_policy *p = NULL;
	struct cf_err e;

	(void)state;
	assert_non_null(text);
	/* The limit itself is fine: 16 MiB of blank lines. */
	memset(text, '\n', max + 1);
	cf_policy_free(parse_ok_n(text, max, PATH));
	assert_int_equal(cf_policy_parse(text, max + 1, PATH, &p, &e), -EFBIG);
	assert_null(p);
	assert_string_equal(e.file, PATH);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.msg, "policy too large (16777217 bytes"));
	free(text);
}

static void test_err_stdin_name(void **state)
{
	struct cf_policy *p = NULL;
	struct cf_err e;
	char buf[600];

	(void)state;
	assert_int_equal(cf_policy_parse("deny x\n", 7, "-", &p, &e), -EINVAL);
	assert_null(p);
	assert_string_equal(
		cf_err_str(&e, buf, sizeof(buf)),
		"<stdin>:1:6: expected country, asn or net after 'deny', not 'x'");
}

/* ---- files ------------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/cf-test-parse.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
	char path[128], want[160];
	struct cf_policy *p = NULL;
	struct cf_err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/policy.conf", tmpdir);
	write_file(path, "database geo.mmdb\ndeny country RU\n");
	assert_int_equal(cf_policy_load(path, &p, &e), 0);
	assert_string_equal(p->path, path);
	snprintf(want, sizeof(want), "%s/geo.mmdb", tmpdir);
	assert_string_equal(p->dbs[0].path, want);
	assert_string_equal(rule(p, 0)->items[0].cc, "RU");
	cf_policy_free(p);

	/* Errors from the text still name the file. */
	write_file(path, "\ndeny country XY\n");
	p = NULL;
	assert_int_equal(cf_policy_load(path, &p, &e), -EINVAL);
	assert_null(p);
	assert_string_equal(e.file, path);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.col, 14);
}

static void test_load_errors(void **state)
{
	char path[128], buf[600];
	struct cf_policy *p = NULL;
	struct cf_err e;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(cf_policy_load(path, &p, &e), -ENOENT);
	assert_null(p);
	assert_string_equal(e.file, path);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.msg, strerror(ENOENT)));
	assert_non_null(strstr(cf_err_str(&e, buf, sizeof(buf)), path));

	assert_int_equal(cf_policy_load(tmpdir, &p, &e), -EISDIR);
	assert_non_null(strstr(e.msg, strerror(EISDIR)));
	assert_string_equal(e.file, tmpdir);

	/* A huge file: read up to the limit plus one, then refused. */
	snprintf(path, sizeof(path), "%s/huge.conf", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	close(fd);
	assert_int_equal(cf_policy_load(path, &p, &e), -EFBIG);
	assert_null(p);
	assert_non_null(strstr(e.msg, "too large"));
}

static void test_load_stdin(void **state)
{
	char path[128];
	struct cf_policy *p = NULL;
	struct cf_err e;

	(void)state;
	snprintf(path, sizeof(path), "%s/stdin.conf", tmpdir);
	write_file(path, "database rel.db\nmonitor asn 64500\n");
	assert_non_null(freopen(path, "r", stdin));
	assert_int_equal(cf_policy_load("-", &p, &e), 0);
	assert_string_equal(p->path, "-");
	/* From standard input, relative paths stay relative to the cwd. */
	assert_string_equal(p->dbs[0].path, "rel.db");
	assert_int_equal(rule(p, 0)->items[0].asn, 64500);
	cf_policy_free(p);
}

/* ---- helpers ----------------------------------------------------------- */

static void test_default_database(void **state)
{
	const char *live = "/var/lib/location/database.db";
	const char *pkg = "/usr/share/libloc-location/location.db";

	(void)state;
	assert_int_equal(setenv("CAMFENCE_DATABASE", "/srv/geo.mmdb", 1), 0);
	assert_string_equal(cf_default_database(), "/srv/geo.mmdb");
	/* Empty counts as unset. */
	assert_int_equal(setenv("CAMFENCE_DATABASE", "", 1), 0);
	assert_string_equal(cf_default_database(),
			    access(live, R_OK) ? pkg : live);
	assert_int_equal(unsetenv("CAMFENCE_DATABASE"), 0);
	assert_string_equal(cf_default_database(),
			    access(live, R_OK) ? pkg : live);
}

/* "database default" names the embedded default, whatever the policy's
 * directory, and keeps its place among the other databases. */
static void test_database_default_keyword(void **state)
{
	const char *t = "database DEFAULT\ndatabase csv overlay.csv\n";
	struct cf_policy *p;
	struct cf_err e;

	(void)state;
	assert_int_equal(setenv("CAMFENCE_DATABASE", "/srv/geo.mmdb", 1), 0);
	assert_int_equal(cf_policy_parse(t, strlen(t), "/etc/cf/p.conf", &p, &e), 0);
	assert_int_equal(unsetenv("CAMFENCE_DATABASE"), 0);
	assert_int_equal(p->n_dbs, 2);
	assert_string_equal(p->dbs[0].path, "/srv/geo.mmdb");
	assert_int_equal(p->dbs[0].format, CF_DB_AUTO);
	assert_string_equal(p->dbs[1].path, "/etc/cf/overlay.csv");
	cf_policy_free(p);
}

static void test_action_str(void **state)
{
	(void)state;
	assert_string_equal(cf_action_str(CF_ALLOW), "allow");
	assert_string_equal(cf_action_str(CF_DENY), "deny");
	assert_string_equal(cf_action_str(CF_MONITOR), "monitor");
	assert_string_equal(cf_action_str((enum cf_action)7), "?");
}

static void test_country(void **state)
{
	static const char *const valid[] = {
		"CN", "RU", "US", "GB", "DE", "TW", "HK", "KP", "AX",
		"ZW", "SS", "XK", "EU", "AP", "A1", "A2", "A3", "XD",
	};
	static const char *const invalid[] = {
		"cn", "Cn", "cN", "XY", "ZZ",  "UK", "AA", "QM",
		"XX", "A4", "11", "C",	"CHN", "",   "C ", " C",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!cf_country_valid(valid[i]) || !cf_country_name(valid[i]))
			fail_msg("'%s' should be valid", valid[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (cf_country_valid(invalid[i]) || cf_country_name(invalid[i]))
			fail_msg("'%s' should be invalid", invalid[i]);
	assert_false(cf_country_valid(NULL));
	assert_null(cf_country_name(NULL));
	assert_string_equal(cf_country_name("DE"), "Germany");
	assert_string_equal(cf_country_name("XK"), "Kosovo");
	assert_string_equal(cf_country_name("GB"), "United Kingdom");
	assert_string_equal(cf_country_name("EU"), "European Union");
}

/*
 * Over every two-character string: 249 ISO 3166-1 codes plus EU, AP, XK,
 * XD and A1-A3.  A table entry out of order would hide from the binary
 * search and lower the count.
 */
static void test_country_count(void **state)
{
	static const char chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	unsigned n = 0, letters = 0;
	char cc[3] = "";
	size_t i, j;

	(void)state;
	for (i = 0; chars[i]; i++) {
		for (j = 0; chars[j]; j++) {
			cc[0] = chars[i];
			cc[1] = chars[j];
			if (!cf_country_valid(cc))
				continue;
			n++;
			letters += i >= 10 && j >= 10;
		}
	}
	assert_int_equal(n, 256);
	assert_int_equal(letters, 253);
}

static void test_err_str(void **state)
{
	struct cf_err e;
	char buf[600], small[8];

	(void)state;
	assert_int_equal(cf_err_set(&e, EINVAL, "p.conf", 3, 7, "bad %s", "x"),
			 -EINVAL);
	assert_string_equal(cf_err_str(&e, buf, sizeof(buf)),
			    "p.conf:3:7: bad x");
	cf_err_set(&e, ENOENT, "p.conf", 0, 0, "cannot open");
	assert_string_equal(cf_err_str(&e, buf, sizeof(buf)),
			    "p.conf: cannot open");
	cf_err_set(&e, EINVAL, "p.conf", 3, 0, "no column");
	assert_string_equal(cf_err_str(&e, buf, sizeof(buf)),
			    "p.conf:3: no column");
	cf_err_set(&e, ENOMEM, NULL, 0, 0, "out of memory");
	assert_string_equal(cf_err_str(&e, buf, sizeof(buf)), "out of memory");
	assert_string_equal(e.file, "");
	/* Truncated, still terminated. */
	cf_err_set(&e, EINVAL, "p.conf", 3, 7, "bad");
	assert_string_equal(cf_err_str(&e, small, sizeof(small)), "p.conf:");
	/* A NULL err is allowed: only the return value matters then. */
	assert_int_equal(cf_err_set(NULL, EPERM, "f", 1, 1, "x"), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_crlf_tabs_bom),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_rule_country),
		cmocka_unit_test(test_rule_asn),
		cmocka_unit_test(test_rule_net),
		cmocka_unit_test(test_not_duplicates),
		cmocka_unit_test(test_many_items),
		cmocka_unit_test(test_database),
		cmocka_unit_test(test_database_resolution),
		cmocka_unit_test(test_database_default_keyword),
		cmocka_unit_test(test_default_malformed),
		cmocka_unit_test(test_event_rate),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_err_unknown_directive),
		cmocka_unit_test(test_err_rule_shape),
		cmocka_unit_test(test_err_country),
		cmocka_unit_test(test_err_country_dup),
		cmocka_unit_test(test_err_asn),
		cmocka_unit_test(test_err_net),
		cmocka_unit_test(test_err_net_embedded),
		cmocka_unit_test(test_net_embedded_neighbours),
		cmocka_unit_test(test_err_net_dup),
		cmocka_unit_test(test_err_database),
		cmocka_unit_test(test_err_default),
		cmocka_unit_test(test_err_malformed),
		cmocka_unit_test(test_err_event_rate),
		cmocka_unit_test(test_err_line_too_long),
		cmocka_unit_test(test_err_nul),
		cmocka_unit_test(test_err_too_large),
		cmocka_unit_test(test_err_stdin_name),
		cmocka_unit_test_setup_teardown(test_load, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_errors, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_load_stdin, make_tmpdir,
						remove_tmpdir),
		cmocka_unit_test(test_default_database),
		cmocka_unit_test(test_action_str),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_country_count),
		cmocka_unit_test(test_err_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
