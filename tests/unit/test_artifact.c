// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_artifact.c - compiled policies through artifact files: a round trip
 * keeps every class, range and setting (the image built from either is the
 * same), and every kind of damage is refused with an error saying what.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "artifact.h"
#include "sha256.h"
#include "table.h"

/* Every class kind, both families, non-default settings. */
static const char POLICY[] =
	"# artifact test policy\n"
	"default deny\n"
	"malformed pass\n"
	"event-rate 7 9\n"
	"allow   country DE FR\n"
	"monitor country HK\n"
	"deny    asn 64500 AS64501\n"
	"allow   net 203.0.113.0/24 2001:db8:c0::/48\n"
	"deny    net 10.1.2.0/24\n";

struct fixture {
	struct cf_dbset dbs;
	struct cf_policy *p;
	struct cf_compiled *c;
	void *buf;
	size_t len;
};

static cf_u128 A(const char *s)
{
	cf_u128 a;
	int fam;

	assert_int_equal(cf_addr_parse(s, &a, &fam), 0);
	return a;
}

static void rec(struct fixture *f, int fam, const char *first,
		const char *last, const char *cc, uint32_t asn)
{
	struct cf_rec r = { .first = A(first), .last = A(last), .family = fam };

	if (cc) {
		memcpy(r.cc, cc, 2);
		r.has |= CF_HAS_CC;
	}
	if (asn) {
		r.asn = asn;
		r.has |= CF_HAS_ASN;
	}
	assert_int_equal(cf_reclist_push(fam == CF_AF_V4 ? &f->dbs.v4 :
							   &f->dbs.v6, &r), 0);
}

static void add_records(struct fixture *f)
{
	rec(f, CF_AF_V4, "5.0.0.0", "5.0.255.255", "DE", 0);
	rec(f, CF_AF_V4, "5.1.0.0", "5.1.0.255", "FR", 64500);
	rec(f, CF_AF_V4, "45.0.0.0", "45.0.0.255", "HK", 0);
	rec(f, CF_AF_V4, "77.0.0.0", "77.0.3.255", "RU", 64501);
	rec(f, CF_AF_V6, "2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
	    "DE", 0);
	rec(f, CF_AF_V6, "2001:db8:2::", "2001:db8:2::ffff", "HK", 0);
	rec(f, CF_AF_V6, "2a00::", "2a00:ff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "RU", 64500);
	f->dbs.built_at = 1667000000;
}

static void compile(struct fixture *f, const char *text, bool with_dbs)
{
	struct cf_err e = { 0 };
	char msg[600];

	if (cf_policy_parse(text, strlen(text), "site/policy.conf", &f->p, &e))
		fail_msg("parse: %s", cf_err_str(&e, msg, sizeof(msg)));
	if (cf_compile(f->p, with_dbs ? &f->dbs : NULL, &f->c, &e))
		fail_msg("compile: %s", cf_err_str(&e, msg, sizeof(msg)));
	if (cf_artifact_write(f->c, text, strlen(text), 1700000000, &f->buf,
			      &f->len, &e))
		fail_msg("write: %s", cf_err_str(&e, msg, sizeof(msg)));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	add_records(f);
	compile(f, POLICY, true);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->buf);
	cf_compiled_free(f->c);
	cf_policy_free(f->p);
	cf_reclist_free(&f->dbs.v4);
	cf_reclist_free(&f->dbs.v6);
	free(f);
	return 0;
}

/* Read buf; on failure return the error text in msg. */
static int read_art(const void *buf, size_t len, struct cf_compiled **c,
		    char **text, size_t *text_len, char *msg, size_t msg_len)
{
	struct cf_err e = { 0 };
	int err;

	err = cf_artifact_read(buf, len, "x.cfpa", c, text, text_len, NULL, &e);
	if (err)
		cf_err_str(&e, msg, (unsigned)msg_len);
	return err;
}

/* A damaged artifact must be refused with an error naming x.cfpa and
 * saying want. */
static void expect_refused(const void *buf, size_t len, const char *want)
{
	struct cf_compiled *c = NULL;
	char *text = NULL, msg[600] = "";
	size_t tl;

	assert_int_equal(read_art(buf, len, &c, &text, &tl, msg, sizeof(msg)),
			 -EINVAL);
	assert_null(c);
	assert_null(text);
	if (!strstr(msg, want) || strncmp(msg, "x.cfpa: ", 8))
		fail_msg("error \"%s\" does not say \"%s\"", msg, want);
}

