// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_compile.c - the compiler (classes, precedence, local ranges, range
 * merging) and the image it builds, against the naive rule evaluator.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compile.h"
#include "table.h"
#include "randdb.h"

/* A hand-made database set: records given as "first last CC ASN". */
struct fixture {
	struct cf_policy *p;
	struct cf_dbset dbs;
	struct cf_compiled *c;
	struct cf_image img;
};

static cf_u128 A(const char *s)
{
	cf_u128 a;
	int fam;

	assert_int_equal(cf_addr_parse(s, &a, &fam), 0);
	return a;
}

static int fam_of(const char *s)
{
	cf_u128 a;
	int fam;

	assert_int_equal(cf_addr_parse(s, &a, &fam), 0);
	return fam;
}

static void rec(struct fixture *f, const char *first, const char *last,
		const char *cc, uint32_t asn)
{
	struct cf_rec r = { .first = A(first), .last = A(last) };

	r.family = fam_of(first);
	if (cc) {
		memcpy(r.cc, cc, 2);
		r.has |= CF_HAS_CC;
	}
	if (asn) {
		r.asn = asn;
		r.has |= CF_HAS_ASN;
	}
	assert_int_equal(cf_reclist_push(r.family == CF_AF_V4 ? &f->dbs.v4 :
								&f->dbs.v6, &r), 0);
}

static void compile(struct fixture *f, const char *text)
{
	struct cf_err e = { 0 };
	char buf[600];
	int err;

	err = cf_policy_parse(text, strlen(text), "test.conf", &f->p, &e);
	if (err)
		fail_msg("parse: %s", cf_err_str(&e, buf, sizeof(buf)));
	err = cf_compile(f->p, &f->dbs, &f->c, &e);
	if (err)
		fail_msg("compile: %s", cf_err_str(&e, buf, sizeof(buf)));
	err = cf_image_build(f->c, 7, 1u << 22, &f->img, &e);
	if (err)
		fail_msg("image: %s", cf_err_str(&e, buf, sizeof(buf)));
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cf_image_free(&f->img);
	cf_compiled_free(f->c);
	cf_policy_free(f->p);
	cf_reclist_free(&f->dbs.v4);
	cf_reclist_free(&f->dbs.v6);
	free(f);
	return 0;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state ? 0 : -1;
}

/* Kind and verdict of the class an address gets, by all three routes. */
static const struct cf_class_meta *judge(struct fixture *f, const char *s)
{
	cf_u128 a = A(s);
	int fam = fam_of(s);
	const struct cf_rec *r = cf_dbset_find(&f->dbs, a, fam);
	uint32_t c = cf_compiled_class(f->c, a, fam);
	uint32_t ref = cf_policy_classify(f->c, f->p, r, a, fam);
	uint32_t img = fam == CF_AF_V4 ? cf_image_lookup_v4(f->img.w, (uint32_t)a) :
					 cf_image_lookup_v6(f->img.w, a);

	if (c != ref || c != img)
		fail_msg("%s: compiled class %u, rules say %u, image %u", s, c,
			 ref, img);
	assert_true(c < f->c->n_classes);
	return &f->c->classes[c];
}

static void expect(struct fixture *f, const char *addr, uint8_t kind,
		   uint8_t verdict)
{
	const struct cf_class_meta *m = judge(f, addr);

	if (m->kind != kind || m->verdict != verdict)
		fail_msg("%s: kind %u verdict %u, expected kind %u verdict %u",
			 addr, m->kind, m->verdict, kind, verdict);
}

static void test_empty_policy(void **state)
{
	struct fixture *f = *state;

	compile(f, "# nothing\n");
	expect(f, "8.8.8.8", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "10.1.2.3", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "255.255.255.255", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "255.255.255.254", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "0.0.0.0", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "fe80::1", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "2001:db8::1", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CF_KIND_LOCAL,
	       CF_VERDICT_PASS);
	assert_int_equal(f->c->n_classes, CF_CLASS_FIXED);
}

