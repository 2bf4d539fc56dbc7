// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_readback.c - images read back into the policy they enforce: for
 * every image the builder makes, the same classes and ranges and the
 * compiler's digest; for a tampered image, the digest of what it does,
 * whatever its header claims; a trie the datapath could not walk, or
 * whose nodes are shared, refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "readback.h"
#include "table.h"
#include "randdb.h"

struct fixture {
	struct cf_policy *p;
	struct cf_dbset dbs;
	struct cf_compiled *c;
	struct cf_image img;
};

static const char POLICY[] = "default deny\n"
			     "malformed pass\n"
			     "event-rate 7 9\n"
			     "allow   country DE FR\n"
			     "monitor country HK\n"
			     "deny    asn 64500 AS64501\n"
			     "allow   net 203.0.113.0/24 2001:db8:c0::/48\n"
			     "deny    net 10.1.2.0/24 2a00:1::/64\n";

static void compile(struct fixture *f, const char *text)
{
	struct cf_err e = { 0 };
	char msg[600];

	if (cf_policy_parse(text, strlen(text), "rb.conf", &f->p, &e))
		fail_msg("parse: %s", cf_err_str(&e, msg, sizeof(msg)));
	if (cf_compile(f->p, &f->dbs, &f->c, &e))
		fail_msg("compile: %s", cf_err_str(&e, msg, sizeof(msg)));
	if (cf_image_build(f->c, 5, 1u << 22, &f->img, &e))
		fail_msg("image: %s", cf_err_str(&e, msg, sizeof(msg)));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint64_t seed = 0x2545f4914f6cdd1dull;

	assert_non_null(f);
	assert_int_equal(random_db(&f->dbs, &seed, CF_AF_V4, 3000), 0);
	assert_int_equal(random_db(&f->dbs, &seed, CF_AF_V6, 3000), 0);
	compile(f, POLICY);
	*state = f;
	return 0;
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

/* The image's digest, or fail with the error. */
static void digest_of(const struct cf_image *img, uint8_t d[32])
{
	struct cf_err e = { 0 };
	char msg[600];

	if (cf_image_digest(img->w, img->capacity, d, &e))
		fail_msg("readback: %s", cf_err_str(&e, msg, sizeof(msg)));
}

/* Refused with -EINVAL and an error saying want. */
static void expect_broken(const struct cf_image *img, const char *want)
{
	struct cf_err e = { 0 };
	uint8_t d[32];
	char msg[600];

	assert_int_equal(cf_image_digest(img->w, img->capacity, d, &e),
			 -EINVAL);
	cf_err_str(&e, msg, sizeof(msg));
	if (!strstr(msg, want))
		fail_msg("error \"%s\" does not say \"%s\"", msg, want);
}

/* Everything the compiler produced comes back, and so does its digest. */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct cf_compiled *c;
	struct cf_err e;

	assert_true(f->c->v4.n > 1000 && f->c->v6.n > 1000);
	assert_int_equal(cf_image_readback(f->img.w, f->img.capacity, &c, &e),
			 0);
	assert_int_equal(c->n_classes, f->c->n_classes);
	assert_memory_equal(c->classes, f->c->classes,
			    c->n_classes * sizeof(*c->classes));
	same_ranges(&c->v4, &f->c->v4);
	same_ranges(&c->v6, &f->c->v6);
	assert_int_equal(c->malformed, CF_VERDICT_PASS);
	assert_int_equal(c->event_rate, 7);
	assert_int_equal(c->event_burst, 9);
	assert_memory_equal(c->digest, f->c->digest, 32);
	cf_compiled_free(c);
}

/* The header's digest is a claim: changing it changes nothing read back. */
static void test_header_claim_ignored(void **state)
{
	struct fixture *f = *state;
	struct cf_image_hdr *h = (struct cf_image_hdr *)f->img.w;
	uint8_t d[32];

	memset(h->digest, 0xa5, sizeof(h->digest));
	digest_of(&f->img, d);
	assert_memory_equal(d, f->c->digest, 32);
}

/* What the datapath reads decides: a class word's verdict, a leaf's
 * class, the malformed setting.  Each change is a different digest. */
static void test_tables_decide(void **state)
{
	struct fixture *f = *state;
	struct cf_image_hdr *h = (struct cf_image_hdr *)f->img.w;
	uint32_t *cw = &f->img.w[CF_CLASS_OFF + 4], *leaf = NULL, keep;
	uint8_t d[32];

	keep = *cw;
	*cw ^= CF_VERDICT_DROP; /* the datapath flips; the meta still says */
	digest_of(&f->img, d);
	assert_memory_not_equal(d, f->c->digest, 32);
	*cw = keep;

	for (size_t i = 0; !leaf && i < CF_ROOT_ENTRIES; i++)
		if (f->img.w[CF_V4_ROOT + i] == CF_CLASS_DEFAULT && i &&
		    f->img.w[CF_V4_ROOT + i - 1] == CF_CLASS_DEFAULT)
			leaf = &f->img.w[CF_V4_ROOT + i];
	assert_non_null(leaf);
	*leaf = CF_CLASS_LOCAL;
	digest_of(&f->img, d);
	assert_memory_not_equal(d, f->c->digest, 32);
	*leaf = CF_CLASS_DEFAULT;

	h->malformed = CF_VERDICT_DROP;
	digest_of(&f->img, d);
	assert_memory_not_equal(d, f->c->digest, 32);
	h->malformed = CF_VERDICT_PASS;
	digest_of(&f->img, d);
	assert_memory_equal(d, f->c->digest, 32);
}

