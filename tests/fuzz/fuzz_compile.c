// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_compile.c - the compiler and the image builder, held against the
 * naive rule evaluator (classify.c).
 *
 * An input is policy text, optionally followed by a NUL and bytes that
 * describe a database.  The text goes through cf_policy_parse (inputs that
 * do not parse are dropped); the bytes become sorted, disjoint records of
 * both families, anchored at the edges that matter (the policy's prefixes,
 * the built-in local ranges, both ends of the address space) so that
 * records, net rules and local ranges cut across each other.  Then:
 *  - the compiled ranges of each family cover it without gap or overlap,
 *    neighbours differ in class, every class exists;
 *  - at every range edge, every record and prefix edge and its neighbours
 *    and a few addresses from the input, the compiled class, the image
 *    lookup and cf_policy_classify (given cf_dbset_find's record) agree;
 *  - IPv4 embedded in IPv6 is looked up as the IPv4 address.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "table.h"
#include "fuzz/fuzz.h"

#define POLICY_PATH "/fuzz/compile.conf"
#define MAX_RECS 64
#define MAX_ANCHORS 256
#define IMAGE_WORDS (1u << 20)

static const char *const ccs[] = { "DE", "US", "CN", "A1", "NL" };
static const uint32_t asns[] = { 1, 13335, 64500, 4294967295u };

/* Addresses records start near, per family. */
struct anchors {
	cf_u128 v[2][MAX_ANCHORS];
	size_t n[2];
};

static int fi(int family)
{
	return family == CF_AF_V6;
}

static void anchor(struct anchors *a, int family, cf_u128 x)
{
	if (a->n[fi(family)] < MAX_ANCHORS)
		a->v[fi(family)][a->n[fi(family)]++] = x;
}

static void anchor_prefix(struct anchors *a, const struct cf_prefix *p)
{
	anchor(a, p->family, cf_prefix_first(p));
	anchor(a, p->family, cf_prefix_last(p));
}

static void collect_anchors(const struct cf_policy *p, struct anchors *a)
{
	const struct cf_prefix *loc;
	size_t i, k, n;
	int f;

	for (f = CF_AF_V4; f <= CF_AF_V6; f += 2) {
		anchor(a, f, 0);
		anchor(a, f, cf_af_max(f));
		cf_local_prefixes(f, &loc, &n);
		for (k = 0; k < n; k++)
			anchor_prefix(a, &loc[k]);
	}
	/* records there are left out by the compiler: cut across them */
	for (k = 0; k < CF_N_EMBEDDED; k++)
		anchor_prefix(a, &cf_embedded[k].pfx);
	for (i = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		for (k = 0; r->match == CF_MATCH_NET && k < r->n_items; k++)
			anchor_prefix(a, &r->items[k].net);
	}
}

/* A country or ASN for a record: often one the policy names. */
static void pick_attrs(struct fz *f, const struct cf_policy *p,
		       struct cf_rec *r)
{
	const struct cf_rule *rule;
	const struct cf_item *it;

	r->has = 1 + fz_below(f, 3);
	memcpy(r->cc, ccs[fz_below(f, 5)], 2);
	r->asn = asns[fz_below(f, 4)];
	if (!p->n_rules || fz_u8(f) & 1)
		return;
	rule = &p->rules[fz_below(f, p->n_rules)];
	it = &rule->items[fz_below(f, rule->n_items)];
	if (rule->match == CF_MATCH_COUNTRY)
		memcpy(r->cc, it->cc, 2);
	else if (rule->match == CF_MATCH_ASN)
		r->asn = it->asn;
}

/* first near an anchor, a width of a few, a few hundred, 2^k or all. */
static void pick_range(struct fz *f, const struct anchors *a, struct cf_rec *r)
{
	int i = fi(r->family);
	cf_u128 max = cf_af_max(r->family), base, width;
	int8_t delta = (int8_t)fz_u8(f);
	uint8_t w = fz_u8(f);

	base = a->v[i][fz_below(f, a->n[i])];
	if (delta < 0)
		r->first = base < (cf_u128)-delta ? 0 : base + delta;
	else
		r->first = max - base < (cf_u128)delta ? max : base + delta;
	if (w >> 6 == 0)
		width = w & 0x3f;
	else if (w >> 6 == 1)
		width = (cf_u128)(w & 0x3f) << 8;
	else if (w >> 6 == 2)
		width = ((cf_u128)1 << (w & 0x3f)) - 1;
	else
		width = ((cf_u128)1 << ((w & 0x3f) + 64)) - 1;
	r->last = width > max - r->first ? max : r->first + width;
}

static int cmp_rec(const void *x, const void *y)
{
	const struct cf_rec *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

/* Sorted, then clipped so that each starts after the one before. */
static void make_disjoint(struct cf_reclist *l)
{
	size_t i, n = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_rec);
	for (i = 0; i < l->n; i++) {
		struct cf_rec r = l->v[i];

		if (n) {
			cf_u128 prev = l->v[n - 1].last;

			if (prev == cf_af_max(r.family) || prev >= r.last)
				continue;
			if (r.first <= prev)
				r.first = prev + 1;
		}
		l->v[n++] = r;
	}
	l->n = n;
}

static void make_db(struct fz *f, const struct cf_policy *p,
		    const struct anchors *a, struct cf_dbset *dbs)
{
	size_t i, n = fz_below(f, MAX_RECS + 1);

	for (i = 0; i < n && f->n; i++) {
		struct cf_rec r = { 0 };
		struct cf_reclist *l;

		r.family = fz_u8(f) & 1 ? CF_AF_V6 : CF_AF_V4;
		pick_range(f, a, &r);
		pick_attrs(f, p, &r);
		l = r.family == CF_AF_V4 ? &dbs->v4 : &dbs->v6;
		FZ_CHECK(!cf_reclist_push(l, &r), "out of memory");
	}
	make_disjoint(&dbs->v4);
	make_disjoint(&dbs->v6);
}

/* The ranges tile the family, merged, with classes that exist. */
static void check_cover(const struct cf_compiled *c, int family)
{
	const struct cf_crangelist *l = family == CF_AF_V4 ? &c->v4 : &c->v6;
	size_t i;

	FZ_CHECK(l->n, "IPv%d: no ranges", family);
	FZ_CHECK(!l->v[0].first, "IPv%d: starts at %s", family,
		 fz_addr(l->v[0].first, family));
	FZ_CHECK(l->v[l->n - 1].last == cf_af_max(family), "IPv%d: ends at %s",
		 family, fz_addr(l->v[l->n - 1].last, family));
	for (i = 0; i < l->n; i++) {
		const struct cf_crange *r = &l->v[i];

		FZ_CHECK(r->first <= r->last && r->class < c->n_classes,
			 "IPv%d range %zu: %s-%s class %u of %zu", family, i,
			 fz_addr(r->first, family), fz_addr(r->last, family),
			 r->class, c->n_classes);
		if (!i)
			continue;
		FZ_CHECK(r[-1].last != cf_af_max(family) &&
				 r->first == r[-1].last + 1,
			 "IPv%d: gap or overlap at %s", family,
			 fz_addr(r->first, family));
		FZ_CHECK(r->class != r[-1].class,
			 "IPv%d: neighbours of class %u not merged at %s",
			 family, r->class, fz_addr(r->first, family));
	}
}

/* Each class names a rule of the policy, or is one of the fixed two. */
static void check_classes(const struct cf_compiled *c,
			  const struct cf_policy *p)
{
	size_t i;

	FZ_CHECK(c->n_classes >= CF_CLASS_FIXED &&
			 c->classes[CF_CLASS_DEFAULT].kind == CF_KIND_DEFAULT &&
			 c->classes[CF_CLASS_DEFAULT].verdict ==
				 cf_action_verdict(p->default_action) &&
			 c->classes[CF_CLASS_LOCAL].kind == CF_KIND_LOCAL,
		 "fixed classes");
	for (i = CF_CLASS_FIXED; i < c->n_classes; i++) {
		const struct cf_class_meta *m = &c->classes[i];
		const struct cf_rule *r;

		FZ_CHECK(m->rule < p->n_rules, "class %zu: rule %u", i,
			 m->rule);
		r = &p->rules[m->rule];
		FZ_CHECK(m->line == r->line &&
				 m->verdict == cf_action_verdict(r->action) &&
				 m->kind == CF_KIND_COUNTRY + r->match,
			 "class %zu does not match rule %u (line %u)", i,
			 m->rule, r->line);
	}
}

struct ctx {
	const struct cf_policy *p;
	const struct cf_dbset *dbs; /* NULL: compiled without databases */
	const struct cf_compiled *c;
	const struct cf_image *img; /* NULL: the image did not fit */
};

static void check_addr(const struct ctx *x, int family, cf_u128 addr)
{
	const struct cf_rec *rec =
		x->dbs ? cf_dbset_find(x->dbs, addr, family) : NULL;
	uint32_t c = cf_compiled_class(x->c, addr, family);
	uint32_t ref = cf_policy_classify(x->c, x->p, rec, addr, family);
	uint32_t img = c;

	if (x->img)
		img = family == CF_AF_V4 ?
			      cf_image_lookup_v4(x->img->w, (uint32_t)addr) :
			      cf_image_lookup_v6(x->img->w, addr);
	if (c != ref || c != img)
		fz_fail("%s: compiled class %u, rules say %u, image %u",
			fz_addr(addr, family), c, ref, img);
}

/* addr and its neighbours, staying inside the family. */
static void check_near(const struct ctx *x, int family, cf_u128 addr)
{
	check_addr(x, family, addr);
	if (addr)
		check_addr(x, family, addr - 1);
	if (addr < cf_af_max(family))
		check_addr(x, family, addr + 1);
}

/* The datapath unwraps these before its IPv4 lookup; so must the image. */
static void check_embedded(const struct ctx *x, uint32_t v4)
{
	static const cf_u128 wraps[] = {
		(cf_u128)0xffff << 32, /* ::ffff:0:0/96 */
		(cf_u128)0x0064ff9b << 96, /* 64:ff9b::/96 */
	};
	uint32_t want = cf_compiled_class(x->c, v4, CF_AF_V4), got;
	size_t i;

	for (i = 0; x->img && i < 2; i++) {
		got = cf_image_lookup(x->img->w, wraps[i] | v4, CF_AF_V6);
		FZ_CHECK(got == want, "%s: class %u, its IPv4 address %u",
			 fz_addr(wraps[i] | v4, CF_AF_V6), got, want);
	}
	if (x->img) {
		cf_u128 six2four = (cf_u128)0x2002 << 112 | (cf_u128)v4 << 80;

		got = cf_image_lookup(x->img->w, six2four, CF_AF_V6);
		FZ_CHECK(got == want, "6to4 of %s: class %u, IPv4 says %u",
			 fz_addr(v4, CF_AF_V4), got, want);
	}
}

/* Range edges, anchors and record edges of one family. */
static void check_edges(const struct ctx *x, const struct anchors *a,
			int family)
{
	const struct cf_crangelist *l = family == CF_AF_V4 ? &x->c->v4 :
							     &x->c->v6;
	const struct cf_reclist *recs = NULL;
	size_t i;

	if (x->dbs)
		recs = family == CF_AF_V4 ? &x->dbs->v4 : &x->dbs->v6;
	for (i = 0; i < l->n; i++) {
		check_addr(x, family, l->v[i].first);
		check_addr(x, family, l->v[i].last);
	}
	for (i = 0; i < a->n[fi(family)]; i++)
		check_near(x, family, a->v[fi(family)][i]);
	for (i = 0; recs && i < recs->n; i++) {
		check_near(x, family, recs->v[i].first);
		check_near(x, family, recs->v[i].last);
	}
}

/* Whatever bytes are left: a few addresses of each family. */
static void check_random(const struct ctx *x, struct fz *f)
{
	cf_u128 v6;
	uint32_t v4;
	size_t i, k;

	for (i = 0; i < 4 && f->n; i++) {
		v4 = fz_u32(f);
		for (v6 = 0, k = 0; k < 4; k++)
			v6 = v6 << 32 | fz_u32(f);
		check_addr(x, CF_AF_V4, v4);
		check_addr(x, CF_AF_V6, v6);
		check_embedded(x, v4);
	}
}

static void check_image(const struct cf_compiled *c, const struct cf_image *img)
{
	const struct cf_image_hdr *h = cf_image_hdr(img->w);
	struct cf_err e = { 0 };

	FZ_CHECK(!cf_image_check(img->w, img->capacity, &e), "image: %s",
		 e.msg);
	FZ_CHECK(h->n_words == img->n_words && img->n_words <= img->capacity &&
			 h->n_classes == c->n_classes &&
			 h->v4_ranges == c->v4.n && h->v6_ranges == c->v6.n &&
			 !memcmp(h->digest, c->digest, sizeof(h->digest)),
		 "image header does not match the compiled policy");
}

/* Compile, build the image and hold both against the rules. */
static void run(const struct cf_policy *p, struct cf_dbset *dbs,
		const struct anchors *a, struct fz *f)
{
	struct cf_compiled *c = NULL;
	struct cf_image img = { 0 };
	struct cf_err e = { 0 };
	struct ctx x = { .p = p, .dbs = dbs };
	int err;

	err = cf_compile(p, dbs, &c, &e);
	if (err) {
		FZ_CHECK(err == -E2BIG, "compile: %d: %s", err, e.msg);
		return;
	}
	x.c = c;
	check_cover(c, CF_AF_V4);
	check_cover(c, CF_AF_V6);
	check_classes(c, p);
	err = cf_image_build(c, 1, IMAGE_WORDS, &img, &e);
	FZ_CHECK(!err || err == -E2BIG, "image: %d: %s", err, e.msg);
	if (!err) {
		check_image(c, &img);
		x.img = &img;
	}
	check_edges(&x, a, CF_AF_V4);
	check_edges(&x, a, CF_AF_V6);
	check_random(&x, f);
	cf_image_free(&img);
	cf_compiled_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	struct fz f = { nul ? nul + 1 : data + size, nul ? size - len - 1 : 0 };
	static struct anchors a;
	struct cf_dbset dbs = { 0 };
	struct cf_policy *p;
	struct cf_err e;
	bool no_db;

	if (cf_policy_parse((const char *)data, len, POLICY_PATH, &p, &e))
		return 0;
	a.n[0] = a.n[1] = 0;
	collect_anchors(p, &a);
	no_db = fz_u8(&f) == 0xff;
	if (!no_db)
		make_db(&f, p, &a, &dbs);
	run(p, no_db ? NULL : &dbs, &a, &f);
	cf_reclist_free(&dbs.v4);
	cf_reclist_free(&dbs.v6);
	cf_policy_free(p);
	return 0;
}