static void same_ranges(const struct cf_crangelist *a,
			const struct cf_crangelist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_true(a->v[i].first == b->v[i].first);
		assert_true(a->v[i].last == b->v[i].last);
		assert_int_equal(a->v[i].class, b->v[i].class);
	}
}

static void same_compiled(const struct cf_compiled *a,
			  const struct cf_compiled *b)
{
	assert_int_equal(a->n_classes, b->n_classes);
	assert_memory_equal(a->classes, b->classes,
			    a->n_classes * sizeof(*a->classes));
	same_ranges(&a->v4, &b->v4);
	same_ranges(&a->v6, &b->v6);
	assert_int_equal(a->malformed, b->malformed);
	assert_int_equal(a->event_rate, b->event_rate);
	assert_int_equal(a->event_burst, b->event_burst);
	assert_int_equal(a->db_built_at, b->db_built_at);
	assert_memory_equal(a->digest, b->digest, 32);
	assert_string_equal(a->policy_path, b->policy_path);
}

/* Images from the original and the round trip, word for word (the build
 * time in the header aside). */
static void same_image(const struct cf_compiled *a,
		       const struct cf_compiled *b)
{
	struct cf_image ia, ib;
	struct cf_image_hdr *ha, *hb;
	struct cf_err e;

	assert_int_equal(cf_image_build(a, 3, 1u << 22, &ia, &e), 0);
	assert_int_equal(cf_image_build(b, 3, 1u << 22, &ib, &e), 0);
	ha = (struct cf_image_hdr *)ia.w;
	hb = (struct cf_image_hdr *)ib.w;
	ha->compiled_at = hb->compiled_at = 0;
	assert_int_equal(ia.n_words, ib.n_words);
	assert_memory_equal(ia.w, ib.w, ia.n_words * sizeof(*ia.w));
	cf_image_free(&ia);
	cf_image_free(&ib);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct cf_compiled *c;
	struct cf_artifact_info info;
	struct cf_err e;
	char *text;
	size_t tl;
	int kinds = 0;

	assert_int_equal(cf_artifact_read(f->buf, f->len, "x.cfpa", &c, &text,
					  &tl, &info, &e), 0);
	/* the fixture really has every kind, both families, settings */
	for (size_t i = 0; i < f->c->n_classes; i++)
		kinds |= 1 << f->c->classes[i].kind;
	assert_int_equal(kinds, 0x1f);
	assert_true(f->c->v6.n > 3);
	assert_int_equal(f->c->malformed, CF_VERDICT_PASS);
	same_compiled(f->c, c);
	same_image(f->c, c);
	assert_int_equal(tl, strlen(POLICY));
	assert_string_equal(text, POLICY);
	assert_string_equal(c->policy_path, "site/policy.conf");
	assert_int_equal(info.version, CF_ARTIFACT_VERSION);
	assert_int_equal(info.compiled_at, 1700000000);
	assert_int_equal(info.size, f->len);
	/* both families answer as before, IPv6 included */
	assert_int_equal(cf_compiled_class(c, A("2a00:1::1"), CF_AF_V6),
			 cf_compiled_class(f->c, A("2a00:1::1"), CF_AF_V6));
	assert_int_equal(cf_compiled_class(c, A("2001:db8:c0::9"), CF_AF_V6),
			 cf_compiled_class(f->c, A("2001:db8:c0::9"), CF_AF_V6));
	assert_int_equal(cf_compiled_class(c, A("77.0.1.1"), CF_AF_V4),
			 cf_compiled_class(f->c, A("77.0.1.1"), CF_AF_V4));
	cf_compiled_free(c);
	free(text);
}

/* Written twice, the same bytes: an artifact can be compared by hash. */
static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	struct cf_err e;
	void *b2;
	size_t l2;

	assert_int_equal(cf_artifact_write(f->c, POLICY, strlen(POLICY),
					   1700000000, &b2, &l2, &e), 0);
	assert_int_equal(l2, f->len);
	assert_memory_equal(b2, f->buf, l2);
	free(b2);
}

static void test_empty_policy(void **state)
{
	struct fixture f = { 0 };
	struct cf_compiled *c;
	char *text, msg[600];
	size_t tl;

	(void)state;
	compile(&f, "", false);
	assert_int_equal(read_art(f.buf, f.len, &c, &text, &tl, msg,
				  sizeof(msg)), 0);
	assert_int_equal(c->n_classes, CF_CLASS_FIXED);
	same_compiled(f.c, c);
	same_image(f.c, c);
	assert_int_equal(tl, 0);
	assert_string_equal(text, "");
	cf_compiled_free(c);
	free(text);
	free(f.buf);
	cf_compiled_free(f.c);
	cf_policy_free(f.p);
}