/* The first root entry of a family that points to a node. */
static uint32_t *first_node(struct fixture *f, size_t root)
{
	for (size_t i = 0; i < CF_ROOT_ENTRIES; i++)
		if (f->img.w[root + i] & CF_ENT_NODE)
			return &f->img.w[root + i];
	fail_msg("no node under the root at %zu", root);
	return NULL;
}

/* An IPv6 entry at a depth in [lo, hi] below the node entry e at depth. */
static uint32_t *v6_entry_at(uint32_t *w, uint32_t e, unsigned depth,
			     unsigned lo, unsigned hi)
{
	unsigned s = ((e >> CF_ENT_STRIDE_SHIFT) & CF_ENT_STRIDE_MASK) + 1;
	uint32_t *node = &w[e & CF_ENT_BASE_MASK], *hit;

	for (size_t i = 0; i < ((size_t)1 << s); i++) {
		if (depth + s >= lo && depth + s <= hi)
			return &node[i];
		if ((node[i] & CF_ENT_NODE) &&
		    (hit = v6_entry_at(w, node[i], depth + s, lo, hi)))
			return hit;
	}
	return NULL;
}

static void test_broken_tries(void **state)
{
	struct fixture *f = *state;
	struct cf_image_hdr *h = (struct cf_image_hdr *)f->img.w;
	uint32_t *e4 = first_node(f, CF_V4_ROOT),
		 *e6 = first_node(f, CF_V6_ROOT);
	uint32_t k4 = *e4, k6 = *e6, *last;

	*e4 = (k4 & ~CF_ENT_BASE_MASK) | (h->nodes_end - 1);
	expect_broken(&f->img, "node outside");
	*e4 = (k4 & ~CF_ENT_BASE_MASK) | (CF_V4_ROOT & CF_ENT_BASE_MASK);
	expect_broken(&f->img, "node outside");
	*e4 = (k4 & CF_ENT_BASE_MASK) | CF_ENT_NODE |
	      (16u << CF_ENT_STRIDE_SHIFT); /* 17 bits below bit 16 of 32 */
	expect_broken(&f->img, "stride runs past");
	*e4 = k4;

	/* IPv6 is walked in 64-bit halves: no node may straddle bit 64 */
	e6 = v6_entry_at(f->img.w, *e6, CF_ROOT_BITS, 33, 63);
	assert_non_null(e6);
	k6 = *e6;
	*e6 = CF_ENT_NODE | (31u << CF_ENT_STRIDE_SHIFT) | CF_NODES_OFF;
	expect_broken(&f->img, "straddles bit 64");
	*e6 = k6;

	last = &f->img.w[CF_V4_ROOT + CF_ROOT_ENTRIES - 1];
	k4 = *last;
	*last = h->n_classes;
	expect_broken(&f->img, "class past");
	*last = k4;
}

/*
 * Root entries all pointing to one node would make a walk of every
 * pointer visit it 65536 times (and deeper sharing, exponentially
 * more): refused by the budget of node words.
 */
static void test_shared_nodes(void **state)
{
	struct fixture *f = *state;
	uint32_t node = *first_node(f, CF_V4_ROOT);

	for (size_t i = 0; i < CF_ROOT_ENTRIES; i++)
		f->img.w[CF_V4_ROOT + i] = node;
	expect_broken(&f->img, "shared");
}

/* The packaged location.db: the read-back digest is the compiler's. */
static void test_real_database(void **state)
{
	struct fixture *f = *state;
	const char *db = cf_default_database();
	struct cf_policy *p;
	struct cf_dbset *dbs;
	struct cf_compiled *c;
	struct cf_image img;
	struct cf_err e;
	char text[512];
	uint8_t d[32];

	(void)f;
	if (access(db, R_OK)) {
		print_message("SKIP: %s not readable\n", db);
		skip();
	}
	snprintf(text, sizeof(text),
		 "database %s\n"
		 "deny country CN RU BY KP IR\nmonitor country HK\n"
		 "deny asn 4134 4837 12389\nallow asn 13335\n"
		 "allow net 1.2.3.0/24 2001:db8::/32\n",
		 db);
	assert_int_equal(
		cf_policy_parse(text, strlen(text), "real.conf", &p, &e), 0);
	assert_int_equal(cf_dbset_load(p, &dbs, &e), 0);
	assert_int_equal(cf_compile(p, dbs, &c, &e), 0);
	assert_int_equal(cf_image_build(c, 1, 0, &img, &e), 0);
	digest_of(&img, d);
	assert_memory_equal(d, c->digest, 32);
	cf_image_free(&img);
	cf_compiled_free(c);
	cf_dbset_free(dbs);
	cf_policy_free(p);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_round_trip),    T(test_header_claim_ignored),
		T(test_tables_decide), T(test_broken_tries),
		T(test_shared_nodes),  T(test_real_database),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