static void test_country_and_merge(void **state)
{
	struct fixture *f = *state;

	rec(f, "198.51.100.0", "198.51.100.127", "RU", 0);
	rec(f, "198.51.100.128", "198.51.100.255", "RU", 0);
	rec(f, "203.0.113.0", "203.0.113.255", "DE", 0);
	compile(f, "deny country RU\n");
	expect(f, "198.51.100.0", CF_KIND_COUNTRY, CF_VERDICT_DROP);
	expect(f, "198.51.100.255", CF_KIND_COUNTRY, CF_VERDICT_DROP);
	expect(f, "198.51.101.0", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "198.51.99.255", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "203.0.113.7", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	/* the two RU records are one range after merging */
	for (size_t i = 0; i < f->c->v4.n; i++)
		if (f->c->v4.v[i].first == A("198.51.100.0"))
			assert_true(f->c->v4.v[i].last == A("198.51.100.255"));
}

static void test_precedence(void **state)
{
	struct fixture *f = *state;

	rec(f, "192.0.2.0", "192.0.2.255", "CN", 64500);
	rec(f, "198.51.100.0", "198.51.100.255", "DE", 64501);
	rec(f, "203.0.113.0", "203.0.113.255", "CN", 64502);
	compile(f, "deny country CN\n"
		   "deny asn 64501\n"
		   "allow asn AS64502\n"
		   "allow net 192.0.2.128/25\n"
		   "deny net 192.0.2.200/29\n"
		   "monitor net 192.0.2.201\n");
	expect(f, "192.0.2.1", CF_KIND_COUNTRY, CF_VERDICT_DROP);
	expect(f, "192.0.2.130", CF_KIND_NET, CF_VERDICT_PASS);
	expect(f, "192.0.2.200", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "192.0.2.201", CF_KIND_NET, CF_VERDICT_MONITOR);
	expect(f, "192.0.2.207", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "192.0.2.208", CF_KIND_NET, CF_VERDICT_PASS);
	expect(f, "198.51.100.9", CF_KIND_ASN, CF_VERDICT_DROP);
	expect(f, "203.0.113.9", CF_KIND_ASN, CF_VERDICT_PASS);
}

static void test_local_ranges(void **state)
{
	struct fixture *f = *state;

	rec(f, "10.0.0.0", "10.255.255.255", "CN", 0);
	compile(f, "default deny\n"
		   "deny country CN\n"
		   "deny net 0.0.0.0/0 ::/0\n"
		   "deny net 172.16.0.0/12\n"
		   "monitor net 192.168.1.0/24\n");
	/* locals survive default deny, a country and a shorter net rule */
	expect(f, "10.9.9.9", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "fd00::1", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "127.0.0.1", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "224.0.0.251", CF_KIND_LOCAL, CF_VERDICT_PASS);
	/* an equal or longer net rule names them */
	expect(f, "172.20.0.1", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "192.168.1.5", CF_KIND_NET, CF_VERDICT_MONITOR);
	expect(f, "192.168.2.5", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "8.8.8.8", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "2001:db8::1", CF_KIND_NET, CF_VERDICT_DROP);
}

static void test_default_deny(void **state)
{
	struct fixture *f = *state;

	rec(f, "198.51.100.0", "198.51.100.255", "DE", 0);
	rec(f, "2001:db8:de::", "2001:db8:de:ffff:ffff:ffff:ffff:ffff", "DE", 0);
	compile(f, "default deny\nallow country de\n");
	expect(f, "198.51.100.1", CF_KIND_COUNTRY, CF_VERDICT_PASS);
	expect(f, "198.51.101.1", CF_KIND_DEFAULT, CF_VERDICT_DROP);
	expect(f, "2001:db8:de::1", CF_KIND_COUNTRY, CF_VERDICT_PASS);
	expect(f, "2001:db8:df::1", CF_KIND_DEFAULT, CF_VERDICT_DROP);
}

static void test_prefix_boundaries(void **state)
{
	struct fixture *f = *state;

	compile(f, "deny net 1.2.3.4/32 2001:db8::1/128\n"
		   "monitor net 2001:db8:0:1::/64 2001:db8:0:2::/63\n"
		   "deny net 128.0.0.0/1\n");
	expect(f, "1.2.3.4", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "1.2.3.3", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "1.2.3.5", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "2001:db8::1", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "2001:db8::", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "2001:db8::2", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "2001:db8:0:1::", CF_KIND_NET, CF_VERDICT_MONITOR);
	expect(f, "2001:db8:0:1:ffff:ffff:ffff:ffff", CF_KIND_NET,
	       CF_VERDICT_MONITOR);
	expect(f, "2001:db8:0:3:ffff:ffff:ffff:ffff", CF_KIND_NET,
	       CF_VERDICT_MONITOR);
	expect(f, "2001:db8:0:4::", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "127.255.255.255", CF_KIND_LOCAL, CF_VERDICT_PASS);
	expect(f, "128.0.0.0", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "255.255.255.254", CF_KIND_NET, CF_VERDICT_DROP);
	expect(f, "255.255.255.255", CF_KIND_LOCAL, CF_VERDICT_PASS);
}

static void test_embedded_v4(void **state)
{
	struct fixture *f = *state;
	uint32_t c;

	rec(f, "198.51.100.0", "198.51.100.255", "RU", 0);
	compile(f, "deny country RU\n");
	c = cf_image_lookup(f->img.w, A("64:ff9b::198.51.100.7"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].kind, CF_KIND_COUNTRY);
	c = cf_image_lookup(f->img.w, A("::ffff:198.51.100.7"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].kind, CF_KIND_COUNTRY);
	c = cf_image_lookup(f->img.w, A("2002:c633:6407::1"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].kind, CF_KIND_COUNTRY);
	c = cf_image_lookup(f->img.w, A("2002:c633:6507::1"), CF_AF_V6);
	assert_int_equal(c, CF_CLASS_DEFAULT);
	c = cf_image_lookup(f->img.w, A("64:ff9b:1::198.51.100.7"), CF_AF_V6);
	assert_int_equal(c, CF_CLASS_DEFAULT);
}

/* A CSV database through cf_dbset_load into f, as a policy would use it. */
static void compile_csv(struct fixture *f, const char *rows, const char *rules)
{
	char dir[] = "/tmp/camfence-test_compile.XXXXXX", path[64], text[512];
	struct cf_dbset *dbs;
	struct cf_err e = { 0 };
	char buf[600];
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db.csv", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(rows, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(text, sizeof(text), "database csv %s\n%s", path, rules);
	assert_int_equal(
		cf_policy_parse(text, strlen(text), "csv.conf", &f->p, &e), 0);
	if (cf_dbset_load(f->p, &dbs, &e))
		fail_msg("load: %s", cf_err_str(&e, buf, sizeof(buf)));
	unlink(path);
	rmdir(dir);
	f->dbs = *dbs; /* the fixture owns the record lists from here */
	memset(&dbs->v4, 0, sizeof(dbs->v4));
	memset(&dbs->v6, 0, sizeof(dbs->v6));
	cf_dbset_free(dbs);
	assert_int_equal(cf_compile(f->p, &f->dbs, &f->c, &e), 0);
	assert_int_equal(cf_image_build(f->c, 7, 1u << 22, &f->img, &e), 0);
}

/*
 * A CSV's ::ffff:a.b.c.d row is its IPv4 row: it decides a.b.c.d's class,
 * whichever way a packet carries the address.
 */
static void test_csv_v4_mapped_row(void **state)
{
	struct fixture *f = *state;
	uint32_t c;

	compile_csv(f,
		    "::ffff:198.51.100.0,::ffff:198.51.100.255,RU\n"
		    "2001:db8::,2001:db8::ff,DE\n",
		    "deny country RU\n");
	expect(f, "198.51.100.7", CF_KIND_COUNTRY, CF_VERDICT_DROP);
	expect(f, "198.51.101.7", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	c = cf_image_lookup(f->img.w, A("::ffff:198.51.100.7"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].kind, CF_KIND_COUNTRY);
	c = cf_image_lookup(f->img.w, A("198.51.100.7"), CF_AF_V4);
	assert_int_equal(f->c->classes[c].kind, CF_KIND_COUNTRY);
	assert_int_equal(f->c->n_embedded_v6, 0);
}

/*
 * IPv6 records inside 2002::/16 and 64:ff9b::/96 are never asked about by
 * the datapath: left out (clipped at the edges), counted; the IPv4 data
 * decides those addresses.
 */
static void test_embedded_records_left_out(void **state)
{
	struct fixture *f = *state;
	uint32_t c;

	compile_csv(f,
		    "2002::,2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff,6939\n"
		    "2001:ffff::,2002:0:0:1::,64500\n"
		    "2002:ffff:ffff:ffff::,2003::ff,64501\n"
		    "64:ff9b::,64:ff9b::ffff:ffff,64502\n"
		    "64:ff9b:1::,64:ff9b:1::ffff,64503\n"
		    "198.51.100.0,198.51.100.255,64504\n",
		    "deny asn 6939 64500 64501 64502 64503 64504\n");
	assert_int_equal(f->c->n_embedded_v6, 4);
	expect(f, "2002::1", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "2002:ffff::1", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	expect(f, "2001:ffff::1", CF_KIND_ASN, CF_VERDICT_DROP);
	expect(f, "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CF_KIND_ASN,
	       CF_VERDICT_DROP);
	expect(f, "2003::", CF_KIND_ASN, CF_VERDICT_DROP);
	expect(f, "64:ff9b::1", CF_KIND_DEFAULT, CF_VERDICT_PASS);
	/* RFC 8215's local-use prefix is not decoded: its records count */
	expect(f, "64:ff9b:1::1", CF_KIND_ASN, CF_VERDICT_DROP);
	/* 6to4 and NAT64 of 198.51.100.7: the IPv4 record decides */
	c = cf_image_lookup(f->img.w, A("2002:c633:6407::1"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].asn, 64504);
	c = cf_image_lookup(f->img.w, A("64:ff9b::198.51.100.7"), CF_AF_V6);
	assert_int_equal(f->c->classes[c].asn, 64504);
	c = cf_image_lookup(f->img.w, A("2002:102:304::1"), CF_AF_V6);
	assert_int_equal(c, CF_CLASS_DEFAULT);
}

static void test_image_too_small(void **state)
{
	struct fixture *f = *state;
	struct cf_image img = { 0 };
	struct cf_err e = { 0 };
	char buf[600];

	rec(f, "198.51.100.0", "198.51.100.3", "RU", 0);
	compile(f, "deny country RU\n");
	assert_int_equal(cf_image_build(f->c, 1, CF_NODES_OFF + 16, &img, &e),
			 -E2BIG);
	assert_non_null(strstr(cf_err_str(&e, buf, sizeof(buf)), "need"));
	assert_int_equal(cf_image_check(f->img.w, f->img.capacity, &e), 0);
	f->img.w[0] ^= 1;
	assert_int_equal(cf_image_check(f->img.w, f->img.capacity, &e), -EINVAL);
	f->img.w[0] ^= 1;
}

static void test_digest(void **state)
{
	struct fixture *f = *state;
	struct cf_compiled *c2;
	struct cf_policy *p2;
	struct cf_err e;
	const char *t2 = "# a comment moves the rule\n\ndeny country RU\n";
	const char *t3 = "monitor country RU\n";

	rec(f, "198.51.100.0", "198.51.100.255", "RU", 0);
	compile(f, "deny country RU\n");
	assert_int_equal(cf_policy_parse(t2, strlen(t2), "b", &p2, &e), 0);
	assert_int_equal(cf_compile(p2, &f->dbs, &c2, &e), 0);
	assert_memory_equal(f->c->digest, c2->digest, 32);
	cf_compiled_free(c2);
	cf_policy_free(p2);
	assert_int_equal(cf_policy_parse(t3, strlen(t3), "c", &p2, &e), 0);
	assert_int_equal(cf_compile(p2, &f->dbs, &c2, &e), 0);
	assert_memory_not_equal(f->c->digest, c2->digest, 32);
	cf_compiled_free(c2);
	cf_policy_free(p2);
}

static void check_addr(struct fixture *f, cf_u128 a, int fam)
{
	char buf[CF_ADDR_STRLEN];

	if (a > cf_af_max(fam))
		return;
	judge(f, cf_addr_format(a, fam, buf));
}

/* Every range edge +-1 and random addresses: compiled == rules == image. */
static void test_random_differential(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	const struct cf_crangelist *lists[2];
	int fams[2] = { CF_AF_V4, CF_AF_V6 };

	assert_int_equal(random_db(&f->dbs, &seed, CF_AF_V4, 3000), 0);
	assert_int_equal(random_db(&f->dbs, &seed, CF_AF_V6, 3000), 0);
	compile(f, "deny country RU CN\nmonitor country HK\n"
		   "allow asn 64500\ndeny asn 64501 64502\n"
		   "allow net 0.0.0.0/2\ndeny net 16.0.0.0/4 ::/3\n");
	lists[0] = &f->c->v4;
	lists[1] = &f->c->v6;
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < lists[k]->n; i++) {
			check_addr(f, lists[k]->v[i].first, fams[k]);
			check_addr(f, lists[k]->v[i].last, fams[k]);
			check_addr(f, lists[k]->v[i].last + 1, fams[k]);
			if (lists[k]->v[i].first)
				check_addr(f, lists[k]->v[i].first - 1, fams[k]);
		}
		for (int i = 0; i < 20000; i++) {
			cf_u128 a = (cf_u128)rnd(&seed) << 64 | rnd(&seed);

			check_addr(f, a & cf_af_max(fams[k]), fams[k]);
		}
	}
}

/*
 * The packaged location.db with a multi-country, multi-ASN policy: every
 * compiled range edge and random addresses agree across the three routes.
 */
static void test_real_database(void **state)
{
	struct fixture *f = *state;
	const char *db = cf_default_database();
	struct cf_dbset *dbs;
	struct cf_err e;
	char text[512];
	uint64_t seed = 42;

	if (access(db, R_OK)) {
		print_message("SKIP: %s not readable\n", db);
		skip();
	}
	snprintf(text, sizeof(text),
		 "database %s\n"
		 "deny country CN RU BY KP IR\nmonitor country HK\n"
		 "deny asn 4134 4837 12389\nallow asn 13335\n"
		 "allow net 1.2.3.0/24 2001:db8::/32\n", db);
	assert_int_equal(cf_policy_parse(text, strlen(text), "real.conf", &f->p, &e), 0);
	assert_int_equal(cf_dbset_load(f->p, &dbs, &e), 0);
	f->dbs = *dbs; /* the fixture owns the record lists from here */
	memset(&dbs->v4, 0, sizeof(dbs->v4));
	memset(&dbs->v6, 0, sizeof(dbs->v6));
	assert_true(f->dbs.v4.n > 100000 && f->dbs.v6.n > 10000);
	assert_int_equal(cf_compile(f->p, &f->dbs, &f->c, &e), 0);
	assert_int_equal(cf_image_build(f->c, 1, 0, &f->img, &e), 0);
	for (int k = 0; k < 2; k++) {
		const struct cf_crangelist *l = k ? &f->c->v6 : &f->c->v4;
		int fam = k ? CF_AF_V6 : CF_AF_V4;

		for (size_t i = 0; i < l->n; i++) {
			check_addr(f, l->v[i].first, fam);
			check_addr(f, l->v[i].last, fam);
		}
		for (int i = 0; i < 100000; i++)
			check_addr(f, rnd128(&seed, cf_af_bits(fam)), fam);
	}
	/* 1.1.1.1 is Cloudflare's AS13335 in every location.db */
	expect(f, "1.1.1.1", CF_KIND_ASN, CF_VERDICT_PASS);
	cf_dbset_free(dbs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_country_and_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_deny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embedded_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_v4_mapped_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embedded_records_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_differential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_database, setup, teardown),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