static void test_bad_magic(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = f->buf;

	assert_true(cf_artifact_sniff(b, f->len));
	b[1] ^= 0x20;
	assert_false(cf_artifact_sniff(b, f->len));
	expect_refused(b, f->len, "magic");
	b[1] ^= 0x20;
	expect_refused("# a policy\n", 11, "magic");
	expect_refused(b, 0, "magic");
}

static void test_bad_version(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = f->buf;

	b[4] = 2;
	expect_refused(b, f->len, "version 2; this camfence reads version 1");
	b[4] = 0;
	expect_refused(b, f->len, "version 0");
	b[4] = 1;
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	const size_t at[] = { 5, 8, 64, CF_ARTIFACT_HDR_LEN,
			      CF_ARTIFACT_HDR_LEN + CF_ARTIFACT_SUM_LEN,
			      CF_ARTIFACT_HDR_LEN + 40, f->len / 2, f->len - 32,
			      f->len - 1 };

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		expect_refused(f->buf, at[i], "truncated");
}

static void test_trailing(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = malloc(f->len + 3);

	assert_non_null(b);
	memcpy(b, f->buf, f->len);
	memset(b + f->len, 0, 3);
	expect_refused(b, f->len + 3, "3 bytes after the checksum");
	free(b);
}

/* A flipped bit anywhere past the version: the checksum catches it. */
static void test_flipped_payload(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = f->buf;
	const size_t at[] = {
		72,				    /* header: the digest */
		CF_ARTIFACT_HDR_LEN + 1,	    /* class 0's verdict */
		CF_ARTIFACT_HDR_LEN + 16 * 3 + 4,   /* an ASN */
		f->len / 2,			    /* ranges */
		f->len - CF_ARTIFACT_SUM_LEN - 5,   /* policy text */
		f->len - 1,			    /* the checksum itself */
	};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		b[at[i]] ^= 0x04;
		expect_refused(b, f->len, "checksum mismatch");
		b[at[i]] ^= 0x04;
	}
}

/* Whatever byte is damaged, the reader refuses (and ASan sees no
 * overrun). */
static void test_flip_every_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = f->buf;
	struct cf_compiled *c = NULL;
	char *text = NULL, msg[600];
	size_t tl;

	for (size_t i = 0; i < f->len; i++) {
		b[i] ^= 0x80;
		if (read_art(b, f->len, &c, &text, &tl, msg, sizeof(msg)) !=
		    -EINVAL)
			fail_msg("byte %zu flipped: accepted", i);
		b[i] ^= 0x80;
	}
	assert_int_equal(read_art(b, f->len, &c, &text, &tl, msg, sizeof(msg)),
			 0);
	cf_compiled_free(c);
	free(text);
}

static void reseal(uint8_t *b, size_t len)
{
	struct cf_sha256 s;

	cf_sha256_init(&s);
	cf_sha256_update(&s, b, len - CF_ARTIFACT_SUM_LEN);
	cf_sha256_final(&s, b + len - CF_ARTIFACT_SUM_LEN);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A well-sealed artifact whose contents are wrong is still refused. */
static void test_sealed_but_invalid(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = malloc(f->len);
	uint32_t n_classes;
	size_t v4;

	assert_non_null(b);
	n_classes = le32((uint8_t *)f->buf + 24);
	assert_int_equal(n_classes, f->c->n_classes);
	v4 = CF_ARTIFACT_HDR_LEN + 16 * (size_t)n_classes;

	memcpy(b, f->buf, f->len);
	b[v4 + 4] = 0xff; /* range 0's class past the classes */
	reseal(b, f->len);
	expect_refused(b, f->len, "corrupt: IPv4 range 0");

	memcpy(b, f->buf, f->len);
	memcpy(b + v4 + 8, b + v4, 4); /* range 1 starts where range 0 does */
	reseal(b, f->len);
	expect_refused(b, f->len, "corrupt: IPv4 range 1");

	memcpy(b, f->buf, f->len);
	b[CF_ARTIFACT_HDR_LEN + 16 * 2] = 9; /* class 2: no such kind */
	reseal(b, f->len);
	expect_refused(b, f->len, "corrupt: class 2");

	memcpy(b, f->buf, f->len);
	b[28]++; /* one more IPv4 range than the payload holds */
	reseal(b, f->len);
	expect_refused(b, f->len, "do not add up");

	memcpy(b, f->buf, f->len);
	b[44] = 7; /* malformed verdict */
	reseal(b, f->len);
	expect_refused(b, f->len, "malformed verdict 7");
	free(b);
}

/*
 * The forgery: a permissive policy's artifact with the header
 * digest of a stricter one, trailer resealed.  The digest is what status
 * shows and the daemon compares, so the reader must never take it from
 * the header: the file is refused, naming both digests.
 */
static void test_forged_digest(void **state)
{
	struct fixture *f = *state, strict = { 0 };
	uint8_t *b = malloc(f->len);
	char want[65], got[65], say[128];

	assert_non_null(b);
	add_records(&strict);
	compile(&strict, "default deny\ndeny country DE FR HK\n", true);
	assert_memory_not_equal(strict.c->digest, f->c->digest, 32);

	memcpy(b, f->buf, f->len);
	memcpy(b + 72, strict.c->digest, 32);
	reseal(b, f->len);
	snprintf(say, sizeof(say),
		 "digest mismatch: the header says %.16s, the tables it holds are %.16s",
		 cf_sha256_hex(strict.c->digest, want),
		 cf_sha256_hex(f->c->digest, got));
	expect_refused(b, f->len, say);

	/* a zeroed digest is no way around it either */
	memset(b + 72, 0, 32);
	reseal(b, f->len);
	expect_refused(b, f->len, "digest mismatch");
	free(b);
	free(strict.buf);
	cf_compiled_free(strict.c);
	cf_policy_free(strict.p);
	cf_reclist_free(&strict.dbs.v4);
	cf_reclist_free(&strict.dbs.v6);
}

/*
 * Tables changed under a resealed header (a denied range handed to the
 * default class): the stored digest no longer matches, refused.  And
 * the digest a good artifact loads with is computed, equal to the
 * compiler's.
 */
static void test_digest_from_tables(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = malloc(f->len);
	struct cf_compiled *c = NULL;
	char *text = NULL, msg[600];
	size_t tl, v4, i;

	assert_non_null(b);
	v4 = CF_ARTIFACT_HDR_LEN + 16 * f->c->n_classes;
	for (i = 1; i + 1 < f->c->v4.n; i++)
		if (f->c->v4.v[i].class != CF_CLASS_DEFAULT &&
		    f->c->v4.v[i - 1].class != CF_CLASS_DEFAULT &&
		    f->c->v4.v[i + 1].class != CF_CLASS_DEFAULT)
			break;
	assert_true(i + 1 < f->c->v4.n);
	memcpy(b, f->buf, f->len);
	b[v4 + 8 * i + 4] = CF_CLASS_DEFAULT;
	b[v4 + 8 * i + 5] = b[v4 + 8 * i + 6] = b[v4 + 8 * i + 7] = 0;
	reseal(b, f->len);
	expect_refused(b, f->len, "digest mismatch");

	assert_int_equal(read_art(f->buf, f->len, &c, &text, &tl, msg,
				  sizeof(msg)), 0);
	memset(f->c->digest, 0, 32);
	cf_compiled_digest(f->c, f->c->digest);
	assert_memory_equal(c->digest, f->c->digest, 32);
	cf_compiled_free(c);
	free(text);
	free(b);
}

/* Neighbours of one class are merged by the compiler; the digest (and
 * the read-back digest of the image) depend on it. */
static void test_unmerged_ranges(void **state)
{
	struct fixture *f = *state;
	uint8_t *b = malloc(f->len);
	size_t v4;

	assert_non_null(b);
	v4 = CF_ARTIFACT_HDR_LEN + 16 * f->c->n_classes;
	memcpy(b, f->buf, f->len);
	memcpy(b + v4 + 8 + 4, b + v4 + 4, 4); /* range 1 takes 0's class */
	reseal(b, f->len);
	expect_refused(b, f->len, "IPv4 range 1 has the class of the one before");
	free(b);
}

/* The writer stores range starts only, so it refuses ranges that do not
 * tile their family. */
static void test_write_refuses_gaps(void **state)
{
	struct fixture *f = *state;
	struct cf_err e = { 0 };
	void *b = NULL;
	size_t l;

	f->c->v4.v[1].first++;
	assert_int_equal(cf_artifact_write(f->c, "", 0, 0, &b, &l, &e),
			 -EINVAL);
	assert_null(b);
	assert_non_null(strstr(e.msg, "cover"));
	f->c->v4.v[1].first--;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_deterministic),
		cmocka_unit_test(test_empty_policy),
		T(test_bad_magic),
		T(test_bad_version),
		T(test_truncated),
		T(test_trailing),
		T(test_flipped_payload),
		T(test_flip_every_byte),
		T(test_sealed_but_invalid),
		T(test_write_refuses_gaps),
		T(test_forged_digest),
		T(test_digest_from_tables),
		T(test_unmerged_ranges),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
